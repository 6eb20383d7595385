# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The modules' shared ``main()`` (``_runner.run_module``, ``finish``): the util's ``run`` gets the one
entry-point signature, a KarpenterError becomes fail_json with its details and traceback, ``diff`` is returned
only under --diff, warnings are emitted."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest
from ansible.module_utils import basic
from ansible_collections.jit.karpenter.plugins.module_utils._runner import (
    Clients,
    aws_and_kube_argument_spec,
    eks_resource_argument_spec,
    finish,
    run_module,
)
from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError, fail_from


class Exited(Exception):
    """What a fake module raises where AnsibleModule would sys.exit()."""


class FakeModule:
    """Records what the runner asks of the module; exits like AnsibleModule does."""

    params = {"cluster_name": "demo"}
    check_mode = False

    def __init__(self, diff=False):
        self._diff = diff
        self.warnings = []
        self.exited = None
        self.failed = None

    def warn(self, warning):
        self.warnings.append(warning)

    def exit_json(self, **kwargs):
        self.exited = kwargs
        raise Exited()

    def fail_json(self, **kwargs):
        self.failed = kwargs
        raise Exited()


def raising_entry(clients, params, check_mode=False, region=None):
    raise KarpenterError(
        "Describing EKS cluster 'demo' in us-east-1 failed: not found", error_code="ResourceNotFoundException"
    )


def entry_with(result):
    def entry(clients, params, check_mode=False, region=None):
        return dict(result)

    return entry


def run(module, entry):
    with pytest.raises(Exited):
        finish(module, entry)
    return module


# --- errors ---------------------------------------------------------------------------------------


def test_error_fails_with_message_details_and_traceback():
    module = run(FakeModule(), raising_entry)
    assert module.exited is None
    failed = module.failed
    assert failed["msg"] == "Describing EKS cluster 'demo' in us-east-1 failed: not found"
    assert failed["error_code"] == "ResourceNotFoundException"
    tb = failed["exception"]
    assert tb.startswith("Traceback (most recent call last):")
    assert "in raising_entry" in tb  # the frame that raised it
    assert tb.rstrip().endswith("KarpenterError: Describing EKS cluster 'demo' in us-east-1 failed: not found")


def test_error_details_reach_fail_json_unchanged():
    def entry(clients, params, check_mode=False, region=None):
        raise KarpenterError("Replacing NodePool default failed: conflict (HTTP 409)", status=409, attempts=8)

    failed = run(FakeModule(diff=True), entry).failed
    assert set(failed) == {"msg", "status", "attempts", "exception"}
    assert (failed["status"], failed["attempts"]) == (409, 8)


def test_error_discards_warnings_and_diff_of_the_failed_run():
    module = run(FakeModule(diff=True), raising_entry)
    assert module.warnings == []
    assert "diff" not in module.failed


def test_other_exceptions_are_left_to_ansible():
    def entry(clients, params, check_mode=False, region=None):
        raise ValueError("a bug")

    module = FakeModule()
    with pytest.raises(ValueError, match="a bug"):
        finish(module, entry)
    assert module.failed is None and module.exited is None


def test_fail_from_names_the_raising_frame_outside_an_except_block():
    with pytest.raises(KarpenterError) as caught:
        raising_entry(None, {})
    module = FakeModule()
    with pytest.raises(Exited):
        fail_from(module, caught.value)
    assert "in raising_entry" in module.failed["exception"]
    assert module.failed["msg"].startswith("Describing EKS cluster")


# --- diff -----------------------------------------------------------------------------------------

DIFF = {"before": {"tags": {}}, "after": {"tags": {"karpenter.sh/discovery": "demo"}}}


def test_diff_dropped_without_diff_mode():
    module = run(FakeModule(diff=False), entry_with({"changed": True, "tags": ["subnet-1"], "diff": DIFF}))
    assert module.exited == {"changed": True, "tags": ["subnet-1"]}


def test_diff_returned_under_diff_mode():
    module = run(FakeModule(diff=True), entry_with({"changed": True, "tags": ["subnet-1"], "diff": DIFF}))
    assert module.exited == {"changed": True, "tags": ["subnet-1"], "diff": DIFF}


def test_diff_mode_adds_no_diff_the_entry_did_not_give():
    module = run(FakeModule(diff=True), entry_with({"changed": False, "cluster": {"name": "demo"}}))
    assert module.exited == {"changed": False, "cluster": {"name": "demo"}}


# --- warnings -------------------------------------------------------------------------------------


def test_warnings_emitted_in_order_and_not_returned():
    warnings = ["role ARN path removed: /system/", "arn also mapped under mapUsers"]
    module = run(FakeModule(), entry_with({"changed": True, "warnings": warnings, "backup_name": None}))
    assert module.warnings == warnings
    assert module.exited == {"changed": True, "backup_name": None}


def test_no_warnings_key_no_warnings():
    module = run(FakeModule(), entry_with({"changed": False, "warnings": []}))
    assert module.warnings == []
    assert module.exited == {"changed": False}


# --- with Ansible's own AnsibleModule, in a Python process of its own as Ansible runs modules -------

MODULE = """
from ansible.module_utils.basic import AnsibleModule
from ansible_collections.jit.karpenter.plugins.module_utils._runner import run_module
from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError


def entry(clients, params, check_mode=False, region=None):
    if params["fail"]:
        raise KarpenterError("Reading the cluster failed: boom", error_code="AccessDenied")
    return {"changed": True, "diff": {"before": {"a": 1}, "after": {"a": 2}}, "warnings": ["mind the gap"]}


def main():
    run_module(AnsibleModule, {"fail": {"type": "bool", "default": False}}, entry)


main()
"""


def run_real(tmp_path, fail=False, diff=False):
    args = {"fail": fail, "_ansible_diff": diff}
    if hasattr(basic, "_traceback"):  # ansible-core 2.19+ returns tracebacks only when asked to
        args["_ansible_tracebacks_for"] = ["error"]
    (tmp_path / "module.py").write_text(MODULE)
    (tmp_path / "args.json").write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.run(
        [sys.executable, str(tmp_path / "module.py"), str(tmp_path / "args.json")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert proc.returncode == (1 if fail else 0), proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize("diff", [False, True])
def test_ansible_module_diff_and_warnings(tmp_path, diff):
    result = run_real(tmp_path, diff=diff)
    assert result["changed"] is True
    assert ("diff" in result) is diff
    if diff:
        assert result["diff"] == {"before": {"a": 1}, "after": {"a": 2}}
    assert "mind the gap" in json.dumps(result["warnings"])


def test_ansible_module_error(tmp_path):
    result = run_real(tmp_path, fail=True, diff=True)
    assert result["failed"] is True
    assert result["msg"] == "Reading the cluster failed: boom"
    assert result["error_code"] == "AccessDenied"
    assert "diff" not in result and "warnings" not in result
    assert "in entry" in result["exception"]
    assert "KarpenterError: Reading the cluster failed: boom" in result["exception"]


def test_eks_resource_argument_spec_wraps_the_modules_own_options():
    spec = eks_resource_argument_spec({"namespace": {"type": "str", "required": True}})
    assert list(spec) == ["cluster_name", "namespace", "tags", "purge_tags", "state"]
    assert spec["cluster_name"] == {"type": "str", "required": True}
    assert spec["tags"] == {"type": "dict", "aliases": ["resource_tags"]}
    assert spec["purge_tags"] == {"type": "bool", "default": True}
    assert spec["state"] == {"type": "str", "choices": ["present", "absent"], "default": "present"}


def test_aws_and_kube_argument_spec_has_one_validate_certs_for_both_apis():
    from ansible_collections.jit.karpenter.plugins.module_utils._kube import kube_argument_spec

    spec = aws_and_kube_argument_spec({"cluster_name": {"type": "str", "required": True}})
    assert set(spec) == set(kube_argument_spec()) | {"validate_certs", "cluster_name"}
    assert spec["validate_certs"] == {"type": "bool", "default": True, "aliases": ["verify_ssl"]}
    assert list(spec)[-1] == "cluster_name"


# --- the one entry-point signature -----------------------------------------------------------------


class AWSModule(FakeModule):
    """What AnsibleAWSModule gives the runner: params, check_mode and region."""

    check_mode = True
    region = "us-west-2"


@pytest.fixture(autouse=True)
def aws_clients(monkeypatch):
    """boto3 clients as ``_aws.aws_client`` makes them, named: the calls, with the sessions dict each got."""
    from ansible_collections.jit.karpenter.plugins.module_utils import _aws

    made = []

    def aws_client(module, service, sessions):
        made.append((service, id(sessions)))
        return "client:" + service

    monkeypatch.setattr(_aws, "aws_client", aws_client)
    return made


def test_clients_make_one_aws_client_per_service_from_one_sessions_dict(aws_clients):
    clients = Clients(AWSModule())
    assert [clients.aws(s) for s in ("eks", "iam", "eks", "cloudformation", "iam")] == [
        "client:eks",
        "client:iam",
        "client:eks",
        "client:cloudformation",
        "client:iam",
    ]
    assert [service for service, sessions in aws_clients] == ["eks", "iam", "cloudformation"]
    assert len(set(sessions for service, sessions in aws_clients)) == 1


def test_run_gets_clients_params_check_mode_and_region():
    seen = {}

    def entry(clients, params, check_mode=False, region=None):
        seen.update(eks=clients.aws("eks"), iam=clients.aws("iam"), params=params, check=check_mode, region=region)
        return {"changed": False}

    module = run(AWSModule(), entry)
    assert seen == {
        "eks": "client:eks",
        "iam": "client:iam",
        "params": {"cluster_name": "demo"},
        "check": True,
        "region": "us-west-2",
    }
    assert module.exited == {"changed": False}


def test_run_gets_no_region_from_a_kubernetes_module():
    seen = {}

    def entry(clients, params, check_mode=False, region=None):
        seen.update(check=check_mode, region=region)
        return {"changed": False}

    run(FakeModule(), entry)
    assert seen == {"check": False, "region": None}


def test_clients_build_the_kubernetes_client_once_and_only_when_asked(monkeypatch):
    from ansible_collections.jit.karpenter.plugins.module_utils import _kube

    built = []

    class Dynamic:
        class client:  # kubernetes.core's K8SClient: .client is the DynamicClient, .client.client the ApiClient
            client = "api-client"

    def dynamic_client(params):
        built.append(params)
        return Dynamic()

    monkeypatch.setattr(_kube, "dynamic_client", dynamic_client)
    clients = Clients(AWSModule())
    assert built == []
    assert clients.aws("ec2") == "client:ec2"
    assert built == []
    assert clients.kube() == "api-client"
    assert isinstance(clients.kube_dynamic(), Dynamic)
    assert built == [{"cluster_name": "demo"}]


def test_every_module_main_is_argspec_then_run_module_with_its_class_and_its_utils_run():
    """Each module imports ``run`` from its own private util, named after it, and hands it to the runner."""
    import ast
    import pathlib

    modules = pathlib.Path(__file__).resolve().parents[4] / "plugins" / "modules"
    found = sorted(modules.glob("*.py"))
    assert len(found) >= 12
    for path in found:
        tree = ast.parse(path.read_text())
        runs = [
            node.module
            for node in tree.body
            if isinstance(node, ast.ImportFrom) and any(a.name == "run" and a.asname is None for a in node.names)
        ]
        util = runs[0].rsplit(".", 1)[-1] if runs else None
        package = runs[0].split(".")[-2] if runs else None
        assert "_" + path.stem in (util, package), (path.name, runs)
        main = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main"][0]
        last = main.body[-1].value
        assert isinstance(last, ast.Call) and ast.unparse(last.func) == "run_module", path.name
        module_class, _spec, entry = last.args
        assert ast.unparse(module_class) in ("AnsibleAWSModule", "AnsibleK8SModule", "AnsibleHelmModule"), path.name
        assert ast.unparse(entry) == "run", path.name
        # before run_module, only the argument spec is built
        assert all("argument_spec" in ast.unparse(node) for node in main.body[:-1]), path.name
        assert [n.name for n in tree.body if isinstance(n, ast.FunctionDef)] in (["main"], ["argument_spec", "main"])


class MadeModule(AWSModule):
    """A module class as run_module makes it: records what it was made with."""

    made = []

    def __init__(self, **kwargs):
        super().__init__()
        MadeModule.made.append(kwargs)


def test_run_module_makes_the_module_with_check_mode_and_the_modules_own_rules(monkeypatch):
    from ansible_collections.jit.karpenter.plugins.module_utils import _kube

    checked = []
    monkeypatch.setattr(_kube, "require_kubernetes", checked.append)
    MadeModule.made = []
    spec = {"state": {"type": "str"}}
    with pytest.raises(Exited):
        run_module(MadeModule, spec, entry_with({"changed": False}), required_if=[("state", "present", ["x"])])
    assert MadeModule.made == [
        {"argument_spec": spec, "supports_check_mode": True, "required_if": [("state", "present", ["x"])]}
    ]
    assert checked == []
    with pytest.raises(Exited):
        run_module(MadeModule, spec, entry_with({"changed": False}), kubernetes=True)
    assert len(checked) == 1 and isinstance(checked[0], MadeModule)

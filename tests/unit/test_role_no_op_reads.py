# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which reads a run leaves out when it may: the Helm role's read after an install that changed nothing, and
access.yml's write of the cluster CA's file. The expressions are rendered from the roles' files with Jinja, with
stand-ins for Ansible's tests and lookups, so a change to any of them shows here."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
from pathlib import Path

import pytest
import yaml
from jinja2 import Environment, StrictUndefined

ROOT = Path(__file__).resolve().parents[2]
HELM_VARS = yaml.safe_load((ROOT / "roles/helm/vars/main.yml").read_text())
HELM_TASKS = yaml.safe_load((ROOT / "roles/helm/tasks/main.yml").read_text())[0]["block"]
HELM_INSTALL = yaml.safe_load((ROOT / "roles/helm/tasks/install.yml").read_text())
ACCESS = yaml.safe_load((ROOT / "roles/karpenter/tasks/access.yml").read_text())


def _env(files=None):
    env = Environment(undefined=StrictUndefined)
    env.tests["changed"] = lambda result: bool(result.get("changed"))
    env.tests["file"] = lambda path: path in (files or {})
    env.tests["none"] = lambda value: value is None
    env.filters["bool"] = bool
    return env


def _render(env, template, **variables):
    if "{{" not in template:  # a bare `when` condition
        template = "{{ %s }}" % template
    return env.from_string(template).render(variables).strip()


def _helm_task(name_start, tasks=HELM_TASKS):
    return next(t for t in tasks if t["name"].startswith(name_start))


def _read_before(verify_available, adopt, crd_changed, controller_changed, install_needed=True):
    registered = {}
    if install_needed:  # tasks/install.yml ran: its chart tasks registered their results (skipped or not)
        registered = {
            "__helm_crd_release": {"changed": crd_changed},
            "__helm_controller_release": {"changed": controller_changed},
        }
    return _render(
        _env(),
        HELM_VARS["__helm_read_before"],
        helm_verify_available=verify_available,
        helm_adopt_crds=adopt,
        __helm_install_needed=install_needed,
        **registered,
    )


@pytest.mark.parametrize(
    "verify_available,adopt,crd_changed,controller_changed,install_needed,expected",
    [
        (False, [], False, False, False, "True"),  # a no-op under the karpenter role: tasks/install.yml skipped
        (False, [], False, False, True, "True"),  # install.yml ran (--diff) and changed nothing
        (True, [], False, False, False, "False"),  # the role alone waits itself
        (False, [], True, False, True, "False"),  # the CRD chart changed
        (False, [], False, True, True, "False"),  # the controller chart changed
        (False, ["nodepools.karpenter.sh"], False, False, True, "False"),  # CRDs were taken over
    ],
)
def test_the_helm_role_reads_after_the_install_unless_nothing_changed_and_the_caller_waits(
    verify_available, adopt, crd_changed, controller_changed, install_needed, expected
):
    assert _read_before(verify_available, adopt, crd_changed, controller_changed, install_needed) == expected


def _install_needed(current, legacy=False, adopt_sa=False, diff=False):
    return _render(
        _env(),
        HELM_VARS["__helm_install_needed"],
        __helm_legacy=legacy,
        __helm_release_current=current,
        helm_adopt_service_account=adopt_sa,
        ansible_diff_mode=diff,
    )


@pytest.mark.parametrize(
    "current,kwargs,expected",
    [
        ({"crd": True, "controller": True}, {}, "False"),  # a no-op: none of install.yml's tasks is evaluated
        ({"crd": False, "controller": True}, {}, "True"),
        ({"crd": True, "controller": False}, {}, "True"),
        ({"crd": True, "controller": True}, {"adopt_sa": True}, "True"),
        ({"crd": True, "controller": True}, {"diff": True}, "True"),  # --diff shows the values that would change
        ({"crd": False, "controller": False}, {"legacy": True}, "True"),  # 0.16's chart, installed by its own task
    ],
)
def test_the_install_tasks_are_included_only_when_there_is_something_to_do(current, kwargs, expected):
    assert _install_needed(current, **kwargs) == expected
    assert _helm_task("Install the charts")["when"] == "__helm_install_needed | bool"


@pytest.mark.parametrize(
    "read_before,stored,wait,check",
    [
        ("False", None, "True", "True"),
        ("True", {"nodepools.karpenter.sh": ["v1"]}, "False", "True"),  # checked on the preflight's read
        ("True", None, "False", "False"),  # nothing to check on: the caller gave no read
    ],
)
def test_the_stored_versions_are_checked_on_the_preflights_read_when_the_role_reads_nothing(
    read_before, stored, wait, check
):
    variables = dict(
        __helm_legacy=False,
        ansible_check_mode=False,
        __helm_read_before=read_before == "True",
        helm_crd_stored_versions=stored,
    )
    wait_when = _helm_task("Verify that the controller is Available")["when"]
    check_when = _helm_task("Verify that every Karpenter CRD stores")["when"]
    assert _render(_env(), wait_when, **variables) == wait
    assert _render(_env(), check_when, **variables) == check
    stored_expr = _helm_task("Verify that every Karpenter CRD stores")["vars"]["__helm_stored"]
    if read_before == "True" and stored is not None:
        assert _render(_env(), stored_expr, __helm_read_before=True, helm_crd_stored_versions=stored) == str(stored)


CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
SHA = hashlib.sha256(CA.encode()).hexdigest()
PATH = "/home/u/.cache/jit-karpenter/eks-ca/%s.pem" % SHA


@pytest.mark.parametrize(
    "files,writes",
    [
        ({}, "True"),  # first run
        ({PATH: CA}, "False"),  # kept, intact
        ({PATH: CA + "altered"}, "True"),  # altered: written again
        ({PATH: CA.rstrip("\n")}, "True"),  # the trailing newline counts (rstrip=false)
    ],
    ids=["missing", "intact", "altered", "truncated"],
)
def test_the_ca_file_is_written_only_when_missing_or_altered(files, writes):
    def lookup(name, path, rstrip=True):
        assert name == "ansible.builtin.file" and rstrip is False
        return files[path]

    env = _env(files)
    env.filters["hash"] = lambda text, algorithm: hashlib.new(algorithm, text.encode()).hexdigest()
    write = next(t for t in ACCESS if t["name"].startswith("Write the cluster CA"))
    assert _render(env, write["when"], lookup=lookup, __karpenter_ca_file={"path": PATH, "sha256": SHA}) == writes


# --- the Helm role's installs skipped when the release read before is what they would install ------------

VALUES = {
    "settings": {"clusterName": "demo", "clusterEndpoint": "https://eks.example", "interruptionQueue": "demo"},
    "serviceAccount": {"name": "karpenter", "annotations": {}},
}


def _release(name, chart, user_values, namespace="kube-system", status="deployed"):
    return {"name": name, "namespace": namespace, "status": status, "chart": chart, "user_values": user_values}


def _current(releases, adopt_crds=(), adopt_sa=False, values=None):
    rendered = _render(
        _env(),
        HELM_VARS["__helm_release_current"],
        helm_installed_releases=releases,
        helm_namespace="kube-system",
        helm_crd_release_name="karpenter-crd",
        helm_release_name="karpenter",
        helm_karpenter_version="1.14.3",
        helm_adopt_crds=list(adopt_crds),
        helm_adopt_service_account=adopt_sa,
        __helm_controller_values=VALUES if values is None else values,
    )
    return yaml.safe_load(rendered.replace("True", "true").replace("False", "false"))


BOTH = [_release("karpenter", "karpenter-1.14.3", VALUES), _release("karpenter-crd", "karpenter-crd-1.14.3", {})]


@pytest.mark.parametrize(
    "releases,kwargs,expected",
    [
        (BOTH, {}, {"crd": True, "controller": True}),  # a no-op
        (None, {}, {"crd": False, "controller": False}),  # nothing read: kubernetes.core.helm compares
        ([], {}, {"crd": False, "controller": False}),  # not installed
        (BOTH, {"values": dict(VALUES, replicas=2)}, {"crd": True, "controller": False}),
        (
            [_release("karpenter", "karpenter-1.13.2", VALUES), _release("karpenter-crd", "karpenter-crd-1.13.2", {})],
            {},
            {"crd": False, "controller": False},  # an upgrade
        ),
        (
            [_release("karpenter", "karpenter-1.14.3", VALUES, status="failed"), BOTH[1]],
            {},
            {"crd": True, "controller": False},  # a failed release: left to kubernetes.core.helm
        ),
        (
            [_release("karpenter", "karpenter-1.14.3", VALUES, namespace="karpenter"), BOTH[1]],
            {},
            {"crd": True, "controller": False},  # another namespace's release
        ),
        (
            [BOTH[0], _release("karpenter-crd", "karpenter-crd-1.14.3", {"x": 1})],
            {},
            {"crd": False, "controller": True},
        ),
        (BOTH, {"adopt_crds": ["nodepools.karpenter.sh"]}, {"crd": False, "controller": True}),
        (BOTH, {"adopt_sa": True}, {"crd": True, "controller": False}),
        (
            [{k: v for k, v in r.items() if k != "user_values"} for r in BOTH],
            {},
            {"crd": False, "controller": False},  # read without values
        ),
    ],
)
def test_a_chart_is_installed_again_unless_its_release_is_deployed_at_this_version_with_these_values(
    releases, kwargs, expected
):
    assert _current(releases, **kwargs) == expected


def test_the_install_tasks_are_skipped_on_that():
    assert "not __helm_release_current.crd" in _helm_task("Install the CRD chart", HELM_INSTALL)["when"]
    assert "not __helm_release_current.controller" in _helm_task("Install the controller chart", HELM_INSTALL)["when"]


# --- the OIDC role's module run left out when the provider read before exists ------------------------------

OIDC_EXISTS = yaml.safe_load((ROOT / "roles/oidc/vars/main.yml").read_text())["__oidc_exists"]
PROVIDER = {"arn": "arn:aws:iam::123456789012:oidc-provider/oidc.example/id/X", "url": "https://oidc.example/id/X"}


@pytest.mark.parametrize(
    "overrides,expected",
    [
        ({}, "True"),  # the karpenter role's call on a cluster with its provider
        ({"oidc_existing_provider": {}}, "False"),  # none: the module creates it
        ({"oidc_existing_provider": None}, "False"),  # not read: the module reads
        ({"oidc_state": "absent"}, "False"),
        ({"oidc_issuer_url": "https://other.example/id/Y"}, "False"),  # another issuer than the cluster's
        ({"oidc_client_ids": ["sts.amazonaws.com"]}, "False"),  # client IDs given: the module compares them
        ({"oidc_thumbprint": ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"]}, "False"),  # thumbprints given
        ({"oidc_thumbprint": "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"}, "False"),  # one, as a string
        ({"oidc_thumbprint": "omit"}, "True"),
    ],
)
def test_the_oidc_module_is_left_out_only_when_the_provider_exists_and_nothing_is_asked_of_it(overrides, expected):
    variables = dict(oidc_state="present", oidc_existing_provider=PROVIDER, oidc_issuer_url="", oidc_thumbprint="auto")
    variables.update(overrides)
    assert _render(_env(), OIDC_EXISTS, **variables) == expected

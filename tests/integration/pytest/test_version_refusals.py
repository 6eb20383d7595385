# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""karpenter.yml refuses a bad karpenter_version by name, in the preflight, with 0 writes.

Runs the playbook against the sandbox (its env file sourced: KUBECONFIG, AWS_ENDPOINT_URL) and counts
the writes of the run in the AWS emulator's request log and the kube-apiserver's audit log, both in the
sandbox's logs directory beside the kubeconfig.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
KUBECONFIG = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
if not KUBECONFIG or not os.environ.get("AWS_ENDPOINT_URL"):
    pytest.skip("needs the sandbox: source its env file (KUBECONFIG, AWS_ENDPOINT_URL)", allow_module_level=True)
STATE = Path(KUBECONFIG).parent
LOGS = STATE / "logs"
KUBE_WRITE_VERBS = {"create", "update", "patch", "delete", "deletecollection"}


def _lines(path):
    return path.read_text().splitlines() if path.exists() else []


def _run(*extra):
    """Run karpenter.yml; return (rc, output, aws writes, kube writes) of that run."""
    aws_log, audit_log = LOGS / "aws-requests.jsonl", LOGS / "audit.log"
    aws_before, audit_before = len(_lines(aws_log)), len(_lines(audit_log))
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".build" / "collections"),
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_FORCE_COLOR="false",
    )
    args = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        str(ROOT / "playbooks" / "karpenter.yml"),
        "-e",
        "@" + str(STATE / "vars.yml"),
    ]
    for item in extra:
        args += ["-e", item]
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600, check=False)
    aws_writes = [json.loads(line) for line in _lines(aws_log)[aws_before:]]
    # The Karpenter controller, when the chart runs, makes its own requests with its own (temporary) keys.
    aws_writes = [
        r["service"] + ":" + r["operation"]
        for r in aws_writes
        if r.get("write") and r.get("access_key") == env.get("AWS_ACCESS_KEY_ID")
    ]
    kube_writes = []
    for line in _lines(audit_log)[audit_before:]:
        event = json.loads(line)
        if event.get("verb") in KUBE_WRITE_VERBS:
            kube_writes.append("%s %s" % (event["verb"], event.get("requestURI")))
    return proc.returncode, proc.stdout + proc.stderr, aws_writes, kube_writes


@pytest.mark.parametrize(
    "version,named",
    [
        ("1.14.3 --post-renderer=/x", "'1.14.3 --post-renderer=/x' is not a plain version X.Y.Z"),
        ("v1.14.3", "'v1.14.3' is not a plain version X.Y.Z"),
        ("1.8.4", "not to use 1.8.4"),
        ("1.7.0", "karpenter_version 1.7.0 is not supported"),
        ("1.15.2", "karpenter_version 1.15.2 is not supported"),
    ],
)
def test_bad_version_is_refused_by_name_with_no_writes(version, named):
    # A JSON extra var keeps the spaces of the bad value in one argument, as an AWX survey would pass it.
    rc, out, aws_writes, kube_writes = _run(json.dumps({"karpenter_version": version}))
    assert rc != 0, out
    assert named in out, out[-3000:]
    assert "Check the Karpenter version" in out
    assert aws_writes == [] and kube_writes == [], (aws_writes, kube_writes)


def _crd_api():
    kubernetes = pytest.importorskip("kubernetes")
    client = kubernetes.config.new_client_from_config(config_file=KUBECONFIG)
    return kubernetes.client.ApiextensionsV1Api(client), kubernetes.client.exceptions.ApiException


def test_crd_of_another_release_is_refused_by_name_with_no_writes():
    """A CRD that another Helm release owns (here capacitybuffers, as cluster-autoscaler's chart could own
    it) cannot join karpenter-crd: the preflight names it and the run writes nothing."""
    api, api_exception = _crd_api()
    name = "capacitybuffers.autoscaling.x-k8s.io"
    owner = {"meta.helm.sh/release-name": "cluster-autoscaler", "meta.helm.sh/release-namespace": "autoscaling"}
    try:
        existing = api.read_custom_resource_definition(name)
    except api_exception as e:
        if e.status != 404:
            raise
        existing = None
    if existing is None:
        api.create_custom_resource_definition(
            {
                "apiVersion": "apiextensions.k8s.io/v1",
                "kind": "CustomResourceDefinition",
                "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "Helm"}, "annotations": owner},
                "spec": {
                    "group": "autoscaling.x-k8s.io",
                    "scope": "Namespaced",
                    "names": {
                        "plural": "capacitybuffers",
                        "singular": "capacitybuffer",
                        "kind": "CapacityBuffer",
                        "listKind": "CapacityBufferList",
                    },
                    "versions": [
                        {
                            "name": "v1beta1",
                            "served": True,
                            "storage": True,
                            "schema": {
                                "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                            },
                        }
                    ],
                },
            }
        )
        restore = None
    else:
        restore = {k: (existing.metadata.annotations or {}).get(k) for k in owner}
        api.patch_custom_resource_definition(name, {"metadata": {"annotations": owner}})
    try:
        rc, out, aws_writes, kube_writes = _run()
        assert rc != 0, out
        assert "CRD %s belongs to the Helm release 'cluster-autoscaler' in namespace 'autoscaling'" % name in out, out[
            -3000:
        ]
        assert "Check that the CRD chart can take the existing CRDs over" in out
        assert aws_writes == [] and kube_writes == [], (aws_writes, kube_writes)
    finally:
        if restore is None:
            api.delete_custom_resource_definition(name)
        else:
            api.patch_custom_resource_definition(name, {"metadata": {"annotations": restore}})


@pytest.fixture(scope="module")
def installed():
    """Karpenter at the sandbox's version, installed by karpenter.yml (a no-op when it already is)."""
    rc, out, _aws, _kube = _run()
    assert rc == 0, out[-3000:]


def test_downgrade_across_a_minor_is_refused_by_name_with_no_writes(installed):
    rc, out, aws_writes, kube_writes = _run("karpenter_version=1.13.1")
    assert rc != 0, out
    assert "Karpenter 1.14.3 is installed; going back to 1.13.1 crosses a change of its CRDs" in out, out[-3000:]
    assert "capacitybuffers.autoscaling.x-k8s.io" in out
    assert aws_writes == [] and kube_writes == [], (aws_writes, kube_writes)


def test_crd_of_the_installed_release_moved_to_another_owner_is_refused(installed):
    # With Karpenter installed, the CRD exists and belongs to karpenter-crd: the patch-and-restore path.
    test_crd_of_another_release_is_refused_by_name_with_no_writes()

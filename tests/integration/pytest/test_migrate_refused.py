# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""migrate.yml refuses a Provisioner field without a Karpenter 1.x equivalent by name, with 0 writes.

Needs a sandbox in the legacy profile with Karpenter 0.16 installed by karpenter.yml (the Provisioner CRD):
its env file sourced (KUBECONFIG, AWS_ENDPOINT_URL). A Provisioner with an unmanaged launch template (which
1.x removed) is created beside the walkthrough's; then migrate.yml runs and the writes of that run are
counted in the AWS emulator's request log and the kube-apiserver's audit log (as test_version_refusals.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
KUBECONFIG = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
if not KUBECONFIG or not os.environ.get("AWS_ENDPOINT_URL"):
    pytest.skip("needs the sandbox: source its env file (KUBECONFIG, AWS_ENDPOINT_URL)", allow_module_level=True)
STATE = Path(KUBECONFIG).parent
LOGS = STATE / "logs"
KUBE_WRITE_VERBS = {"create", "update", "patch", "delete", "deletecollection"}
BAD = {
    "apiVersion": "karpenter.sh/v1alpha5",
    "kind": "Provisioner",
    "metadata": {"name": "custom-lt"},
    "spec": {
        "provider": {
            "launchTemplate": "my-launch-template",
            "subnetSelector": {"karpenter.sh/discovery": "demo"},
            "securityGroupSelector": {"karpenter.sh/discovery": "demo"},
        }
    },
}


def _lines(path):
    return path.read_text().splitlines() if path.exists() else []


def _migrate():
    aws_log, audit_log = LOGS / "aws-requests.jsonl", LOGS / "audit.log"
    aws_before, audit_before = len(_lines(aws_log)), len(_lines(audit_log))
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".build" / "collections"),
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_FORCE_COLOR="false",
    )
    # The sandbox's vars.yml names 0.16 (the legacy profile); the target is the newest 1.x it serves.
    target = yaml.safe_load((STATE / "vars.yml").read_text())["sandbox_karpenter_versions"][-1]
    args = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        str(ROOT / "playbooks" / "migrate.yml"),
        "-e",
        "@" + str(STATE / "vars.yml"),
        "-e",
        json.dumps({"karpenter_version": target}),
    ]
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=900, check=False)
    aws_writes = [json.loads(line) for line in _lines(aws_log)[aws_before:]]
    aws_writes = [
        r["service"] + ":" + r["operation"]
        for r in aws_writes
        if r.get("write") and r.get("access_key") == env.get("AWS_ACCESS_KEY_ID")
    ]
    kube_writes = [
        "%s %s" % (e["verb"], e.get("requestURI"))
        for e in map(json.loads, _lines(audit_log)[audit_before:])
        if e.get("verb") in KUBE_WRITE_VERBS
    ]
    return proc.returncode, proc.stdout + proc.stderr, aws_writes, kube_writes


@pytest.fixture
def bad_provisioner():
    kubernetes = pytest.importorskip("kubernetes")
    client = kubernetes.config.new_client_from_config(config_file=KUBECONFIG)
    # 0.16 installed as the walkthrough leaves it: its Helm release in namespace karpenter, not only the
    # v1alpha5 CRDs (which other targets may leave on a 1.x sandbox, without 0.16's instance profile).
    releases = (
        kubernetes.client.CoreV1Api(client)
        .list_namespaced_secret("karpenter", label_selector="owner=helm,name=karpenter")
        .items
    )
    if not releases:
        pytest.skip("needs Karpenter 0.16 installed (the sandbox's legacy profile, then karpenter.yml)")
    api = kubernetes.client.CustomObjectsApi(client)
    api.create_cluster_custom_object("karpenter.sh", "v1alpha5", "provisioners", BAD)
    yield
    api.delete_cluster_custom_object("karpenter.sh", "v1alpha5", "provisioners", BAD["metadata"]["name"])


def test_a_field_without_1x_equivalent_is_refused_by_name_with_no_writes(bad_provisioner):
    rc, out, aws_writes, kube_writes = _migrate()
    assert rc != 0, out[-3000:]
    assert "Provisioner custom-lt cannot be converted to Karpenter 1.x" in out, out[-3000:]
    assert "spec.provider.launchTemplate" in out
    assert "nothing was changed" in out
    assert aws_writes == [] and kube_writes == [], (aws_writes, kube_writes)

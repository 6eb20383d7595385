# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""migrate.yml refuses a Provisioner field without a Karpenter 1.x equivalent by name, with 0 writes.

Needs a sandbox in the legacy profile with Karpenter 0.16 installed by karpenter.yml (the Provisioner CRD):
its env file sourced (KUBECONFIG, AWS_ENDPOINT_URL). A Provisioner with an unmanaged launch template (which
1.x removed) is created beside the walkthrough's; then migrate.yml runs and the writes of that run are
counted in the AWS emulator's request log and the kube-apiserver's audit log (conftest.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest
import yaml

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


@pytest.fixture
def bad_provisioner(sandbox):
    kubernetes = pytest.importorskip("kubernetes")
    client = kubernetes.config.new_client_from_config(config_file=sandbox.kubeconfig)
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


def test_a_field_without_1x_equivalent_is_refused_by_name_with_no_writes(sandbox, run_playbook, bad_provisioner):
    # The sandbox's vars.yml names 0.16 (the legacy profile); the target is the newest 1.x it serves.
    target = yaml.safe_load(sandbox.vars_file.read_text())["sandbox_karpenter_versions"][-1]
    run = run_playbook("migrate.yml", "-e", json.dumps({"karpenter_version": target}), timeout=900)
    assert run.rc != 0, run.out[-3000:]
    assert "Provisioner custom-lt cannot be converted to Karpenter 1.x" in run.out, run.out[-3000:]
    assert "spec.provider.launchTemplate" in run.out
    assert "nothing was changed" in run.out
    assert run.aws_writes == [] and run.kube_writes == [], (run.aws_writes, run.kube_writes)

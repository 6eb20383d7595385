# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""karpenter.yml refuses a bad karpenter_version by name, in the preflight, with 0 writes.

Runs the playbook against the sandbox (its env file sourced: KUBECONFIG, AWS_ENDPOINT_URL) and counts
the writes of the run in the AWS emulator's request log and the kube-apiserver's audit log (conftest.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest


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
def test_bad_version_is_refused_by_name_with_no_writes(run_playbook, version, named):
    # A JSON extra var keeps the spaces of the bad value in one argument, as an AWX survey would pass it.
    run = run_playbook("karpenter.yml", "-e", json.dumps({"karpenter_version": version}))
    assert run.rc != 0, run.out
    assert named in run.out, run.out[-3000:]
    assert "Check the Karpenter version" in run.out
    assert run.aws_writes == [] and run.kube_writes == [], (run.aws_writes, run.kube_writes)


def _crd_api(sandbox):
    kubernetes = pytest.importorskip("kubernetes")
    client = kubernetes.config.new_client_from_config(config_file=sandbox.kubeconfig)
    return kubernetes.client.ApiextensionsV1Api(client), kubernetes.client.exceptions.ApiException


def test_crd_of_another_release_is_refused_by_name_with_no_writes(sandbox, run_playbook):
    """A CRD that another Helm release owns (here capacitybuffers, as cluster-autoscaler's chart could own
    it) cannot join karpenter-crd: the preflight names it and the run writes nothing."""
    api, api_exception = _crd_api(sandbox)
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
        run = run_playbook("karpenter.yml")
        assert run.rc != 0, run.out
        assert "CRD %s belongs to the Helm release 'cluster-autoscaler' in namespace 'autoscaling'" % name in run.out, (
            run.out[-3000:]
        )
        assert "Check that the CRD chart can take the existing CRDs over" in run.out
        assert run.aws_writes == [] and run.kube_writes == [], (run.aws_writes, run.kube_writes)
    finally:
        if restore is None:
            api.delete_custom_resource_definition(name)
        else:
            api.patch_custom_resource_definition(name, {"metadata": {"annotations": restore}})


@pytest.fixture(scope="module")
def installed(run_playbook):
    """Karpenter at the sandbox's version, installed by karpenter.yml (a no-op when it already is)."""
    run = run_playbook("karpenter.yml")
    assert run.rc == 0, run.out[-3000:]


def test_downgrade_across_a_minor_is_refused_by_name_with_no_writes(installed, run_playbook):
    run = run_playbook("karpenter.yml", "-e", "karpenter_version=1.13.1")
    assert run.rc != 0, run.out
    assert "Karpenter 1.14.3 is installed; going back to 1.13.1 crosses a change of its CRDs" in run.out, run.out[
        -3000:
    ]
    assert "capacitybuffers.autoscaling.x-k8s.io" in run.out
    assert run.aws_writes == [] and run.kube_writes == [], (run.aws_writes, run.kube_writes)


def test_crd_of_the_installed_release_moved_to_another_owner_is_refused(installed, sandbox, run_playbook):
    # With Karpenter installed, the CRD exists and belongs to karpenter-crd: the patch-and-restore path.
    test_crd_of_another_release_is_refused_by_name_with_no_writes(sandbox, run_playbook)

# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What counts as Karpenter's, from the tags and paths aws/karpenter-provider-aws sets:
pkg/providers/instance/instance.go (List), pkg/providers/launchtemplate/launchtemplate.go
(DeleteAll), pkg/providers/instanceprofile/instanceprofile.go (Create, ListClusterProfiles)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible_collections.jit.karpenter.plugins.module_utils import _karpenter_teardown as t

CLUSTER = "demo"


# Tags a 1.x NodeClaim's instance carries (instance.go: NodePoolTagKey, NodeClassTagKey,
# EKSClusterNameTagKey; utils.GetTags adds kubernetes.io/cluster/<cluster>=owned).
V1_INSTANCE = {
    "karpenter.sh/nodepool": "default",
    "karpenter.k8s.aws/ec2nodeclass": "default",
    "eks:eks-cluster-name": CLUSTER,
    "kubernetes.io/cluster/" + CLUSTER: "owned",
    "karpenter.sh/nodeclaim": "default-abcde",
}
# A managed node group's instance: the cluster tag, no Karpenter tag.
NODEGROUP_INSTANCE = {
    "kubernetes.io/cluster/" + CLUSTER: "owned",
    "eks:cluster-name": CLUSTER,
    "eks:nodegroup-name": "ng-1",
}


@pytest.mark.parametrize(
    "instance_tags, expected",
    [
        (V1_INSTANCE, True),
        ([{"Key": k, "Value": v} for k, v in V1_INSTANCE.items()], True),
        ({"karpenter.sh/nodepool": "x", "eks:eks-cluster-name": CLUSTER}, True),
        # a pool added by hand is still Karpenter's
        (dict(V1_INSTANCE, **{"karpenter.sh/nodepool": "user-added"}), True),
        # 0.16: provisioner name and the cluster tag
        ({"karpenter.sh/provisioner-name": "default", "kubernetes.io/cluster/" + CLUSTER: "owned"}, True),
        (NODEGROUP_INSTANCE, False),
        # another cluster's Karpenter nodes
        (dict(V1_INSTANCE, **{"eks:eks-cluster-name": "other", "kubernetes.io/cluster/" + CLUSTER: None}), False),
        (
            {"karpenter.sh/nodepool": "x", "eks:eks-cluster-name": "other", "kubernetes.io/cluster/other": "owned"},
            False,
        ),
        ({"karpenter.sh/nodepool": "x"}, False),
        ({}, False),
    ],
)
def test_is_karpenter_instance(instance_tags, expected):
    if isinstance(instance_tags, dict):
        instance_tags = {k: v for k, v in instance_tags.items() if v is not None}
    assert t.is_karpenter_instance(instance_tags, CLUSTER) is expected


@pytest.mark.parametrize(
    "lt_tags, expected",
    [
        ({"eks:eks-cluster-name": CLUSTER, "karpenter.k8s.aws/ec2nodeclass": "default"}, True),
        ({"karpenter.k8s.aws/cluster": CLUSTER}, True),  # before 1.1, and 0.16
        ({"eks:eks-cluster-name": CLUSTER}, False),  # an EKS node group's template
        ({"eks:eks-cluster-name": "other", "karpenter.k8s.aws/ec2nodeclass": "default"}, False),
        ({"karpenter.k8s.aws/cluster": "other"}, False),
        ({}, False),
    ],
)
def test_is_karpenter_launch_template(lt_tags, expected):
    assert t.is_karpenter_launch_template(lt_tags, CLUSTER) is expected


@pytest.mark.parametrize(
    "profile, profile_tags, expected",
    [
        # 1.7+: /karpenter/<region>/<cluster>/<nodeclass uid>/
        ({"InstanceProfileName": "demo_123", "Path": "/karpenter/us-east-1/demo/0f1e-uid/"}, None, True),
        ({"InstanceProfileName": "x", "Path": "/karpenter/us-east-1/demo-2/uid/"}, None, False),
        ({"InstanceProfileName": "x", "Path": "/karpenter/eu-west-1/demo/uid/"}, None, False),
        # 1.0-1.6: <cluster>_<hash> at /, with Karpenter's tags
        (
            {"InstanceProfileName": "demo_1234567890", "Path": "/"},
            {"kubernetes.io/cluster/demo": "owned", "karpenter.k8s.aws/ec2nodeclass": "default"},
            True,
        ),
        ({"InstanceProfileName": "demo_1234567890", "Path": "/"}, {"kubernetes.io/cluster/demo": "owned"}, False),
        # the walkthrough's own profile goes with its stack, not here
        ({"InstanceProfileName": "KarpenterNodeInstanceProfile-demo", "Path": "/"}, {}, False),
        ({"InstanceProfileName": "eks-ng-1", "Path": "/"}, {"kubernetes.io/cluster/demo": "owned"}, False),
    ],
)
def test_is_karpenter_instance_profile(profile, profile_tags, expected):
    assert t.is_karpenter_instance_profile(profile, profile_tags, "us-east-1", CLUSTER) is expected


@pytest.mark.parametrize(
    "provider_id, expected",
    [
        ("aws:///us-east-1a/i-0123456789abcdef0", "i-0123456789abcdef0"),
        ("aws:///us-east-1a/i-0123/", "i-0123"),
        ("kwok://node-1", None),
        ("", None),
        (None, None),
    ],
)
def test_instance_id(provider_id, expected):
    assert t.instance_id(provider_id) == expected


def test_finalizers_removable_only_without_a_live_instance():
    claim = {"metadata": {"name": "c"}, "status": {"providerID": "aws:///us-east-1a/i-1"}}
    node = {"metadata": {"name": "n"}, "spec": {"providerID": "aws:///us-east-1a/i-2"}}
    assert not t.finalizers_removable(claim, ["i-1"])
    assert t.finalizers_removable(claim, ["i-2"])
    assert not t.finalizers_removable(node, {"i-2": "running"})
    assert t.finalizers_removable(node, {})
    # a NodeClaim that never launched has no instance
    assert t.finalizers_removable({"metadata": {"name": "x"}, "status": {}}, ["i-1"])


@pytest.mark.parametrize(
    "resource_tags, expected",
    [
        (
            {t.ADDED_TAGS_RECORD_KEY: "karpenter.sh/discovery", "karpenter.sh/discovery": CLUSTER},
            (["karpenter.sh/discovery"], True),
        ),
        # a tag the user set to another value is not ours to remove
        ({t.ADDED_TAGS_RECORD_KEY: "karpenter.sh/discovery", "karpenter.sh/discovery": "other"}, ([], False)),
        # a tag nobody recorded is never touched
        ({"karpenter.sh/discovery": CLUSTER}, ([], False)),
        (
            {t.ADDED_TAGS_RECORD_KEY: "a b", "a": CLUSTER, "b": "other"},
            (["a"], False),
        ),
        ({t.ADDED_TAGS_RECORD_KEY: "a b", "a": CLUSTER}, (["a"], True)),
    ],
)
def test_added_tags_to_remove(resource_tags, expected):
    assert t.added_tags_to_remove(resource_tags, CLUSTER) == expected


def test_owner_tag():
    assert t.has_owner_tag([{"Key": "jit.karpenter/managed-by", "Value": "jit.karpenter"}])
    assert not t.has_owner_tag({"jit.karpenter/managed-by": "someone-else"})
    assert not t.has_owner_tag([])

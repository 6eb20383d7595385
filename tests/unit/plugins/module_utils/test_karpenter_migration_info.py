# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The migration plan from Karpenter 0.16 to 1.x (``_karpenter_migration_info.build_plan``): pure logic, no I/O.

The objects are the walkthrough's (Provisioner and AWSNodeTemplate ``default``). Nodes carry the label
Karpenter 0.16 sets on every node it launches, ``karpenter.sh/provisioner-name`` (Karpenter's v0.16 FAQ,
"All nodes launched by Karpenter will be labeled with karpenter.sh/provisioner-name").
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest
from ansible_collections.jit.karpenter.plugins.module_utils._karpenter_migration_info import (
    LIMITS_ANNOTATION,
    STOPPED_LIMITS,
    build_plan,
    profiles_needed,
)
from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError

CLUSTER = "karpenter-demo"
PROFILE = "KarpenterNodeInstanceProfile-" + CLUSTER
ROLE = "KarpenterNodeRole-" + CLUSTER

PROVISIONER = {
    "apiVersion": "karpenter.sh/v1alpha5",
    "kind": "Provisioner",
    "metadata": {"name": "default"},
    "spec": {
        "labels": {"intent": "apps"},
        "requirements": [
            {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]},
            {
                "key": "karpenter.k8s.aws/instance-size",
                "operator": "NotIn",
                "values": ["nano", "micro", "small", "medium", "large"],
            },
        ],
        "limits": {"resources": {"cpu": 1000, "memory": "1000Gi"}},
        "ttlSecondsAfterEmpty": 30,
        "ttlSecondsUntilExpired": 2592000,
        "providerRef": {"name": "default"},
    },
}
TEMPLATE = {
    "apiVersion": "karpenter.k8s.aws/v1alpha1",
    "kind": "AWSNodeTemplate",
    "metadata": {"name": "default"},
    "spec": {
        "subnetSelector": {"alpha.eksctl.io/cluster-name": CLUSTER},
        "securityGroupSelector": {"alpha.eksctl.io/cluster-name": CLUSTER},
        "tags": {"KarpenerProvisionerName": "default", "NodeType": "karpenter-workshop", "IntentLabel": "apps"},
    },
}


def node(name, created, provisioner="default", instance="i-0a"):
    return {
        "metadata": {
            "name": name,
            "labels": {"karpenter.sh/provisioner-name": provisioner},
            "creationTimestamp": created,
        },
        "spec": {"providerID": "aws:///us-east-1a/" + instance},
    }


def plan(**kwargs):
    args = dict(
        provisioners=[PROVISIONER],
        nodetemplates=[TEMPLATE],
        nodes=[],
        instances={},
        roles={PROFILE: ROLE},
        default_profile=PROFILE,
    )
    args.update(kwargs)
    return build_plan(**args)


def test_the_walkthrough_converts():
    result = plan()
    assert [p["metadata"]["name"] for p in result["nodepools"]] == ["default"]
    assert [c["metadata"]["name"] for c in result["ec2nodeclasses"]] == ["default"]
    nodeclass = result["ec2nodeclasses"][0]["spec"]
    assert nodeclass["role"] == ROLE
    assert nodeclass["subnetSelectorTerms"] == [{"tags": {"alpha.eksctl.io/cluster-name": CLUSTER}}]
    pool = result["nodepools"][0]["spec"]
    assert pool["limits"] == {"cpu": 1000, "memory": "1000Gi"}
    assert pool["template"]["spec"]["nodeClassRef"]["name"] == "default"
    assert result["instance_profiles"] == [PROFILE]
    assert result["nodes"] == [] and result["batches"] == 0


def test_profiles_needed_reads_provider_then_default():
    inline = copy.deepcopy(PROVISIONER)
    inline["metadata"]["name"] = "inline"
    del inline["spec"]["providerRef"]
    inline["spec"]["provider"] = {
        "instanceProfile": "other",
        "subnetSelector": {"a": "b"},
        "securityGroupSelector": {"a": "b"},
    }
    assert profiles_needed([PROVISIONER, inline], [TEMPLATE], PROFILE) == sorted(["other", PROFILE])
    assert profiles_needed([PROVISIONER], [TEMPLATE], None) == []


def test_nodes_oldest_first_in_batches():
    nodes = [
        node("n3", "2026-01-03T00:00:00", instance="i-03"),
        node("n1", "2026-01-01T00:00:00", instance="i-01"),
        node("n2", "2026-01-02T00:00:00", instance="i-02"),
        {
            "metadata": {"name": "group-node", "labels": {}, "creationTimestamp": "2025-01-01T00:00:00"},
            "spec": {"providerID": "aws:///us-east-1a/i-99"},
        },
    ]
    instances = {
        "i-01": {"state": "running", "provisioner": "default"},
        "i-02": {"state": "running", "provisioner": "default"},
        "i-03": {"state": "running", "provisioner": "default"},
        "i-04": {"state": "pending", "provisioner": "default"},
    }
    result = plan(nodes=nodes, instances=instances, max_unavailable=2)
    assert [(n["name"], n["instance_id"], n["batch"]) for n in result["nodes"]] == [
        ("n1", "i-01", 1),
        ("n2", "i-02", 1),
        ("n3", "i-03", 2),
    ]
    assert result["batches"] == 2
    # An instance without a node (launched, never joined) is still in the plan, to be terminated.
    assert [(i["id"], i["node"]) for i in result["instances"]] == [
        ("i-01", True),
        ("i-02", True),
        ("i-03", True),
        ("i-04", False),
    ]


def test_every_refusal_named_in_one_error():
    bad = copy.deepcopy(PROVISIONER)
    bad["metadata"]["name"] = "bad"
    bad["spec"]["providerRef"] = {"name": "lt"}
    lt = copy.deepcopy(TEMPLATE)
    lt["metadata"]["name"] = "lt"
    lt["spec"]["launchTemplate"] = "my-template"
    orphan = copy.deepcopy(PROVISIONER)
    orphan["metadata"]["name"] = "orphan"
    orphan["spec"]["providerRef"] = {"name": "missing"}
    with pytest.raises(KarpenterError) as info:
        plan(provisioners=[PROVISIONER, bad, orphan], nodetemplates=[TEMPLATE, lt])
    message = str(info.value)
    assert "nothing was changed" in message
    assert "launchTemplate" in message and "bad" in message
    assert "AWSNodeTemplate missing, which does not exist" in message
    assert "Provisioner default" not in message


def test_a_profile_without_role_is_refused():
    with pytest.raises(KarpenterError, match="instance profile " + PROFILE + " has no role"):
        plan(roles={})
    with pytest.raises(KarpenterError, match="no instance profile"):
        plan(roles={}, default_profile=None)


def test_max_unavailable_at_least_one():
    with pytest.raises(KarpenterError, match="max_unavailable"):
        plan(max_unavailable=0)


def stopped(provisioner, saved):
    live = copy.deepcopy(provisioner)
    live["metadata"]["annotations"] = {LIMITS_ANNOTATION: saved}
    live["spec"]["limits"] = copy.deepcopy(STOPPED_LIMITS)
    return live


def test_a_stopped_provisioner_converts_with_its_own_limits():
    before = plan()
    assert before["provisioners"] == [
        {"name": "default", "stopped": False, "limits_json": '{"resources": {"cpu": 1000, "memory": "1000Gi"}}'}
    ]
    # A re-run after 0.16 was stopped: the NodePool keeps the limits the Provisioner had, not the zeros.
    after = plan(provisioners=[stopped(PROVISIONER, before["provisioners"][0]["limits_json"])])
    assert after["nodepools"] == before["nodepools"]
    assert after["provisioners"] == [dict(before["provisioners"][0], stopped=True)]


def test_a_stopped_provisioner_without_limits_converts_without():
    unlimited = copy.deepcopy(PROVISIONER)
    del unlimited["spec"]["limits"]
    result = plan(provisioners=[stopped(unlimited, "null")])
    assert "limits" not in result["nodepools"][0]["spec"]
    assert result["provisioners"][0]["limits_json"] == "null"


def test_a_broken_limits_annotation_is_refused_by_name():
    with pytest.raises(KarpenterError, match=LIMITS_ANNOTATION + " is not JSON"):
        plan(provisioners=[stopped(PROVISIONER, "{cpu")])


def test_al2_moves_to_al2023_from_kubernetes_1_33_without_user_data():
    assert plan(kubernetes_version="1.32")["ec2nodeclasses"][0]["spec"]["amiSelectorTerms"] == [{"alias": "al2@latest"}]
    result = plan(kubernetes_version="1.33")
    assert result["ec2nodeclasses"][0]["spec"]["amiSelectorTerms"] == [{"alias": "al2023@latest"}]
    assert any("al2023@latest" in n and "1.33" in n for n in result["notes"])


def test_al2_with_user_data_on_kubernetes_1_33_is_refused_unless_an_alias_is_given():
    template = copy.deepcopy(TEMPLATE)
    template["spec"]["userData"] = "#!/bin/bash\n/etc/eks/bootstrap.sh demo\n"
    with pytest.raises(KarpenterError, match="EC2NodeClass default: AMI family AL2 has no AMIs for Kubernetes 1.36"):
        plan(nodetemplates=[template], kubernetes_version="1.36")
    result = plan(nodetemplates=[template], kubernetes_version="1.36", ami_alias="bottlerocket@latest")
    assert result["ec2nodeclasses"][0]["spec"]["amiSelectorTerms"] == [{"alias": "bottlerocket@latest"}]


def test_other_families_keep_their_alias():
    template = copy.deepcopy(TEMPLATE)
    template["spec"]["amiFamily"] = "Bottlerocket"
    result = plan(nodetemplates=[template], kubernetes_version="1.36", ami_alias="al2023@latest")
    assert result["ec2nodeclasses"][0]["spec"]["amiSelectorTerms"] == [{"alias": "bottlerocket@latest"}]

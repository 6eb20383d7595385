# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible_collections.jit.karpenter.plugins.module_utils import _eks_access_entry as ae
from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError

NODE_ROLE = "arn:aws:iam::123456789012:role/KarpenterNodeRole-demo"
TEAM_ROLE = "arn:aws:iam::123456789012:role/teams/team-a"
VIEW = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


def params(**kw):
    base = {"principal_arn": TEAM_ROLE, "type": "STANDARD", "node_role": False}
    base.update(kw)
    return base


# ---------------------------------------------------------------- validation


def test_node_entry_is_valid_without_groups():
    desired = ae.validate(params(principal_arn=NODE_ROLE, type="EC2_LINUX"))
    assert desired["type"] == "EC2_LINUX"
    assert desired["kubernetes_groups"] is None


@pytest.mark.parametrize(
    "kw, option",
    [
        ({"kubernetes_groups": ["system:nodes"]}, "kubernetes_groups"),
        ({"kubernetes_groups": ["ops"]}, "kubernetes_groups"),
        ({"username": "system:node:{{EC2PrivateDNSName}}"}, "username"),
        ({"access_policies": [{"policy_arn": VIEW}]}, "access_policies"),
    ],
)
def test_ec2_linux_refuses_groups_username_and_policies(kw, option):
    with pytest.raises(KarpenterError) as err:
        ae.validate(params(principal_arn=NODE_ROLE, type="EC2_LINUX", **kw))
    assert err.value.msg.startswith(option)
    assert "EC2_LINUX" in err.value.msg


@pytest.mark.parametrize(
    "groups", [["system:nodes"], ["system:bootstrappers", "system:nodes"], ["system:bootstrappers"]]
)
def test_standard_entry_with_node_groups_suggests_ec2_linux(groups):
    with pytest.raises(KarpenterError) as err:
        ae.validate(params(principal_arn=NODE_ROLE, kubernetes_groups=groups))
    assert "looks like a node role" in err.value.msg
    assert "Use type EC2_LINUX" in err.value.msg
    assert NODE_ROLE in err.value.msg


def test_standard_entry_with_node_role_hint_suggests_ec2_linux():
    with pytest.raises(KarpenterError, match="node_role is true.*EC2_LINUX"):
        ae.validate(params(principal_arn=NODE_ROLE, node_role=True))


def test_node_role_hint_with_ec2_linux_is_fine():
    assert ae.validate(params(principal_arn=NODE_ROLE, type="EC2_LINUX", node_role=True))["type"] == "EC2_LINUX"


def test_other_system_groups_are_refused():
    with pytest.raises(KarpenterError, match="kubernetes_groups system:masters"):
        ae.validate(params(kubernetes_groups=["system:masters", "ops"]))


def test_node_types_take_roles_only():
    with pytest.raises(KarpenterError, match="not an IAM role"):
        ae.validate(params(principal_arn="arn:aws:iam::123456789012:user/alice", type="EC2_LINUX"))


@pytest.mark.parametrize("arn", ["", "KarpenterNodeRole", "arn:aws:iam::12345:role/x", "arn:aws:s3:::bucket"])
def test_principal_must_be_an_iam_arn(arn):
    with pytest.raises(KarpenterError, match="principal_arn"):
        ae.validate(params(principal_arn=arn))


def test_role_path_is_allowed():
    assert ae.validate(params())["principal_arn"] == TEAM_ROLE


@pytest.mark.parametrize(
    "policies, match",
    [
        ([{"policy_arn": "AmazonEKSViewPolicy"}], r"access_policies\[0\].policy_arn"),
        ([{"policy_arn": VIEW}, {"policy_arn": VIEW}], "twice"),
        ([{"policy_arn": VIEW, "access_scope": {"type": "namespace"}}], "no namespaces"),
        ([{"policy_arn": VIEW, "access_scope": {"type": "cluster", "namespaces": ["a"]}}], "cluster scope"),
        ([{"policy_arn": VIEW, "access_scope": {"type": "pod"}}], "not one of"),
    ],
)
def test_policy_validation(policies, match):
    with pytest.raises(KarpenterError, match=match):
        ae.validate(params(access_policies=policies))


def test_policies_are_normalised():
    desired = ae.validate(
        params(
            kubernetes_groups=["b", "a", "a"],
            access_policies=[
                {"policy_arn": VIEW, "access_scope": {"type": "namespace", "namespaces": ["z", "a"]}},
                {"policy_arn": ADMIN, "access_scope": None},
            ],
        )
    )
    assert desired["kubernetes_groups"] == ["a", "b"]
    assert desired["access_policies"] == [
        {"policy_arn": ADMIN, "access_scope": {"type": "cluster", "namespaces": []}},
        {"policy_arn": VIEW, "access_scope": {"type": "namespace", "namespaces": ["a", "z"]}},
    ]


# --------------------------------------------------------------------- plan


def current_entry(**kw):
    entry = ae.normalize_entry(
        {
            "clusterName": "demo",
            "principalArn": TEAM_ROLE,
            "accessEntryArn": "arn:aws:eks:us-east-1:123456789012:access-entry/demo/role/x/1",
            "type": "STANDARD",
            "username": TEAM_ROLE,
            "kubernetesGroups": ["ops"],
            "tags": {"a": "1", "b": "2"},
        },
        [{"policyArn": VIEW, "accessScope": {"type": "namespace", "namespaces": ["n2", "n1"]}}],
    )
    entry.update(kw)
    return entry


def test_normalize_entry_from_the_api():
    entry = current_entry()
    assert entry["access_policies"] == [
        {"policy_arn": VIEW, "access_scope": {"type": "namespace", "namespaces": ["n1", "n2"]}}
    ]
    assert entry["kubernetes_groups"] == ["ops"]


def test_plan_create():
    desired = ae.validate(params(access_policies=[{"policy_arn": VIEW}], tags={"t": "1"}))
    changes = ae.plan(None, desired)
    assert changes["create"] and changes["associate"] == desired["access_policies"]
    after = ae.predict("demo", None, desired, changes)
    assert after["access_entry_arn"] is None
    assert after["tags"] == {"t": "1"}
    assert after["access_policies"] == desired["access_policies"]


def test_plan_nothing_when_options_left_out():
    desired = ae.validate(params())
    assert ae.plan_is_empty(ae.plan(current_entry(), desired))


def test_plan_same_values_is_empty():
    desired = ae.validate(
        params(
            kubernetes_groups=["ops"],
            tags={"a": "1", "b": "2"},
            access_policies=[{"policy_arn": VIEW, "access_scope": {"type": "namespace", "namespaces": ["n1", "n2"]}}],
        )
    )
    assert ae.plan_is_empty(ae.plan(current_entry(), desired))


def test_plan_exact_policies_groups_and_tags():
    desired = ae.validate(
        params(
            kubernetes_groups=["dev"],
            username="team-a",
            tags={"a": "9"},
            access_policies=[{"policy_arn": ADMIN}],
        )
    )
    current = current_entry()
    changes = ae.plan(current, desired)
    assert changes["update"] == {"kubernetes_groups": ["dev"], "username": "team-a"}
    assert changes["associate"] == [{"policy_arn": ADMIN, "access_scope": {"type": "cluster", "namespaces": []}}]
    assert changes["disassociate"] == [VIEW]
    assert changes["tag"] == {"a": "9"}
    assert changes["untag"] == ["b"]
    after = ae.predict("demo", current, desired, changes)
    assert after["kubernetes_groups"] == ["dev"]
    assert after["tags"] == {"a": "9"}
    assert [p["policy_arn"] for p in after["access_policies"]] == [ADMIN]
    assert current["tags"] == {"a": "1", "b": "2"}  # the prediction does not change the current state


def test_plan_rescopes_a_policy():
    desired = ae.validate(params(access_policies=[{"policy_arn": VIEW, "access_scope": {"type": "cluster"}}]))
    changes = ae.plan(current_entry(), desired)
    assert changes["associate"][0]["access_scope"] == {"type": "cluster", "namespaces": []}
    assert changes["disassociate"] == []


def test_plan_keeps_tags_without_purge():
    desired = ae.validate(params(tags={"c": "3"}))
    changes = ae.plan(current_entry(), desired, purge_tags=False)
    assert changes["tag"] == {"c": "3"} and changes["untag"] == []


def test_plan_refuses_a_type_change():
    desired = ae.validate(params(type="EC2_LINUX"))
    with pytest.raises(KarpenterError, match="^type: .*cannot change the type"):
        ae.plan(current_entry(), desired)


def test_require_api_names_an_old_botocore():
    ae.require_api(["CreateAccessEntry", "AssociateAccessPolicy", "DescribeCluster"])
    with pytest.raises(KarpenterError, match="botocore 1.34.0 has no EKS access entry API"):
        ae.require_api(["CreatePodIdentityAssociation", "DescribeCluster"], "1.34.0")

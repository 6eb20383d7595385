"""Karpenter's status conditions read as a verdict (conditions as karpenter-provider-aws reports them)."""

import pytest

from ansible_collections.jit.karpenter.plugins.module_utils._readiness import allows_spot, object_problem, verdict


def _obj(kind, name, *conditions):
    return {
        "kind": kind,
        "metadata": {"name": name},
        "status": {"conditions": [dict(zip(("type", "status", "reason", "message"), c)) for c in conditions]},
    }


NODECLASS_NO_SUBNETS = _obj(
    "EC2NodeClass",
    "default",
    ("SubnetsReady", "False", "SubnetsNotFound", "SubnetSelector did not match any Subnets"),
    ("SecurityGroupsReady", "True", "SecurityGroupsReady", ""),
    ("AMIsReady", "True", "AMIsReady", ""),
    ("Ready", "False", "UnhealthyDependents", "SubnetsReady=False"),
)
NODEPOOL_WAITING = _obj(
    "NodePool",
    "default",
    ("NodeClassReady", "False", "NodeClassNotReady", "EC2NodeClass not ready"),
    ("Ready", "False", "UnhealthyDependents", "NodeClassReady=False"),
)
READY_CLASS = _obj("EC2NodeClass", "default", ("SubnetsReady", "True", "", ""), ("Ready", "True", "Ready", ""))
READY_POOL = _obj("NodePool", "default", ("Ready", "True", "Ready", ""))


def test_subnets_not_found_names_object_condition_message_and_fix():
    line = object_problem(NODECLASS_NO_SUBNETS)
    assert line.startswith("EC2NodeClass default: SubnetsReady=False, SubnetSelector did not match any Subnets")
    assert "likely fix" in line and "subnet_selector_terms" in line
    assert "SecurityGroupsReady" not in line  # only what is not True


def test_verdict_lists_node_classes_first():
    result = verdict([NODEPOOL_WAITING, NODECLASS_NO_SUBNETS])
    assert result["ready"] is False
    assert result["problems"][0].startswith("EC2NodeClass default")
    assert result["problems"][1].startswith("NodePool default: NodeClassReady=False")


def test_verdict_ready():
    assert verdict([READY_POOL, READY_CLASS]) == {
        "ready": True,
        "problems": [],
        "ready_objects": ["EC2NodeClass default", "NodePool default"],
    }


def test_nothing_is_not_ready():
    assert verdict([])["ready"] is False


def test_no_conditions_points_at_the_controller():
    line = object_problem({"kind": "NodePool", "metadata": {"name": "x"}}, namespace="karpenter")
    assert "has not reconciled" in line and "kubectl -n karpenter" in line


@pytest.mark.parametrize(
    "requirements,spot",
    [
        (None, False),
        ([{"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]}], False),
        ([{"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot", "on-demand"]}], True),
        ([{"key": "karpenter.sh/capacity-type", "operator": "NotIn", "values": ["on-demand"]}], True),
        ([{"key": "karpenter.sh/capacity-type", "operator": "NotIn", "values": ["spot"]}], False),
        ([{"key": "karpenter.sh/capacity-type", "operator": "Exists"}], True),
        ([{"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}], False),
    ],
)
def test_allows_spot(requirements, spot):
    assert allows_spot(requirements) is spot

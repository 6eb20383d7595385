"""Static checks of the role cloudformation's v1alpha5 template (Karpenter 0.16, the walkthrough's).

The expectations are written out by hand from the walkthrough's getting-started template
(getting-started-with-eksctl/cloudformation.yaml of Karpenter v0.16); they are never read back
from the template under test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cfn_render import Context, prerender, render
from cfnlint.api import lint

TEMPLATE = Path(__file__).resolve().parents[1].parent / "roles" / "cloudformation" / "files" / "karpenter-v1alpha5.yaml"
CLUSTER = "ekspicturesocial02"

# The walkthrough's controller policy: one statement on every resource, and PassRole of the node role.
WALKTHROUGH_ACTIONS = {
    "ec2:CreateLaunchTemplate",
    "ec2:CreateFleet",
    "ec2:RunInstances",
    "ec2:CreateTags",
    "ec2:TerminateInstances",
    "ec2:DeleteLaunchTemplate",
    "ec2:DescribeLaunchTemplates",
    "ec2:DescribeInstances",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeInstanceTypeOfferings",
    "ec2:DescribeAvailabilityZones",
    "ec2:DescribeSpotPriceHistory",
    "ssm:GetParameter",
    "pricing:GetProducts",
}


@pytest.fixture(scope="module")
def text():
    return TEMPLATE.read_text()


@pytest.fixture(scope="module")
def ctx():
    return Context(cluster_name=CLUSTER)


@pytest.fixture(scope="module")
def rendered(text, ctx):
    return render(text, ctx)


def test_cfn_lint_passes(text):
    assert [str(m) for m in lint(text)] == []
    assert [str(m) for m in lint(prerender(text, "n" * 46)) if m.rule.id != "W1020"] == []


def test_the_walkthrough_resources_and_nothing_else(rendered):
    resources = {name: (r["Type"], r["Properties"]) for name, r in rendered["Resources"].items()}
    assert {name: kind_props[0] for name, kind_props in resources.items()} == {
        "KarpenterNodeInstanceProfile": "AWS::IAM::InstanceProfile",
        "KarpenterNodeRole": "AWS::IAM::Role",
        "KarpenterControllerPolicy": "AWS::IAM::ManagedPolicy",
    }
    profile = resources["KarpenterNodeInstanceProfile"][1]
    assert profile["InstanceProfileName"] == f"KarpenterNodeInstanceProfile-{CLUSTER}"
    assert profile["Roles"] == [f"KarpenterNodeRole-{CLUSTER}"]
    assert resources["KarpenterControllerPolicy"][1]["ManagedPolicyName"] == f"KarpenterControllerPolicy-{CLUSTER}"


def test_node_role_trusts_ec2_with_the_walkthrough_policies(rendered):
    role = rendered["Resources"]["KarpenterNodeRole"]["Properties"]
    assert role["RoleName"] == f"KarpenterNodeRole-{CLUSTER}"
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "ec2.amazonaws.com"}
    assert statement["Action"] == ["sts:AssumeRole"]
    assert sorted(role["ManagedPolicyArns"]) == [
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
        "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
        "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
        "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    ]


def test_controller_policy_keeps_the_walkthrough_permissions_unscoped(rendered, ctx):
    statements = rendered["Resources"]["KarpenterControllerPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert len(statements) == 2
    broad, pass_role = statements
    # Not scoped: launch and terminate on every resource, as Karpenter 0.16 needs (and the docs say).
    assert broad["Resource"] == "*"
    assert set(broad["Action"]) == WALKTHROUGH_ACTIONS
    assert "Condition" not in broad
    assert pass_role["Action"] == ["iam:PassRole"]
    assert pass_role["Resource"] == f"arn:aws:iam::{ctx.account_id}:role/KarpenterNodeRole-{CLUSTER}"


def test_outputs_give_the_playbook_what_it_needs(rendered, ctx):
    outputs = {name: o["Value"] for name, o in rendered["Outputs"].items()}
    policy = f"arn:aws:iam::{ctx.account_id}:policy/KarpenterControllerPolicy-{CLUSTER}"
    assert outputs == {
        "ClusterName": CLUSTER,
        "NodeRoleName": f"KarpenterNodeRole-{CLUSTER}",
        "NodeRoleArn": f"arn:aws:iam::{ctx.account_id}:role/KarpenterNodeRole-{CLUSTER}",
        "InstanceProfileName": f"KarpenterNodeInstanceProfile-{CLUSTER}",
        "ControllerPolicyArn": policy,
        "ControllerPolicyArns": policy,
    }

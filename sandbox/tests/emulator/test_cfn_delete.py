"""DeleteStack deletes a stack's resources as CloudFormation does (sandbox/emulator/cfn_delete.py).

CloudFormation deletes an ``AWS::IAM::ManagedPolicy`` with its stack after detaching it from the
roles, groups and users its template names; a policy still attached to something outside the
stack cannot be deleted, and the stack then stays in ``DELETE_FAILED`` until DeleteStack is
called again (AWS CloudFormation user guide, "Troubleshooting: Delete stack fails").
"""

import json

import pytest
from .test_divergences import SMALL_POLICY, TRUST_EC2, _create_stack


def _stack_with_policy(cfn, name, role_name, policy_name, attach_to_own_role=True):
    policy = {
        "Type": "AWS::IAM::ManagedPolicy",
        "Properties": {"ManagedPolicyName": policy_name, "PolicyDocument": SMALL_POLICY},
    }
    if attach_to_own_role:
        policy["Properties"]["Roles"] = [{"Ref": "Role"}]
    return _create_stack(
        cfn,
        name,
        {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {"RoleName": role_name, "AssumeRolePolicyDocument": TRUST_EC2},
            },
            "Policy": policy,
        },
    )


def _policy_names(iam):
    return {p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]}


def _status(cfn, name):
    return cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]


def test_delete_stack_removes_policy_attached_to_its_own_role(emulator, unique):
    cfn, iam = emulator.client("cloudformation"), emulator.client("iam")
    name, role, policy = "own-" + unique, "own-role-" + unique, "own-policy-" + unique
    _stack_with_policy(cfn, name, role, policy)
    assert [p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]] == [policy]

    cfn.delete_stack(StackName=name)

    with pytest.raises(cfn.exceptions.ClientError):
        cfn.describe_stacks(StackName=name)
    assert policy not in _policy_names(iam)
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName=role)


def test_create_delete_create_with_the_same_policy_name(emulator, unique):
    """The install -> teardown -> install cycle: the second CreateStack finds no leftover policy."""
    cfn, iam = emulator.client("cloudformation"), emulator.client("iam")
    name, role, policy = "again-" + unique, "again-role-" + unique, "again-policy-" + unique
    _stack_with_policy(cfn, name, role, policy, attach_to_own_role=False)
    cfn.delete_stack(StackName=name)
    assert policy not in _policy_names(iam)

    stack = _stack_with_policy(cfn, name, role, policy, attach_to_own_role=False)
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert policy in _policy_names(iam)
    cfn.delete_stack(StackName=name)


def test_policy_attached_outside_the_stack_fails_the_delete_and_keeps_the_stack(emulator, unique):
    cfn, iam = emulator.client("cloudformation"), emulator.client("iam")
    name, role, policy = "held-" + unique, "held-role-" + unique, "held-policy-" + unique
    outside = "outside-" + unique
    _stack_with_policy(cfn, name, role, policy, attach_to_own_role=False)
    iam.create_role(RoleName=outside, AssumeRolePolicyDocument=json.dumps(TRUST_EC2))
    arn = next(p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"] if p["PolicyName"] == policy)
    iam.attach_role_policy(RoleName=outside, PolicyArn=arn)

    cfn.delete_stack(StackName=name)

    assert _status(cfn, name) == "DELETE_FAILED"
    events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    assert any(
        e["ResourceStatus"] == "DELETE_FAILED" and "attached" in e.get("ResourceStatusReason", "") for e in events
    )
    assert policy in _policy_names(iam)

    # Once the outside role lets go, DeleteStack finishes the job.
    iam.detach_role_policy(RoleName=outside, PolicyArn=arn)
    iam.delete_role(RoleName=outside)
    cfn.delete_stack(StackName=name)
    with pytest.raises(cfn.exceptions.ClientError):
        cfn.describe_stacks(StackName=name)
    assert policy not in _policy_names(iam)


def test_update_stack_changes_a_policy_in_place_and_delete_stack_removes_it(emulator, unique):
    """An upgrade (UpdateStack with a new policy document), then a teardown: CloudFormation updates an
    ``AWS::IAM::ManagedPolicy`` whose name stays in place (a new default version), and DeleteStack
    still deletes it. moto alone kept the old document and left the policy behind in DELETE_FAILED."""
    cfn, iam = emulator.client("cloudformation"), emulator.client("iam")
    name, role, policy = "upd-" + unique, "upd-role-" + unique, "upd-policy-" + unique
    _stack_with_policy(cfn, name, role, policy)
    body = cfn.get_template(StackName=name)["TemplateBody"]
    template = json.loads(body) if isinstance(body, str) else body
    newer = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "ec2:DescribeInstanceStatus", "Resource": "*"}],
    }
    template["Resources"]["Policy"]["Properties"]["PolicyDocument"] = newer
    cfn.update_stack(StackName=name, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_NAMED_IAM"])

    arn = next(p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"] if p["PolicyName"] == policy)
    default = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    assert iam.get_policy_version(PolicyArn=arn, VersionId=default)["PolicyVersion"]["Document"] == newer
    assert [p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]] == [policy]

    cfn.delete_stack(StackName=name)

    with pytest.raises(cfn.exceptions.ClientError):
        cfn.describe_stacks(StackName=name)
    assert policy not in _policy_names(iam)

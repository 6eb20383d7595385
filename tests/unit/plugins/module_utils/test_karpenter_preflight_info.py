# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure parts of karpenter_preflight_info: what it returns of a role and a stack, how a failed read becomes
data, and the names it refuses before calling AWS."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible_collections.jit.karpenter.plugins.module_utils import _karpenter_preflight_info as preflight
from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError


def test_summarize_role_keeps_name_arn_path_and_tags_as_a_dict():
    role = {
        "RoleName": "demo-karpenter",
        "Arn": "arn:aws:iam::123456789012:role/demo-karpenter",
        "Path": "/",
        "RoleId": "AROAEXAMPLE",
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []},
        "Tags": [{"Key": "jit.karpenter/managed-by", "Value": "jit.karpenter"}, {"Key": "team", "Value": ""}],
    }
    assert preflight.summarize_role(role, ["b-policy", "KarpenterKeptNodeRoles"], ["arn:p/b", "arn:p/a"]) == {
        "role_name": "demo-karpenter",
        "arn": "arn:aws:iam::123456789012:role/demo-karpenter",
        "path": "/",
        "description": None,
        "assume_role_policy_document": {"Version": "2012-10-17", "Statement": []},
        "tags": {"jit.karpenter/managed-by": "jit.karpenter", "team": ""},
        "inline_policy_names": ["KarpenterKeptNodeRoles", "b-policy"],
        "attached_policy_arns": ["arn:p/a", "arn:p/b"],
    }


def test_summarize_role_without_tags_or_policies():
    summary = preflight.summarize_role({"RoleName": "r", "Arn": "a", "Path": "/"})
    assert summary["tags"] == {}
    assert summary["inline_policy_names"] == []
    assert summary["attached_policy_arns"] == []


class _PagedIAM:
    """ListRolePolicies and ListAttachedRolePolicies in pages of one, as IAM pages with Marker."""

    def __init__(self, inline, attached):
        self.inline, self.attached, self.calls = inline, attached, []

    def get_role(self, RoleName):
        return {"Role": {"RoleName": RoleName, "Arn": "arn:aws:iam::1:role/" + RoleName, "Path": "/"}}

    def _page(self, items, key, kwargs):
        self.calls.append(kwargs)
        i = int(kwargs.get("Marker", "0"))
        page = {key: items[i : i + 1], "IsTruncated": i + 1 < len(items)}
        if page["IsTruncated"]:
            page["Marker"] = str(i + 1)
        return page

    def list_role_policies(self, **kwargs):
        return self._page(self.inline, "PolicyNames", kwargs)

    def list_attached_role_policies(self, **kwargs):
        return self._page([{"PolicyName": a, "PolicyArn": a} for a in self.attached], "AttachedPolicies", kwargs)


def test_read_role_reads_every_page_of_both_policy_lists():
    iam = _PagedIAM(["i2", "i1"], ["arn:p/b", "arn:p/a", "arn:p/c"])
    role = preflight.read_role(iam, "demo")
    assert role["inline_policy_names"] == ["i1", "i2"]
    assert role["attached_policy_arns"] == ["arn:p/a", "arn:p/b", "arn:p/c"]
    assert len(iam.calls) == 5


def test_summarize_deployed_stack_has_cloudformation_infos_keys_and_values():
    # DescribeStacks' stack as amazon.aws.cloudformation_info (stack_template=true) sees it; its to_dict and
    # boto3_tag_list_to_ansible_dict give the same pairs.
    stack = {
        "StackName": "Karpenter-demo",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/Karpenter-demo/1",
        "StackStatus": "UPDATE_COMPLETE",
        "CreationTime": "2026-11-30T00:00:00Z",
        "Parameters": [{"ParameterKey": "ClusterName", "ParameterValue": "demo"}],
        "Tags": [{"Key": "jit.karpenter/managed-by", "Value": "jit.karpenter"}],
        "Outputs": [
            {"OutputKey": "NodeRoleName", "OutputValue": "KarpenterNodeRole-demo", "Description": "d"},
            {"OutputKey": "InterruptionQueueName", "OutputValue": "demo"},
        ],
    }
    assert preflight.summarize_deployed_stack(stack, "AWSTemplateFormatVersion: 2010-09-09\n") == {
        "stack_description": {
            "stack_name": "Karpenter-demo",
            "stack_id": stack["StackId"],
            "stack_status": "UPDATE_COMPLETE",
        },
        "stack_template": "AWSTemplateFormatVersion: 2010-09-09\n",
        "stack_parameters": {"ClusterName": "demo"},
        "stack_tags": {"jit.karpenter/managed-by": "jit.karpenter"},
        "stack_outputs": {"NodeRoleName": "KarpenterNodeRole-demo", "InterruptionQueueName": "demo"},
    }


def test_summarize_deployed_stack_without_parameters_tags_or_outputs():
    summary = preflight.summarize_deployed_stack({"StackName": "s", "StackStatus": "CREATE_IN_PROGRESS"}, None)
    assert summary["stack_parameters"] == summary["stack_tags"] == summary["stack_outputs"] == {}
    assert summary["stack_description"]["stack_status"] == "CREATE_IN_PROGRESS"


def test_summarize_stack_maps_logical_to_physical_ids_as_cloudformation_info_does():
    stack = {
        "StackName": "eksctl-demo-karpenter",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/eksctl-demo-karpenter/1",
        "StackStatus": "CREATE_COMPLETE",
    }
    resources = [
        {
            "LogicalResourceId": "KarpenterInterruptionQueue",
            "PhysicalResourceId": "https://sqs.us-east-1.amazonaws.com/123456789012/demo",
            "ResourceType": "AWS::SQS::Queue",
        },
        # A resource that failed to create has no physical ID.
        {"LogicalResourceId": "Rule", "ResourceType": "AWS::Events::Rule"},
    ]
    assert preflight.summarize_stack(stack, resources) == {
        "stack_name": "eksctl-demo-karpenter",
        "stack_id": stack["StackId"],
        "stack_status": "CREATE_COMPLETE",
        "stack_resources": {
            "KarpenterInterruptionQueue": "https://sqs.us-east-1.amazonaws.com/123456789012/demo",
            "Rule": None,
        },
    }


def test_a_failed_read_becomes_its_message_and_details_without_the_partial_discovery():
    err = KarpenterError("selectors refused", discovery={"subnet_ids": []}, error_code="X")
    assert preflight.error_entry(err) == {"msg": "selectors refused", "error_code": "X"}


@pytest.mark.parametrize(
    "call, bad",
    [
        # Refused before any AWS call: no client is needed to see them.
        (lambda: preflight.read_role(None, "demo karpenter"), "iam_role_name 'demo karpenter'"),
        (lambda: preflight.read_role(None, "r" * 65), "iam_role_name 'rrr"),
        (lambda: preflight.read_stack(None, "eksctl-demo_1-karpenter"), "stack_name 'eksctl-demo_1-karpenter'"),
        (lambda: preflight.read_deployed_stack(None, "Karpenter-demo 1"), "stack_name 'Karpenter-demo 1'"),
    ],
    ids=["role-space", "role-too-long", "stack-underscore", "deployed-stack-space"],
)
def test_bad_names_are_refused_naming_the_option_and_the_input(call, bad):
    with pytest.raises(KarpenterError) as raised:
        call()
    assert bad in raised.value.msg

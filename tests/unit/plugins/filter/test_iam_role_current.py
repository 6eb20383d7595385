# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""iam_role_current: amazon.aws.iam_role's own comparison (its compare_policies and compare_aws_tags, managed
policies as sets when it purges), on a role read before."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest
from ansible_collections.jit.karpenter.plugins.filter.iam_role_current import iam_role_current

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {
                "Federated": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/AB"
            },
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    "oidc.eks.us-east-1.amazonaws.com/id/AB:sub": "system:serviceaccount:kube-system:karpenter",
                    "oidc.eks.us-east-1.amazonaws.com/id/AB:aud": "sts.amazonaws.com",
                }
            },
        }
    ],
}
POLICIES = ["arn:aws:iam::123456789012:policy/A", "arn:aws:iam::123456789012:policy/B"]
DESCRIPTION = "Karpenter controller of EKS cluster demo (IRSA)"
TAGS = {"jit.karpenter/managed-by": "jit.karpenter"}
ROLE = {
    "role_name": "demo-karpenter",
    "arn": "arn:aws:iam::123456789012:role/demo-karpenter",
    "path": "/",
    "description": DESCRIPTION,
    "assume_role_policy_document": TRUST,
    "tags": dict(TAGS, team="platform"),
    "inline_policy_names": [],
    "attached_policy_arns": sorted(POLICIES),
}


def _role(**changes):
    role = copy.deepcopy(ROLE)
    role.update(changes)
    return role


def _trust(**statement_changes):
    trust = copy.deepcopy(TRUST)
    trust["Statement"][0].update(statement_changes)
    return trust


@pytest.mark.parametrize(
    "role,expected",
    [
        (ROLE, True),  # as asked; a tag of its own (team) is kept, as purge_tags=false keeps it
        (_role(attached_policy_arns=list(reversed(POLICIES))), True),  # order does not matter
        # compare_policies reads a one-element list and its element alike, and Version 2008-10-17 when absent
        (_role(assume_role_policy_document=_trust(Action=["sts:AssumeRoleWithWebIdentity"])), True),
        (_role(assume_role_policy_document=_trust(Effect="Deny")), False),
        (_role(assume_role_policy_document=dict(TRUST, Version="2008-10-17")), False),
        (_role(description="Karpenter controller of EKS cluster demo (EKS Pod Identity)"), False),
        (_role(description=None), False),
        (_role(attached_policy_arns=POLICIES[:1]), False),  # one to attach
        (_role(attached_policy_arns=POLICIES + ["arn:aws:iam::aws:policy/Extra"]), False),  # one to detach (purge)
        (_role(tags={}), False),
        (_role(tags={"jit.karpenter/managed-by": "someone"}), False),
        (None, False),  # not read
        ({}, False),  # does not exist
        (_role(attached_policy_arns=None), False),  # read without its managed policies
        (_role(assume_role_policy_document=None), False),
    ],
)
def test_current_only_when_iam_role_would_change_nothing(role, expected):
    assert iam_role_current(role, TRUST, POLICIES, DESCRIPTION, TAGS) is expected


def test_no_managed_policies_means_none_attached():
    assert iam_role_current(_role(attached_policy_arns=[]), TRUST, [], DESCRIPTION, TAGS) is True
    assert iam_role_current(ROLE, TRUST, [], DESCRIPTION, TAGS) is False


def test_no_tags_asked_for_takes_any():
    assert iam_role_current(_role(tags={}), TRUST, POLICIES, DESCRIPTION, None) is True

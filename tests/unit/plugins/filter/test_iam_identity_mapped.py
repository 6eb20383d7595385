# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filter iam_identity_mapped: true exactly when iam_identity_mapping (state=present) would change nothing and
warn of nothing on the same data, for the shapes aws-auth takes on real clusters (eksctl's node group entries, field
names in any case as aws-iam-authenticator reads them, duplicates, the same ARN in mapUsers, no ConfigMap)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible_collections.jit.karpenter.plugins.filter.iam_identity_mapped import FilterModule, iam_identity_mapped
from ansible_collections.jit.karpenter.plugins.module_utils import _iam_identity_mapping as aws_auth

ACCOUNT = "111122223333"
ARN = f"arn:aws:iam::{ACCOUNT}:role/KarpenterNodeRole-demo"
USER = "system:node:{{EC2PrivateDNSName}}"
GROUPS = ["system:bootstrappers", "system:nodes"]
EKSCTL_NODEGROUP = (
    f"- groups:\n  - system:bootstrappers\n  - system:nodes\n  rolearn: arn:aws:iam::{ACCOUNT}:role/eksctl-demo-nodegroup-ng-NodeInstanceRole\n"
    "  username: system:node:{{EC2PrivateDNSName}}\n"
)
MAPPED = f"- rolearn: {ARN}\n  username: {USER}\n  groups:\n  - system:bootstrappers\n  - system:nodes\n"


@pytest.mark.parametrize(
    "data,expected",
    [
        ({"mapRoles": EKSCTL_NODEGROUP + MAPPED}, True),
        (
            {
                "mapRoles": MAPPED.replace("rolearn", "RoleARN").replace(
                    ARN, ARN.upper().replace("ARN:AWS:IAM", "arn:aws:iam")
                )
            },
            True,
        ),
        ({"mapRoles": MAPPED.replace("  - system:nodes\n", "  - system:nodes\n  - extra\n")}, True),  # more groups kept
        ({"mapRoles": EKSCTL_NODEGROUP}, False),  # not there: added
        ({"mapRoles": MAPPED.replace("  - system:nodes\n", "")}, False),  # a group missing: updated
        ({"mapRoles": MAPPED.replace(USER, "karpenter")}, False),  # another username: updated
        ({"mapRoles": MAPPED + MAPPED}, False),  # a duplicate: removed, with a warning
        ({"mapRoles": MAPPED, "mapUsers": MAPPED.replace("rolearn", "userarn")}, False),  # also in mapUsers: a warning
        ({"mapRoles": "- rolearn: [unclosed\n"}, False),  # does not parse: the module says why
        ({}, False),
        (None, False),
    ],
)
def test_true_exactly_when_the_module_would_change_nothing_and_warn_of_nothing(data, expected):
    assert iam_identity_mapped(data, ARN, USER, GROUPS) is expected
    try:
        result = aws_auth.plan(data, aws_auth.identity(arn=ARN, username=USER, groups=GROUPS), "present")
    except Exception:
        assert expected is False
    else:
        assert (not result.changed and not result.warnings) is expected


def test_the_filter_is_registered_under_its_name():
    assert FilterModule().filters() == {"iam_identity_mapped": iam_identity_mapped}


def test_ansible_text_types_are_taken_as_text():
    class Tagged(str):  # what Ansible hands a filter: str subclasses, the !unsafe username among them
        # As ansible-core 2.17's AnsibleUnsafeText does, str() gives the value itself.
        def __str__(self):  # pylint: disable=invalid-str-returned
            return self

    data = {Tagged("mapRoles"): Tagged(EKSCTL_NODEGROUP + MAPPED)}
    assert iam_identity_mapped(data, Tagged(ARN), Tagged(USER), [Tagged(g) for g in GROUPS]) is True


def test_an_arn_that_is_not_one_is_false():
    assert iam_identity_mapped({"mapRoles": MAPPED}, "not-an-arn", USER, GROUPS) is False

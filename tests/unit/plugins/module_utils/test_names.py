# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one ARN parser and the one Kubernetes-name checker, with ARNs taken from AWS's documented
formats (IAM user guide "IAM identifiers"; "Amazon Resource Names (ARNs)"; the EKS user guide's
access policies), and the modules' errors that name the bad input."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible_collections.jit.karpenter.plugins.module_utils import _names
from ansible_collections.jit.karpenter.plugins.module_utils import (
    _eks_access_entry as access_entry,
    _iam_identity_mapping as aws_auth,
    _iam_oidc_provider as oidc,
    _irsa_trust_policy as iam_policies,
)
from ansible_collections.jit.karpenter.plugins.module_utils import _eks_pod_identity_association as pod_identity
from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError

ACCOUNT = "123456789012"
ISSUER = "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"


@pytest.mark.parametrize(
    "arn, fields",
    [
        # The documented shapes: arn:partition:service:region:account-id:resource-type/resource-id.
        (f"arn:aws:iam::{ACCOUNT}:user/JohnDoe", ("aws", "iam", "", ACCOUNT, "user/JohnDoe")),
        (f"arn:aws-cn:iam::{ACCOUNT}:role/S3Access", ("aws-cn", "iam", "", ACCOUNT, "role/S3Access")),
        (f"arn:aws-us-gov:iam::{ACCOUNT}:role/S3Access", ("aws-us-gov", "iam", "", ACCOUNT, "role/S3Access")),
        # resource-type:resource-id, with colons in the resource.
        (
            f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:my-log-group:*",
            ("aws", "logs", "us-east-1", ACCOUNT, "log-group:my-log-group:*"),
        ),
        # S3: neither region nor account.
        (
            "arn:aws:s3:::amzn-s3-demo-bucket/exampleobject.png",
            ("aws", "s3", "", "", "amzn-s3-demo-bucket/exampleobject.png"),
        ),
        (
            f"arn:aws:eks:us-west-2:{ACCOUNT}:cluster/my-cluster",
            ("aws", "eks", "us-west-2", ACCOUNT, "cluster/my-cluster"),
        ),
        (
            "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
            ("aws", "eks", "", "aws", "cluster-access-policy/AmazonEKSViewPolicy"),
        ),
    ],
)
def test_parse_arn_splits_the_documented_shapes(arn, fields):
    assert tuple(_names.parse_arn(arn)) == fields


@pytest.mark.parametrize(
    "value", [None, "", 42, "not-an-arn", f"arn:aws:iam::{ACCOUNT}", "aws:iam::123456789012:role/x"]
)
def test_parse_arn_refuses_what_is_not_an_arn(value):
    assert _names.parse_arn(value) is None


@pytest.mark.parametrize(
    "partition", ["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"]
)
def test_known_partitions(partition):
    assert _names.is_partition(partition)


@pytest.mark.parametrize("partition", ["", "AWS", "azure", "aws-", "aws_cn", "awscn", "aws-1"])
def test_unknown_partitions(partition):
    assert not _names.is_partition(partition)


@pytest.mark.parametrize(
    "value, ok",
    [
        (ACCOUNT, True),
        ("000000000000", True),
        ("12345678901", False),
        ("1234567890123", False),
        ("12345678901a", False),
        (" 123456789012", False),
        (123456789012, False),
        (None, False),
        ("", False),
    ],
)
def test_account_id_is_twelve_digits_as_a_string(value, ok):
    assert _names.is_account_id(value) is ok


@pytest.mark.parametrize(
    "arn, kinds, services, parsed",
    [
        (f"arn:aws:iam::{ACCOUNT}:role/S3Access", ("role",), ("iam",), ("aws", "iam", ACCOUNT, "role", [], "S3Access")),
        # A role path (IAM identifiers: role/application_abc/component_xyz/S3Access).
        (
            f"arn:aws:iam::{ACCOUNT}:role/application_abc/component_xyz/S3Access",
            ("role",),
            ("iam",),
            ("aws", "iam", ACCOUNT, "role", ["application_abc", "component_xyz"], "S3Access"),
        ),
        (
            f"arn:aws-us-gov:iam::{ACCOUNT}:user/division_abc/subdivision_xyz/JaneDoe",
            ("role", "user"),
            ("iam",),
            ("aws-us-gov", "iam", ACCOUNT, "user", ["division_abc", "subdivision_xyz"], "JaneDoe"),
        ),
        (
            f"arn:aws-cn:iam::{ACCOUNT}:oidc-provider/{ISSUER}",
            ("oidc-provider",),
            ("iam",),
            ("aws-cn", "iam", ACCOUNT, "oidc-provider", ISSUER.split("/")[:-1], ISSUER.rsplit("/", maxsplit=1)[-1]),
        ),
        (
            f"arn:aws:sts::{ACCOUNT}:assumed-role/Accounting-Role/Mary",
            ("assumed-role",),
            ("iam", "sts"),
            ("aws", "sts", ACCOUNT, "assumed-role", ["Accounting-Role"], "Mary"),
        ),
        (
            f"arn:aws:sts::{ACCOUNT}:federated-user/Bob",
            ("federated-user",),
            ("sts",),
            ("aws", "sts", ACCOUNT, "federated-user", [], "Bob"),
        ),
    ],
)
def test_parse_iam_arn(arn, kinds, services, parsed):
    assert tuple(_names.parse_iam_arn(arn, kinds=kinds, services=services)) == parsed


@pytest.mark.parametrize(
    "arn",
    [
        f"arn:aws:iam::{ACCOUNT}:user/JohnDoe",  # another kind
        f"arn:aws:iam::{ACCOUNT}:role/",  # no name
        f"arn:aws:iam::{ACCOUNT}:role",  # no name, no slash
        f"arn:aws:iam:us-east-1:{ACCOUNT}:role/S3Access",  # IAM is global: no region
        f"arn:aws:sts::{ACCOUNT}:role/S3Access",  # another service
        "arn:aws:iam::12345678901:role/S3Access",  # 11 digits
        "arn:aws:iam::aws:role/S3Access",  # not an account
        f"arn:azure:iam::{ACCOUNT}:role/S3Access",  # unknown partition
        "role/S3Access",
        None,
    ],
)
def test_parse_iam_arn_refuses(arn):
    assert _names.parse_iam_arn(arn, kinds=("role",)) is None


@pytest.mark.parametrize(
    "value, label, subdomain",
    [
        ("kube-system", True, True),
        ("karpenter", True, True),
        ("a", True, True),
        ("0abc", True, True),
        ("my.service.account", False, True),
        ("a" * 63, True, True),
        ("a" * 64, False, True),
        (".".join(["a" * 63] * 4), False, False),  # 255 characters
        (".".join(["a" * 63] * 3 + ["a" * 61]), False, True),  # 253 characters
        ("", False, False),
        ("Karpenter", False, False),
        ("-karpenter", False, False),
        ("karpenter-", False, False),
        ("kar_penter", False, False),
        ("my..sa", False, False),
        (None, False, False),
    ],
)
def test_kubernetes_names(value, label, subdomain):
    assert _names.is_dns1123_label(value) is label
    assert _names.is_dns1123_subdomain(value) is subdomain


@pytest.mark.parametrize(
    "value, ok",
    [
        ("demo-karpenter", True),
        ("KarpenterControllerRole-prod_1", True),
        ("a+b=c,d.e@f_g-h", True),
        ("a" * 64, True),
        ("a" * 65, False),
        ("", False),
        ("role/demo", False),
        ("demo karpenter", False),
        ("démo", False),
        ("demo\n", False),
        (None, False),
    ],
)
def test_iam_role_names(value, ok):
    assert _names.is_iam_role_name(value) is ok


@pytest.mark.parametrize(
    "value, ok",
    [
        ("eksctl-demo-karpenter", True),
        ("Karpenter-prod-1", True),
        ("a" * 128, True),
        ("a" * 129, False),
        ("", False),
        ("1stack", False),
        ("-stack", False),
        ("eksctl-demo_1-karpenter", False),
        ("stack\n", False),
        (None, False),
    ],
)
def test_stack_names(value, ok):
    assert _names.is_stack_name(value) is ok


# Every module's own check goes through the helpers above, and its error still names the bad input.
BAD_ROLE = f"arn:aws:iam::{ACCOUNT}:group/Admins"


@pytest.mark.parametrize(
    "call",
    [
        lambda: aws_auth.canonical_arn(BAD_ROLE),
        lambda: access_entry.validate({"principal_arn": BAD_ROLE}),
        lambda: pod_identity.validate(
            {"namespace": "kube-system", "service_account": "karpenter", "role_arn": BAD_ROLE, "tags": None}
        ),
        lambda: iam_policies.parse_oidc_provider_arn(BAD_ROLE),
    ],
    ids=["aws_auth", "access_entry", "pod_identity", "iam_policies"],
)
def test_module_errors_name_the_bad_arn(call):
    with pytest.raises(KarpenterError, match="group/Admins"):
        call()


@pytest.mark.parametrize(
    "call, bad",
    [
        (lambda: aws_auth.identity(account="12345678901"), "12345678901"),
        (lambda: oidc.provider_arn("https://" + ISSUER, "12345678901"), "12345678901"),
        (lambda: aws_auth.canonical_arn("arn:aws:iam::12345678901:role/R"), "12345678901"),
    ],
)
def test_module_errors_name_the_bad_account(call, bad):
    with pytest.raises(KarpenterError, match=bad):
        call()


@pytest.mark.parametrize(
    "call, bad",
    [
        (
            lambda: pod_identity.validate(
                {"namespace": "Kube_System", "service_account": "karpenter", "role_arn": None, "tags": None},
                state="absent",
            ),
            "Kube_System",
        ),
        (
            lambda: pod_identity.validate(
                {"namespace": "kube-system", "service_account": "Karpenter", "role_arn": None, "tags": None},
                state="absent",
            ),
            "Karpenter",
        ),
        (
            lambda: iam_policies.irsa_trust_policy(
                f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}", "Kube_System", "k"
            ),
            "Kube_System",
        ),
        (
            lambda: iam_policies.irsa_trust_policy(
                f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}", "kube-system", "K_"
            ),
            "K_",
        ),
    ],
)
def test_module_errors_name_the_bad_kubernetes_name(call, bad):
    with pytest.raises(KarpenterError, match=bad):
        call()


def test_partitions_other_than_aws_pass_through():
    assert (
        aws_auth.canonical_arn(f"arn:aws-cn:iam::{ACCOUNT}:role/a/b/Node")[1] == f"arn:aws-cn:iam::{ACCOUNT}:role/Node"
    )
    assert iam_policies.parse_oidc_provider_arn(f"arn:aws-us-gov:iam::{ACCOUNT}:oidc-provider/{ISSUER}/") == (
        "aws-us-gov",
        ACCOUNT,
        ISSUER,
    )
    assert access_entry.validate({"principal_arn": f"arn:aws-cn:iam::{ACCOUNT}:role/x/y/Admin"})["principal_arn"] == (
        f"arn:aws-cn:iam::{ACCOUNT}:role/x/y/Admin"
    )

# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError
from ansible_collections.jit.karpenter.plugins.module_utils._irsa_trust_policy import (
    irsa_trust_policy,
    parse_oidc_provider_arn,
)

ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
PROVIDER = "arn:aws:iam::123456789012:oidc-provider/" + ISSUER

GOLDEN = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Federated": PROVIDER},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    ISSUER + ":aud": "sts.amazonaws.com",
                    ISSUER + ":sub": "system:serviceaccount:kube-system:karpenter",
                }
            },
        }
    ],
}


def test_golden_trust_policy():
    assert irsa_trust_policy(PROVIDER, "kube-system", "karpenter") == GOLDEN


def test_only_string_equals_and_one_statement():
    policy = irsa_trust_policy(PROVIDER, "karpenter", "karpenter")
    (statement,) = policy["Statement"]
    assert list(statement["Condition"]) == ["StringEquals"]
    assert statement["Condition"]["StringEquals"][ISSUER + ":sub"] == "system:serviceaccount:karpenter:karpenter"


def test_other_partition():
    arn = "arn:aws-us-gov:iam::123456789012:oidc-provider/oidc.eks.us-gov-west-1.amazonaws.com/id/ABC"
    policy = irsa_trust_policy(arn, "kube-system", "karpenter")
    assert policy["Statement"][0]["Principal"]["Federated"] == arn
    assert "oidc.eks.us-gov-west-1.amazonaws.com/id/ABC:aud" in policy["Statement"][0]["Condition"]["StringEquals"]


@pytest.mark.parametrize(
    "namespace, name",
    [("*", "karpenter"), ("kube-system", "*"), ("kube-system", "karp?nter"), ("team-*", "default")],
)
def test_wildcards_refused_without_opt_in(namespace, name):
    with pytest.raises(KarpenterError, match="wildcard"):
        irsa_trust_policy(PROVIDER, namespace, name)


def test_wildcards_with_opt_in_use_string_like_for_sub_only():
    policy = irsa_trust_policy(PROVIDER, "team-*", "karpenter", allow_wildcards=True)
    condition = policy["Statement"][0]["Condition"]
    assert condition == {
        "StringEquals": {ISSUER + ":aud": "sts.amazonaws.com"},
        "StringLike": {ISSUER + ":sub": "system:serviceaccount:team-*:karpenter"},
    }


def test_opt_in_without_wildcards_stays_string_equals():
    assert irsa_trust_policy(PROVIDER, "kube-system", "karpenter", allow_wildcards=True) == GOLDEN


@pytest.mark.parametrize(
    "namespace, name",
    [("", "karpenter"), ("kube-system", ""), ("Kube-System", "karpenter"), ("kube_system", "k"), (None, "k")],
)
def test_invalid_names(namespace, name):
    with pytest.raises(KarpenterError):
        irsa_trust_policy(PROVIDER, namespace, name)


@pytest.mark.parametrize("audience", ["", "*", None])
def test_audience_must_be_literal(audience):
    with pytest.raises(KarpenterError):
        irsa_trust_policy(PROVIDER, "kube-system", "karpenter", audience=audience)


@pytest.mark.parametrize(
    "arn",
    [
        "",
        "arn:aws:iam::123456789012:role/demo-karpenter",
        "arn:aws:iam::12345:oidc-provider/" + ISSUER,
        "https://" + ISSUER,
    ],
)
def test_bad_provider_arn(arn):
    with pytest.raises(KarpenterError):
        irsa_trust_policy(arn, "kube-system", "karpenter")


def test_parse_oidc_provider_arn():
    assert parse_oidc_provider_arn(PROVIDER) == ("aws", "123456789012", ISSUER)


def test_extra_namespaces_add_one_statement_each():
    policy = irsa_trust_policy(PROVIDER, "kube-system", "karpenter", extra_namespaces=["karpenter", "kube-system"])
    subjects = [s["Condition"]["StringEquals"][ISSUER + ":sub"] for s in policy["Statement"]]
    assert subjects == ["system:serviceaccount:kube-system:karpenter", "system:serviceaccount:karpenter:karpenter"]
    assert all(s["Condition"]["StringEquals"][ISSUER + ":aud"] == "sts.amazonaws.com" for s in policy["Statement"])
    assert irsa_trust_policy(PROVIDER, "kube-system", "karpenter", extra_namespaces=[]) == irsa_trust_policy(
        PROVIDER, "kube-system", "karpenter"
    )


def test_extra_namespaces_are_checked():
    with pytest.raises(KarpenterError):
        irsa_trust_policy(PROVIDER, "kube-system", "karpenter", extra_namespaces=["Bad_NS"])

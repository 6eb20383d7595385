# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure builders for IAM trust policies (no AWS calls)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.jit.karpenter.plugins.module_utils._names import (
    is_dns1123_label,
    is_dns1123_subdomain,
    parse_iam_arn,
)
from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError

STS_AUDIENCE = "sts.amazonaws.com"
POLICY_VERSION = "2012-10-17"

_WILDCARD_RE = re.compile(r"[*?]")


def parse_oidc_provider_arn(arn):
    """Split an IAM OIDC provider ARN into ``(partition, account_id, issuer_host_path)``."""
    text = str(arn or "").strip()
    parsed = parse_iam_arn(text, kinds=("oidc-provider",))
    if parsed is None or re.search(r"\s", text):
        raise KarpenterError(
            f"'{arn}' is not an IAM OIDC provider ARN (arn:<partition>:iam::<account>:oidc-provider/<issuer>)"
        )
    issuer = "/".join(parsed.path + [parsed.name]).rstrip("/")
    return parsed.partition, parsed.account, issuer


def _check_name(kind, value, valid, allow_wildcards):
    if not value or not isinstance(value, str):
        raise KarpenterError(f"The service account's {kind} must be a non-empty string, not {value!r}")
    if _WILDCARD_RE.search(value):
        if not allow_wildcards:
            raise KarpenterError(
                f"The service account's {kind} '{value}' contains a wildcard; "
                "set allow_wildcards to opt in to a StringLike match"
            )
        return
    if not valid(value):
        raise KarpenterError(f"'{value}' is not a valid Kubernetes {kind}")


def irsa_trust_policy(
    provider_arn, namespace, service_account, audience=STS_AUDIENCE, allow_wildcards=False, extra_namespaces=()
):
    """The trust policy of an IAM role for one Kubernetes service account (IRSA).

    It lets ``system:serviceaccount:<namespace>:<service_account>`` assume the
    role with a web identity token issued by the cluster behind ``provider_arn``
    for ``audience``. Both conditions use ``StringEquals``; only with
    ``allow_wildcards`` may the namespace or name hold ``*``/``?``, and then
    the ``:sub`` condition (only) becomes ``StringLike``. Each of
    ``extra_namespaces`` adds one statement for the same service account name
    there (a controller moving between namespaces, trusted in both meanwhile).
    """
    _partition, _account, issuer = parse_oidc_provider_arn(provider_arn)
    namespaces = [namespace] + [n for n in extra_namespaces or () if n != namespace]
    for ns in namespaces:
        _check_name("namespace", ns, is_dns1123_label, allow_wildcards)
    _check_name("name", service_account, is_dns1123_subdomain, allow_wildcards)
    if not audience or _WILDCARD_RE.search(str(audience)):
        raise KarpenterError(f"The audience must be a literal value, not {audience!r}")

    statements = []
    for ns in namespaces:
        subject = f"system:serviceaccount:{ns}:{service_account}"
        conditions = {"StringEquals": {f"{issuer}:aud": audience}}
        if _WILDCARD_RE.search(subject):
            conditions["StringLike"] = {f"{issuer}:sub": subject}
        else:
            conditions["StringEquals"][f"{issuer}:sub"] = subject
        statements.append(
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn.strip()},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": conditions,
            }
        )
    return {"Version": POLICY_VERSION, "Statement": statements}

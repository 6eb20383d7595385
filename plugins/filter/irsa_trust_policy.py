# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: irsa_trust_policy
version_added: 0.1.0
short_description: Trust policy of an IAM role for a Kubernetes service account (IRSA)
description:
  - Builds the trust policy that lets one Kubernetes service account assume an IAM role through the
    cluster's IAM OIDC provider (C(sts:AssumeRoleWithWebIdentity)).
  - Both the C(<issuer>:sub) and the C(<issuer>:aud) conditions use C(StringEquals).
  - Wildcards in the namespace or service account name are refused unless O(allow_wildcards=true), which
    turns the C(:sub) condition (only) into C(StringLike).
author:
  - jit.karpenter maintainers
options:
  _input:
    description: ARN of the cluster's IAM OIDC provider.
    type: str
    required: true
  namespace:
    description: Namespace of the service account.
    type: str
    required: true
  service_account:
    description: Name of the service account.
    type: str
    required: true
  audience:
    description: Audience of the token (the provider's client ID).
    type: str
    default: sts.amazonaws.com
  allow_wildcards:
    description: Allow C(*) and C(?) in O(namespace) and O(service_account).
    type: bool
    default: false
  extra_namespaces:
    description:
      - More namespaces whose service account of the same name may assume the role too, one statement each
        (a controller that moves between namespaces, trusted in both meanwhile).
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Trust the karpenter service account in kube-system
  amazon.aws.iam_role:
    name: demo-karpenter
    assume_role_policy_document: >-
      {{ oidc_provider_arn | jit.karpenter.irsa_trust_policy('kube-system', 'karpenter') }}
"""

RETURN = r"""
_value:
  description: The trust policy document.
  type: dict
  sample:
    Version: "2012-10-17"
    Statement:
      - Effect: Allow
        Principal:
          Federated: arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE
        Action: sts:AssumeRoleWithWebIdentity
        Condition:
          StringEquals:
            oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE:aud: sts.amazonaws.com
            oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE:sub: system:serviceaccount:kube-system:karpenter
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError
from ansible_collections.jit.karpenter.plugins.module_utils._irsa_trust_policy import STS_AUDIENCE
from ansible_collections.jit.karpenter.plugins.module_utils._irsa_trust_policy import irsa_trust_policy as _build


def irsa_trust_policy(
    provider_arn, namespace, service_account, audience=STS_AUDIENCE, allow_wildcards=False, extra_namespaces=()
):
    try:
        return _build(
            provider_arn,
            namespace,
            service_account,
            audience=audience,
            allow_wildcards=allow_wildcards,
            extra_namespaces=extra_namespaces,
        )
    except KarpenterError as e:
        raise AnsibleFilterError(e.msg)


class FilterModule:
    def filters(self):
        return {"irsa_trust_policy": irsa_trust_policy}

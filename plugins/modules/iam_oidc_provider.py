# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: iam_oidc_provider
version_added: 0.1.0
short_description: Associate an IAM OpenID Connect provider with an EKS cluster
description:
  - Creates, updates or deletes the IAM OpenID Connect (OIDC) identity provider for the service-account
    issuer of an Amazon EKS cluster, so that IAM roles for service accounts (IRSA) can trust it.
  - The equivalent of C(eksctl utils associate-iam-oidc-provider --approve).
  - The issuer is read from the cluster (EKS C(DescribeCluster)) or given with O(issuer_url).
  - A provider that already exists for the issuer counts as success. Its client IDs and thumbprints
    are changed only when O(client_ids) or an explicit list in O(thumbprint) is given and differs.
author:
  - jit.karpenter maintainers (@jit-karpenter)
options:
  cluster_name:
    description:
      - Name of the EKS cluster whose OIDC issuer to use.
      - One of O(cluster_name) and O(issuer_url) is required.
    type: str
  issuer_url:
    description:
      - The OIDC issuer URL, for example V(https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE).
      - Must be an C(https) URL.
      - When given, the cluster is not looked up.
    type: str
  state:
    description:
      - V(present) creates the provider if needed; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  client_ids:
    description:
      - Client IDs (audiences) of the provider.
      - When the provider is created and this is not given, V(sts.amazonaws.com) is used, which is what IRSA needs.
      - When given, the client IDs of an existing provider are made exactly this list.
    type: list
    elements: str
  thumbprint:
    description:
      - Server certificate thumbprints of the issuer, as IAM defines them (hex SHA-1).
      - V(auto) computes, when the provider is created, the SHA-1 of the top certificate the issuer presents over
        TLS (the last one in its chain, as eksctl does). When the issuer cannot be reached within
        O(thumbprint_timeout) seconds or its certificate cannot be verified, no thumbprint is sent and
        RV(thumbprint_note) says so; IAM accepts that and relies on its own library of trusted root CAs.
      - V(omit) never contacts the issuer and sends no thumbprint.
      - A list of thumbprints is used as given, and an existing provider's thumbprints are made exactly this list.
      - Neither V(auto) nor V(omit) changes the thumbprints of an existing provider.
    type: raw
    default: auto
  thumbprint_timeout:
    description:
      - Seconds to wait for the issuer's TLS handshake when O(thumbprint=auto).
    type: float
    default: 5
  tags:
    description:
      - Tags to give the provider when it is created, for example an ownership mark that O(required_tags) looks for later.
      - An existing provider's tags are never changed, so a provider made by someone else is never marked as this one's.
    type: dict
  required_tags:
    description:
      - With O(state=absent), delete the provider only if it carries all these tags (with these values); otherwise keep
        it and say why in RV(kept).
    type: dict
  keep_if_trusted:
    description:
      - With O(state=absent), keep the provider while the trust policy of any IAM role (other than O(ignore_roles)) names
        it as C(Principal.Federated), and say which roles in RV(kept). Other workloads' IRSA roles then keep their credentials.
    type: bool
    default: false
  ignore_roles:
    description:
      - Names of roles that O(keep_if_trusted) does not count, such as a role deleted just before in the same run.
    type: list
    elements: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - jit.karpenter._attributes
  - jit.karpenter._attributes.all
notes:
  - There is one provider per issuer and account; deleting it breaks every IRSA role that trusts it.
  - With O(required_tags) C(iam:ListOpenIDConnectProviderTags) is needed, with O(keep_if_trusted) C(iam:ListRoles),
    with O(tags) C(iam:TagOpenIDConnectProvider).
  - Required permissions are C(eks:DescribeCluster) (with O(cluster_name)), C(sts:GetCallerIdentity) and
    C(iam:GetOpenIDConnectProvider), C(iam:CreateOpenIDConnectProvider), C(iam:DeleteOpenIDConnectProvider),
    C(iam:UpdateOpenIDConnectProviderThumbprint), C(iam:AddClientIDToOpenIDConnectProvider) and
    C(iam:RemoveClientIDFromOpenIDConnectProvider) as needed.
seealso:
  - name: Create an IAM OIDC provider for your cluster
    description: The Amazon EKS user guide.
    link: https://docs.aws.amazon.com/eks/latest/userguide/enable-iam-roles-for-service-accounts.html
"""

EXAMPLES = r"""
- name: Associate the cluster's OIDC issuer with IAM
  jit.karpenter.iam_oidc_provider:
    cluster_name: demo
    region: us-east-1
  register: oidc

- name: Use the provider in a trust policy
  ansible.builtin.debug:
    msg: "{{ oidc.oidc_provider.arn }} trusts tokens from {{ oidc.issuer_host_path }}"

- name: Register an issuer by URL, with pinned thumbprints
  jit.karpenter.iam_oidc_provider:
    issuer_url: https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE
    thumbprint:
      - 9e99a48a9960b14926bb7f3b02e22da2b0ab7280

- name: Never contact the issuer; let IAM secure the provider
  jit.karpenter.iam_oidc_provider:
    cluster_name: demo
    thumbprint: omit

- name: Remove the provider
  jit.karpenter.iam_oidc_provider:
    cluster_name: demo
    state: absent

- name: Create the provider with an ownership mark
  jit.karpenter.iam_oidc_provider:
    cluster_name: demo
    tags:
      jit.karpenter/managed-by: jit.karpenter

- name: Remove it only if it carries the mark and no other role trusts it
  jit.karpenter.iam_oidc_provider:
    cluster_name: demo
    state: absent
    required_tags:
      jit.karpenter/managed-by: jit.karpenter
    keep_if_trusted: true
"""

RETURN = r"""
issuer:
  description: The OIDC issuer URL of the cluster (or O(issuer_url)).
  returned: always
  type: str
  sample: https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE
issuer_host_path:
  description:
    - The issuer without C(https://), as used for the C(<issuer>:sub) and C(<issuer>:aud) keys of IRSA trust conditions.
  returned: always
  type: str
  sample: oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE
oidc_provider:
  description:
    - The provider after the task; in check mode the predicted provider.
    - V(null) when O(state=absent) removed it or found none; the provider as it is when O(state=absent) kept it.
  returned: always
  type: dict
  contains:
    arn:
      description: ARN of the provider.
      type: str
      sample: arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE
    url:
      description: The provider's issuer URL.
      type: str
      sample: https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE
    client_ids:
      description: Client IDs (audiences), sorted.
      type: list
      elements: str
      sample: [sts.amazonaws.com]
    thumbprints:
      description: Thumbprints, sorted; may be empty.
      type: list
      elements: str
      sample: [9e99a48a9960b14926bb7f3b02e22da2b0ab7280]
kept:
  description: Why O(state=absent) kept the provider (O(required_tags), O(keep_if_trusted)).
  returned: when the provider exists and was kept
  type: str
  sample: "IAM role payments-irsa still trusts it"
thumbprint_note:
  description: Why no thumbprint was sent when the provider was created.
  returned: when O(thumbprint) is V(auto) or V(omit) and no thumbprint was sent
  type: str
  sample: "No thumbprint sent (thumbprint=omit); IAM secures the provider with its own trusted root CAs"
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.jit.karpenter.plugins.module_utils._runner import run_module
from ansible_collections.jit.karpenter.plugins.module_utils._iam_oidc_provider import run


def main():
    argument_spec = {
        "cluster_name": {"type": "str"},
        "issuer_url": {"type": "str"},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "client_ids": {"type": "list", "elements": "str"},
        "thumbprint": {"type": "raw", "default": "auto"},
        "thumbprint_timeout": {"type": "float", "default": 5},
        "tags": {"type": "dict"},
        "required_tags": {"type": "dict"},
        "keep_if_trusted": {"type": "bool", "default": False},
        "ignore_roles": {"type": "list", "elements": "str"},
    }
    run_module(AnsibleAWSModule, argument_spec, run, required_one_of=[("cluster_name", "issuer_url")])


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: eks_pod_identity_association
version_added: 0.1.0
short_description: Manage an EKS Pod Identity association
description:
  - Creates, updates or deletes the EKS Pod Identity association of a Kubernetes service account, which lets its
    pods assume an IAM role without IRSA annotations or an OIDC provider.
  - A cluster has at most one association per namespace and service account; the module finds it by those two and
    changes its role when O(role_arn) differs.
  - Pods get credentials only when the C(eks-pod-identity-agent) add-on runs in the cluster, and only pods started
    after the association exists.
author:
  - jit.karpenter maintainers (@jit-karpenter)
options:
  cluster_name:
    description: Name of the EKS cluster.
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
  role_arn:
    description:
      - IAM role the pods assume. Its trust policy must allow C(sts:AssumeRole) and C(sts:TagSession) to the
        service principal C(pods.eks.amazonaws.com).
      - Required with O(state=present).
    type: str
  tags:
    description: Tags of the association. When not given, an existing association's tags are left alone.
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description: With O(tags), remove tags that are not listed.
    type: bool
    default: true
  state:
    description: V(present) creates or updates the association; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - jit.karpenter._attributes
  - jit.karpenter._attributes.all
notes:
  - Required permissions are C(eks:ListPodIdentityAssociations), C(eks:DescribePodIdentityAssociation),
    C(eks:CreatePodIdentityAssociation), C(eks:UpdatePodIdentityAssociation), C(eks:DeletePodIdentityAssociation),
    C(eks:TagResource) and C(eks:UntagResource) as needed, and C(iam:PassRole) on O(role_arn).
seealso:
  - name: EKS Pod Identity
    description: The Amazon EKS user guide.
    link: https://docs.aws.amazon.com/eks/latest/userguide/pod-identities.html
"""

EXAMPLES = r"""
- name: Let the Karpenter controller assume its role through Pod Identity
  jit.karpenter.eks_pod_identity_association:
    cluster_name: prod-1
    namespace: kube-system
    service_account: karpenter
    role_arn: arn:aws:iam::123456789012:role/KarpenterController-prod-1
  register: pia

- name: Show the association
  ansible.builtin.debug:
    msg: "{{ pia.pod_identity_association.association_id }} -> {{ pia.pod_identity_association.role_arn }}"

- name: Remove it
  jit.karpenter.eks_pod_identity_association:
    cluster_name: prod-1
    namespace: kube-system
    service_account: karpenter
    state: absent
"""

RETURN = r"""
pod_identity_association:
  description:
    - The association after the task; in check mode the predicted one (then the ARN and ID of a new association
      are null). V(null) when O(state=absent).
  returned: always
  type: dict
  contains:
    cluster_name:
      description: The cluster.
      type: str
      sample: prod-1
    namespace:
      description: Namespace of the service account.
      type: str
      sample: kube-system
    service_account:
      description: The service account.
      type: str
      sample: karpenter
    role_arn:
      description: The role the pods assume.
      type: str
      sample: arn:aws:iam::123456789012:role/KarpenterController-prod-1
    association_arn:
      description: ARN of the association.
      type: str
      sample: arn:aws:eks:us-east-1:123456789012:podidentityassociation/prod-1/a-abcdefghijklmnop1
    association_id:
      description: ID of the association.
      type: str
      sample: a-abcdefghijklmnop1
    tags:
      description: Tags of the association.
      type: dict
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.jit.karpenter.plugins.module_utils._runner import (
    eks_resource_argument_spec,
    run_module,
)
from ansible_collections.jit.karpenter.plugins.module_utils._eks_pod_identity_association import run


def main():
    argument_spec = eks_resource_argument_spec(
        {
            "namespace": {"type": "str", "required": True},
            "service_account": {"type": "str", "required": True},
            "role_arn": {"type": "str"},
        }
    )
    run_module(AnsibleAWSModule, argument_spec, run, required_if=[("state", "present", ["role_arn"])])


if __name__ == "__main__":
    main()

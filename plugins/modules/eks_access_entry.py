#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: eks_access_entry
version_added: 0.1.0
short_description: Manage an EKS access entry and its access policies
description:
  - Creates, updates or deletes the access entry of an IAM principal in an Amazon EKS cluster, the successor of
    C(aws-auth) ConfigMap entries. The cluster's authentication mode must be C(API) or C(API_AND_CONFIG_MAP).
  - Only the options given are compared. With O(access_policies), the entry's associated access policies are made
    exactly that list (associating, re-scoping and disassociating as needed).
  - Inputs are validated before any AWS call, so a rejected task writes nothing. The checks cover the documented
    reasons why nodes do not join through access entries (see O(type) and O(node_role)).
  - EKS cannot change the type of an entry; a different O(type) for an existing entry is an error.
author:
  - jit.karpenter maintainers (@jit-karpenter)
options:
  cluster_name:
    description: Name of the EKS cluster.
    type: str
    required: true
  principal_arn:
    description:
      - ARN of the IAM role or user the entry is for. Unlike C(aws-auth), the ARN may include the role's path.
    type: str
    required: true
  type:
    description:
      - Type of the entry.
      - Use V(EC2_LINUX) (V(EC2_WINDOWS) for Windows) for the role of self-managed or Karpenter nodes. EKS gives
        such entries the node's username and groups itself, so O(kubernetes_groups), O(username) and
        O(access_policies) are refused for them, and for V(FARGATE_LINUX), V(HYBRID_LINUX) and V(HYPERPOD_LINUX).
      - V(EC2) is for EKS Auto Mode nodes; it takes access policies but no groups or username.
      - Node types accept only IAM roles.
    type: str
    choices: [STANDARD, EC2_LINUX, EC2_WINDOWS, FARGATE_LINUX, HYBRID_LINUX, HYPERPOD_LINUX, EC2]
    default: STANDARD
  kubernetes_groups:
    description:
      - Kubernetes groups of a V(STANDARD) entry, for RBAC bindings. Groups starting with C(system:) are refused
        (EKS refuses them); V(system:nodes) or V(system:bootstrappers) mark a node role, and the error says to use
        O(type=EC2_LINUX).
      - When not given, an existing entry's groups are left alone.
    type: list
    elements: str
  username:
    description:
      - Kubernetes username of a V(STANDARD) entry. When not given, EKS picks one on creation and an existing
        entry's username is left alone.
    type: str
  access_policies:
    description:
      - EKS access policies to associate, exactly. Policies associated with the entry but not listed are
        disassociated; V([]) removes them all. When not given, associations are left alone.
    type: list
    elements: dict
    suboptions:
      policy_arn:
        description:
          - ARN of the access policy, for example V(arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy).
        type: str
        required: true
      access_scope:
        description: Where the policy applies.
        type: dict
        suboptions:
          type:
            description: V(cluster) for every namespace, V(namespace) for those in O(access_policies[].access_scope.namespaces).
            type: str
            choices: [cluster, namespace]
            default: cluster
          namespaces:
            description: Namespaces, with O(access_policies[].access_scope.type=namespace) only.
            type: list
            elements: str
  node_role:
    description:
      - Says that O(principal_arn) is a node role. With O(type=STANDARD) the task then fails and explains that nodes
        need O(type=EC2_LINUX); a STANDARD entry for a node role keeps the nodes from joining.
    type: bool
    default: false
  tags:
    description: Tags of the entry. When not given, an existing entry's tags are left alone.
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description: With O(tags), remove tags that are not listed.
    type: bool
    default: true
  state:
    description: V(present) creates or updates the entry; V(absent) deletes it with its policy associations.
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
  - Each principal has at most one entry per cluster. In C(API_AND_CONFIG_MAP) mode an access entry takes
    precedence over an C(aws-auth) entry for the same principal.
  - Required permissions are C(eks:DescribeAccessEntry), C(eks:ListAssociatedAccessPolicies),
    C(eks:CreateAccessEntry), C(eks:UpdateAccessEntry), C(eks:DeleteAccessEntry), C(eks:AssociateAccessPolicy),
    C(eks:DisassociateAccessPolicy), C(eks:TagResource) and C(eks:UntagResource) as needed, and
    C(eks:DescribeCluster) to report a missing cluster.
seealso:
  - name: Grant IAM users access to Kubernetes with EKS access entries
    description: The Amazon EKS user guide.
    link: https://docs.aws.amazon.com/eks/latest/userguide/access-entries.html
  - module: jit.karpenter.iam_identity_mapping
    description: The C(aws-auth) ConfigMap equivalent, for clusters in C(CONFIG_MAP) mode.
"""

EXAMPLES = r"""
- name: Let Karpenter's nodes join the cluster
  jit.karpenter.eks_access_entry:
    cluster_name: prod-1
    principal_arn: arn:aws:iam::123456789012:role/KarpenterNodeRole-prod-1
    type: EC2_LINUX

- name: Read-only access to two namespaces for a team role
  jit.karpenter.eks_access_entry:
    cluster_name: prod-1
    principal_arn: arn:aws:iam::123456789012:role/team-a
    kubernetes_groups: [team-a]
    access_policies:
      - policy_arn: arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy
        access_scope:
          type: namespace
          namespaces: [team-a, team-a-staging]
    tags:
      team: a

- name: Cluster admin
  jit.karpenter.eks_access_entry:
    cluster_name: prod-1
    principal_arn: arn:aws:iam::123456789012:role/admin
    access_policies:
      - policy_arn: arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy

- name: Remove an entry
  jit.karpenter.eks_access_entry:
    cluster_name: prod-1
    principal_arn: arn:aws:iam::123456789012:role/team-a
    state: absent
"""

RETURN = r"""
access_entry:
  description:
    - The entry after the task; in check mode the predicted entry (then RV(access_entry.access_entry_arn) of a new
      entry is null). V(null) when O(state=absent).
  returned: always
  type: dict
  contains:
    cluster_name:
      description: The cluster.
      type: str
      sample: prod-1
    principal_arn:
      description: The IAM principal.
      type: str
      sample: arn:aws:iam::123456789012:role/KarpenterNodeRole-prod-1
    access_entry_arn:
      description: ARN of the entry.
      type: str
      sample: arn:aws:eks:us-east-1:123456789012:access-entry/prod-1/role/123456789012/KarpenterNodeRole-prod-1/1a2b3c
    type:
      description: Type of the entry.
      type: str
      sample: EC2_LINUX
    username:
      description: Kubernetes username.
      type: str
      sample: system:node:{{EC2PrivateDNSName}}
    kubernetes_groups:
      description: Kubernetes groups, sorted.
      type: list
      elements: str
    access_policies:
      description: Associated access policies, sorted by ARN, each with C(policy_arn) and C(access_scope).
      type: list
      elements: dict
    tags:
      description: Tags of the entry.
      type: dict
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.jit.karpenter.plugins.module_utils._runner import (
    eks_resource_argument_spec,
    run_module,
)
from ansible_collections.jit.karpenter.plugins.module_utils._eks_access_entry import TYPES, run


def main():
    argument_spec = eks_resource_argument_spec(
        {
            "principal_arn": {"type": "str", "required": True},
            "type": {"type": "str", "choices": list(TYPES), "default": "STANDARD"},
            "kubernetes_groups": {"type": "list", "elements": "str"},
            "username": {"type": "str"},
            "access_policies": {
                "type": "list",
                "elements": "dict",
                "options": {
                    "policy_arn": {"type": "str", "required": True},
                    "access_scope": {
                        "type": "dict",
                        "options": {
                            "type": {"type": "str", "choices": ["cluster", "namespace"], "default": "cluster"},
                            "namespaces": {"type": "list", "elements": "str"},
                        },
                    },
                },
            },
            "node_role": {"type": "bool", "default": False},
        }
    )
    run_module(AnsibleAWSModule, argument_spec, run)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: eks_cluster_info
version_added: 0.1.0
short_description: Read an existing EKS cluster's endpoint, CA, OIDC issuer and authentication mode
description:
  - Reads an Amazon EKS cluster with C(DescribeCluster) and returns the fields Karpenter's setup needs,
    under flat names.
  - Fails with a message naming the cluster and the region when the cluster does not exist there, which is
    how a wrong region shows up.
author:
  - jit.karpenter maintainers (@jit-karpenter)
options:
  name:
    description: Name of the EKS cluster.
    type: str
    required: true
    aliases: [cluster_name]
  include_addons:
    description:
      - Also list the cluster's EKS add-ons (C(ListAddons)) and return their names in RV(cluster.addons).
    type: bool
    default: false
    version_added: 0.1.0
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - jit.karpenter._attributes
  - jit.karpenter._attributes.info_module
"""

EXAMPLES = r"""
- name: Read the cluster
  jit.karpenter.eks_cluster_info:
    name: prod-1
  register: cluster

- name: Show where its API server is
  ansible.builtin.debug:
    msg: "{{ cluster.cluster.endpoint }} ({{ cluster.cluster.authentication_mode }})"
"""

RETURN = r"""
cluster:
  description: The cluster.
  returned: success
  type: dict
  contains:
    name:
      description: Cluster name.
      type: str
      sample: prod-1
    arn:
      description: Cluster ARN.
      type: str
      sample: arn:aws:eks:us-east-1:123456789012:cluster/prod-1
    status:
      description: Cluster status.
      type: str
      sample: ACTIVE
    version:
      description: Kubernetes minor version.
      type: str
      sample: "1.36"
    platform_version:
      description: EKS platform version.
      type: str
      sample: eks.1
    endpoint:
      description: URL of the cluster's Kubernetes API server.
      type: str
      sample: https://ABCDEF.gr7.us-east-1.eks.amazonaws.com
    certificate_authority_data:
      description: Base64-encoded PEM of the cluster CA, as EKS returns it.
      type: str
    oidc_issuer:
      description: The cluster's OIDC issuer URL (its service-account token issuer).
      type: str
      sample: https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE
    authentication_mode:
      description:
        - C(accessConfig.authenticationMode); V(CONFIG_MAP) when EKS reports none (clusters older than access entries).
      type: str
      sample: API_AND_CONFIG_MAP
    vpc_id:
      description: The cluster's VPC.
      type: str
    subnet_ids:
      description: The cluster's subnets.
      type: list
      elements: str
    cluster_security_group_id:
      description: The security group EKS created for the cluster.
      type: str
    tags:
      description: The cluster's tags.
      type: dict
    addons:
      description: Names of the cluster's EKS add-ons, sorted.
      returned: when O(include_addons=true)
      type: list
      elements: str
      sample: [coredns, eks-pod-identity-agent, kube-proxy, vpc-cni]
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.jit.karpenter.plugins.module_utils._runner import run_module
from ansible_collections.jit.karpenter.plugins.module_utils._eks_cluster_info import run


def main():
    argument_spec = {
        "name": {"type": "str", "required": True, "aliases": ["cluster_name"]},
        "include_addons": {"type": "bool", "default": False},
    }
    run_module(AnsibleAWSModule, argument_spec, run)


if __name__ == "__main__":
    main()

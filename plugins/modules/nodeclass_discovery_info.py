#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: nodeclass_discovery_info
version_added: 0.1.0
short_description: Find the subnets and security group an EC2NodeClass should select, and check its selectors
description:
  - Finds where Karpenter's nodes should go on an existing EKS cluster, without writing anything.
    The subnets are those of the cluster's managed node groups (C(ListNodegroups), C(DescribeNodegroup)),
    else the cluster's private subnets (C(resourcesVpcConfig.subnetIds) whose route table, or the VPC's main
    route table, has no route to an internet gateway). The security groups are those of the managed node
    groups' running instances (eksctl's use the cluster security group, terraform-aws-eks's a node security
    group of their own), else the cluster security group (C(resourcesVpcConfig.clusterSecurityGroupId)).
  - Returns selector terms for them in RV(discovery.default_terms), by C(id) with O(discovery=cluster), or by
    the tag C(karpenter.sh/discovery=<cluster>) with O(discovery=tag) (which M(jit.karpenter.ec2_discovery_tags)
    then adds).
  - Resolves every node class in O(nodeclasses) against EC2 and SSM as Karpenter would (subnet, security group
    and AMI selector terms; the AMI alias V(al2023@latest) through the EKS-optimised AMI's SSM parameters
    for the cluster's Kubernetes version), and fails when any selector matches nothing, naming it and listing
    the VPC's subnets or security groups with their tags.
  - Node classes without subnet or security group terms get the defaults, which always resolve (they are
    what was found).
author:
  - jit.karpenter maintainers (@jit-karpenter)
options:
  cluster_name:
    description: Name of the EKS cluster.
    type: str
    required: true
    aliases: [name]
  discovery:
    description:
      - V(cluster) selects the subnets and security group by C(id); V(tag) selects them by the tag
        C(karpenter.sh/discovery=<cluster>) and fails when one of them carries that tag for another cluster.
    type: str
    choices: [cluster, tag]
    default: cluster
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - jit.karpenter._attributes
  - jit.karpenter._attributes.info_module
  - jit.karpenter._nodeclass_selectors
"""

EXAMPLES = r"""
- name: Where would Karpenter's nodes go, and do the node classes' selectors match anything?
  jit.karpenter.nodeclass_discovery_info:
    cluster_name: prod-1
    nodeclasses:
      - name: default
      - name: gpu
        subnet_selector_terms:
          - tags:
              kubernetes.io/role/internal-elb: "1"
  register: found

- name: Use the defaults in a node class
  jit.karpenter.nodepool:
    name: default
    cluster_name: prod-1
    nodeclass:
      role: KarpenterNodeRole-prod-1
      subnet_selector_terms: "{{ found.discovery.default_terms.subnet_selector_terms }}"
      security_group_selector_terms: "{{ found.discovery.default_terms.security_group_selector_terms }}"
"""

RETURN = r"""
discovery:
  description: What was found (also returned, under the same key, when a selector matches nothing).
  returned: always
  type: dict
  contains:
    discovery:
      description: O(discovery).
      type: str
    subnet_ids:
      description: The subnets node classes select by default.
      type: list
      elements: str
    security_group_ids:
      description: The security groups node classes select by default.
      type: list
      elements: str
    security_group_source:
      description: Where RV(discovery.security_group_ids) come from (the node groups' instances or the cluster).
      type: str
    source:
      description: Where RV(discovery.subnet_ids) come from (managed node groups or private cluster subnets).
      type: str
    default_terms:
      description: C(subnet_selector_terms) and C(security_group_selector_terms) for node classes without their own.
      type: dict
    tags_to_add:
      description: With O(discovery=tag), the resources that do not carry the discovery tag yet.
      type: list
      elements: str
    record_tag:
      description: The tag with which M(jit.karpenter.ec2_discovery_tags) records, on each resource, the tags it added.
      type: str
    nodeclasses:
      description: Per node class, the terms of each selector and the IDs they resolve to.
      type: list
      elements: dict
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.jit.karpenter.plugins.module_utils._discovery import NODECLASSES_OPTION
from ansible_collections.jit.karpenter.plugins.module_utils._runner import run_module
from ansible_collections.jit.karpenter.plugins.module_utils._nodeclass_discovery_info import run


def main():
    argument_spec = {
        "cluster_name": {"type": "str", "required": True, "aliases": ["name"]},
        "discovery": {"type": "str", "choices": ["cluster", "tag"], "default": "cluster"},
        "nodeclasses": NODECLASSES_OPTION,
    }
    run_module(AnsibleAWSModule, argument_spec, run)


if __name__ == "__main__":
    main()

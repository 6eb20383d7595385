#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ec2_discovery_tags
version_added: 0.1.0
short_description: Tag subnets and security groups for Karpenter's discovery, recording what it added
description:
  - Tags subnets and security groups C(karpenter.sh/discovery=<cluster>), so that EC2NodeClasses can select
    them by that tag, as Karpenter's getting-started guide does.
  - Records on each resource it tags, in the same C(CreateTags) call, the tag C(jit.karpenter/added-tags) listing
    the keys this collection added to it (space-separated), so that teardown removes those and no others.
    Resources that already carry the tag are left alone and unrecorded (someone else tagged them).
  - Refuses resources that carry the tag for another cluster.
  - O(state=absent) removes the discovery tag where the record lists it and it still names this cluster,
    with the record (or the key from the record's list), and nothing else.
author:
  - jit.karpenter maintainers (@jit-karpenter)
options:
  cluster_name:
    description: Name of the EKS cluster; the tag's value.
    type: str
    required: true
  resource_ids:
    description: Subnet and security group IDs to tag. Required with O(state=present).
    type: list
    elements: str
    default: []
  state:
    description: V(present) tags and records; V(absent) removes what the record names.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - jit.karpenter._attributes
  - jit.karpenter._attributes.all
"""

EXAMPLES = r"""
- name: Tag the node group's subnets and the cluster security group for discovery
  jit.karpenter.ec2_discovery_tags:
    cluster_name: prod-1
    resource_ids: [subnet-0a1b2c3d, subnet-4e5f6a7b, sg-0123456789abcdef0]

- name: Remove the discovery tags this collection added, and only those
  jit.karpenter.ec2_discovery_tags:
    cluster_name: prod-1
    state: absent
"""

RETURN = r"""
tags:
  description: What was done.
  returned: success
  type: dict
  contains:
    added:
      description: Resources tagged by this run (predicted in check mode).
      returned: O(state=present)
      type: list
      elements: str
    removed:
      description: Resources untagged by this run.
      returned: O(state=absent)
      type: list
      elements: str
    record_tag:
      description: The tag key of the record on each resource.
      type: str
      sample: jit.karpenter/added-tags
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.jit.karpenter.plugins.module_utils._runner import run_module
from ansible_collections.jit.karpenter.plugins.module_utils._ec2_discovery_tags import run


def main():
    argument_spec = {
        "cluster_name": {"type": "str", "required": True},
        "resource_ids": {"type": "list", "elements": "str", "default": []},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    }
    run_module(AnsibleAWSModule, argument_spec, run, required_if=[("state", "present", ["resource_ids"])])


if __name__ == "__main__":
    main()

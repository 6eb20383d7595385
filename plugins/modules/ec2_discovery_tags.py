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
  - Records the resources it tagged in the SSM parameter C(/jit-karpenter/<cluster>/discovery-tags) (JSON:
    C(tag_key), C(tag_value), C(resources)), written before the tags. Resources that already carried the tag
    are left out of the record: someone else tagged them.
  - Refuses resources that carry the tag for another cluster.
  - O(state=absent) removes the tags the record names (where they still name this cluster), then the record,
    and nothing else.
author:
  - jit.karpenter maintainers
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
    record_parameter:
      description: The SSM parameter holding the record.
      type: str
      sample: /jit-karpenter/prod-1/discovery-tags
    record:
      description: The record after the run (C(None) when there is none).
      type: dict
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.jit.karpenter.plugins.module_utils.discovery import ensure_tags_absent, ensure_tags_present
from ansible_collections.jit.karpenter.plugins.module_utils.errors import KarpenterError, fail_from


def main():
    module = AnsibleAWSModule(
        argument_spec={
            "cluster_name": {"type": "str", "required": True},
            "resource_ids": {"type": "list", "elements": "str", "default": []},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        },
        required_if=[("state", "present", ["resource_ids"])],
        supports_check_mode=True,
    )
    params = module.params
    try:
        ec2, ssm = module.client("ec2"), module.client("ssm")
        if params["state"] == "present":
            changed, out = ensure_tags_present(ec2, ssm, params["cluster_name"], params["resource_ids"],
                                               check_mode=module.check_mode)
        else:
            changed, out = ensure_tags_absent(ec2, ssm, params["cluster_name"], check_mode=module.check_mode)
    except KarpenterError as err:
        fail_from(module, err)
    result = {"changed": changed, "tags": out["state"]}
    if module._diff:
        result["diff"] = {"before": out["before"] or {}, "after": out["after"] or {}}
    module.exit_json(**result)


if __name__ == "__main__":
    main()

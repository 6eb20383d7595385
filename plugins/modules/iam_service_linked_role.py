#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: iam_service_linked_role
version_added: 0.1.0
short_description: Make sure an AWS service-linked role exists (for Spot, AWSServiceRoleForEC2Spot)
description:
  - Looks for the service-linked role of O(aws_service_name) under its path C(/aws-service-role/<service>/)
    and creates it with C(CreateServiceLinkedRole) when it is missing.
  - Karpenter launches Spot capacity only when the account has the EC2 Spot role C(AWSServiceRoleForEC2Spot)
    (O(aws_service_name=spot.amazonaws.com)); Karpenter's getting-started guide creates it by hand.
  - It never deletes the role, which other users of the account may need.
author:
  - jit.karpenter maintainers (@jit-karpenter)
options:
  aws_service_name:
    description: The service principal, for example V(spot.amazonaws.com).
    type: str
    required: true
  description:
    description: Description given to the role when it is created.
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - jit.karpenter._attributes
  - jit.karpenter._attributes.all
"""

EXAMPLES = r"""
- name: Let Karpenter launch Spot instances
  jit.karpenter.iam_service_linked_role:
    aws_service_name: spot.amazonaws.com
"""

RETURN = r"""
service_linked_role:
  description: The service-linked role (in check mode before it exists, its expected name and path).
  returned: success
  type: dict
  contains:
    name:
      description: Role name.
      type: str
      sample: AWSServiceRoleForEC2Spot
    arn:
      description: Role ARN (C(None) in check mode before it exists).
      type: str
    path:
      description: Role path.
      type: str
      sample: /aws-service-role/spot.amazonaws.com/
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.jit.karpenter.plugins.module_utils._runner import run_module
from ansible_collections.jit.karpenter.plugins.module_utils._iam_service_linked_role import run


def main():
    argument_spec = {
        "aws_service_name": {"type": "str", "required": True},
        "description": {"type": "str"},
    }
    run_module(AnsibleAWSModule, argument_spec, run)


if __name__ == "__main__":
    main()

# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The option nodeclasses of the modules that resolve node classes' selectors (its spec: _discovery.NODECLASSES_OPTION)
    DOCUMENTATION = r"""
options:
  nodeclasses:
    description:
      - The node classes whose selectors to resolve and check, with the M(jit.karpenter.nodepool) module's option
        names.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The EC2NodeClass's name (for messages).
        type: str
        required: true
      subnet_selector_terms:
        description: Subnet selector terms (C(id) or C(tags)); none means the defaults.
        type: list
        elements: dict
      security_group_selector_terms:
        description: Security group selector terms (C(id), C(name) or C(tags)); none means the defaults.
        type: list
        elements: dict
      ami_selector_terms:
        description:
          - AMI selector terms (C(alias), C(id), C(name), C(owner), C(ssm_parameter), C(tags)); none means
            C(alias=al2023@latest). Aliases of other families than C(al2023) are not checked.
        type: list
        elements: dict
"""

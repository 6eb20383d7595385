# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: karpenter_allows_spot
version_added: 0.1.0
short_description: Whether any of the node pools admits Spot capacity
description:
  - True when any pool's C(requirements) admit C(karpenter.sh/capacity-type=spot) (C(In) with V(spot), C(NotIn)
    without it, or C(Exists)). Pools without that requirement launch on-demand only. Pools with
    C(state=absent) are ignored.
options:
  _input:
    description: Node pools, as the M(jit.karpenter.nodepool) module's options (C(requirements), C(state)).
    type: list
    elements: dict
    required: true
author:
  - jit.karpenter maintainers
"""

EXAMPLES = r"""
- name: Make sure the EC2 Spot service-linked role exists when a pool may use Spot
  jit.karpenter.iam_service_linked_role:
    aws_service_name: spot.amazonaws.com
  when: karpenter_nodepools | jit.karpenter.karpenter_allows_spot
"""

RETURN = r"""
_value:
  description: Whether any pool admits Spot.
  type: bool
"""

from ansible_collections.jit.karpenter.plugins.module_utils._readiness import allows_spot


def karpenter_allows_spot(pools):
    return any(allows_spot(p.get("requirements")) for p in pools or [] if p.get("state", "present") != "absent")


class FilterModule(object):
    def filters(self):
        return {"karpenter_allows_spot": karpenter_allows_spot}

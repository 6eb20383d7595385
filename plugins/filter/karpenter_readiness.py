# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: karpenter_readiness
version_added: 0.1.0
short_description: Whether Karpenter's EC2NodeClasses and NodePools are Ready, with what is wrong and the likely fix
description:
  - Reads the C(status.conditions) of EC2NodeClass and NodePool objects (as M(kubernetes.core.k8s_info) returns them).
  - Returns C(ready) (true when every object reports C(Ready=True)), C(problems) and C(ready_objects).
  - Each problem is one line per object that is not Ready, naming it, each condition that is not True with its
    message, and the likely fix, for example
    C(EC2NodeClass default - SubnetsReady=False, SubnetSelector did not match any Subnets (likely fix ...)).
options:
  _input:
    description: EC2NodeClass and NodePool objects.
    type: list
    elements: dict
    required: true
  namespace:
    description: The controller's namespace, for the hint when no controller has reconciled an object.
    type: str
    default: kube-system
author:
  - jit.karpenter maintainers
"""

EXAMPLES = r"""
- name: Fail naming what is not Ready
  ansible.builtin.assert:
    that: __verdict.ready
    fail_msg: "{{ __verdict.problems | join('; ') }}"
  vars:
    __verdict: "{{ (nodeclasses.resources + nodepools.resources) | jit.karpenter.karpenter_readiness }}"
"""

RETURN = r"""
_value:
  description: C(ready) (bool), C(problems) (list of str), C(ready_objects) (list of str).
  type: dict
"""

from ansible_collections.jit.karpenter.plugins.module_utils._readiness import verdict


def karpenter_readiness(objects, namespace="kube-system"):
    return verdict(objects or [], namespace)


class FilterModule(object):
    def filters(self):
        return {"karpenter_readiness": karpenter_readiness}

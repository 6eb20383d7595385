# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: karpenter_compatibility
version_added: 0.1.0
short_description: Whether a Karpenter version supports a Kubernetes version
description:
  - Checks a Karpenter release against a Kubernetes minor version using Karpenter's compatibility matrix.
  - Returns a dictionary with C(supported), C(reason) and C(api_generation) (V(v1alpha5) before Karpenter 0.32, else V(v1)).
options:
  _input:
    description: The Kubernetes version, for example V(1.36).
    type: str
    required: true
  karpenter_version:
    description: The Karpenter version, for example V(1.14.3).
    type: str
    required: true
author:
  - jit.karpenter maintainers
"""

EXAMPLES = r"""
- name: Refuse an unsupported combination
  ansible.builtin.assert:
    that: __compat.supported
    fail_msg: "{{ __compat.reason }}"
  vars:
    __compat: "{{ '1.36' | jit.karpenter.karpenter_compatibility('1.14.3') }}"
"""

RETURN = r"""
_value:
  description: C(supported) (bool), C(reason) (str), C(api_generation) (str).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.jit.karpenter.plugins.module_utils._karpenter_compatibility import api_generation, check


def karpenter_compatibility(kubernetes_version, karpenter_version):
    try:
        supported, reason = check(kubernetes_version, karpenter_version)
        return {"supported": supported, "reason": reason, "api_generation": api_generation(karpenter_version)}
    except ValueError as e:
        raise AnsibleFilterError(str(e))


class FilterModule(object):
    def filters(self):
        return {"karpenter_compatibility": karpenter_compatibility}

# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: karpenter_template
version_added: 0.1.0
short_description: The Karpenter 1.x CloudFormation template for one release
description:
  - "Takes the text of the collection's 1.x template and leaves out the controller policy statements,
    actions, resources, policies and EventBridge rules that the given Karpenter release does not have
    yet (lines marked C(# feature: <name>), with the lines indented under them)."
  - The release of each feature is data in the collection's C(karpenter_versions) module utility.
options:
  _input:
    description: The template text.
    type: str
    required: true
  karpenter_version:
    description: The Karpenter release, for example V(1.9.2).
    type: str
    required: true
author:
  - jit.karpenter maintainers
"""

EXAMPLES = r"""
- name: The template of Karpenter 1.9.2
  ansible.builtin.set_fact:
    body: "{{ lookup('ansible.builtin.file', 'karpenter-v1.yaml') | jit.karpenter.karpenter_template('1.9.2') }}"
"""

RETURN = r"""
_value:
  description: The template text for that release, without the markers.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError
from ansible_collections.jit.karpenter.plugins.module_utils._karpenter_versions import template_for_version


def karpenter_template(text, karpenter_version):
    try:
        return template_for_version(text, karpenter_version)
    except KarpenterError as e:
        raise AnsibleFilterError(e.msg)


class FilterModule(object):
    def filters(self):
        return {"karpenter_template": karpenter_template}

# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: iam_identity_mapped
version_added: 0.1.0
short_description: Whether aws-auth already maps an IAM role or user as asked
description:
  - True when the C(aws-auth) ConfigMap's C(data) maps O(arn) with the username O(mapped_username) and every group
    of O(groups) already, so that M(jit.karpenter.iam_identity_mapping) with C(state=present) (and
    C(purge_groups=false)) would change nothing and warn of nothing.
  - The answer is M(jit.karpenter.iam_identity_mapping)'s own merge (the same code, reading the entries as
    aws-iam-authenticator reads them), made on data read before, without a module run.
  - False when the data maps the identity otherwise or not at all, when the merge would warn (a duplicate entry, the
    same ARN in C(mapUsers) too), and when the data does not parse; the module then says what it does, or why it
    cannot.
options:
  _input:
    description: The ConfigMap's C(data) (C(mapRoles), C(mapUsers), C(mapAccounts)); V({}) or V(null) for none.
    type: dict
    required: true
  arn:
    description: The role or user ARN.
    type: str
    required: true
  mapped_username:
    description: The username it is mapped to.
    type: str
    required: true
  groups:
    description: The groups it is mapped to.
    type: list
    elements: str
    required: true
author:
  - jit.karpenter maintainers
seealso:
  - module: jit.karpenter.iam_identity_mapping
"""

EXAMPLES = r"""
- name: Read aws-auth
  kubernetes.core.k8s_info:
    kind: ConfigMap
    namespace: kube-system
    name: aws-auth
  register: aws_auth

- name: Let nodes with the node role join, unless aws-auth maps the role so already
  jit.karpenter.iam_identity_mapping:
    arn: "{{ node_role_arn }}"
    mapped_username: "{{ node_username }}"
    groups: [system:bootstrappers, system:nodes]
  vars:
    node_username: !unsafe "system:node:{{EC2PrivateDNSName}}"
  when: >-
    not ((aws_auth.resources | first | default({})).data | default({})
         | jit.karpenter.iam_identity_mapped(node_role_arn, node_username, ['system:bootstrappers', 'system:nodes']))
"""

RETURN = r"""
_value:
  description: Whether the mapping is there as asked.
  type: bool
"""

from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError
from ansible_collections.jit.karpenter.plugins.module_utils._iam_identity_mapping import identity, plan


def _text(value):
    # Plain text, as the module gets it: Ansible's templated values are str subclasses (tagged, or marked unsafe,
    # as the !unsafe node username template is), which PyYAML's C loader and its dumper do not take, and whose
    # str() is the value itself in some ansible-core releases; str.__str__ gives a str.
    return str.__str__(value) if isinstance(value, str) else value


def iam_identity_mapped(data, arn, mapped_username, groups):
    data = dict((_text(k), _text(v)) for k, v in (data or {}).items())
    try:
        ident = identity(arn=_text(arn), username=_text(mapped_username), groups=[_text(g) for g in groups or []])
        result = plan(data or None, ident, "present")
    except KarpenterError:
        return False
    return not result.changed and not result.warnings


class FilterModule(object):
    def filters(self):
        return {"iam_identity_mapped": iam_identity_mapped}

# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: iam_role_current
version_added: 0.1.0
short_description: Whether an IAM role read before is already what amazon.aws.iam_role would make it
description:
  - True when the role, as M(jit.karpenter.karpenter_preflight_info) returns it (C(iam_role)), has the trust policy
    O(assume_role_policy_document), the description O(description), exactly the managed policies O(managed_policies)
    and every tag of O(tags); so that M(amazon.aws.iam_role) with these options, C(purge_policies=true),
    C(purge_tags=false), C(create_instance_profile=false) and no path, boundary or session duration would change
    nothing.
  - The trust policies and the tags are compared with amazon.aws's own functions (C(compare_policies),
    C(compare_aws_tags)), the ones M(amazon.aws.iam_role) compares with; the managed policies as sets of ARNs, as it
    compares them when it purges.
  - False when the role was not read (V(null) or V({})), or was read without its trust policy or managed policies;
    the module then reads and compares itself.
options:
  _input:
    description: The role read before (C(iam_role) of M(jit.karpenter.karpenter_preflight_info)); V(null) or V({}) for none.
    type: dict
    required: true
  assume_role_policy_document:
    description: The trust policy to have, as a dict.
    type: dict
    required: true
  managed_policies:
    description: The ARNs of the managed policies to have attached, and no others.
    type: list
    elements: str
    required: true
  description:
    description: The description to have.
    type: str
    required: true
  tags:
    description: Tags the role must carry (others it carries are kept, as with C(purge_tags=false)).
    type: dict
    default: {}
author:
  - jit.karpenter maintainers
seealso:
  - module: amazon.aws.iam_role
  - module: jit.karpenter.karpenter_preflight_info
"""

EXAMPLES = r"""
- name: Controller role, unless the role read before is already so
  amazon.aws.iam_role:
    name: "{{ role_name }}"
    description: "{{ role_description }}"
    assume_role_policy_document: "{{ trust | to_json }}"
    managed_policies: "{{ policy_arns }}"
    purge_policies: true
    create_instance_profile: false
    tags: "{{ role_tags }}"
    purge_tags: false
  when: not (preflight.iam_role | jit.karpenter.iam_role_current(trust, policy_arns, role_description, role_tags))
"""

RETURN = r"""
_value:
  description: Whether the role is already as asked.
  type: bool
"""

from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags


def iam_role_current(role, assume_role_policy_document, managed_policies, description, tags=None):
    """Whether ``role`` (read before) needs no change from amazon.aws.iam_role with these options."""
    if not role or role.get("assume_role_policy_document") is None or role.get("attached_policy_arns") is None:
        return False
    if compare_policies(role["assume_role_policy_document"], assume_role_policy_document):
        return False  # compare_policies is True when they differ
    if role.get("description") != description:
        return False
    if set(role["attached_policy_arns"]) != set(managed_policies or []):
        return False
    to_set, to_unset = compare_aws_tags(role.get("tags") or {}, dict(tags or {}), purge_tags=False)
    return not to_set and not to_unset


class FilterModule(object):
    def filters(self):
        return {"iam_role_current": iam_role_current}

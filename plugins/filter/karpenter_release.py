# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: karpenter_release
version_added: 0.1.0
short_description: Check a Karpenter version and plan the move from the installed one
description:
  - Checks that a Karpenter version is a plain C(X.Y.Z) this collection supports (0.16.x in legacy mode,
    1.9.0 to 1.14.x), and refuses the releases upstream says not to use (1.8.4).
  - With the installed version, tells what the move changes, before anything is written.
  - What arrived in which release (controller policy statements, EventBridge rules, CRDs) is data in
    the collection's C(karpenter_versions) module utility, with each fact's source in Karpenter's repository.
  - Never fails; an invalid version comes back with C(valid=false) and the C(reason), naming the input.
options:
  _input:
    description: The Karpenter version to install, for example V(1.14.3).
    type: str
    required: true
  installed:
    description: The version installed now (the C(karpenter) release's app version); empty for a new install.
    type: str
    default: ""
author:
  - jit.karpenter maintainers
"""

EXAMPLES = r"""
- name: Refuse an unsupported version, by name
  ansible.builtin.assert:
    that: __release.valid
    fail_msg: "{{ __release.reason }}"
  vars:
    __release: "{{ karpenter_version | jit.karpenter.karpenter_release(installed='1.9.2') }}"
"""

RETURN = r"""
_value:
  description:
    - C(valid) (bool) and C(reason) (str, empty when valid).
    - C(crds) (list of CRD names the CRD chart of that version installs; empty in legacy mode) and
      C(crd_versions) (CRD name to the one API version it serves and stores).
    - C(direction) (V(install), V(same), V(upgrade) or V(downgrade)), C(refusal) (str, empty unless the
      move is refused), C(warnings) (list), C(iam_added) and C(iam_removed) (statements, rules and
      policies, one text each), C(crds_added) and C(crds_removed).
  type: dict
"""

from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError
from ansible_collections.jit.karpenter.plugins.module_utils._karpenter_versions import (
    LEGACY_MINOR,
    crd_versions,
    crds,
    plan_change,
    validate,
)


def karpenter_release(version, installed=""):
    try:
        parsed = validate(version)
        plan = plan_change(installed or None, version)
    except KarpenterError as e:
        return {"valid": False, "reason": e.msg}
    legacy = parsed[:2] == LEGACY_MINOR
    result = {
        "valid": True,
        "reason": "",
        "crds": [] if legacy else crds(version),
        "crd_versions": {} if legacy else crd_versions(version),
    }
    result.update(plan)
    return result


class FilterModule(object):
    def filters(self):
        return {"karpenter_release": karpenter_release}

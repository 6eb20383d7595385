# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: karpenter_crd_takeover
version_added: 0.1.0
short_description: Which existing CRDs the karpenter-crd release can take over
description:
  - Sorts the cluster's Karpenter CRDs for the C(karpenter-crd) release of a Karpenter version, before
    anything is written.
  - CRDs without Helm's ownership metadata (installed from the C(karpenter) chart's C(crds/) folder, as
    Karpenter's getting-started guide, eksctl and terraform-aws-eks leave them, or with kubectl) are
    to be adopted; CRDs that belong to another Helm release or namespace, that another tool manages, or
    that still serve or store an older Karpenter API version are refused, each with a message naming it.
options:
  _input:
    description: CustomResourceDefinition objects, as C(kubernetes.core.k8s_info) returns them.
    type: list
    elements: dict
    required: true
  karpenter_version:
    description: The Karpenter version to install.
    type: str
    required: true
  release_name:
    description: The CRD chart's release name.
    type: str
    default: karpenter-crd
  namespace:
    description: The CRD chart's release namespace.
    type: str
    default: kube-system
author:
  - jit.karpenter maintainers
"""

EXAMPLES = r"""
- name: Sort the CRDs
  ansible.builtin.set_fact:
    takeover: "{{ crds.resources | jit.karpenter.karpenter_crd_takeover('1.14.3', 'karpenter-crd', 'kube-system') }}"
"""

RETURN = r"""
_value:
  description:
    - C(adopt) (CRD names that need Helm's ownership metadata), C(owned) (CRD names the release owns),
      C(refusals) (one message per CRD that cannot be taken over) and C(other_generation) (Karpenter CRDs
      the version does not ship, left alone).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError
from ansible_collections.jit.karpenter.plugins.module_utils._karpenter_versions import crd_takeover


def karpenter_crd_takeover(existing, karpenter_version, release_name="karpenter-crd", namespace="kube-system"):
    try:
        return crd_takeover(existing, karpenter_version, release_name, namespace)
    except KarpenterError as e:
        raise AnsibleFilterError(e.msg)


class FilterModule(object):
    def filters(self):
        return {"karpenter_crd_takeover": karpenter_crd_takeover}

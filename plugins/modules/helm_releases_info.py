#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: helm_releases_info
short_description: Find Helm releases by name in several namespaces, in one module run
version_added: 0.1.0
description:
  - Runs C(helm list) once for each of O(release_namespaces), with the release name as its filter, and returns
    the release named exactly O(name) from each namespace that has one; and the releases named in O(other_names),
    found by the same command.
  - With O(read_values), runs C(helm get values) for each release found, and returns its user-supplied values,
    which M(kubernetes.core.helm) compares with the values it is given, with the chart version, before it
    upgrades a release.
  - Like M(kubernetes.core.helm_info), it lists the releases that are deployed or failed (C(helm list)'s default),
    and takes the connection options of kubernetes.core's Helm modules.
  - Unlike M(kubernetes.core.helm_info), it does not read each release's manifest, notes and hooks, and it
    answers for several names and namespaces in one module run. Use M(kubernetes.core.helm_info) for those.
  - The preflight role uses it to find an installed Karpenter in the namespaces where the walkthrough's 0.16 and
    Karpenter 1.x install it, and the helm role skips installing a chart whose release is deployed at the same
    chart version with the same values.
options:
  name:
    description: The release name.
    type: str
    required: true
    aliases: [release_name]
  release_namespaces:
    description: The namespaces to look in, in this order.
    type: list
    elements: str
    required: true
  other_names:
    description:
      - More release names to look for in the same namespaces, returned in RV(other_releases).
      - Each a Helm release name (lower-case letters, digits, C(-) and C(.), at most 53 characters).
    type: list
    elements: str
    default: []
  read_values:
    description: Also read the user-supplied values of each release found (C(helm get values)).
    type: bool
    default: false
extends_documentation_fragment:
  - kubernetes.core.helm_common_options
  - jit.karpenter._attributes
  - jit.karpenter._attributes.info_module
notes:
  - It is in the action group C(jit.karpenter.k8s), whose C(module_defaults) may set only options that
    kubernetes.core's Helm modules take (C(kubeconfig), C(context), C(host), C(api_key), C(ca_cert),
    C(validate_certs)).
requirements:
  - helm (https://github.com/helm/helm/releases)
  - PyYAML
author:
  - jit.karpenter maintainers (@jit-karpenter)
seealso:
  - module: kubernetes.core.helm_info
"""

EXAMPLES = r"""
- name: Find the release karpenter where Karpenter 0.16 and 1.x are installed
  jit.karpenter.helm_releases_info:
    name: karpenter
    release_namespaces: [karpenter, kube-system]
  register: found

- name: Say which versions are installed
  ansible.builtin.debug:
    msg: "{{ found.releases | map(attribute='app_version') | list }}"
"""

RETURN = r"""
releases:
  description: The release named O(name) in each namespace that has one, in the order of O(release_namespaces).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The release name.
      type: str
    namespace:
      description: Its namespace.
      type: str
    revision:
      description: Its revision.
      type: str
    updated:
      description: When it was last deployed.
      type: str
    status:
      description: Its status, C(deployed) or C(failed).
      type: str
    chart:
      description: The chart and its version, for example C(karpenter-1.14.3).
      type: str
    app_version:
      description: The chart's app version.
      type: str
    user_values:
      description: The values given at install or upgrade (C(helm get values)), V({}) for none.
      type: dict
      returned: when O(read_values) is true
  sample:
    - {name: karpenter, namespace: kube-system, revision: "1", updated: "2026-11-30 12:00:00.0 +0000 UTC",
       status: deployed, chart: karpenter-1.14.3, app_version: 1.14.3}
other_releases:
  description:
    - The releases named in O(other_names), for each namespace in the order of O(release_namespaces), then in
      the order of O(other_names); each as in RV(releases).
  returned: always
  type: list
  elements: dict
  sample:
    - {name: karpenter-crd, namespace: kube-system, revision: "1", updated: "2026-11-30 12:00:00.0 +0000 UTC",
       status: deployed, chart: karpenter-crd-1.14.3, app_version: 1.14.3}
"""

from ansible_collections.kubernetes.core.plugins.module_utils.helm import AnsibleHelmModule
from ansible_collections.kubernetes.core.plugins.module_utils.helm_args_common import (
    HELM_AUTH_ARG_SPEC,
    HELM_AUTH_MUTUALLY_EXCLUSIVE,
)
from ansible_collections.jit.karpenter.plugins.module_utils._runner import run_module
from ansible_collections.jit.karpenter.plugins.module_utils._helm_releases_info import run


def main():
    argument_spec = dict(
        HELM_AUTH_ARG_SPEC,
        name={"type": "str", "required": True, "aliases": ["release_name"]},
        release_namespaces={"type": "list", "elements": "str", "required": True},
        other_names={"type": "list", "elements": "str", "default": []},
        read_values={"type": "bool", "default": False},
    )
    run_module(AnsibleHelmModule, argument_spec, run, mutually_exclusive=HELM_AUTH_MUTUALLY_EXCLUSIVE)


if __name__ == "__main__":
    main()

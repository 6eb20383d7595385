# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: k8s_objects_info
short_description: Read several lists or objects from the Kubernetes API in one module run
version_added: 0.1.0
description:
  - Answers each of O(queries) as M(kubernetes.core.k8s_info) answers one query, with one
    connection and one discovery of the API server's kinds for all of them.
  - A query for a kind the API server does not serve returns C(api_found=false) and no resources,
    rather than failing; a query for a named object that does not exist returns no resources.
  - Any other error of the API server (for example C(401 Unauthorized) or C(403 Forbidden)) fails
    the task, naming the query, so the first read also checks the credentials.
  - The roles use it for the reads that checks and verdicts need together, such as the CRDs, the
    controller's service account and the node classes, and the EC2NodeClasses and NodePools.
options:
  queries:
    description: The reads, answered in this order.
    type: list
    elements: dict
    required: true
    suboptions:
      api_version:
        description: API group and version of the kind, for example C(v1) or C(karpenter.sh/v1).
        type: str
        required: true
      kind:
        description: The kind, for example C(NodePool).
        type: str
        required: true
      namespace:
        description: The namespace to read in; all namespaces (or a cluster-scoped kind) when omitted.
        type: str
      name:
        description: One object's name; the whole list when omitted.
        type: str
      label_selectors:
        description: Label selectors, joined with commas, as M(kubernetes.core.k8s_info) takes them.
        type: list
        elements: str
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - jit.karpenter._attributes
  - jit.karpenter._attributes.info_module
author:
  - jit.karpenter maintainers (@jit-karpenter)
"""

EXAMPLES = r"""
- name: Read the Karpenter CRDs, the controller's service account and the node classes at once
  jit.karpenter.k8s_objects_info:
    queries:
      - {api_version: apiextensions.k8s.io/v1, kind: CustomResourceDefinition}
      - {api_version: v1, kind: ServiceAccount, namespace: kube-system, name: karpenter}
      - {api_version: karpenter.k8s.aws/v1, kind: EC2NodeClass}
  register: reads

- name: The node classes, or none when the CRD is not installed
  ansible.builtin.debug:
    msg: "{{ reads.results[2].resources | map(attribute='metadata.name') | list }}"
"""

RETURN = r"""
results:
  description: One answer per query, in the order of O(queries).
  returned: always
  type: list
  elements: dict
  contains:
    api_version:
      description: The query's API version.
      type: str
      sample: karpenter.sh/v1
    kind:
      description: The query's kind.
      type: str
      sample: NodePool
    namespace:
      description: The query's namespace, or null.
      type: str
    name:
      description: The query's name, or null.
      type: str
    label_selectors:
      description: The query's label selectors, or null.
      type: list
      elements: str
    api_found:
      description: Whether the API server serves the kind.
      type: bool
      sample: true
    resources:
      description: The objects found, as the API server returns them; empty when none.
      type: list
      elements: dict
      sample: []
"""

from ansible_collections.jit.karpenter.plugins.module_utils._runner import run_module
from ansible_collections.jit.karpenter.plugins.module_utils._k8s_objects_info import run
from ansible_collections.jit.karpenter.plugins.module_utils._kube import kube_argument_spec
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule


def main():
    argument_spec = kube_argument_spec()
    argument_spec.update(
        queries={
            "type": "list",
            "elements": "dict",
            "required": True,
            "options": {
                "api_version": {"type": "str", "required": True},
                "kind": {"type": "str", "required": True},
                "namespace": {"type": "str"},
                "name": {"type": "str"},
                "label_selectors": {"type": "list", "elements": "str"},
            },
        },
    )
    run_module(AnsibleK8SModule, argument_spec, run)


if __name__ == "__main__":
    main()

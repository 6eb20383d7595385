#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: karpenter_migration_info
version_added: 0.1.0
short_description: Plan the move of an EKS cluster's Karpenter 0.16 objects and nodes to Karpenter 1.x
description:
  - Reads every Karpenter 0.16 C(Provisioner) (C(karpenter.sh/v1alpha5)) and C(AWSNodeTemplate)
    (C(karpenter.k8s.aws/v1alpha1)) of the cluster, not only the walkthrough's, and converts each, in process,
    to the C(NodePool) (C(karpenter.sh/v1)) and C(EC2NodeClass) (C(karpenter.k8s.aws/v1)) that replace it, with
    the field mapping of M(jit.karpenter.nodepool) for both API generations.
  - Every field that has no Karpenter 1.x equivalent, in every C(Provisioner) and C(AWSNodeTemplate), fails the
    module in one error that names each of them.
  - The instance profile a C(Provisioner)'s nodes get (its provider's C(instanceProfile), else
    O(default_instance_profile)) is read from IAM, and its role becomes the C(EC2NodeClass)'s C(role).
  - Lists the nodes Karpenter 0.16 launched (label C(karpenter.sh/provisioner-name)), oldest first, in batches of
    at most O(max_unavailable), and the instances 0.16 launched for the cluster (tag
    C(karpenter.sh/provisioner-name) with C(kubernetes.io/cluster/<cluster>)), with or without a node.
  - Changes nothing.
author:
  - jit.karpenter maintainers (@jit-karpenter)
options:
  cluster_name:
    description: Name of the EKS cluster.
    type: str
    required: true
  default_instance_profile:
    description:
      - The instance profile of nodes whose provider names none (Karpenter 0.16's chart value
        C(aws.defaultInstanceProfile); the walkthrough's C(KarpenterNodeInstanceProfile-<cluster>)).
    type: str
  max_unavailable:
    description: How many old nodes one batch replaces at most.
    type: int
    default: 1
  kubernetes_version:
    description:
      - The cluster's Kubernetes version (C(MAJOR.MINOR)).
      - From 1.33 on, EKS publishes no AL2 AMIs and Karpenter 1.x refuses the alias C(al2@latest). There an
        C(EC2NodeClass) converted from AL2 (0.16's default family) gets C(al2023@latest) instead, with a note, and one
        with C(userData) (written for AL2's bootstrap) is refused, naming O(ami_alias).
    type: str
  ami_alias:
    description:
      - The C(amiSelectorTerms) alias of every C(EC2NodeClass) converted from AL2, for example C(al2023@latest);
        its C(userData), if any, must suit that family.
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - kubernetes.core.k8s_auth_options
  - jit.karpenter._attributes
  - jit.karpenter._attributes.info_module
notes:
  - The option O(validate_certs) applies to both the AWS and the Kubernetes API.
  - Required permissions are C(ec2:DescribeInstances) and C(iam:GetInstanceProfile); in Kubernetes, listing
    Karpenter 0.16's custom objects and nodes.
seealso:
  - module: jit.karpenter.nodepool
  - name: Karpenter's v1beta1 migration guide
    description: The field renames from v1alpha5 (Karpenter 0.31) to v1beta1, which v1 kept.
    link: https://karpenter.sh/v0.32/upgrading/v1beta1-migration/
"""

EXAMPLES = r"""
- name: Plan the migration of cluster demo, two old nodes at a time
  jit.karpenter.karpenter_migration_info:
    cluster_name: demo
    region: us-east-1
    default_instance_profile: KarpenterNodeInstanceProfile-demo
    max_unavailable: 2
  register: plan

- name: Show the NodePools and the order of the nodes
  ansible.builtin.debug:
    msg: "{{ plan.nodepools | map(attribute='metadata.name') }}; {{ plan.nodes | map(attribute='name') }}"
"""

RETURN = r"""
nodepools:
  description: The C(NodePool) objects (C(karpenter.sh/v1)) that replace the C(Provisioners), one each.
  returned: success
  type: list
  elements: dict
provisioners:
  description:
    - Each C(Provisioner), with C(stopped) (whether the migration already set its limits to zero, keeping its own in the
      annotation C(jit.karpenter/limits-before-migration)) and C(limits_json) (its own limits, as JSON; C(null) for none).
    - A stopped C(Provisioner) converts with its own limits, not the zeros.
  returned: success
  type: list
  elements: dict
  sample: [{"name": "default", "stopped": false, "limits_json": "{\"resources\": {\"cpu\": 1000}}"}]
ec2nodeclasses:
  description:
    - The C(EC2NodeClass) objects (C(karpenter.k8s.aws/v1)) that replace the C(AWSNodeTemplates), and the inline
      providers (named after their C(Provisioner)).
  returned: success
  type: list
  elements: dict
notes:
  description: Mappings that were accepted but are not exact, each naming its C(Provisioner) and field.
  returned: success
  type: list
  elements: str
nodes:
  description: The nodes Karpenter 0.16 launched, oldest first, each with C(name), C(provisioner), C(instance_id) and C(batch).
  returned: success
  type: list
  elements: dict
  sample: [{"name": "ip-192-168-12-34.ec2.internal", "provisioner": "default", "instance_id": "i-0123456789abcdef0", "batch": 1}]
batches:
  description: How many batches replace the old nodes.
  returned: success
  type: int
instances:
  description: The live instances Karpenter 0.16 launched for the cluster, each with C(id), C(state), C(provisioner) and C(node) (whether a node stands for it).
  returned: success
  type: list
  elements: dict
instance_profiles:
  description: The instance profiles whose roles the C(EC2NodeClasses) take.
  returned: success
  type: list
  elements: str
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.jit.karpenter.plugins.module_utils._runner import aws_and_kube_argument_spec, run_module
from ansible_collections.jit.karpenter.plugins.module_utils._karpenter_migration_info import run


def main():
    argument_spec = aws_and_kube_argument_spec(
        {
            "cluster_name": {"type": "str", "required": True},
            "default_instance_profile": {"type": "str"},
            "max_unavailable": {"type": "int", "default": 1},
            "kubernetes_version": {"type": "str"},
            "ami_alias": {"type": "str"},
        }
    )
    # AWS and Kubernetes alike: AnsibleAWSModule (boto3 clients, region, AWS options); run_module checks the kubernetes library.
    run_module(AnsibleAWSModule, argument_spec, run, kubernetes=True)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: karpenter_teardown
version_added: 0.1.0
short_description: Remove every node and resource Karpenter made for an EKS cluster
description:
  - Deletes every C(NodePool), C(NodeClaim) and C(EC2NodeClass) of the cluster (Karpenter 0.16 C(Provisioner),
    C(Machine), C(AWSNodeTemplate) and their nodes), not only those a playbook created, and, while a Karpenter
    controller Deployment exists, waits up to O(wait_timeout) seconds for it to drain and terminate their nodes.
  - Then terminates Karpenter's instances of the cluster that are still running (the controller was gone or
    did not finish in time), found by the tags Karpenter sets (C(karpenter.sh/nodepool) or
    C(karpenter.sh/provisioner-name), with C(eks:eks-cluster-name=<cluster>) or C(kubernetes.io/cluster/<cluster>)).
    A node group's instances carry no Karpenter tag and are never selected.
  - Removes finalizers from C(NodeClaims) and Karpenter's C(Nodes) only once the instance behind them is gone,
    and deletes those C(Node) objects.
  - Deletes Karpenter's launch templates (tags C(eks:eks-cluster-name) and C(karpenter.k8s.aws/ec2nodeclass); before
    1.1 C(karpenter.k8s.aws/cluster)) and instance profiles (path C(/karpenter/<region>/<cluster>/) since 1.7; the
    older C(<cluster>_<hash>) names with Karpenter's tags), removing their roles first so the node role can be deleted.
  - With O(discovery_tags), removes from subnets and security groups the tags this collection recorded it added
    (listed in their C(jit.karpenter/added-tags) tag) whose value is the cluster's name; no other tag is touched.
  - Reports what it removed and what is left over; it does not fail on leftovers, so that a playbook can report
    everything at the end.
author:
  - jit.karpenter maintainers (@jit-karpenter)
options:
  cluster_name:
    description: Name of the EKS cluster.
    type: str
    required: true
  wait_timeout:
    description:
      - Seconds to wait for the controller to drain and terminate the nodes, and then for instances terminated here
        to shut down.
    type: int
    default: 600
  discovery_tags:
    description: Remove the discovery tags this collection recorded it added.
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - kubernetes.core.k8s_auth_options
  - jit.karpenter._attributes
  - jit.karpenter._attributes.all
notes:
  - The option O(validate_certs) applies to both the AWS and the Kubernetes API.
  - Required permissions are C(ec2:DescribeInstances), C(ec2:TerminateInstances), C(ec2:DescribeLaunchTemplates),
    C(ec2:DeleteLaunchTemplate), C(ec2:DescribeSubnets), C(ec2:DescribeSecurityGroups), C(ec2:DeleteTags),
    C(iam:ListInstanceProfiles), C(iam:ListInstanceProfileTags), C(iam:RemoveRoleFromInstanceProfile) and
    C(iam:DeleteInstanceProfile); in Kubernetes, listing, deleting and patching Karpenter's custom objects
    and nodes, and listing deployments.
seealso:
  - name: Karpenter's instance, launch template and instance profile providers
    description: Where the tags and paths this module looks for are set (aws/karpenter-provider-aws, pkg/providers).
    link: https://github.com/aws/karpenter-provider-aws/tree/main/pkg/providers
"""

EXAMPLES = r"""
- name: Remove Karpenter's nodes, launch templates and instance profiles
  jit.karpenter.karpenter_teardown:
    cluster_name: demo
    region: us-east-1
  register: teardown

- name: Fail on anything left over
  ansible.builtin.assert:
    that: teardown.left_over == []
"""

RETURN = r"""
removed:
  description:
    - What was removed; in check mode what would be. Each item has C(kind) and C(id), and, for launch templates
      C(name), for instance profiles C(roles), for discovery tags C(keys).
  returned: always
  type: list
  elements: dict
  sample: [{"kind": "EC2 instance", "id": "i-0123456789abcdef0", "state": "running"}]
left_over:
  description: What is still there after the run (always empty in check mode), with its ID.
  returned: always
  type: list
  elements: dict
  sample: []
swept:
  description: IDs of the instances terminated here because the controller did not.
  returned: always
  type: list
  elements: str
controller:
  description: Whether a Karpenter controller Deployment was found to drain the nodes (null when nothing was to do).
  returned: always
  type: bool
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.jit.karpenter.plugins.module_utils._runner import aws_and_kube_argument_spec, run_module
from ansible_collections.jit.karpenter.plugins.module_utils._karpenter_teardown import run


def main():
    argument_spec = aws_and_kube_argument_spec(
        {
            "cluster_name": {"type": "str", "required": True},
            "wait_timeout": {"type": "int", "default": 600},
            "discovery_tags": {"type": "bool", "default": True},
        }
    )
    # AWS and Kubernetes alike: AnsibleAWSModule (boto3 clients, region, AWS options); run_module checks the kubernetes library.
    run_module(AnsibleAWSModule, argument_spec, run, kubernetes=True)


if __name__ == "__main__":
    main()

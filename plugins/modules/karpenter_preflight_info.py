#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: karpenter_preflight_info
version_added: 0.1.0
short_description: Read in one run what Karpenter's preflight checks need from AWS
description:
  - Reads an Amazon EKS cluster as M(jit.karpenter.eks_cluster_info) does and, in the same module run, each only
    when asked, an IAM role (O(iam_role_name)), the resources of a CloudFormation stack (O(stack_name)), another
    stack with its template (O(deployed_stack_name)), the Pod Identity association of a service account
    (O(pod_identity_service_account)), the IAM OIDC provider of the cluster's issuer (O(oidc_provider)) and the
    node classes' discovery and selectors, as
    M(jit.karpenter.nodeclass_discovery_info) resolves them (O(discovery), O(nodeclasses)).
  - The role C(jit.karpenter.preflight) uses it for the controller role's owner tags and inline policies, eksctl's
    C(eksctl-<cluster>-karpenter) stack, the node classes, and, for the role C(jit.karpenter.karpenter), the
    stack C(Karpenter-<cluster>), the controller's Pod Identity association and the OIDC provider, so that the steps
    which compare
    them with what they should be need no read of their own.
  - Writes nothing.
  - Fails, naming the cluster and the region, when the cluster cannot be read (as M(jit.karpenter.eks_cluster_info)
    does; a wrong region shows up so). What fails in the other reads does not fail the module; it is returned in
    RV(errors), under the key of the read's return value, so that the caller refuses where it checks that read.
    A node class selector that matches nothing is such a failure, in RV(errors.discovery), naming the selector
    and listing what exists.
author:
  - jit.karpenter maintainers (@jit-karpenter)
options:
  cluster_name:
    description: Name of the EKS cluster.
    type: str
    required: true
    aliases: [name]
  include_addons:
    description:
      - Also list the cluster's EKS add-ons (C(ListAddons)) and return their names in C(addons) of RV(cluster).
    type: bool
    default: false
  iam_role_name:
    description:
      - An IAM role to read (C(GetRole), and C(ListRolePolicies) for the names of its inline policies), returned in
        RV(iam_role); V(null) there when the role does not exist.
    type: str
  stack_name:
    description:
      - A CloudFormation stack whose resources to read (C(DescribeStacks), C(ListStackResources)), returned in
        RV(cloudformation_stack); V(null) there when the stack does not exist.
    type: str
  deployed_stack_name:
    description:
      - A CloudFormation stack to read with its template (C(DescribeStacks), C(GetTemplate)), returned in
        RV(deployed_stack) as M(amazon.aws.cloudformation_info) returns a stack with C(stack_template=true);
        V({}) there when the stack does not exist.
    type: str
  pod_identity_service_account:
    description:
      - A service account whose EKS Pod Identity association to read (C(ListPodIdentityAssociations), and
        C(DescribePodIdentityAssociation) when there is one), returned in RV(pod_identity_association) as
        M(jit.karpenter.eks_pod_identity_association) returns it; V({}) there when there is none.
    type: dict
    suboptions:
      namespace:
        description: The service account's namespace.
        type: str
        required: true
      name:
        description: The service account's name.
        type: str
        required: true
  oidc_provider:
    description:
      - Read the IAM OIDC provider of the cluster's OIDC issuer (C(GetOpenIDConnectProvider), in the cluster's
        account), returned in RV(oidc_provider) as M(jit.karpenter.iam_oidc_provider) returns it; V({}) there when
        there is none.
    type: bool
    default: false
  discovery:
    description:
      - Find the subnets and security groups node classes select by default and resolve the selectors of
        O(nodeclasses), as M(jit.karpenter.nodeclass_discovery_info) does with the same option; returned in
        RV(discovery).
      - V(cluster) selects the defaults by C(id); V(tag) by the tag C(karpenter.sh/discovery=<cluster>), and then
        refuses subnets or security groups that carry that tag for another cluster.
      - Omitted, nothing is discovered and RV(discovery) is V(null).
    type: str
    choices: [cluster, tag]
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - jit.karpenter._attributes
  - jit.karpenter._attributes.info_module
  - jit.karpenter._nodeclass_selectors
"""

EXAMPLES = r"""
- name: Read the cluster, the controller role, eksctl's Karpenter stack and the node classes' selectors
  jit.karpenter.karpenter_preflight_info:
    cluster_name: prod-1
    iam_role_name: prod-1-karpenter
    stack_name: eksctl-prod-1-karpenter
    deployed_stack_name: Karpenter-prod-1
    pod_identity_service_account:
      namespace: kube-system
      name: karpenter
    oidc_provider: true
    discovery: cluster
    nodeclasses:
      - name: default
  register: found

- name: Refuse a selector that matches nothing, with the module's message
  ansible.builtin.fail:
    msg: "{{ found.errors.discovery.msg }}"
  when: "'discovery' in found.errors"

- name: Show the role's tags and the queue of eksctl's stack
  ansible.builtin.debug:
    msg: >-
      {{ (found.iam_role or {}).tags | default({}) }},
      {{ ((found.cloudformation_stack or {}).stack_resources | default({})).KarpenterInterruptionQueue | default('no queue') }}
"""

RETURN = r"""
cluster:
  description: The cluster, as M(jit.karpenter.eks_cluster_info) returns it (with C(addons) when O(include_addons=true)).
  returned: success
  type: dict
  sample:
    name: prod-1
    arn: arn:aws:eks:us-east-1:123456789012:cluster/prod-1
    version: "1.36"
    authentication_mode: API_AND_CONFIG_MAP
iam_role:
  description: The role O(iam_role_name); V(null) when it does not exist, when not asked for, or when its read failed.
  returned: success
  type: dict
  contains:
    role_name:
      description: The role's name.
      type: str
      sample: prod-1-karpenter
    arn:
      description: The role's ARN.
      type: str
      sample: arn:aws:iam::123456789012:role/prod-1-karpenter
    path:
      description: The role's IAM path.
      type: str
      sample: /
    tags:
      description: The role's tags.
      type: dict
      sample: {"jit.karpenter/managed-by": "jit.karpenter"}
    description:
      description: The role's description, or null.
      type: str
      sample: Karpenter controller of EKS cluster prod-1 (IRSA)
    assume_role_policy_document:
      description: The role's trust policy, as GetRole returns it.
      type: dict
    inline_policy_names:
      description: The names of the role's inline policies, sorted.
      type: list
      elements: str
      sample: ["KarpenterKeptNodeRoles"]
    attached_policy_arns:
      description: The ARNs of the managed policies attached to the role, sorted.
      type: list
      elements: str
      sample: ["arn:aws:iam::123456789012:policy/KarpenterControllerNodeLifecyclePolicy-prod-1"]
cloudformation_stack:
  description: The stack O(stack_name); V(null) when it does not exist, when not asked for, or when its read failed.
  returned: success
  type: dict
  contains:
    stack_name:
      description: The stack's name.
      type: str
      sample: eksctl-prod-1-karpenter
    stack_id:
      description: The stack's ID (an ARN).
      type: str
    stack_status:
      description: The stack's status.
      type: str
      sample: CREATE_COMPLETE
    stack_resources:
      description:
        - Each resource's logical ID and physical ID, as M(amazon.aws.cloudformation_info) returns them with
          C(stack_resources=true).
      type: dict
      sample: {"KarpenterInterruptionQueue": "https://sqs.us-east-1.amazonaws.com/123456789012/prod-1"}
deployed_stack:
  description:
    - The stack O(deployed_stack_name), with the keys and values M(amazon.aws.cloudformation_info) returns for a
      stack with C(stack_template=true); of C(stack_description), only the stack's name, ID and status.
    - V({}) when the stack does not exist; V(null) when not asked for, or when its read failed.
  returned: success
  type: dict
  contains:
    stack_description:
      description: The stack's C(stack_name), C(stack_id) and C(stack_status).
      type: dict
      sample: {"stack_name": "Karpenter-prod-1", "stack_status": "UPDATE_COMPLETE"}
    stack_template:
      description: The stack's template as it was sent (C(GetTemplate)'s C(TemplateBody)).
      type: str
    stack_parameters:
      description: The stack's parameters, by name.
      type: dict
      sample: {"ClusterName": "prod-1"}
    stack_tags:
      description: The stack's tags.
      type: dict
    stack_outputs:
      description: The stack's outputs, by name.
      type: dict
      sample: {"NodeRoleName": "KarpenterNodeRole-prod-1"}
pod_identity_association:
  description:
    - The Pod Identity association of O(pod_identity_service_account), as M(jit.karpenter.eks_pod_identity_association)
      returns it under C(pod_identity_association).
    - V({}) when there is none; V(null) when not asked for, or when its read failed.
  returned: success
  type: dict
  sample:
    association_id: a-abcdef0123456789
    namespace: kube-system
    service_account: karpenter
    role_arn: arn:aws:iam::123456789012:role/prod-1-karpenter
oidc_provider:
  description:
    - The IAM OIDC provider of the cluster's issuer, as M(jit.karpenter.iam_oidc_provider) returns it under
      C(oidc_provider) (C(arn), C(url), C(client_ids), C(thumbprints)).
    - V({}) when there is none; V(null) when not asked for, or when its read failed.
  returned: success
  type: dict
  sample:
    arn: arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE
    url: https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE
    client_ids: [sts.amazonaws.com]
    thumbprints: []
discovery:
  description:
    - What M(jit.karpenter.nodeclass_discovery_info) returns under C(discovery) (see there), with O(discovery).
    - When a selector matches nothing, what was resolved, beside RV(errors.discovery).
    - V(null) without O(discovery), or when the discovery failed before it resolved the defaults.
  returned: success
  type: dict
errors:
  description:
    - The reads after the cluster's that failed, under the key of their return value (C(iam_role),
      C(cloudformation_stack), C(deployed_stack), C(pod_identity_association), C(oidc_provider), C(discovery));
      each with C(msg),
      the message the read's own module would fail with (the AWS action and error, a bad name, or the selectors
      that match nothing), and the error's details.
    - Empty when every read worked.
  returned: success
  type: dict
  contains:
    iam_role:
      description: Why the role O(iam_role_name) could not be read, in C(msg).
      type: dict
      returned: when that read failed
    cloudformation_stack:
      description: Why the stack O(stack_name) could not be read, in C(msg).
      type: dict
      returned: when that read failed
    deployed_stack:
      description: Why the stack O(deployed_stack_name) could not be read, in C(msg).
      type: dict
      returned: when that read failed
    pod_identity_association:
      description: Why the Pod Identity association could not be read, in C(msg).
      type: dict
      returned: when that read failed
    oidc_provider:
      description: Why the OIDC provider could not be read, in C(msg).
      type: dict
      returned: when that read failed
    discovery:
      description: Why the discovery failed or which selectors match nothing, in C(msg).
      type: dict
      returned: when the discovery failed
  sample:
    discovery:
      msg: |-
        node class selectors refused before anything was written:
        EC2NodeClass gpu: subnet_selector_terms [{"tags": {"tier": "gpu"}}] match no subnet
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.jit.karpenter.plugins.module_utils._discovery import NODECLASSES_OPTION
from ansible_collections.jit.karpenter.plugins.module_utils._runner import run_module
from ansible_collections.jit.karpenter.plugins.module_utils._karpenter_preflight_info import run


def main():
    argument_spec = {
        "cluster_name": {"type": "str", "required": True, "aliases": ["name"]},
        "include_addons": {"type": "bool", "default": False},
        "iam_role_name": {"type": "str"},
        "stack_name": {"type": "str"},
        "deployed_stack_name": {"type": "str"},
        "pod_identity_service_account": {
            "type": "dict",
            "options": {"namespace": {"type": "str", "required": True}, "name": {"type": "str", "required": True}},
        },
        "oidc_provider": {"type": "bool", "default": False},
        "discovery": {"type": "str", "choices": ["cluster", "tag"]},
        "nodeclasses": NODECLASSES_OPTION,
    }
    run_module(AnsibleAWSModule, argument_spec, run)


if __name__ == "__main__":
    main()

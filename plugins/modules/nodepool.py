# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: nodepool
short_description: Manage a Karpenter NodePool and its EC2NodeClass (or a v1alpha5 Provisioner and AWSNodeTemplate)
version_added: 0.1.0
description:
  - Creates, updates or deletes a Karpenter C(karpenter.sh/v1) C(NodePool) and, unless
    O(nodeclass.manage=false), the C(karpenter.k8s.aws/v1) C(EC2NodeClass) it references.
  - For Karpenter before 0.32 (O(api=v1alpha5), or O(api=auto) on a cluster that serves only
    the old CRDs), the same options write a C(karpenter.sh/v1alpha5) C(Provisioner) and a
    C(karpenter.k8s.aws/v1alpha1) C(AWSNodeTemplate) instead; each option documents its
    v1alpha5 field, and options v1alpha5 has no field for are rejected by name.
  - Options are snake_case; each one documents the camelCase field it sets.
  - The module reads both objects first and writes only when a field it owns differs from what
    the cluster holds. Defaults that the API server fills in (for example C(expireAfter=720h) or
    the C(metadataOptions) block; for v1alpha5, the C(karpenter.sh/capacity-type) and
    C(kubernetes.io/arch) requirements Karpenter's defaulting webhook adds) count as matching.
    An unchanged run sends no write request.
  - Writes are a create, or a replace carrying the C(resourceVersion) that was read, with field
    manager C(jit.karpenter) and strict field validation. Fields the module does not own (such as
    C(kubelet) or C(userData) on the node class) are kept.
  - The API server validates the objects against the installed Karpenter CRDs; the module also
    checks common mistakes first (quantities in O(limits), durations, operators, restricted tags)
    and names the bad input.
  - While the Karpenter admission webhook is not serving yet (HTTP 500/503 with C(failed calling
    webhook) or C(no endpoints available)), writes are retried a bounded number of times.
  - This module is also reachable as C(jit.karpenter.provisioner), the name of the v1alpha5 kind
    the NodePool replaced.
author:
  - jit.karpenter maintainers (@jit-karpenter)
options:
  api:
    description:
      - API generation to write. V(v1) is C(NodePool)/C(EC2NodeClass) (Karpenter 1.x); V(v1alpha5) is
        C(Provisioner)/C(AWSNodeTemplate) (Karpenter before 0.32, such as 0.16).
      - V(auto) picks the generation from the CRDs the cluster serves, V(v1) when
        C(nodepools.karpenter.sh/v1) is served, else V(v1alpha5) when
        C(provisioners.karpenter.sh/v1alpha5) is, else V(v1).
    type: str
    choices: [auto, v1, v1alpha5]
    default: auto
  name:
    description:
      - Name of the NodePool (C(metadata.name)).
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the objects; V(absent) deletes the NodePool, then the node
        class when O(nodeclass.manage=true) and no other NodePool references it.
    type: str
    choices: [present, absent]
    default: present
  cluster_name:
    description:
      - Name of the EKS cluster. The default subnet and security group selectors pick resources
        tagged C(karpenter.sh/discovery=<cluster_name>).
      - Required when O(nodeclass.manage=true) and either O(nodeclass.subnet_selector_terms) or
        O(nodeclass.security_group_selector_terms) is not given.
    type: str
  requirements:
    description:
      - Scheduling requirements of the nodes (C(spec.template.spec.requirements); v1alpha5 C(spec.requirements)).
      - An empty list lets Karpenter choose among all instance types.
      - With O(api=v1alpha5), the operators V(Gte) and V(Lte) and O(requirements[].min_values)
        are rejected, and the node pool label is C(karpenter.sh/provisioner-name).
    type: list
    elements: dict
    default: []
    suboptions:
      key:
        description: Label key (C(key)), for example C(karpenter.sh/capacity-type).
        type: str
        required: true
      operator:
        description: Operator (C(operator)).
        type: str
        required: true
        choices: [In, NotIn, Exists, DoesNotExist, Gt, Lt, Gte, Lte]
      values:
        description:
          - Values (C(values)). V(In) needs at least one; V(Gt), V(Lt), V(Gte) and V(Lte) need
            exactly one non-negative integer; V(Exists) and V(DoesNotExist) take none.
        type: list
        elements: str
      min_values:
        description: Minimum number of distinct values Karpenter must keep flexible (C(minValues)), 1 to 50.
        type: int
        aliases: [minValues]
  limits:
    description:
      - Upper bound of the resources all nodes of this NodePool may add up to (C(spec.limits)),
        as resource name to Kubernetes quantity, for example C(cpu=1000) and C(memory=1000Gi).
      - With O(api=v1alpha5) they become C(spec.limits.resources), and the v1alpha5 layout
        C(limits.resources.cpu) is accepted too; with O(api=v1) that layout is rejected with a hint.
    type: dict
  weight:
    description: Priority among NodePools, 1 to 100 (C(spec.weight); v1alpha5 the same).
    type: int
  disruption:
    description:
      - How Karpenter may disrupt nodes (C(spec.disruption)).
      - With O(api=v1alpha5), V(WhenEmpty) with O(disruption.consolidate_after) becomes
        C(spec.ttlSecondsAfterEmpty) (in seconds), V(WhenEmptyOrUnderutilized) without a delay
        becomes C(spec.consolidation.enabled=true); V(Balanced) and O(disruption.budgets) are rejected.
    type: dict
    suboptions:
      consolidation_policy:
        description:
          - Which nodes may be consolidated (C(consolidationPolicy)). The API server defaults to
            V(WhenEmptyOrUnderutilized).
          - The v1alpha5 C(ttlSecondsAfterEmpty) maps to V(WhenEmpty) plus O(disruption.consolidate_after).
        type: str
        choices: [WhenEmpty, WhenEmptyOrUnderutilized, Balanced]
      consolidate_after:
        description:
          - How long a node must be consolidatable before Karpenter acts (C(consolidateAfter)),
            for example V(30s), or V(Never). The API server defaults to V(0s).
        type: str
      budgets:
        description: Disruption budgets (C(budgets)). The API server defaults to one budget of C(10%).
        type: list
        elements: dict
        suboptions:
          nodes:
            description: Number or percentage of nodes that may be disrupted at once (C(nodes)).
            type: str
            default: "10%"
          schedule:
            description: Cron schedule when the budget is active (C(schedule)); needs O(disruption.budgets[].duration).
            type: str
          duration:
            description: How long the budget is active after each C(schedule) time (C(duration)), for example V(8h).
            type: str
          reasons:
            description: Disruption reasons the budget applies to (C(reasons)); all reasons when omitted.
            type: list
            elements: str
            choices: [Underutilized, Empty, Drifted, Unhealthy]
  expire_after:
    description:
      - Lifetime of a node before it is replaced (C(spec.template.spec.expireAfter)), for example
        V(720h), or V(Never). The API server defaults to V(720h).
      - Replaces the v1alpha5 C(ttlSecondsUntilExpired); with O(api=v1alpha5) it becomes that
        field, in seconds (V(720h) is C(2592000)), and V(Never) leaves it unset.
    type: str
  termination_grace_period:
    description:
      - Maximum time a node may take to drain when it is disrupted (C(spec.template.spec.terminationGracePeriod)), for example V(24h).
      - Rejected with O(api=v1alpha5).
    type: str
  labels:
    description: Labels put on every node (C(spec.template.metadata.labels); v1alpha5 C(spec.labels)).
    type: dict
  annotations:
    description: Annotations put on every node (C(spec.template.metadata.annotations)); rejected with O(api=v1alpha5).
    type: dict
  taints:
    description: Taints put on every node (C(spec.template.spec.taints); v1alpha5 C(spec.taints)).
    type: list
    elements: dict
    suboptions: &taint
      key:
        description: Taint key (C(key)).
        type: str
        required: true
      value:
        description: Taint value (C(value)).
        type: str
      effect:
        description: Taint effect (C(effect)).
        type: str
        required: true
        choices: [NoSchedule, PreferNoSchedule, NoExecute]
  startup_taints:
    description:
      - Taints put on new nodes that a daemon is expected to remove
        (C(spec.template.spec.startupTaints); v1alpha5 C(spec.startupTaints)).
    type: list
    elements: dict
    suboptions: *taint
  nodeclass:
    description:
      - The C(EC2NodeClass) the NodePool uses (C(spec.template.spec.nodeClassRef)); with
        O(api=v1alpha5), the C(AWSNodeTemplate) the Provisioner uses (C(spec.providerRef)).
    type: dict
    default: {}
    suboptions:
      name:
        description: Name of the node class (C(metadata.name)). Defaults to O(name).
        type: str
      manage:
        description:
          - Whether this module creates, updates and deletes the node class.
          - With V(false), the NodePool only references an existing node class named
            O(nodeclass.name), and the other node class options are ignored.
        type: bool
        default: true
      role:
        description:
          - Name of the IAM role of the nodes (C(spec.role)); Karpenter creates the instance profile.
          - With O(api=v1) and O(nodeclass.manage=true), this or O(nodeclass.instance_profile) is required.
          - Rejected with O(api=v1alpha5), which has no such field.
        type: str
      instance_profile:
        description:
          - Name of an existing instance profile of the nodes (C(spec.instanceProfile)), instead of O(nodeclass.role).
          - With O(api=v1alpha5) it is optional; without it Karpenter uses the chart's
            C(aws.defaultInstanceProfile), as the walkthrough does.
        type: str
      subnet_selector_terms:
        description:
          - Subnets to launch nodes in (C(spec.subnetSelectorTerms)); terms are ORed.
          - Defaults to one term selecting the tag C(karpenter.sh/discovery=<cluster_name>).
          - With O(api=v1alpha5), C(spec.subnetSelector), a single map; give one term of tags
            (its tags become the map), or terms of ids only (they become C(aws-ids)).
        type: list
        elements: dict
        suboptions:
          id:
            description: Subnet ID (C(id)); cannot be combined with O(nodeclass.subnet_selector_terms[].tags).
            type: str
          tags:
            description: Tags the subnet must carry (C(tags)); V(*) matches any value.
            type: dict
      security_group_selector_terms:
        description:
          - Security groups of the nodes (C(spec.securityGroupSelectorTerms)); terms are ORed.
          - Defaults to one term selecting the tag C(karpenter.sh/discovery=<cluster_name>).
          - With O(api=v1alpha5), C(spec.securityGroupSelector), as for O(nodeclass.subnet_selector_terms);
            O(nodeclass.security_group_selector_terms[].name) is rejected.
        type: list
        elements: dict
        suboptions:
          id:
            description: Security group ID (C(id)).
            type: str
          name:
            description: Security group name (C(name)).
            type: str
          tags:
            description: Tags the security group must carry (C(tags)).
            type: dict
      ami_selector_terms:
        description:
          - AMIs of the nodes (C(spec.amiSelectorTerms)).
          - Defaults to one term with C(alias=al2023@latest). An O(nodeclass.ami_selector_terms[].alias)
            term must be the only term; without an alias, O(nodeclass.ami_family) is required.
          - With O(api=v1alpha5), C(spec.amiSelector), as for O(nodeclass.subnet_selector_terms)
            (tags or ids; no default, Karpenter picks the EKS-optimized AMI of O(nodeclass.ami_family)).
        type: list
        elements: dict
        suboptions:
          alias:
            description: AMI family and version, for example V(al2023@latest) or V(bottlerocket@latest) (C(alias)).
            type: str
          id:
            description: AMI ID (C(id)).
            type: str
          name:
            description: AMI name (C(name)).
            type: str
          owner:
            description: AMI owner account or alias (C(owner)).
            type: str
          ssm_parameter:
            description: SSM parameter holding the AMI ID (C(ssmParameter)).
            type: str
          tags:
            description: Tags the AMI must carry (C(tags)).
            type: dict
      ami_family:
        description:
          - AMI family for bootstrapping (C(spec.amiFamily)); required without an alias term.
          - With O(api=v1alpha5), only V(AL2), V(Bottlerocket) and V(Custom), and optional.
        type: str
        choices: [AL2, AL2023, Bottlerocket, Custom, Windows2019, Windows2022, Windows2025]
      tags:
        description:
          - Tags put on the EC2 resources Karpenter creates (C(spec.tags)).
          - The keys C(eks:eks-cluster-name), C(kubernetes.io/cluster/*), C(karpenter.sh/nodepool),
            C(karpenter.sh/nodeclaim) and C(karpenter.k8s.aws/ec2nodeclass) are restricted and rejected
            (with O(api=v1alpha5), C(kubernetes.io/cluster/*) and C(karpenter.sh/provisioner-name)).
        type: dict
      block_device_mappings:
        description: EBS volumes of the nodes (C(spec.blockDeviceMappings)).
        type: list
        elements: dict
        suboptions:
          device_name:
            description: Device name, for example V(/dev/xvda) (C(deviceName)).
            type: str
          root_volume:
            description: Whether this is the root volume (C(rootVolume)); at most one mapping. Rejected with O(api=v1alpha5).
            type: bool
          ebs:
            description: The EBS volume (C(ebs)).
            type: dict
            suboptions:
              volume_size:
                description: Size, for example V(20Gi) (C(volumeSize)).
                type: str
              volume_type:
                description: Volume type (C(volumeType)).
                type: str
                choices: [standard, io1, io2, gp2, sc1, st1, gp3]
              iops:
                description: Provisioned IOPS (C(iops)).
                type: int
              throughput:
                description: Throughput in MiB/s for gp3 (C(throughput)).
                type: int
              encrypted:
                description: Whether the volume is encrypted (C(encrypted)).
                type: bool
              kms_key_id:
                description: KMS key for encryption (C(kmsKeyID)).
                type: str
              delete_on_termination:
                description: Delete the volume with the instance (C(deleteOnTermination)).
                type: bool
              snapshot_id:
                description: Snapshot to create the volume from (C(snapshotID)).
                type: str
      metadata_options:
        description:
          - Instance metadata service settings (C(spec.metadataOptions)). Unset fields take the
            API server defaults C(httpEndpoint=enabled), C(httpProtocolIPv6=disabled),
            C(httpPutResponseHopLimit=1) and C(httpTokens=required).
        type: dict
        suboptions:
          http_endpoint:
            description: C(httpEndpoint).
            type: str
            choices: [enabled, disabled]
          http_protocol_ipv6:
            description: C(httpProtocolIPv6).
            type: str
            choices: [enabled, disabled]
          http_put_response_hop_limit:
            description: C(httpPutResponseHopLimit), 1 to 64.
            type: int
          http_tokens:
            description: C(httpTokens).
            type: str
            choices: [required, optional]
  wait:
    description:
      - With O(state=absent), wait until no NodeClaims or Nodes labelled
        C(karpenter.sh/nodepool=<name>) (v1alpha5 Nodes labelled C(karpenter.sh/provisioner-name=<name>))
        remain and the deleted objects are gone.
    type: bool
    default: false
  wait_timeout:
    description: How many seconds O(wait) may take before the module fails.
    type: int
    default: 300
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - jit.karpenter._attributes
  - jit.karpenter._attributes.all
notes:
  - Needs the Karpenter CRDs on the cluster (v1 from the C(karpenter-crd) chart; v1alpha5 from
    the C(crds/) folder of the C(karpenter) chart before 0.32).
requirements:
  - kubernetes >= 24.2.0
"""

EXAMPLES = r"""
- name: On-demand nodes of size xlarge or bigger, at most 1000 vCPU and 1000Gi of memory
  jit.karpenter.nodepool:
    name: default
    cluster_name: ekspicturesocial02
    labels:
      intent: apps
    requirements:
      - key: karpenter.sh/capacity-type
        operator: In
        values: [on-demand]
      - key: karpenter.k8s.aws/instance-size
        operator: NotIn
        values: [nano, micro, small, medium, large]
    limits:
      cpu: 1000
      memory: 1000Gi
    disruption:
      consolidation_policy: WhenEmpty
      consolidate_after: 30s
    expire_after: 720h
    nodeclass:
      role: KarpenterNodeRole-ekspicturesocial02
      tags:
        NodeType: karpenter-workshop
        IntentLabel: apps

- name: A spot NodePool that uses an existing node class
  jit.karpenter.nodepool:
    name: spot
    weight: 10
    requirements:
      - key: karpenter.sh/capacity-type
        operator: In
        values: [spot]
    nodeclass:
      name: default
      manage: false

- name: The walkthrough's Provisioner and AWSNodeTemplate, for Karpenter 0.16
  jit.karpenter.provisioner:
    api: v1alpha5
    name: default
    labels:
      intent: apps
    requirements:
      - key: karpenter.sh/capacity-type
        operator: In
        values: [on-demand]
      - key: karpenter.k8s.aws/instance-size
        operator: NotIn
        values: [nano, micro, small, medium, large]
    limits:
      cpu: 1000
      memory: 1000Gi
    disruption:
      consolidation_policy: WhenEmpty
      consolidate_after: 30s  # ttlSecondsAfterEmpty: 30
    expire_after: 720h  # ttlSecondsUntilExpired: 2592000
    nodeclass:
      subnet_selector_terms:
        - tags:
            alpha.eksctl.io/cluster-name: ekspicturesocial02
      security_group_selector_terms:
        - tags:
            alpha.eksctl.io/cluster-name: ekspicturesocial02
      tags:
        KarpenerProvisionerName: default
        NodeType: karpenter-workshop
        IntentLabel: apps

- name: Remove the NodePool and its node class once its nodes are gone
  jit.karpenter.nodepool:
    name: default
    state: absent
    wait: true
    wait_timeout: 600
"""

RETURN = r"""
nodepool:
  description:
    - The NodePool (v1alpha5 the Provisioner) as the API server returned it; in check mode, the
      result of the server-side dry run.
    - V(null) when it does not exist (O(state=absent)).
  returned: always
  type: dict
  sample:
    apiVersion: karpenter.sh/v1
    kind: NodePool
    metadata:
      name: default
      resourceVersion: "1234"
    spec:
      limits:
        cpu: 1000
        memory: 1000Gi
      template:
        spec:
          nodeClassRef:
            group: karpenter.k8s.aws
            kind: EC2NodeClass
            name: default
          requirements: []
nodeclass:
  description:
    - The EC2NodeClass (v1alpha5 the AWSNodeTemplate) as the API server returned it (with
      O(nodeclass.manage=false), as read).
    - V(null) when it does not exist.
  returned: always
  type: dict
  sample:
    apiVersion: karpenter.k8s.aws/v1
    kind: EC2NodeClass
    metadata:
      name: default
    spec:
      role: KarpenterNodeRole-ekspicturesocial02
      amiSelectorTerms:
        - alias: al2023@latest
api:
  description: The API generation written (V(v1) or V(v1alpha5)); with O(api=auto), the one chosen.
  returned: always
  type: str
  sample: v1
changed_fields:
  description: For each changed object, the owned spec fields that differed, or C((created)).
  returned: when O(state=present)
  type: dict
  sample:
    nodepool: [limits]
nodeclass_kept_for:
  description: NodePools that still reference the node class, which was therefore not deleted.
  returned: when O(state=absent)
  type: list
  elements: str
  sample: []
"""

from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.jit.karpenter.plugins.module_utils._runner import run_module
from ansible_collections.jit.karpenter.plugins.module_utils._nodepool.objects import run
from ansible_collections.jit.karpenter.plugins.module_utils._kube import kube_argument_spec
from ansible_collections.jit.karpenter.plugins.module_utils._nodepool.fields import (
    argument_spec as nodepool_argument_spec,
)


def argument_spec():
    """The Kubernetes connection options and the options of the field table (``_nodepool.fields``)."""
    spec = kube_argument_spec()
    spec.update(nodepool_argument_spec())
    return spec


def main():
    # kubernetes.core's module class: fails without the kubernetes library; PyYAML is not needed here.
    run_module(AnsibleK8SModule, argument_spec(), run, check_pyyaml=False)


if __name__ == "__main__":
    main()

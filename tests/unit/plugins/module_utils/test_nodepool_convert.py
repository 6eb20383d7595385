# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Karpenter 0.16 objects (Provisioner karpenter.sh/v1alpha5, AWSNodeTemplate karpenter.k8s.aws/v1alpha1)
converted to Karpenter 1.x (NodePool karpenter.sh/v1, EC2NodeClass karpenter.k8s.aws/v1).

The cases come from Karpenter's own converter and migration guides, cited at each one:
- aws/karpenter-provider-aws, tools/karpenter-convert/pkg/convert/convert.go, convert_test.go and
  testdata/ (the converter to v1beta1 that the v0.32 migration guide uses);
- aws/karpenter-provider-aws, website/content/en/v0.32/upgrading/v1beta1-migration.md ("Changelog");
- aws/karpenter-provider-aws, website/content/en/v1.0/upgrading/v1-migration.md ("Full Changelog"),
  for what changed again from v1beta1 to v1;
- the Picturesocial walkthrough ("How to add just-in-time compute capacity to a Kubernetes Cluster").
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest
import yaml
from ansible_collections.jit.karpenter.plugins.module_utils._nodepool.convert import (
    convert_provisioner,
    renamed_annotations,
)
from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError

ROLE = "KarpenterNodeRole-karpenter-demo"
NODECLASS_REF = {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"}


def load(text):
    return yaml.safe_load(text)


def rejected(provisioner, nodetemplate=None, role=ROLE):
    with pytest.raises(KarpenterError) as info:
        convert_provisioner(provisioner, nodetemplate, role=role)
    return info.value


# aws/karpenter-provider-aws tools/karpenter-convert/pkg/convert/testdata/provisioner.yaml
UPSTREAM_PROVISIONER = """
apiVersion: karpenter.sh/v1alpha5
kind: Provisioner
metadata:
  name: default
spec:
  providerRef:
    name: default
  taints:
    - key: example.com/special-taint
      effect: NoSchedule
  startupTaints:
    - key: example.com/another-taint
      effect: NoSchedule
  labels:
    billing-team: my-team
  annotations:
    example.com/owner: "my-team"
  requirements:
    - key: "karpenter.k8s.aws/instance-category"
      operator: In
      values: ["c", "m", "r"]
    - key: "karpenter.k8s.aws/instance-cpu"
      operator: In
      values: ["4", "8", "16", "32"]
    - key: "karpenter.k8s.aws/instance-hypervisor"
      operator: In
      values: ["nitro"]
    - key: "karpenter.k8s.aws/instance-generation"
      operator: Gt
      values: ["2"]
    - key: "topology.kubernetes.io/zone"
      operator: In
      values: ["us-west-2a", "us-west-2b"]
    - key: "kubernetes.io/arch"
      operator: In
      values: ["arm64", "amd64"]
    - key: "karpenter.sh/capacity-type"
      operator: In
      values: ["spot", "on-demand"]
  kubeletConfiguration:
    clusterDNS: ["10.0.1.100"]
    containerRuntime: containerd
    systemReserved:
      cpu: 100m
      memory: 100Mi
      ephemeral-storage: 1Gi
    kubeReserved:
      cpu: 200m
      memory: 100Mi
      ephemeral-storage: 3Gi
    evictionHard:
      memory.available: 5%
      nodefs.available: 10%
      nodefs.inodesFree: 10%
    evictionSoft:
      memory.available: 500Mi
      nodefs.available: 15%
      nodefs.inodesFree: 15%
    evictionSoftGracePeriod:
      memory.available: 1m
      nodefs.available: 1m30s
      nodefs.inodesFree: 2m
    evictionMaxPodGracePeriod: 60
    imageGCHighThresholdPercent: 85
    imageGCLowThresholdPercent: 80
    cpuCFSQuota: true
    podsPerCore: 2
    maxPods: 20
  limits:
    resources:
      cpu: "1000"
      memory: 1000Gi
  consolidation:
    enabled: false
  ttlSecondsUntilExpired: 2592000
  ttlSecondsAfterEmpty: 30
  weight: 10
"""

# aws/karpenter-provider-aws tools/karpenter-convert/pkg/convert/testdata/nodetemplate_no_amifamily.yaml
UPSTREAM_NODETEMPLATE_NO_AMIFAMILY = """
apiVersion: karpenter.k8s.aws/v1alpha1
kind: AWSNodeTemplate
metadata:
  name: default
spec:
  subnetSelector:
    karpenter.sh/discovery: karpenter-demo
  securityGroupSelector:
    karpenter.sh/discovery: karpenter-demo
  blockDeviceMappings:
    - deviceName: /dev/xvdb
      ebs:
        volumeSize: 100Gi
        volumeType: gp3
        deleteOnTermination: true
  tags:
    MyTag: "1234"
    MyBackupTag: "yes"
  userData:  |
    [settings.kubernetes]
    kube-api-qps = 30
    [settings.kubernetes.eviction-hard]
    "memory.available" = "10%"
"""


def test_the_upstream_provisioner_and_its_node_template():
    """Expected: testdata/nodepool.yaml and nodeclass_no_amifamily.yaml of karpenter-convert (v1beta1),
    moved to v1 as v1-migration.md says: expireAfter under template.spec, kubelet on the EC2NodeClass,
    nodeClassRef with group and kind, amiSelectorTerms required (the AL2 default as an alias)."""
    pool, nodeclass, notes = convert_provisioner(
        load(UPSTREAM_PROVISIONER), load(UPSTREAM_NODETEMPLATE_NO_AMIFAMILY), role=ROLE
    )
    assert pool == {
        "apiVersion": "karpenter.sh/v1",
        "kind": "NodePool",
        "metadata": {"name": "default"},
        "spec": {
            "disruption": {"consolidationPolicy": "WhenEmpty", "consolidateAfter": "30s"},
            "limits": {"cpu": "1000", "memory": "1000Gi"},
            "weight": 10,
            "template": {
                "metadata": {"annotations": {"example.com/owner": "my-team"}, "labels": {"billing-team": "my-team"}},
                "spec": {
                    "expireAfter": "720h",
                    "nodeClassRef": NODECLASS_REF,
                    # Upstream also adds kubernetes.io/os In [linux], a default of webhooks later than 0.16.
                    "requirements": load(UPSTREAM_PROVISIONER)["spec"]["requirements"],
                    "startupTaints": [{"key": "example.com/another-taint", "effect": "NoSchedule"}],
                    "taints": [{"key": "example.com/special-taint", "effect": "NoSchedule"}],
                },
            },
        },
    }
    kubelet = dict(load(UPSTREAM_PROVISIONER)["spec"]["kubeletConfiguration"])
    del kubelet["containerRuntime"]
    assert nodeclass == {
        "apiVersion": "karpenter.k8s.aws/v1",
        "kind": "EC2NodeClass",
        "metadata": {"name": "default"},
        "spec": {
            "role": ROLE,
            "amiSelectorTerms": [{"alias": "al2@latest"}],
            "subnetSelectorTerms": [{"tags": {"karpenter.sh/discovery": "karpenter-demo"}}],
            "securityGroupSelectorTerms": [{"tags": {"karpenter.sh/discovery": "karpenter-demo"}}],
            "blockDeviceMappings": [
                {
                    "deviceName": "/dev/xvdb",
                    "ebs": {"volumeSize": "100Gi", "volumeType": "gp3", "deleteOnTermination": True},
                }
            ],
            "tags": {"MyTag": "1234", "MyBackupTag": "yes"},
            "userData": load(UPSTREAM_NODETEMPLATE_NO_AMIFAMILY)["spec"]["userData"],
            "metadataOptions": {"httpPutResponseHopLimit": 2},
            "kubelet": kubelet,
        },
    }
    text = "\n".join(notes)
    assert "containerRuntime" in text and "kubelet" in text and "httpPutResponseHopLimit" in text
    assert "al2@latest" in text


# aws/karpenter-provider-aws tools/karpenter-convert/pkg/convert/testdata/provisioner_provider.yaml
UPSTREAM_PROVISIONER_PROVIDER = """
apiVersion: karpenter.sh/v1alpha5
kind: Provisioner
metadata:
  name: default
spec:
  consolidation:
    enabled: true
  taints:
    - key: example.com/special-taint
      effect: NoSchedule
  startupTaints:
    - key: example.com/another-taint
      effect: NoSchedule
  labels:
    billing-team: my-team
  annotations:
    example.com/owner: "my-team"
  requirements:
    - key: "kubernetes.io/arch"
      operator: Exists
    - key: "karpenter.sh/capacity-type"
      operator: In
      values: ["spot", "on-demand"]
  provider:
    subnetSelector:
      karpenter.sh/discovery: karpenter-demo
    securityGroupSelector:
      karpenter.sh/discovery: karpenter-demo
    context: test-context-id
    instanceProfile: "KarpenterInstanceProfile-karpenter-demo"
    tags:
      app.kubernetes.io/created-by: karpenter-demo
      aws-node-termination-handler/managed: "true"
    metadataOptions:
      httpEndpoint: disabled
      httpProtocolIPv6: enabled
      httpPutResponseHopLimit: 2
      httpTokens: required
    blockDeviceMappings:
      - deviceName: /dev/xvda
        ebs:
          volumeSize: 100Gi
          volumeType: gp3
          iops: 10000
          encrypted: true
          kmsKeyID: "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
          deleteOnTermination: true
          throughput: 125
          snapshotID: snap-0123456789
"""


def test_the_upstream_provisioner_with_an_inline_provider():
    """Expected: testdata/nodepool_nodeclass_provider_combined.yaml of karpenter-convert, in v1:
    WhenUnderutilized is WhenEmptyOrUnderutilized and consolidateAfter is required (v1-migration.md);
    no ttlSecondsUntilExpired is expireAfter Never, as upstream writes it."""
    provisioner = load(UPSTREAM_PROVISIONER_PROVIDER)
    before = copy.deepcopy(provisioner)
    pool, nodeclass, notes = convert_provisioner(provisioner, role=ROLE)
    assert provisioner == before, "the input is not changed"
    assert pool["spec"]["disruption"] == {"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "0s"}
    assert pool["spec"]["template"]["spec"]["expireAfter"] == "Never"
    assert pool["spec"]["template"]["spec"]["nodeClassRef"] == NODECLASS_REF
    assert pool["spec"]["template"]["spec"]["requirements"] == [
        {"key": "kubernetes.io/arch", "operator": "Exists"},
        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot", "on-demand"]},
    ]
    assert "limits" not in pool["spec"] and "weight" not in pool["spec"]
    provider = provisioner["spec"]["provider"]
    assert nodeclass["metadata"] == {"name": "default"}
    assert nodeclass["spec"] == {
        "role": ROLE,
        "amiSelectorTerms": [{"alias": "al2@latest"}],
        "subnetSelectorTerms": [{"tags": {"karpenter.sh/discovery": "karpenter-demo"}}],
        "securityGroupSelectorTerms": [{"tags": {"karpenter.sh/discovery": "karpenter-demo"}}],
        "context": "test-context-id",
        "tags": provider["tags"],
        "metadataOptions": provider["metadataOptions"],
        "blockDeviceMappings": provider["blockDeviceMappings"],
    }
    text = "\n".join(notes)
    assert "KarpenterInstanceProfile-karpenter-demo" in text and ROLE in text
    assert "expireAfter is Never" in text


def test_upstream_ami_ids_with_other_keys_are_refused():
    """testdata/nodetemplate.yaml: karpenter-convert made v1beta1 terms that combine id with name, owner
    and tags; the v1 CRD makes id exclusive in a term, so the selector cannot be kept as it was."""
    template = load(
        """
apiVersion: karpenter.k8s.aws/v1alpha1
kind: AWSNodeTemplate
metadata:
  name: default
spec:
  amiFamily: Bottlerocket
  amiSelector:
    aws::ids: "ami-123,ami-456"
    aws::owners: "self,amazon"
    aws::name: "test name"
    MyTag: '*'
  subnetSelector:
    karpenter.sh/discovery: karpenter-demo
  securityGroupSelector:
    karpenter.sh/discovery: karpenter-demo
"""
    )
    err = rejected(load(UPSTREAM_PROVISIONER), template)
    assert err.details["rejected_fields"] == ["AWSNodeTemplate default: spec.amiSelector"]
    assert "id term takes no other field" in err.msg


def test_upstream_launch_template_is_refused_with_every_other_field_at_once():
    """testdata/nodetemplate_launch_template_name.yaml: karpenter-convert refuses 'spec.launchTemplate'
    (v1beta1-migration.md, LaunchTemplateName: removed). The template has no securityGroupSelector
    either; one error names both."""
    template = load(
        """
apiVersion: karpenter.k8s.aws/v1alpha1
kind: AWSNodeTemplate
metadata:
  name: default
spec:
  subnetSelector:
    karpenter.sh/discovery: $MY_CLUSTER_NAME
  launchTemplate: my-custom-launch-template
"""
    )
    err = rejected(load(UPSTREAM_PROVISIONER), template)
    assert err.details["rejected_fields"] == [
        "AWSNodeTemplate default: spec.launchTemplate",
        "AWSNodeTemplate default: spec.securityGroupSelector",
    ]
    assert err.msg.startswith("Provisioner default cannot be converted to Karpenter 1.x")


def test_every_field_without_a_1x_equivalent_is_named_in_one_error():
    provisioner = load(UPSTREAM_PROVISIONER_PROVIDER)
    spec = provisioner["spec"]
    spec["provider"]["launchTemplate"] = "mine"  # v1beta1-migration.md: LaunchTemplateName removed
    spec["provider"]["amiFamily"] = "Ubuntu"  # v1-migration.md: Ubuntu dropped as an AMI family
    spec["provider"]["tags"]["kubernetes.io/cluster/demo"] = "owned"  # restricted in v1
    spec["kubeletConfiguration"] = {"containerRuntime": "dockerd", "maxPods": 20}  # v1beta1: containerRuntime dropped
    spec["requirements"].append(  # v1beta1-migration.md: karpenter.k8s.aws/instance-pods dropped
        {"key": "karpenter.k8s.aws/instance-pods", "operator": "Gt", "values": ["10"]}
    )
    spec["ttlSecondsAfterEmpty"] = 30  # v1alpha5 refused it together with consolidation.enabled
    spec["unknownField"] = True
    err = rejected(provisioner)
    assert sorted(err.details["rejected_fields"]) == sorted(
        [
            "spec.unknownField",
            "spec.requirements[2] (karpenter.k8s.aws/instance-pods)",
            "spec.ttlSecondsAfterEmpty",
            "spec.kubeletConfiguration.containerRuntime",
            "spec.provider.launchTemplate",
            "spec.provider.amiFamily",
            "spec.provider.tags.kubernetes.io/cluster/demo",
        ]
    )
    for field in err.details["rejected_fields"]:
        assert field in err.msg


def test_custom_ami_family_needs_an_ami_selector():
    provisioner = load(UPSTREAM_PROVISIONER_PROVIDER)
    provisioner["spec"]["provider"]["amiFamily"] = "Custom"
    assert rejected(provisioner).details["rejected_fields"] == ["spec.provider.amiFamily"]
    provisioner["spec"]["provider"]["amiSelector"] = {"aws::ids": "ami-123"}
    nodeclass = convert_provisioner(provisioner, role=ROLE)[1]
    assert nodeclass["spec"]["amiFamily"] == "Custom"
    assert nodeclass["spec"]["amiSelectorTerms"] == [{"id": "ami-123"}]


# aws/karpenter-provider-aws website/content/en/v0.32/upgrading/v1beta1-migration.md, "Changelog":
# each v1alpha example with its v1beta1 counterpart (v1: the same fields, expireAfter moved).


def _inline(**provider_and_spec):
    spec = {"provider": {"subnetSelector": {"a": "b"}, "securityGroupSelector": {"a": "b"}}}
    for key, value in provider_and_spec.items():
        if key in ("ttlSecondsAfterEmpty", "ttlSecondsUntilExpired", "consolidation"):
            spec[key] = value
        else:
            spec["provider"][key] = value
    return {"apiVersion": "karpenter.sh/v1alpha5", "kind": "Provisioner", "metadata": {"name": "default"}, "spec": spec}


def test_ttl_seconds_after_empty_is_when_empty():
    pool = convert_provisioner(_inline(ttlSecondsAfterEmpty=120), role=ROLE)[0]
    assert pool["spec"]["disruption"] == {"consolidationPolicy": "WhenEmpty", "consolidateAfter": "2m"}


def test_ttl_seconds_until_expired_is_expire_after():
    pool = convert_provisioner(_inline(ttlSecondsUntilExpired=2592000), role=ROLE)[0]
    assert pool["spec"]["template"]["spec"]["expireAfter"] == "720h"
    assert "expireAfter" not in pool["spec"]["disruption"]


def test_consolidation_enabled_is_when_empty_or_underutilized():
    pool = convert_provisioner(_inline(consolidation={"enabled": True}), role=ROLE)[0]
    assert pool["spec"]["disruption"]["consolidationPolicy"] == "WhenEmptyOrUnderutilized"


def test_no_consolidation_at_all_stays_off():
    pool, _nodeclass, notes = convert_provisioner(_inline(consolidation={"enabled": False}), role=ROLE)
    assert pool["spec"]["disruption"] == {"consolidationPolicy": "WhenEmpty", "consolidateAfter": "Never"}
    assert any("consolidateAfter is Never" in note for note in notes)


def test_provider_block_becomes_the_node_class():
    nodeclass = convert_provisioner(_inline(amiFamily="Bottlerocket", tags={"test-tag": "test-value"}), role=ROLE)[1]
    assert nodeclass["spec"]["tags"] == {"test-tag": "test-value"}
    assert nodeclass["spec"]["amiSelectorTerms"] == [{"alias": "bottlerocket@latest"}]


@pytest.mark.parametrize(
    "field, selector, terms",
    [
        (
            "subnetSelector",
            {"karpenter.sh/discovery": "karpenter-demo"},
            [{"tags": {"karpenter.sh/discovery": "karpenter-demo"}}],
        ),
        ("subnetSelector", {"aws::ids": "subnet-123,subnet-456"}, [{"id": "subnet-123"}, {"id": "subnet-456"}]),
        ("securityGroupSelector", {"aws::ids": "sg-123, sg-456"}, [{"id": "sg-123"}, {"id": "sg-456"}]),
        # Karpenter 0.16 spelt it aws-ids.
        ("securityGroupSelector", {"aws-ids": "sg-123"}, [{"id": "sg-123"}]),
        # v1alpha5 ORed comma-separated tag values; the migration guide says to make separate terms.
        ("subnetSelector", {"Name": "a,b"}, [{"tags": {"Name": "a"}}, {"tags": {"Name": "b"}}]),
    ],
)
def test_selectors_become_terms(field, selector, terms):
    nodeclass = convert_provisioner(_inline(**{field: selector}), role=ROLE)[1]
    assert nodeclass["spec"][field + "Terms"] == terms


def test_ami_selectors_become_terms():
    nodeclass = convert_provisioner(_inline(amiSelector={"aws::ids": "ami-123,ami-456"}), role=ROLE)[1]
    assert nodeclass["spec"]["amiSelectorTerms"] == [{"id": "ami-123"}, {"id": "ami-456"}]
    assert nodeclass["spec"]["amiFamily"] == "AL2"
    nodeclass = convert_provisioner(
        _inline(amiSelector={"aws::name": "my-name1,my-name2", "aws::owners": "123456789,amazon"}), role=ROLE
    )[1]
    key = sorted
    assert key(nodeclass["spec"]["amiSelectorTerms"], key=lambda term: (term["owner"], term["name"])) == key(
        [
            {"name": "my-name1", "owner": "123456789"},
            {"name": "my-name2", "owner": "123456789"},
            {"name": "my-name1", "owner": "amazon"},
            {"name": "my-name2", "owner": "amazon"},
        ],
        key=lambda term: (term["owner"], term["name"]),
    )
    nodeclass = convert_provisioner(_inline(amiSelector={"karpenter.sh/discovery": "karpenter-demo"}), role=ROLE)[1]
    assert nodeclass["spec"]["amiSelectorTerms"] == [{"tags": {"karpenter.sh/discovery": "karpenter-demo"}}]
    assert rejected(_inline(amiSelector={"aws::owners": "amazon"})).details["rejected_fields"] == [
        "spec.provider.amiSelector"
    ]


def test_instance_profile_becomes_the_role_the_caller_resolved():
    """v1beta1-migration.md, InstanceProfile: the role of the instance profile; the converter does not ask AWS."""
    nodeclass = convert_provisioner(
        _inline(instanceProfile="KarpenterNodeInstanceProfile-karpenter-demo"), role="KarpenterNodeRole-karpenter-demo"
    )[1]
    assert nodeclass["spec"]["role"] == "KarpenterNodeRole-karpenter-demo"
    assert "instanceProfile" not in nodeclass["spec"]
    with pytest.raises(KarpenterError, match="IAM role is required"):
        convert_provisioner(_inline(), role=None)


@pytest.mark.parametrize(
    "key",
    [
        # v1beta1-migration.md, Karpenter Labels: provisioner-name became karpenter.sh/nodepool, which the v1
        # NodePool CRD (kubernetes-sigs/karpenter pkg/apis/crds/karpenter.sh_nodepools.yaml) restricts, with
        # the rest of the karpenter.sh domain but capacity-type, and kubernetes.io/hostname.
        "karpenter.sh/provisioner-name",
        "karpenter.sh/nodepool",
        "team.karpenter.sh/anything",
        "kubernetes.io/hostname",
    ],
)
def test_labels_a_1x_node_pool_may_not_use_are_refused(key):
    provisioner = _inline()
    provisioner["spec"]["requirements"] = [
        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot"]},
        {"key": key, "operator": "Exists"},
    ]
    provisioner["spec"]["labels"] = {key: "x", "intent": "apps"}
    assert rejected(provisioner).details["rejected_fields"] == [f"spec.labels.{key}", f"spec.requirements[1] ({key})"]


def test_the_0_16_default_requirements_are_written_out():
    """v1beta1-migration.md, "Defaults Dropped": 1.x no longer adds them; 0.16's webhook added these two."""
    pool, _nodeclass, notes = convert_provisioner(_inline(), role=ROLE)
    assert pool["spec"]["template"]["spec"]["requirements"] == [
        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]},
        {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
    ]
    assert sum("webhook" in note for note in notes) == 2


@pytest.mark.parametrize(
    "given, expected",
    [
        # v1beta1-migration.md, Karpenter Annotations: do-not-evict (pods) and do-not-consolidate (nodes).
        ({"karpenter.sh/do-not-evict": "true", "app": "x"}, {"karpenter.sh/do-not-disrupt": "true", "app": "x"}),
        ({"karpenter.sh/do-not-consolidate": "true"}, {"karpenter.sh/do-not-disrupt": "true"}),
        (
            {"karpenter.sh/do-not-evict": "true", "karpenter.sh/do-not-disrupt": "false"},
            {"karpenter.sh/do-not-disrupt": "false"},
        ),
        ({"app": "x"}, {"app": "x"}),
        (None, None),
    ],
)
def test_do_not_evict_becomes_do_not_disrupt(given, expected):
    before = copy.deepcopy(given)
    assert renamed_annotations(given) == expected
    assert given == before


def test_node_annotations_of_the_provisioner_are_renamed():
    provisioner = _inline()
    provisioner["spec"]["annotations"] = {"karpenter.sh/do-not-consolidate": "true"}
    pool, _nodeclass, notes = convert_provisioner(provisioner, role=ROLE)
    assert pool["spec"]["template"]["metadata"]["annotations"] == {"karpenter.sh/do-not-disrupt": "true"}
    assert any("do-not-disrupt" in note for note in notes)


def test_provider_ref_needs_its_template():
    with pytest.raises(KarpenterError, match="names AWSNodeTemplate default; pass that object"):
        convert_provisioner(load(UPSTREAM_PROVISIONER), None, role=ROLE)
    other = load(UPSTREAM_NODETEMPLATE_NO_AMIFAMILY)
    other["metadata"]["name"] = "other"
    with pytest.raises(KarpenterError, match="names AWSNodeTemplate default"):
        convert_provisioner(load(UPSTREAM_PROVISIONER), other, role=ROLE)


def test_only_a_provisioner_is_converted():
    with pytest.raises(KarpenterError, match="expected a Provisioner"):
        convert_provisioner(load(UPSTREAM_NODETEMPLATE_NO_AMIFAMILY), role=ROLE)


# The walkthrough's Provisioner and AWSNodeTemplate, as its text gives them (Picturesocial, "How to add
# just-in-time compute capacity to a Kubernetes Cluster"), with ${CLUSTER_NAME} filled in. Its text
# has a kubectl command line where "limits:" belongs.
WALKTHROUGH_PROVISIONER = """
apiVersion: karpenter.sh/v1alpha5
kind: Provisioner
metadata:
  name: default
spec:
  labels:
    intent: apps
  requirements:
    - key: karpenter.sh/capacity-type
      operator: In
      values: ["on-demand"]
    - key: karpenter.k8s.aws/instance-size
      operator: NotIn
      values: [nano, micro, small, medium, large]
  kubectl get all -n karpenter:
    resources:
      cpu: 1000
      memory: 1000Gi
  ttlSecondsAfterEmpty: 30
  ttlSecondsUntilExpired: 2592000
  providerRef:
    name: default
"""
WALKTHROUGH_NODETEMPLATE = """
apiVersion: karpenter.k8s.aws/v1alpha1
kind: AWSNodeTemplate
metadata:
  name: default
spec:
  subnetSelector:
    alpha.eksctl.io/cluster-name: ekspicturesocial02
  securityGroupSelector:
    alpha.eksctl.io/cluster-name: ekspicturesocial02
  tags:
    KarpenerProvisionerName: "default"
    NodeType: "karpenter-workshop"
    IntentLabel: "apps"
"""


def test_the_walkthrough_as_written_is_refused_by_its_stray_field():
    err = rejected(
        load(WALKTHROUGH_PROVISIONER), load(WALKTHROUGH_NODETEMPLATE), role="KarpenterNodeRole-ekspicturesocial02"
    )
    assert err.details["rejected_fields"] == ["spec.kubectl get all -n karpenter"]


def test_the_walkthrough_as_the_cluster_holds_it():
    """The API server prunes the unknown field and Karpenter 0.16's webhook adds kubernetes.io/arch; with
    the limits where they belong, as the module's own v1alpha5 example writes them."""
    provisioner = load(WALKTHROUGH_PROVISIONER)
    provisioner["spec"]["limits"] = provisioner["spec"].pop("kubectl get all -n karpenter")
    provisioner["spec"]["requirements"].append({"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]})
    pool, nodeclass, notes = convert_provisioner(
        provisioner, load(WALKTHROUGH_NODETEMPLATE), role="KarpenterNodeRole-ekspicturesocial02"
    )
    assert pool["spec"] == {
        "limits": {"cpu": 1000, "memory": "1000Gi"},
        "disruption": {"consolidationPolicy": "WhenEmpty", "consolidateAfter": "30s"},
        "template": {
            "metadata": {"labels": {"intent": "apps"}},
            "spec": {
                "expireAfter": "720h",
                "nodeClassRef": NODECLASS_REF,
                "requirements": provisioner["spec"]["requirements"],
            },
        },
    }
    eksctl = {"tags": {"alpha.eksctl.io/cluster-name": "ekspicturesocial02"}}
    assert nodeclass["spec"] == {
        "role": "KarpenterNodeRole-ekspicturesocial02",
        "amiSelectorTerms": [{"alias": "al2@latest"}],
        "subnetSelectorTerms": [eksctl],
        "securityGroupSelectorTerms": [eksctl],
        "tags": {"KarpenerProvisionerName": "default", "NodeType": "karpenter-workshop", "IntentLabel": "apps"},
        "metadataOptions": {"httpPutResponseHopLimit": 2},
    }
    assert any("aws.defaultInstanceProfile" in note for note in notes)

# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nodepool module's options mapped to the v1alpha5 fields (Provisioner karpenter.sh/v1alpha5,
AWSNodeTemplate karpenter.k8s.aws/v1alpha1, Karpenter before 0.32), next to their v1 fields,
and the choice between the two generations. Parameters go through the module's real
argument spec."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError
from ansible_collections.jit.karpenter.plugins.module_utils._nodepool.common import duration_seconds
from ansible_collections.jit.karpenter.plugins.module_utils._nodepool.compare import differences, merge_managed
from ansible_collections.jit.karpenter.plugins.module_utils._nodepool.fields import OPTIONS, choose_api
from ansible_collections.jit.karpenter.plugins.module_utils._nodepool.objects import BUILDERS
from ansible_collections.jit.karpenter.plugins.module_utils._nodepool.v1 import build_v1
from ansible_collections.jit.karpenter.plugins.module_utils._nodepool.v1alpha5 import build_v1alpha5
from ansible_collections.jit.karpenter.plugins.modules.nodepool import argument_spec

CLUSTER = "ekspicturesocial02"
EKSCTL = {"alpha.eksctl.io/cluster-name": CLUSTER}


def params(**given):
    given.setdefault("name", "default")
    result = ArgumentSpecValidator(argument_spec()).validate(given)
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


def build(**given):
    given.setdefault("cluster_name", CLUSTER)
    return build_v1alpha5(params(**given))


def fails(match, **given):
    with pytest.raises(KarpenterError, match=match):
        build(**given)


# The walkthrough's Provisioner and AWSNodeTemplate, as module options.
WALKTHROUGH = {
    "labels": {"intent": "apps"},
    "requirements": [
        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]},
        {
            "key": "karpenter.k8s.aws/instance-size",
            "operator": "NotIn",
            "values": ["nano", "micro", "small", "medium", "large"],
        },
    ],
    "limits": {"cpu": 1000, "memory": "1000Gi"},
    "disruption": {"consolidation_policy": "WhenEmpty", "consolidate_after": "30s"},
    "expire_after": "720h",
    "nodeclass": {
        "subnet_selector_terms": [{"tags": EKSCTL}],
        "security_group_selector_terms": [{"tags": EKSCTL}],
        "tags": {"KarpenerProvisionerName": "default", "NodeType": "karpenter-workshop", "IntentLabel": "apps"},
    },
}


def test_v1alpha5_is_a_registered_builder():
    assert BUILDERS["v1alpha5"] is build_v1alpha5


def test_the_walkthrough_provisioner_with_valid_limits():
    provisioner, template = build(**WALKTHROUGH)
    assert provisioner == {
        "apiVersion": "karpenter.sh/v1alpha5",
        "kind": "Provisioner",
        "metadata": {"name": "default"},
        "spec": {
            "labels": {"intent": "apps"},
            "requirements": WALKTHROUGH["requirements"],
            # The walkthrough has a kubectl command line where "limits:" belongs.
            "limits": {"resources": {"cpu": 1000, "memory": "1000Gi"}},
            "ttlSecondsAfterEmpty": 30,
            "ttlSecondsUntilExpired": 2592000,
            "providerRef": {"apiVersion": "karpenter.k8s.aws/v1alpha1", "kind": "AWSNodeTemplate", "name": "default"},
        },
    }
    assert template == {
        "apiVersion": "karpenter.k8s.aws/v1alpha1",
        "kind": "AWSNodeTemplate",
        "metadata": {"name": "default"},
        "spec": {
            "subnetSelector": EKSCTL,
            "securityGroupSelector": EKSCTL,
            "tags": {"KarpenerProvisionerName": "default", "NodeType": "karpenter-workshop", "IntentLabel": "apps"},
        },
    }


# Every option shared by both generations, with the v1 field and the v1alpha5 field it sets.
SHARED = {
    "requirements": [
        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot"]},
        {"key": "karpenter.k8s.aws/instance-generation", "operator": "Gt", "values": ["2"]},
        {"key": "karpenter.k8s.aws/instance-family", "operator": "Exists"},
    ],
    "limits": {"cpu": 1000, "memory": "1000Gi", "nvidia.com/gpu": "4"},
    "weight": 50,
    "expire_after": "1h30m",
    "labels": {"intent": "apps", "tier": 1},
    "taints": [{"key": "dedicated", "value": "apps", "effect": "NoSchedule"}],
    "startup_taints": [{"key": "example.com/agent-not-ready", "effect": "NoExecute"}],
}
SHARED_NODECLASS = {
    "name": "apps",
    "instance_profile": "KarpenterNodeInstanceProfile-demo",
    "ami_family": "Bottlerocket",
    "tags": {"NodeType": "karpenter-workshop"},
    "block_device_mappings": [
        {
            "device_name": "/dev/xvda",
            "ebs": {
                "volume_size": "100Gi",
                "volume_type": "gp3",
                "iops": 3000,
                "throughput": 125,
                "encrypted": True,
                "kms_key_id": "alias/ebs",
                "delete_on_termination": True,
                "snapshot_id": "snap-0abc",
            },
        }
    ],
    "metadata_options": {
        "http_endpoint": "enabled",
        "http_protocol_ipv6": "disabled",
        "http_put_response_hop_limit": 2,
        "http_tokens": "required",
    },
}


def _spec_path(field):
    return tuple(field.split(".")[1:]) if isinstance(field, str) and field.startswith("spec.") else None


# (module option, v1 NodePool path, v1alpha5 Provisioner path): from the field table, every option
# shared by both generations whose value is only renamed; limits, converted, is stated here.
MAPPING = [
    (row.name, _spec_path(row.v1), _spec_path(row.v1alpha5))
    for row in OPTIONS
    if row.name in SHARED and _spec_path(row.v1alpha5)
] + [("limits", ("limits",), ("limits", "resources"))]
# (nodeclass option, EC2NodeClass field, AWSNodeTemplate field), from the field table likewise.
NODECLASS_MAPPING = [
    (row.leaf, _spec_path(row.v1)[0], _spec_path(row.v1alpha5)[0])
    for row in OPTIONS
    if row.parent == "nodeclass" and row.leaf in SHARED_NODECLASS and _spec_path(row.v1alpha5)
]


def test_the_mappings_cover_every_shared_option():
    assert sorted(option for option, *paths in MAPPING) == sorted(set(SHARED) - {"expire_after"})
    assert sorted(option for option, *paths in NODECLASS_MAPPING) == sorted(set(SHARED_NODECLASS) - {"name"})


def _at(obj, path):
    for key in path:
        obj = obj[key]
    return obj


@pytest.fixture(scope="module")
def both():
    given = dict(SHARED, nodeclass=dict(SHARED_NODECLASS, ami_selector_terms=[{"tags": {"team": "a"}}]))
    v1 = build_v1(params(cluster_name="demo", **given))
    v1alpha5 = build_v1alpha5(params(cluster_name="demo", **given))
    return v1, v1alpha5


@pytest.mark.parametrize("option,v1_path,v1alpha5_path", MAPPING)
def test_every_nodepool_option_maps_to_both_generations(both, option, v1_path, v1alpha5_path):
    (pool, nodeclass), (provisioner, template) = both
    assert _at(pool["spec"], v1_path) == _at(provisioner["spec"], v1alpha5_path)


@pytest.mark.parametrize("option,v1_field,v1alpha5_field", NODECLASS_MAPPING)
def test_every_nodeclass_option_maps_to_both_generations(both, option, v1_field, v1alpha5_field):
    (pool, nodeclass), (provisioner, template) = both
    assert nodeclass["spec"][v1_field] == template["spec"][v1alpha5_field]


def test_durations_become_seconds(both):
    (pool, nodeclass), (provisioner, template) = both
    assert pool["spec"]["template"]["spec"]["expireAfter"] == "1h30m"
    assert provisioner["spec"]["ttlSecondsUntilExpired"] == 5400


def test_selectors_become_single_maps(both):
    (pool, nodeclass), (provisioner, template) = both
    assert nodeclass["spec"]["subnetSelectorTerms"] == [{"tags": {"karpenter.sh/discovery": "demo"}}]
    assert template["spec"]["subnetSelector"] == {"karpenter.sh/discovery": "demo"}
    assert template["spec"]["securityGroupSelector"] == {"karpenter.sh/discovery": "demo"}
    assert nodeclass["spec"]["amiSelectorTerms"] == [{"tags": {"team": "a"}}]
    assert template["spec"]["amiSelector"] == {"team": "a"}


def test_ids_become_aws_ids():
    provisioner, template = build(
        nodeclass={
            "subnet_selector_terms": [{"id": "subnet-1"}, {"id": "subnet-2"}],
            "security_group_selector_terms": [{"id": "sg-1"}],
            "ami_selector_terms": [{"id": "ami-1"}],
        }
    )
    assert template["spec"]["subnetSelector"] == {"aws-ids": "subnet-1,subnet-2"}
    assert template["spec"]["securityGroupSelector"] == {"aws-ids": "sg-1"}
    assert template["spec"]["amiSelector"] == {"aws-ids": "ami-1"}


def test_consolidation_maps_to_consolidation_enabled():
    provisioner, template = build(disruption={"consolidation_policy": "WhenEmptyOrUnderutilized"})
    assert provisioner["spec"]["consolidation"] == {"enabled": True}
    assert "ttlSecondsAfterEmpty" not in provisioner["spec"]


def test_never_expiring_leaves_ttl_unset():
    provisioner, template = build(expire_after="Never")
    assert "ttlSecondsUntilExpired" not in provisioner["spec"]


def test_v1alpha5_limits_layout_is_accepted():
    provisioner, template = build(limits={"resources": {"cpu": 1000, "memory": "1000Gi"}})
    assert provisioner["spec"]["limits"] == {"resources": {"cpu": 1000, "memory": "1000Gi"}}


def test_provisioner_name_label_is_the_v1alpha5_one():
    provisioner, template = build(requirements=[{"key": "karpenter.sh/provisioner-name", "operator": "Exists"}])
    assert provisioner["spec"]["requirements"] == [{"key": "karpenter.sh/provisioner-name", "operator": "Exists"}]
    fails("karpenter.sh/nodepool.*v1 label", requirements=[{"key": "karpenter.sh/nodepool", "operator": "Exists"}])


def test_unmanaged_template_is_only_referenced():
    provisioner, template = build(nodeclass={"name": "shared", "manage": False})
    assert template is None
    assert provisioner["spec"]["providerRef"]["name"] == "shared"


def test_instance_profile_is_optional():
    provisioner, template = build()
    assert "instanceProfile" not in template["spec"]


@pytest.mark.parametrize(
    "given,message",
    [
        ({"annotations": {"a": "b"}}, "^annotations: not available with api v1alpha5"),
        ({"termination_grace_period": "1h"}, "^termination_grace_period: not available"),
        ({"disruption": {"budgets": [{"nodes": "1"}]}}, "^disruption.budgets: not available"),
        ({"disruption": {"consolidation_policy": "Balanced"}}, "consolidation_policy Balanced: not available"),
        ({"disruption": {"consolidation_policy": "WhenEmpty"}}, "consolidate_after.*ttlSecondsAfterEmpty"),
        ({"disruption": {"consolidate_after": "30s"}}, "give consolidation_policy WhenEmpty too"),
        (
            {"disruption": {"consolidation_policy": "WhenEmptyOrUnderutilized", "consolidate_after": "30s"}},
            "consolidate_after with consolidation_policy WhenEmptyOrUnderutilized: not available",
        ),
        ({"expire_after": "30"}, "expire_after: '30' is not a duration"),
        (
            {"requirements": [{"key": "k", "operator": "In", "values": ["a"], "min_values": 1}]},
            r"requirements\[0\] \(k\): min_values: not available",
        ),
        (
            {"requirements": [{"key": "k", "operator": "Gte", "values": ["1"]}]},
            r"requirements\[0\] \(k\): operator Gte: not available",
        ),
        ({"nodeclass": {"role": "KarpenterNodeRole-x"}}, "nodeclass.role: not available.*instance_profile"),
        ({"nodeclass": {"ami_family": "AL2023"}}, "nodeclass.ami_family AL2023: not available"),
        (
            {"nodeclass": {"ami_selector_terms": [{"alias": "al2023@latest"}]}},
            r"nodeclass.ami_selector_terms\[0\].alias: not available",
        ),
        (
            {"nodeclass": {"security_group_selector_terms": [{"name": "nodes"}]}},
            r"nodeclass.security_group_selector_terms\[0\].name: not available",
        ),
        (
            {"nodeclass": {"subnet_selector_terms": [{"tags": {"a": "1"}}, {"tags": {"b": "2"}}]}},
            "subnet_selector_terms: with api v1alpha5 give either one term of tags or terms of ids only",
        ),
        (
            {"nodeclass": {"block_device_mappings": [{"root_volume": True, "ebs": {"volume_size": "20Gi"}}]}},
            r"block_device_mappings\[0\].root_volume: not available",
        ),
        ({"nodeclass": {"tags": {"karpenter.sh/provisioner-name": "x"}}}, "restricted"),
        ({"nodeclass": {"tags": {"kubernetes.io/cluster/demo": "owned"}}}, "restricted"),
        ({"limits": {"cpu": "lots"}}, "limits.cpu: 'lots' is not a Kubernetes quantity"),
        ({"weight": 0}, "weight: 0 is not between 1 and 100"),
        ({"cluster_name": None}, "cluster_name is required"),
    ],
)
def test_bad_input_is_named(given, message):
    fails(message, **given)


def test_duration_seconds():
    assert duration_seconds("30s", "x") == 30
    assert duration_seconds("720h", "x") == 2592000
    assert duration_seconds("1h30m15s", "x") == 5415


# ---------------------------------------------------------------------------
# Comparison and replace bodies


def test_limits_compare_by_value():
    provisioner, template = build(**WALKTHROUGH)
    served = dict(provisioner["spec"], limits={"resources": {"cpu": "1k", "memory": 1073741824000}})
    assert differences("Provisioner", provisioner["spec"], served) == []
    served["limits"]["resources"]["cpu"] = 999
    assert differences("Provisioner", provisioner["spec"], served) == ["limits"]


@pytest.mark.parametrize(
    "field,value",
    [
        ("ttlSecondsAfterEmpty", 60),
        ("ttlSecondsUntilExpired", None),
        ("labels", {"intent": "batch"}),
        ("providerRef", {"name": "other"}),
        ("consolidation", {"enabled": True}),
    ],
)
def test_provisioner_differences_are_detected(field, value):
    provisioner, template = build(**WALKTHROUGH)
    served = dict(provisioner["spec"])
    served[field] = value
    assert differences("Provisioner", provisioner["spec"], served) == [field]


def test_template_differences_are_detected_and_foreign_fields_kept():
    provisioner, template = build(**WALKTHROUGH)
    served = {
        "metadata": {"name": "default", "resourceVersion": "7"},
        "spec": dict(template["spec"], userData="#!/bin/bash", tags={"NodeType": "other"}),
    }
    assert differences("AWSNodeTemplate", template["spec"], served["spec"]) == ["tags"]
    body = merge_managed(served, template)
    assert body["spec"]["userData"] == "#!/bin/bash"
    assert body["spec"]["tags"] == template["spec"]["tags"]
    assert body["metadata"]["resourceVersion"] == "7"
    assert body["apiVersion"] == "karpenter.k8s.aws/v1alpha1"


# ---------------------------------------------------------------------------
# Which generation


V1 = ("karpenter.sh", "v1", "nodepools")
V1ALPHA5 = ("karpenter.sh", "v1alpha5", "provisioners")


@pytest.mark.parametrize(
    "requested,served,chosen",
    [
        ("v1alpha5", {V1}, "v1alpha5"),
        ("v1", {V1ALPHA5}, "v1"),
        ("auto", {V1}, "v1"),
        ("auto", {V1ALPHA5}, "v1alpha5"),
        ("auto", {V1, V1ALPHA5}, "v1"),
        ("auto", set(), "v1"),
    ],
)
def test_choose_api(requested, served, chosen):
    assert choose_api(requested, served) == chosen


def test_unknown_api_is_named():
    with pytest.raises(KarpenterError, match="api: 'v1beta1' is not one of auto, v1, v1alpha5"):
        choose_api("v1beta1", set())


# ---------------------------------------------------------------------------
# Karpenter 0.16's defaulting webhook


def _requirement(key, value):
    return {"key": key, "operator": "In", "values": [value]}


@pytest.mark.parametrize(
    "appended",
    [
        [_requirement("kubernetes.io/arch", "amd64")],
        [],
    ],
)
def test_the_webhooks_default_requirements_count_as_matching(appended):
    # The walkthrough's Provisioner constrains the capacity type, not the architecture: the webhook
    # appends kubernetes.io/arch In [amd64]; the stand-in of the sandbox appends nothing.
    provisioner, template = build(**WALKTHROUGH)
    served = dict(provisioner["spec"], requirements=provisioner["spec"]["requirements"] + appended)
    assert differences("Provisioner", provisioner["spec"], served) == []


def test_default_requirements_in_any_order_match():
    provisioner, template = build(requirements=[])
    served = dict(
        provisioner["spec"],
        requirements=[
            _requirement("kubernetes.io/arch", "amd64"),
            _requirement("karpenter.sh/capacity-type", "on-demand"),
        ],
    )
    assert differences("Provisioner", provisioner["spec"], served) == []


def test_a_label_stops_the_default_requirement():
    provisioner, template = build(labels={"kubernetes.io/arch": "arm64"}, requirements=[])
    served = dict(provisioner["spec"], requirements=[_requirement("kubernetes.io/arch", "amd64")])
    assert differences("Provisioner", provisioner["spec"], served) == ["requirements"]


def test_a_real_requirement_change_is_still_detected():
    provisioner, template = build(**WALKTHROUGH)
    served = dict(provisioner["spec"], requirements=[_requirement("karpenter.sh/capacity-type", "spot")])
    assert differences("Provisioner", provisioner["spec"], served) == ["requirements"]

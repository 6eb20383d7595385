# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic of the nodepool module: option -> v1 field mapping, defaults, validation,
and the "already matches" comparison. Parameters go through the module's real argument
spec, so each test sees what Ansible would hand to the builder."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
from decimal import Decimal

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError
from ansible_collections.jit.karpenter.plugins.module_utils._nodepool.common import parse_quantity
from ansible_collections.jit.karpenter.plugins.module_utils._nodepool.compare import (
    differences,
    merge_managed,
    spec_matches,
    with_server_defaults,
)
from ansible_collections.jit.karpenter.plugins.module_utils._nodepool.objects import BUILDERS
from ansible_collections.jit.karpenter.plugins.module_utils._nodepool.v1 import build_v1
from ansible_collections.jit.karpenter.plugins.modules.nodepool import argument_spec


def params(**given):
    """Module parameters as Ansible would pass them after argument spec validation."""
    given.setdefault("name", "default")
    result = ArgumentSpecValidator(argument_spec()).validate(given)
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


def base(**extra):
    p = {"cluster_name": "demo", "nodeclass": {"role": "KarpenterNodeRole-demo"}}
    p.update(extra)
    return p


def build(**given):
    return build_v1(params(**base(**given)))


def fails(match, **given):
    with pytest.raises(KarpenterError, match=match):
        build(**given)


# ---------------------------------------------------------------------------
# Option -> field mapping


def test_v1_is_the_registered_builder():
    assert BUILDERS["v1"] is build_v1


def test_minimal_nodepool_and_defaults():
    pool, nodeclass = build()
    assert pool == {
        "apiVersion": "karpenter.sh/v1",
        "kind": "NodePool",
        "metadata": {"name": "default"},
        "spec": {
            "template": {
                "spec": {
                    "nodeClassRef": {
                        "group": "karpenter.k8s.aws",
                        "kind": "EC2NodeClass",
                        "name": "default",
                    },
                    "requirements": [],
                }
            }
        },
    }
    assert nodeclass == {
        "apiVersion": "karpenter.k8s.aws/v1",
        "kind": "EC2NodeClass",
        "metadata": {"name": "default"},
        "spec": {
            "role": "KarpenterNodeRole-demo",
            "subnetSelectorTerms": [{"tags": {"karpenter.sh/discovery": "demo"}}],
            "securityGroupSelectorTerms": [{"tags": {"karpenter.sh/discovery": "demo"}}],
            "amiSelectorTerms": [{"alias": "al2023@latest"}],
        },
    }


def test_every_nodepool_option_maps_to_its_v1_field():
    pool, nodeclass = build(
        requirements=[
            {
                "key": "karpenter.sh/capacity-type",
                "operator": "In",
                "values": ["on-demand"],
            },
            {
                "key": "karpenter.k8s.aws/instance-category",
                "operator": "In",
                "values": ["c", "m", "r"],
                "min_values": 2,
            },
            {
                "key": "karpenter.k8s.aws/instance-generation",
                "operator": "Gt",
                "values": [2],
            },
        ],
        limits={"cpu": 1000, "memory": "1000Gi"},
        weight=50,
        disruption={
            "consolidation_policy": "WhenEmpty",
            "consolidate_after": "30s",
            "budgets": [
                {"nodes": "20%", "reasons": ["Empty", "Drifted"]},
                {"nodes": "0", "schedule": "@daily", "duration": "10m"},
            ],
        },
        expire_after="720h",
        termination_grace_period="24h",
        labels={"intent": "apps", "tier": 1},
        annotations={"example.com/owner": "team-a"},
        taints=[{"key": "dedicated", "value": "apps", "effect": "NoSchedule"}],
        startup_taints=[{"key": "example.com/agent-not-ready", "effect": "NoExecute"}],
    )
    spec = pool["spec"]
    assert spec["limits"] == {"cpu": 1000, "memory": "1000Gi"}
    assert spec["weight"] == 50
    assert spec["disruption"] == {
        "consolidationPolicy": "WhenEmpty",
        "consolidateAfter": "30s",
        "budgets": [
            {"nodes": "20%", "reasons": ["Empty", "Drifted"]},
            {"nodes": "0", "schedule": "@daily", "duration": "10m"},
        ],
    }
    assert spec["template"]["metadata"] == {
        "labels": {"intent": "apps", "tier": "1"},
        "annotations": {"example.com/owner": "team-a"},
    }
    tspec = spec["template"]["spec"]
    assert tspec["requirements"] == [
        {
            "key": "karpenter.sh/capacity-type",
            "operator": "In",
            "values": ["on-demand"],
        },
        {
            "key": "karpenter.k8s.aws/instance-category",
            "operator": "In",
            "values": ["c", "m", "r"],
            "minValues": 2,
        },
        {
            "key": "karpenter.k8s.aws/instance-generation",
            "operator": "Gt",
            "values": ["2"],
        },
    ]
    assert tspec["expireAfter"] == "720h"
    assert tspec["terminationGracePeriod"] == "24h"
    assert tspec["taints"] == [{"key": "dedicated", "value": "apps", "effect": "NoSchedule"}]
    assert tspec["startupTaints"] == [{"key": "example.com/agent-not-ready", "effect": "NoExecute"}]


def test_min_values_alias_is_accepted():
    pool, nodeclass = build(
        requirements=[
            {
                "key": "kubernetes.io/arch",
                "operator": "In",
                "values": ["amd64"],
                "minValues": 1,
            }
        ]
    )
    assert pool["spec"]["template"]["spec"]["requirements"][0]["minValues"] == 1


def test_budget_nodes_defaults_to_ten_percent():
    pool, nodeclass = build(disruption={"budgets": [{"reasons": ["Underutilized"]}]})
    assert pool["spec"]["disruption"] == {"budgets": [{"nodes": "10%", "reasons": ["Underutilized"]}]}


def test_every_nodeclass_option_maps_to_its_v1_field():
    pool, nodeclass = build(
        nodeclass={
            "name": "apps",
            "role": "KarpenterNodeRole-demo",
            "subnet_selector_terms": [
                {"id": "subnet-0abc"},
                {"tags": {"tier": "private"}},
            ],
            "security_group_selector_terms": [{"name": "nodes"}, {"id": "sg-0abc"}],
            "ami_selector_terms": [
                {"ssm_parameter": "/my/ami"},
                {"name": "my-ami-*", "owner": "self"},
            ],
            "ami_family": "AL2023",
            "tags": {"NodeType": "karpenter-workshop", "IntentLabel": "apps"},
            "block_device_mappings": [
                {
                    "device_name": "/dev/xvda",
                    "root_volume": True,
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
    )
    assert pool["spec"]["template"]["spec"]["nodeClassRef"]["name"] == "apps"
    assert nodeclass["metadata"]["name"] == "apps"
    assert nodeclass["spec"] == {
        "role": "KarpenterNodeRole-demo",
        "subnetSelectorTerms": [{"id": "subnet-0abc"}, {"tags": {"tier": "private"}}],
        "securityGroupSelectorTerms": [{"name": "nodes"}, {"id": "sg-0abc"}],
        "amiSelectorTerms": [
            {"ssmParameter": "/my/ami"},
            {"name": "my-ami-*", "owner": "self"},
        ],
        "amiFamily": "AL2023",
        "tags": {"NodeType": "karpenter-workshop", "IntentLabel": "apps"},
        "blockDeviceMappings": [
            {
                "deviceName": "/dev/xvda",
                "rootVolume": True,
                "ebs": {
                    "volumeSize": "100Gi",
                    "volumeType": "gp3",
                    "iops": 3000,
                    "throughput": 125,
                    "encrypted": True,
                    "kmsKeyID": "alias/ebs",
                    "deleteOnTermination": True,
                    "snapshotID": "snap-0abc",
                },
            }
        ],
        "metadataOptions": {
            "httpEndpoint": "enabled",
            "httpProtocolIPv6": "disabled",
            "httpPutResponseHopLimit": 2,
            "httpTokens": "required",
        },
    }


def test_unmanaged_nodeclass_is_only_referenced():
    pool, nodeclass = build_v1(params(nodeclass={"name": "shared", "manage": False}))
    assert nodeclass is None
    assert pool["spec"]["template"]["spec"]["nodeClassRef"] == {
        "group": "karpenter.k8s.aws",
        "kind": "EC2NodeClass",
        "name": "shared",
    }


def test_explicit_selectors_do_not_need_cluster_name():
    pool, nodeclass = build_v1(
        params(
            nodeclass={
                "role": "r",
                "subnet_selector_terms": [{"id": "subnet-1"}],
                "security_group_selector_terms": [{"id": "sg-1"}],
            }
        )
    )
    assert nodeclass["spec"]["subnetSelectorTerms"] == [{"id": "subnet-1"}]


# ---------------------------------------------------------------------------
# Validation


@pytest.mark.parametrize(
    "limits, message",
    [
        (
            {"cpu": "1000 cores"},
            r"limits\.cpu: '1000 cores' is not a Kubernetes quantity",
        ),
        (
            {"memory": "1000GB"},
            r"limits\.memory: '1000GB' is not a Kubernetes quantity",
        ),
        ({"memory": True}, r"limits\.memory: True is not a Kubernetes quantity"),
        (
            {"resources": {"cpu": 1000}},
            r"limits\.resources: .*v1alpha5 Provisioner layout",
        ),
        (
            {"kubectl get all -n karpenter": 1},
            r"limits: 'kubectl get all -n karpenter' is not a resource name",
        ),
    ],
)
def test_bad_limits_are_named(limits, message):
    fails(message, limits=limits)


def test_walkthrough_limits_are_valid():
    pool, nodeclass = build(limits={"cpu": 1000, "memory": "1000Gi"})
    assert pool["spec"]["limits"] == {"cpu": 1000, "memory": "1000Gi"}


def test_float_limits_become_strings():
    pool, nodeclass = build(limits={"cpu": 0.5, "nvidia.com/gpu": "4"})
    assert pool["spec"]["limits"] == {"cpu": "0.5", "nvidia.com/gpu": "4"}


@pytest.mark.parametrize(
    "text, value",
    [
        (1000, Decimal(1000)),
        ("1000", Decimal(1000)),
        ("1000Gi", Decimal(1000 * 2**30)),
        ("1Ki", Decimal(1024)),
        ("500m", Decimal("0.5")),
        ("1k", Decimal(1000)),
        ("1e3", Decimal(1000)),
        ("1.5G", Decimal(1500000000)),
    ],
)
def test_parse_quantity(text, value):
    assert parse_quantity(text) == value


@pytest.mark.parametrize(
    "requirement, message",
    [
        (
            {"key": "k", "operator": "In"},
            r"requirements\[0\] \(k\): operator In needs at least one value",
        ),
        (
            {"key": "k", "operator": "Gt", "values": ["a"]},
            r"operator Gt needs exactly one non-negative integer",
        ),
        (
            {"key": "k", "operator": "Lt", "values": ["1", "2"]},
            r"operator Lt needs exactly one",
        ),
        (
            {"key": "k", "operator": "Exists", "values": ["x"]},
            r"operator Exists takes no values",
        ),
        (
            {"key": "k", "operator": "In", "values": ["a"], "min_values": 2},
            r"min_values is 2 but only 1 value",
        ),
        (
            {"key": "k", "operator": "NotIn", "values": ["a"], "min_values": 51},
            r"min_values must be between 1 and 50",
        ),
        (
            {"key": "karpenter.sh/provisioner-name", "operator": "Exists"},
            r"v1alpha5 label; v1 uses 'karpenter.sh/nodepool'",
        ),
    ],
)
def test_bad_requirements_are_named(requirement, message):
    fails(message, requirements=[requirement])


@pytest.mark.parametrize(
    "given, message",
    [
        (
            {"expire_after": "30"},
            r"expire_after: '30' is not a duration .*needs a unit, for example '30s'",
        ),
        (
            {"termination_grace_period": "Never"},
            r"termination_grace_period: 'Never' is not a duration",
        ),
        (
            {"disruption": {"consolidate_after": "1d"}},
            r"disruption\.consolidate_after: '1d' is not a duration",
        ),
        (
            {"disruption": {"budgets": [{"nodes": "110%"}]}},
            r"disruption\.budgets\[0\]\.nodes: '110%'",
        ),
        (
            {"disruption": {"budgets": [{"schedule": "@daily"}]}},
            r"'schedule' and 'duration' must be given together",
        ),
        (
            {"disruption": {"budgets": [{"schedule": "@daily", "duration": "30s"}]}},
            r"budgets\[0\]\.duration: '30s'",
        ),
        ({"weight": 0}, r"weight: 0 is not between 1 and 100"),
        ({"labels": {"spot": True}}, r"labels\.spot: value True must be a string"),
    ],
)
def test_bad_nodepool_options_are_named(given, message):
    fails(message, **given)


def test_never_is_a_valid_expiry_and_consolidation_delay():
    pool, nodeclass = build(expire_after="Never", disruption={"consolidate_after": "Never"})
    assert pool["spec"]["template"]["spec"]["expireAfter"] == "Never"
    assert pool["spec"]["disruption"]["consolidateAfter"] == "Never"


@pytest.mark.parametrize(
    "key",
    [
        "eks:eks-cluster-name",
        "kubernetes.io/cluster/demo",
        "karpenter.sh/nodepool",
        "karpenter.sh/nodeclaim",
        "karpenter.k8s.aws/ec2nodeclass",
    ],
)
def test_restricted_tag_keys_are_rejected_by_name(key):
    with pytest.raises(KarpenterError, match=f"tag key '{key}' is restricted"):
        build(nodeclass={"role": "r", "tags": {"Team": "a", key: "x"}})


@pytest.mark.parametrize(
    "nodeclass, cluster_name, message",
    [
        ({}, "demo", r"nodeclass\.role .* is required"),
        ({"role": "r"}, None, r"cluster_name is required .*subnet_selector_terms"),
        (
            {"role": "r", "subnet_selector_terms": [{"id": "subnet-1"}]},
            None,
            r"security_group_selector_terms",
        ),
        (
            {"role": "r", "ami_selector_terms": [{"id": "ami-1"}]},
            "demo",
            r"ami_family is required",
        ),
        (
            {
                "role": "r",
                "ami_selector_terms": [{"alias": "al2023@latest"}, {"id": "ami-1"}],
            },
            "demo",
            r"'alias' term must be the only",
        ),
        (
            {"role": "r", "ami_selector_terms": [{}]},
            "demo",
            r"ami_selector_terms\[0\]: give one of",
        ),
        (
            {"role": "r", "subnet_selector_terms": [{}]},
            "demo",
            r"subnet_selector_terms\[0\]: give at least one",
        ),
        (
            {"role": "r", "block_device_mappings": [{"ebs": {"volume_size": "20"}}]},
            "demo",
            r"volume_size: '20' is not a size",
        ),
        (
            {"role": "r", "block_device_mappings": [{"ebs": {"encrypted": True}}]},
            "demo",
            r"give volume_size or snapshot_id",
        ),
        (
            {
                "role": "r",
                "block_device_mappings": [{"root_volume": True}, {"root_volume": True}],
            },
            "demo",
            r"only one mapping may set root_volume",
        ),
        (
            {"role": "r", "metadata_options": {"http_put_response_hop_limit": 65}},
            "demo",
            r"between 1 and 64",
        ),
    ],
)
def test_bad_nodeclass_options_are_named(nodeclass, cluster_name, message):
    given = {"nodeclass": nodeclass}
    if cluster_name:
        given["cluster_name"] = cluster_name
    with pytest.raises(KarpenterError, match=message):
        build_v1(params(**given))


# ---------------------------------------------------------------------------
# "Already matches" comparison


def _as_stored(manifest, **spec_changes):
    """What the API server would hand back: server defaults, metadata, status."""
    stored = copy.deepcopy(manifest)
    stored["spec"] = with_server_defaults(stored["kind"], stored["spec"])
    stored["spec"].update(spec_changes)
    stored["metadata"].update({"resourceVersion": "42", "uid": "u-1", "generation": 3})
    stored["status"] = {"conditions": [{"type": "Ready", "status": "True"}]}
    return stored


def test_server_defaults_are_tolerated():
    pool, nodeclass = build(limits={"cpu": 1000, "memory": "1000Gi"})
    stored_pool = _as_stored(pool)
    # The API server stores exactly these defaults for the v1 CRDs.
    assert stored_pool["spec"]["disruption"] == {
        "consolidateAfter": "0s",
        "consolidationPolicy": "WhenEmptyOrUnderutilized",
        "budgets": [{"nodes": "10%"}],
    }
    assert stored_pool["spec"]["template"]["spec"]["expireAfter"] == "720h"
    assert spec_matches("NodePool", pool["spec"], stored_pool["spec"])
    stored_class = _as_stored(nodeclass)
    assert stored_class["spec"]["metadataOptions"]["httpPutResponseHopLimit"] == 1
    assert spec_matches("EC2NodeClass", nodeclass["spec"], stored_class["spec"])


def test_partial_disruption_and_metadata_options_tolerate_defaults():
    pool, nodeclass = build(
        disruption={"consolidation_policy": "WhenEmpty"},
        nodeclass={"role": "r", "metadata_options": {"http_put_response_hop_limit": 2}},
    )
    stored_pool = _as_stored(pool)
    assert stored_pool["spec"]["disruption"]["consolidateAfter"] == "0s"
    assert spec_matches("NodePool", pool["spec"], stored_pool["spec"])
    assert spec_matches("EC2NodeClass", nodeclass["spec"], _as_stored(nodeclass)["spec"])


def test_equal_quantities_in_another_spelling_match():
    pool, nodeclass = build(limits={"cpu": 1000, "memory": "1000Gi"})
    stored = _as_stored(pool, limits={"cpu": "1000", "memory": "1024000Mi"})
    assert spec_matches("NodePool", pool["spec"], stored["spec"])


def test_fields_owned_by_others_are_ignored():
    pool, nodeclass = build()
    stored = _as_stored(nodeclass, userData="#!/bin/sh\n", kubelet={"maxPods": 110})
    assert spec_matches("EC2NodeClass", nodeclass["spec"], stored["spec"])


@pytest.mark.parametrize(
    "change, field",
    [
        ({"limits": {"cpu": 2000, "memory": "1000Gi"}}, "limits"),
        ({"limits": {"cpu": 1000}}, "limits"),
        ({"weight": 7}, "weight"),
        (
            {
                "disruption": {
                    "consolidateAfter": "30s",
                    "consolidationPolicy": "WhenEmptyOrUnderutilized",
                }
            },
            "disruption",
        ),
    ],
)
def test_real_nodepool_differences_are_detected(change, field):
    pool, nodeclass = build(limits={"cpu": 1000, "memory": "1000Gi"})
    stored = _as_stored(pool, **change)
    assert differences("NodePool", pool["spec"], stored["spec"]) == [field]
    assert not spec_matches("NodePool", pool["spec"], stored["spec"])


def test_template_differences_are_detected():
    pool, nodeclass = build(labels={"intent": "apps"}, requirements=[{"key": "k", "operator": "Exists"}])
    stored = _as_stored(pool)
    stored["spec"]["template"]["metadata"]["labels"]["intent"] = "batch"
    stored["spec"]["template"]["spec"]["requirements"] = []
    stored["spec"]["template"]["spec"]["expireAfter"] = "24h"
    assert differences("NodePool", pool["spec"], stored["spec"]) == [
        "template.metadata.labels",
        "template.spec.requirements",
        "template.spec.expireAfter",
    ]


def test_removed_option_is_a_difference():
    """A field set before but no longer asked for must go (unless it is the server default)."""
    pool, nodeclass = build()
    stored = _as_stored(pool, weight=10)
    assert differences("NodePool", pool["spec"], stored["spec"]) == ["weight"]


def test_nodeclass_differences_are_detected():
    pool, nodeclass = build(nodeclass={"role": "r", "tags": {"a": "1"}})
    stored = _as_stored(nodeclass, role="other", instanceProfile="legacy")
    stored["spec"]["metadataOptions"]["httpTokens"] = "optional"
    assert differences("EC2NodeClass", nodeclass["spec"], stored["spec"]) == [
        "role",
        "instanceProfile",
        "metadataOptions",
    ]


def test_merge_managed_keeps_foreign_fields_and_resource_version():
    pool, nodeclass = build(limits={"cpu": 2000})
    stored = _as_stored(pool, weight=10)
    stored["metadata"]["managedFields"] = [{"manager": "kubectl"}]
    stored["metadata"]["annotations"] = {"karpenter.sh/nodepool-hash": "123"}
    body = merge_managed(stored, pool)
    assert body["metadata"]["resourceVersion"] == "42"
    assert body["metadata"]["annotations"] == {"karpenter.sh/nodepool-hash": "123"}
    assert "managedFields" not in body["metadata"]
    assert "status" not in body
    assert "weight" not in body["spec"]
    assert body["spec"]["limits"] == {"cpu": 2000}
    assert spec_matches("NodePool", pool["spec"], body["spec"])

    stored_class = _as_stored(nodeclass, userData="echo hi", instanceProfile="legacy")
    body = merge_managed(stored_class, nodeclass)
    assert body["spec"]["userData"] == "echo hi"
    assert "instanceProfile" not in body["spec"]
    assert spec_matches("EC2NodeClass", nodeclass["spec"], body["spec"])


# ---------------------------------------------------------------------------
# Which API errors are retried


def _api_error(status, body):
    from kubernetes.client.exceptions import ApiException

    err = ApiException(status=status, reason="Internal Server Error")
    err.body = body
    return err


@pytest.mark.parametrize(
    "status, body, retried",
    [
        (
            500,
            'Internal error occurred: failed calling webhook "validation.webhook.karpenter.sh"',
            True,
        ),
        (503, 'no endpoints available for service "karpenter"', True),
        (500, "etcdserver: request timed out", False),
        (422, 'failed calling webhook "x"', False),
        (404, "not found", False),
    ],
)
def test_only_an_unavailable_webhook_is_retried(status, body, retried):
    from ansible_collections.jit.karpenter.plugins.module_utils._nodepool.objects import (
        _webhook_unavailable,
    )

    assert _webhook_unavailable(_api_error(status, body)) is retried

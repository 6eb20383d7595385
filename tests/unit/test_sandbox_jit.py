"""sandbox/controller.py and sandbox/nodeagent.py: the pure parts (settings from the Deployment, the Node, joining)."""

import pytest
import yaml

from sandbox import controller, nodeagent
from sandbox.tools import SandboxError

ACCT = "111122223333"
CALLER = "arn:aws:sts::%s:assumed-role/KarpenterNodeRole-demo/i-0123456789abcdef0" % ACCT
DNS = "ip-192-168-64-5.ec2.internal"


def container(env, resources=None):
    return {"name": "controller", "env": env, "resources": resources or {}}


@pytest.mark.parametrize("text,value", [("250m", 0.25), ("2", 2), ("1Gi", 2**30), ("512Mi", 2**29), ("1k", 1000)])
def test_quantity(text, value):
    assert controller.quantity(text) == pytest.approx(value)


def test_resolve_env_values_namespace_and_resources():
    env = controller.resolve_env(container([
        {"name": "CLUSTER_NAME", "value": "demo"},
        {"name": "SYSTEM_NAMESPACE", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}},
        {"name": "CPU_REQUESTS",
         "valueFrom": {"resourceFieldRef": {"containerName": "controller", "divisor": "1m", "resource": "requests.cpu"}}},
        {"name": "MEMORY_LIMIT",
         "valueFrom": {"resourceFieldRef": {"containerName": "controller", "divisor": "0", "resource": "limits.memory"}}},
    ], {"requests": {"cpu": "250m"}, "limits": {"memory": "1Gi"}}), "kube-system")
    assert env == {"CLUSTER_NAME": "demo", "SYSTEM_NAMESPACE": "kube-system", "CPU_REQUESTS": "250",
                   "MEMORY_LIMIT": str(2**30)}


def test_resolve_env_unset_request_is_zero_and_unset_limit_is_the_nodes_allocatable():
    env = controller.resolve_env(container([
        {"name": "CPU_REQUESTS", "valueFrom": {"resourceFieldRef": {"divisor": "1m", "resource": "requests.cpu"}}},
        {"name": "MEMORY_LIMIT", "valueFrom": {"resourceFieldRef": {"divisor": "0", "resource": "limits.memory"}}},
    ]), "kube-system", {"cpu": "1930m", "memory": "7220Mi"})
    assert env == {"CPU_REQUESTS": "0", "MEMORY_LIMIT": str(7220 * 2**20)}


def test_resolve_env_unsupported_source_names_the_variable():
    with pytest.raises(SandboxError, match="SECRET_THING"):
        controller.resolve_env(container([{"name": "SECRET_THING", "valueFrom": {"secretKeyRef": {"name": "x", "key": "y"}}}]),
                               "kube-system")


CLAIM = {
    "metadata": {"name": "default-abcde", "labels": {"karpenter.sh/nodepool": "default", "intent": "apps",
                                                     "kubernetes.io/arch": "arm64"}},
    "spec": {"taints": [{"key": "dedicated", "value": "apps", "effect": "NoSchedule"}],
             "startupTaints": [{"key": "node.cilium.io/agent-not-ready", "effect": "NoExecute"}]},
    "status": {"providerID": "aws:///us-east-1a/i-0123456789abcdef0",
               "capacity": {"cpu": "4", "memory": "7518Mi", "pods": "118"},
               "allocatable": {"cpu": "3920m", "memory": "5865Mi", "pods": "118"}},
}
INSTANCE = {"InstanceId": "i-0123456789abcdef0", "InstanceType": "t4g.xlarge", "PrivateDnsName": DNS,
            "PrivateIpAddress": "192.168.64.5", "Placement": {"AvailabilityZone": "us-east-1a"}}


def test_node_for_a_nodeclaim():
    node = nodeagent.node_for(CLAIM, INSTANCE, "v1.36.3")
    assert node["metadata"]["name"] == DNS
    assert node["metadata"]["annotations"]["kwok.x-k8s.io/node"] == "fake"
    assert node["spec"]["providerID"] == "aws:///us-east-1a/i-0123456789abcdef0"
    labels = node["metadata"]["labels"]
    assert labels["karpenter.sh/nodepool"] == "default" and labels["intent"] == "apps"
    assert labels["kubernetes.io/hostname"] == DNS
    assert labels["node.kubernetes.io/instance-type"] == "t4g.xlarge"
    assert labels["topology.kubernetes.io/zone"] == "us-east-1a" and labels["topology.kubernetes.io/region"] == "us-east-1"
    assert [t["key"] for t in node["spec"]["taints"]] == ["dedicated", "node.cilium.io/agent-not-ready",
                                                          "karpenter.sh/unregistered"]
    assert node["status"]["allocatable"] == CLAIM["status"]["allocatable"]
    assert node["status"]["nodeInfo"]["architecture"] == "arm64"
    assert node["status"]["nodeInfo"]["kubeletVersion"] == "v1.36.3"


def _aws_auth(rolearn, groups=("system:bootstrappers", "system:nodes"), username="system:node:{{EC2PrivateDNSName}}"):
    return {"mapRoles": yaml.safe_dump([{"rolearn": rolearn, "username": username, "groups": list(groups)}])}


def _join(aws_auth=None, mode="CONFIG_MAP", entries=()):
    return nodeagent.join_decision(CALLER, DNS, authentication_mode=mode, aws_auth=aws_auth, access_entries=list(entries))


def test_join_with_the_node_roles_mapping():
    ok, reason, decision = _join(_aws_auth("arn:aws:iam::%s:role/KarpenterNodeRole-demo" % ACCT))
    assert ok, reason
    assert decision.username == "system:node:" + DNS
    assert "system:nodes" in decision.groups


@pytest.mark.parametrize("aws_auth,why", [
    (None, "not authorised"),
    ({"mapRoles": ""}, "not authorised"),
    (_aws_auth("arn:aws:iam::%s:role/SomeOtherRole" % ACCT), "not authorised"),
    (_aws_auth("arn:aws:iam::%s:role/nodes/KarpenterNodeRole-demo" % ACCT), "not authorised"),
    (_aws_auth("arn:aws:iam::%s:role/KarpenterNodeRole-demo" % ACCT, groups=["viewers"]), "not system:nodes"),
    (_aws_auth("arn:aws:iam::%s:role/KarpenterNodeRole-demo" % ACCT, username="node-{{SessionName}}"), "Node authorizer"),
])
def test_no_join_without_a_node_mapping(aws_auth, why):
    ok, reason, decision = _join(aws_auth)
    assert not ok
    assert why in reason
    assert not decision.is_node or "Node authorizer" in reason


def test_join_by_ec2_linux_access_entry_in_api_mode():
    entry = {"principalArn": "arn:aws:iam::%s:role/KarpenterNodeRole-demo" % ACCT, "type": "EC2_LINUX",
             "username": "system:node:{{EC2PrivateDNSName}}", "kubernetesGroups": []}
    ok, reason, decision = _join(None, mode="API", entries=[entry])
    assert ok, reason
    assert decision.source == "access_entry"
    ok, reason, decision = _join(_aws_auth("arn:aws:iam::%s:role/KarpenterNodeRole-demo" % ACCT), mode="API")
    assert not ok, reason  # API mode ignores aws-auth
    assert not decision.allowed

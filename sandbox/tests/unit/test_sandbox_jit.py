"""sandbox/controller.py and sandbox/nodeagent.py: the pure parts (a pod's settings and status, the Node, joining)."""

import pytest
import yaml

from sandbox import charts, cluster, controller, nodeagent
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
    env = controller.resolve_env(
        container(
            [
                {"name": "CLUSTER_NAME", "value": "demo"},
                {
                    "name": "SYSTEM_NAMESPACE",
                    "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}},
                },
                {
                    "name": "CPU_REQUESTS",
                    "valueFrom": {
                        "resourceFieldRef": {"containerName": "controller", "divisor": "1m", "resource": "requests.cpu"}
                    },
                },
                {
                    "name": "MEMORY_LIMIT",
                    "valueFrom": {
                        "resourceFieldRef": {"containerName": "controller", "divisor": "0", "resource": "limits.memory"}
                    },
                },
            ],
            {"requests": {"cpu": "250m"}, "limits": {"memory": "1Gi"}},
        ),
        "kube-system",
    )
    assert env == {
        "CLUSTER_NAME": "demo",
        "SYSTEM_NAMESPACE": "kube-system",
        "CPU_REQUESTS": "250",
        "MEMORY_LIMIT": str(2**30),
    }


def test_resolve_env_unset_request_is_zero_and_unset_limit_is_the_nodes_allocatable():
    env = controller.resolve_env(
        container(
            [
                {
                    "name": "CPU_REQUESTS",
                    "valueFrom": {"resourceFieldRef": {"divisor": "1m", "resource": "requests.cpu"}},
                },
                {
                    "name": "MEMORY_LIMIT",
                    "valueFrom": {"resourceFieldRef": {"divisor": "0", "resource": "limits.memory"}},
                },
            ]
        ),
        "kube-system",
        {"cpu": "1930m", "memory": "7220Mi"},
    )
    assert env == {"CPU_REQUESTS": "0", "MEMORY_LIMIT": str(7220 * 2**20)}


def test_resolve_env_unsupported_source_names_the_variable():
    with pytest.raises(SandboxError, match="SECRET_THING"):
        controller.resolve_env(
            container([{"name": "SECRET_THING", "valueFrom": {"secretKeyRef": {"name": "x", "key": "y"}}}]),
            "kube-system",
        )


def test_resolve_env_field_refs_read_the_pod():
    pod = {
        "metadata": {"name": "karpenter-5d4f-abcde", "namespace": "kube-system", "uid": "u-1"},
        "spec": {"nodeName": "ip-192-168-1-1.ec2.internal", "serviceAccountName": "karpenter"},
    }
    env = controller.resolve_env(
        container(
            [
                {"name": name, "valueFrom": {"fieldRef": {"fieldPath": path}}}
                for name, path in (
                    ("POD", "metadata.name"),
                    ("NODE", "spec.nodeName"),
                    ("SA", "spec.serviceAccountName"),
                    ("NS", "metadata.namespace"),
                )
            ]
        ),
        "kube-system",
        pod=pod,
    )
    assert env == {
        "POD": "karpenter-5d4f-abcde",
        "NODE": "ip-192-168-1-1.ec2.internal",
        "SA": "karpenter",
        "NS": "kube-system",
    }


def test_resolve_env_field_ref_without_the_pod_is_refused():
    with pytest.raises(SandboxError, match="POD.*metadata.name"):
        controller.resolve_env(
            container([{"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]), "kube-system"
        )


def test_resolve_env_env_from_is_refused():
    with pytest.raises(SandboxError, match="envFrom"):
        controller.resolve_env(dict(container([]), envFrom=[{"configMapRef": {"name": "x"}}]), "kube-system")


@pytest.mark.parametrize(
    "image,version",
    [
        ("public.ecr.aws/karpenter/controller:1.14.3@sha256:" + "0" * 64, "1.14.3"),
        ("public.ecr.aws/karpenter/controller:v0.16.3", "0.16.3"),
        ("localhost:5000/karpenter/controller@sha256:" + "1" * 64, None),
        ("localhost:5000/controller", None),
    ],
)
def test_image_version(image, version):
    assert controller.image_version(image) == version


def test_slots_sit_in_the_sandbox_range_apart_from_its_components():
    taken = set(cluster.Sandbox(state_dir="unused", port_base=26400).ports.values())
    slots = [controller.slot_ports(26400, i) for i in range(controller.SLOTS)]
    ports = [p for s in slots for p in s.values()]
    assert len(set(ports)) == len(ports) == controller.SLOTS * len(controller.PORT_ENV)
    assert not taken & set(ports) and min(ports) >= 26400 and max(ports) < 26500
    assert slots[1] == {"METRICS_PORT": 26487, "HEALTH_PROBE_PORT": 26488, "WEBHOOK_PORT": 26489}


# The chart's controller container (charts/karpenter/templates/deployment.yaml in karpenter-provider-aws).
CHART_CONTAINER = {
    "name": "controller",
    "image": "public.ecr.aws/karpenter/controller:1.14.3",
    "ports": [
        {"name": "http-metrics", "containerPort": 8080},
        {"name": "http", "containerPort": 8081},
        {"name": "https-webhook", "containerPort": 8443},
    ],
    "readinessProbe": {"initialDelaySeconds": 5, "timeoutSeconds": 30, "httpGet": {"path": "/readyz", "port": "http"}},
}
CHART_ENV = {"METRICS_PORT": "8080", "HEALTH_PROBE_PORT": "8081", "WEBHOOK_PORT": "8443"}


def test_probe_url_moves_the_named_port_into_the_slot():
    ports = controller.slot_ports(31000, 0)
    assert (
        controller.probe_url(CHART_CONTAINER, CHART_ENV, ports)
        == "http://127.0.0.1:%d/readyz" % ports["HEALTH_PROBE_PORT"]
    )
    numbered = dict(CHART_CONTAINER, readinessProbe={"httpGet": {"path": "/metrics", "port": 8080}})
    assert controller.probe_url(numbered, CHART_ENV, ports) == "http://127.0.0.1:%d/metrics" % ports["METRICS_PORT"]
    assert controller.probe_url(dict(CHART_CONTAINER, readinessProbe=None), CHART_ENV, ports) is None
    with pytest.raises(SandboxError, match="'healthz'"):
        controller.probe_url(dict(CHART_CONTAINER, readinessProbe={"httpGet": {"port": "healthz"}}), CHART_ENV, ports)


POD = {
    "metadata": {"name": "karpenter-abc", "namespace": "kube-system", "uid": "0f0e"},
    "spec": {"containers": [CHART_CONTAINER], "nodeName": "n1"},
    "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "True"}]},
}


def _conditions(status):
    return {c["type"]: c["status"] for c in status["conditions"]}


def test_pod_status_started_not_ready_then_ready():
    started = controller.pod_status(POD, now="T1", host_ip="127.0.0.1", started_at="T0")
    assert started["phase"] == "Running" and started["podIP"] == controller.pod_ip("0f0e")
    assert _conditions(started)["Ready"] == "False" and _conditions(started)["ContainersReady"] == "False"
    (c,) = started["containerStatuses"]
    assert c["started"] and not c["ready"] and c["state"] == {"running": {"startedAt": "T0"}}
    ready = controller.pod_status(dict(POD, status=started), now="T2", host_ip="127.0.0.1", started_at="T0", ready=True)
    assert _conditions(ready)["Ready"] == "True" and ready["containerStatuses"][0]["ready"]
    times = {c["type"]: c["lastTransitionTime"] for c in ready["conditions"]}
    assert times["Ready"] == "T2" and times["Initialized"] == "T1"  # only what changed moves
    assert ready["podIP"] == started["podIP"] and ready["startTime"] == started["startTime"]


def test_pod_status_crash_loop_is_not_ready_and_counts_restarts():
    status = controller.pod_status(
        POD,
        now="T3",
        host_ip="127.0.0.1",
        started_at="T0",
        ready=True,
        restarts=2,
        waiting=("CrashLoopBackOff", "back-off 20s"),
        last_exit=(1, "T2", "T0"),
    )
    (c,) = status["containerStatuses"]
    assert _conditions(status)["Ready"] == "False" and not c["ready"] and c["restartCount"] == 2
    assert c["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert c["lastState"]["terminated"]["exitCode"] == 1


def test_irsa_role_from_the_pod_env_else_the_service_account():
    sa = {controller.ROLE_ARN_ANNOTATION: "arn:aws:iam::1:role/sa"}
    assert controller.irsa_role({"AWS_ROLE_ARN": "arn:aws:iam::1:role/pod"}, sa) == "arn:aws:iam::1:role/pod"
    assert controller.irsa_role({}, sa) == "arn:aws:iam::1:role/sa"
    assert controller.irsa_role({}, None) is None


def test_backoff_doubles_from_ten_seconds_to_five_minutes():
    assert [controller.backoff(n) for n in (1, 2, 3, 6, 10)] == [10, 20, 40, 300, 300]


def test_kwok_leaves_the_karpenter_pods_to_the_sandbox():
    stages = [
        {"metadata": {"name": n}, "spec": {"selector": {"matchExpressions": [{"key": ".x", "operator": "Exists"}]}}}
        for n in ("pod-ready", "pod-complete", "pod-delete")
    ]
    out = {
        s["metadata"]["name"]: s["spec"]["selector"]["matchExpressions"]
        for s in charts.exclude_sandbox_run_pods(stages)
    }
    assert out["pod-ready"][-1] == out["pod-delete"][-1] == charts.SANDBOX_RUN_PODS
    assert out["pod-complete"] == [{"key": ".x", "operator": "Exists"}]
    with pytest.raises(SandboxError, match="pod-delete"):
        charts.exclude_sandbox_run_pods(stages[:1])


def test_the_port_base_comes_from_the_state_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("SANDBOX_PORT_BASE", "27000")
    assert cluster.Sandbox(state_dir=tmp_path).port_base == 27000  # no sandbox there yet
    (tmp_path / "sandbox.json").write_text('{"port_base": 31000, "ports": {"etcd": 31001}}')
    sb = cluster.Sandbox(state_dir=tmp_path)
    assert sb.port_base == 31000 and sb.ports["apiserver"] == 31043
    assert cluster.Sandbox(state_dir=tmp_path, port_base=31000).port_base == 31000
    with pytest.raises(SandboxError, match="uses port base 31000, not 27100"):
        cluster.Sandbox(state_dir=tmp_path, port_base=27100)
    (tmp_path / "sandbox.json").write_text('{"ports": {"etcd": 29101}}')  # recorded before port_base was
    assert cluster.Sandbox(state_dir=tmp_path).port_base == 29100


CLAIM = {
    "metadata": {
        "name": "default-abcde",
        "labels": {"karpenter.sh/nodepool": "default", "intent": "apps", "kubernetes.io/arch": "arm64"},
    },
    "spec": {
        "taints": [{"key": "dedicated", "value": "apps", "effect": "NoSchedule"}],
        "startupTaints": [{"key": "node.cilium.io/agent-not-ready", "effect": "NoExecute"}],
    },
    "status": {
        "providerID": "aws:///us-east-1a/i-0123456789abcdef0",
        "capacity": {"cpu": "4", "memory": "7518Mi", "pods": "118"},
        "allocatable": {"cpu": "3920m", "memory": "5865Mi", "pods": "118"},
    },
}
INSTANCE = {
    "InstanceId": "i-0123456789abcdef0",
    "InstanceType": "t4g.xlarge",
    "PrivateDnsName": DNS,
    "PrivateIpAddress": "192.168.64.5",
    "Placement": {"AvailabilityZone": "us-east-1a"},
}


def test_node_for_a_nodeclaim():
    node = nodeagent.node_for(CLAIM, INSTANCE, "v1.36.3")
    assert node["metadata"]["name"] == DNS
    assert node["metadata"]["annotations"]["kwok.x-k8s.io/node"] == "fake"
    assert node["spec"]["providerID"] == "aws:///us-east-1a/i-0123456789abcdef0"
    labels = node["metadata"]["labels"]
    assert labels["karpenter.sh/nodepool"] == "default" and labels["intent"] == "apps"
    assert labels["kubernetes.io/hostname"] == DNS
    assert labels["node.kubernetes.io/instance-type"] == "t4g.xlarge"
    assert (
        labels["topology.kubernetes.io/zone"] == "us-east-1a" and labels["topology.kubernetes.io/region"] == "us-east-1"
    )
    assert [t["key"] for t in node["spec"]["taints"]] == [
        "dedicated",
        "node.cilium.io/agent-not-ready",
        "karpenter.sh/unregistered",
    ]
    assert node["status"]["allocatable"] == CLAIM["status"]["allocatable"]
    assert node["status"]["nodeInfo"]["architecture"] == "arm64"
    assert node["status"]["nodeInfo"]["kubeletVersion"] == "v1.36.3"


def _aws_auth(rolearn, groups=("system:bootstrappers", "system:nodes"), username="system:node:{{EC2PrivateDNSName}}"):
    return {"mapRoles": yaml.safe_dump([{"rolearn": rolearn, "username": username, "groups": list(groups)}])}


def _join(aws_auth=None, mode="CONFIG_MAP", entries=()):
    return nodeagent.join_decision(
        CALLER, DNS, authentication_mode=mode, aws_auth=aws_auth, access_entries=list(entries)
    )


def test_join_with_the_node_roles_mapping():
    ok, reason, decision = _join(_aws_auth("arn:aws:iam::%s:role/KarpenterNodeRole-demo" % ACCT))
    assert ok, reason
    assert decision.username == "system:node:" + DNS
    assert "system:nodes" in decision.groups


@pytest.mark.parametrize(
    "aws_auth,why",
    [
        (None, "not authorised"),
        ({"mapRoles": ""}, "not authorised"),
        (_aws_auth("arn:aws:iam::%s:role/SomeOtherRole" % ACCT), "not authorised"),
        (_aws_auth("arn:aws:iam::%s:role/nodes/KarpenterNodeRole-demo" % ACCT), "not authorised"),
        (_aws_auth("arn:aws:iam::%s:role/KarpenterNodeRole-demo" % ACCT, groups=["viewers"]), "not system:nodes"),
        (
            _aws_auth("arn:aws:iam::%s:role/KarpenterNodeRole-demo" % ACCT, username="node-{{SessionName}}"),
            "Node authorizer",
        ),
    ],
)
def test_no_join_without_a_node_mapping(aws_auth, why):
    ok, reason, decision = _join(aws_auth)
    assert not ok
    assert why in reason
    assert not decision.is_node or "Node authorizer" in reason


def test_join_by_ec2_linux_access_entry_in_api_mode():
    entry = {
        "principalArn": "arn:aws:iam::%s:role/KarpenterNodeRole-demo" % ACCT,
        "type": "EC2_LINUX",
        "username": "system:node:{{EC2PrivateDNSName}}",
        "kubernetesGroups": [],
    }
    ok, reason, decision = _join(None, mode="API", entries=[entry])
    assert ok, reason
    assert decision.source == "access_entry"
    ok, reason, decision = _join(_aws_auth("arn:aws:iam::%s:role/KarpenterNodeRole-demo" % ACCT), mode="API")
    assert not ok, reason  # API mode ignores aws-auth
    assert not decision.allowed

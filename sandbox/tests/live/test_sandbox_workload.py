"""Pods scheduled by the real kube-scheduler run on the kwok nodes of the managed node group."""

import time

import pytest

from sandbox.harness import Harness

if not Harness().exists():
    pytest.skip("no sandbox: .sandbox/env is absent (start one with `make sandbox`)", allow_module_level=True)

from kubernetes import client  # noqa: E402

APP = "sbtest-pause"


def _deployment(nodegroup):
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": APP},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": APP}},
            "template": {
                "metadata": {"labels": {"app": APP}},
                "spec": {
                    "nodeSelector": {"eks.amazonaws.com/nodegroup": nodegroup},
                    "topologySpreadConstraints": [
                        {
                            "maxSkew": 1,
                            "topologyKey": "topology.kubernetes.io/zone",
                            "whenUnsatisfiable": "DoNotSchedule",
                            "labelSelector": {"matchLabels": {"app": APP}},
                        }
                    ],
                    "terminationGracePeriodSeconds": 0,
                    "containers": [
                        {
                            "name": "pause",
                            "image": "registry.k8s.io/pause:3.10",
                            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
                        }
                    ],
                },
            },
        },
    }


def _describe(core, namespace, pods):
    lines = []
    for p in pods:
        conds = ["%s=%s %s" % (c.type, c.status, c.message or "") for c in (p.status.conditions or [])]
        lines.append("%s phase=%s node=%s %s" % (p.metadata.name, p.status.phase, p.spec.node_name, "; ".join(conds)))
    events = core.list_namespaced_event(namespace).items
    lines += ["event %s %s: %s" % (e.involved_object.name, e.reason, e.message) for e in events[-10:]]
    return "\n".join(lines) or "(no pods)"


def test_node_group_nodes_are_schedulable(kube, seed):
    """A managed node group's Ready nodes carry no taints (the group sets none)."""
    nodes = (
        client.CoreV1Api(kube).list_node(label_selector="eks.amazonaws.com/nodegroup=" + seed["nodegroup_name"]).items
    )
    assert len(nodes) == 2
    for n in nodes:
        assert not n.spec.unschedulable, n.metadata.name
        assert [(t.key, t.effect) for t in (n.spec.taints or [])] == [], n.metadata.name


def _unschedulable(pod):
    return any(c.type == "PodScheduled" and c.reason == "Unschedulable" for c in (pod.status.conditions or []))


def test_spread_deployment_runs_on_two_zones(kube, namespace, seed):
    apps, core = client.AppsV1Api(kube), client.CoreV1Api(kube)
    apps.create_namespaced_deployment(namespace, _deployment(seed["nodegroup_name"]))
    start = time.time()
    pods = []
    while time.time() < start + 30:
        pods = [
            p
            for p in core.list_namespaced_pod(namespace, label_selector="app=%s" % APP).items
            if not p.metadata.deletion_timestamp
        ]
        if len(pods) == 2 and all(p.status.phase == "Running" for p in pods):
            break
        if pods and all(_unschedulable(p) for p in pods) and time.time() > start + 10:
            break  # the scheduler has said no, repeatedly
        time.sleep(0.5)
    assert len(pods) == 2 and all(p.status.phase == "Running" for p in pods), "pause pods not Running:\n" + _describe(
        core, namespace, pods
    )

    nodes = {n.metadata.name: n for n in core.list_node().items}
    zones = set()
    for p in pods:
        node = nodes[p.spec.node_name]
        assert node.metadata.annotations.get("kwok.x-k8s.io/node") == "fake", p.spec.node_name
        assert p.status.pod_ip, "kwok gives a running pod an IP"
        zones.add(node.metadata.labels["topology.kubernetes.io/zone"])
    assert len(zones) == 2, "both replicas in %s" % zones

    dep = apps.read_namespaced_deployment(APP, namespace)
    deadline = time.time() + 15
    while (dep.status.ready_replicas or 0) < 2 and time.time() < deadline:
        time.sleep(0.5)
        dep = apps.read_namespaced_deployment(APP, namespace)
    assert dep.status.ready_replicas == 2

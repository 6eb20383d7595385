"""Scale inflate and print what follows, second by second: python -m sandbox.timeline --replicas 5

With .sandbox/env sourced, after playbooks/karpenter.yml (the sandbox runs the controller for the chart's pods).
Scales the Deployment ``inflate`` to N and prints a line whenever anything changes: pods pending
and running, NodeClaims (created, launched, registered), the instances Karpenter launched in the
AWS emulator (tagged with the NodePool and the cluster), Nodes of the NodePool and how many are
Ready. Then, unless --keep, scales to 0 and follows consolidation until the NodeClaims, Nodes
and instances are gone.
"""

import argparse
import os
import sys
import time

import boto3
from kubernetes import client, config

NODEPOOL_LABEL = "karpenter.sh/nodepool"


class Observer(object):
    """Counts what one scaling step is about, from the kube-apiserver and the AWS emulator."""

    def __init__(self, cluster, namespace="default", deployment="inflate", kubeconfig=None):
        api = config.new_client_from_config(kubeconfig or os.environ.get("KUBECONFIG"))
        self.core = client.CoreV1Api(api)
        self.apps = client.AppsV1Api(api)
        self.custom = client.CustomObjectsApi(api)
        self.ec2 = boto3.client("ec2")
        self.cluster = cluster
        self.namespace = namespace
        self.deployment = deployment

    def wait_nodepools_ready(self, timeout=120):
        """Wait until every NodePool is Ready (its EC2NodeClass resolved), so a timing starts from a ready controller."""
        deadline = time.time() + timeout
        while True:
            pools = self.custom.list_cluster_custom_object("karpenter.sh", "v1", "nodepools")["items"]
            ready = [
                p
                for p in pools
                if any(
                    c["type"] == "Ready" and c["status"] == "True"
                    for c in (p.get("status") or {}).get("conditions") or []
                )
            ]
            if pools and len(ready) == len(pools):
                return [p["metadata"]["name"] for p in pools]
            if time.time() > deadline:
                raise TimeoutError(
                    "NodePools not Ready after %ds: %s"
                    % (timeout, [p["metadata"]["name"] for p in pools if p not in ready] or "none exists")
                )
            time.sleep(1)

    def scale(self, replicas):
        self.apps.patch_namespaced_deployment_scale(self.deployment, self.namespace, {"spec": {"replicas": replicas}})

    def instances(self):
        """Karpenter's instances of this cluster in the emulator, not terminated: {id: (state, nodepool)}."""
        found = {}
        pages = self.ec2.get_paginator("describe_instances").paginate(
            Filters=[
                {"Name": "tag-key", "Values": [NODEPOOL_LABEL]},
                {"Name": "tag:kubernetes.io/cluster/%s" % self.cluster, "Values": ["owned"]},
                {
                    "Name": "instance-state-name",
                    "Values": ["pending", "running", "shutting-down", "stopping", "stopped"],
                },
            ]
        )
        for page in pages:
            for reservation in page["Reservations"]:
                for inst in reservation["Instances"]:
                    tags = {t["Key"]: t["Value"] for t in inst.get("Tags", [])}
                    found[inst["InstanceId"]] = (inst["State"]["Name"], tags.get(NODEPOOL_LABEL))
        return found

    def snapshot(self):
        pods = self.core.list_namespaced_pod(self.namespace, label_selector="app=%s" % self.deployment).items
        pods = [p for p in pods if not p.metadata.deletion_timestamp]
        claims = self.custom.list_cluster_custom_object("karpenter.sh", "v1", "nodeclaims")["items"]
        nodes = self.core.list_node(label_selector=NODEPOOL_LABEL).items

        def cond(obj, kind):
            return any(
                c["type"] == kind and c["status"] == "True" for c in (obj.get("status") or {}).get("conditions") or []
            )

        return {
            "pods pending": sum(1 for p in pods if p.status.phase == "Pending"),
            "pods running": sum(1 for p in pods if p.status.phase == "Running"),
            "nodeclaims": len(claims),
            "launched": sum(1 for c in claims if cond(c, "Launched")),
            "registered": sum(1 for c in claims if cond(c, "Registered")),
            "instances": len(self.instances()),
            "nodes": len(nodes),
            "nodes ready": sum(
                1 for n in nodes if any(c.type == "Ready" and c.status == "True" for c in n.status.conditions or [])
            ),
        }


def _line(elapsed, snap):
    return "t+%6.1fs  " % elapsed + "  ".join("%s %d" % (k, v) for k, v in snap.items())


def follow(observer, done, timeout, out=print, interval=0.5):
    """Print a line whenever the snapshot changes until ``done(snapshot)``; return (seconds, milestones)."""
    start = time.time()
    last = None
    firsts = {}
    while True:
        snap = observer.snapshot()
        elapsed = time.time() - start
        for key, value in snap.items():
            if value and key not in firsts:
                firsts[key] = elapsed
        if snap != last:
            out(_line(elapsed, snap))
            last = snap
        if done(snap):
            return elapsed, firsts, snap
        if elapsed > timeout:
            raise TimeoutError("not done after %ds: %s" % (timeout, _line(elapsed, snap)))
        time.sleep(interval)


def scale_up(observer, replicas, timeout=300, out=print):
    """Scale to ``replicas`` and follow until every pod runs; return (seconds, milestones)."""
    observer.scale(replicas)
    elapsed, firsts, _ = follow(
        observer, lambda s: s["pods running"] == replicas and s["pods pending"] == 0, timeout, out
    )
    return elapsed, firsts


def scale_down(observer, timeout=300, out=print):
    """Scale to 0 and follow until the NodePool's NodeClaims, Nodes and instances are gone."""
    observer.scale(0)
    elapsed, firsts, _ = follow(observer, lambda s: not any(s.values()), timeout, out)
    return elapsed, firsts


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--replicas", type=int, default=5)
    p.add_argument("--cluster", default=os.environ.get("SANDBOX_CLUSTER", "demo"))
    p.add_argument("--timeout", type=int, default=300)
    p.add_argument("--keep", action="store_true", help="leave inflate scaled up")
    args = p.parse_args(argv)
    if args.replicas < 1:
        p.error("--replicas must be at least 1")
    obs = Observer(args.cluster)
    obs.wait_nodepools_ready()
    print("\n== Scale inflate 0 -> %d" % args.replicas)
    took, firsts = scale_up(obs, args.replicas, args.timeout)
    for key in ("nodeclaims", "launched", "instances", "registered", "nodes ready"):
        if key in firsts:
            print("  first %-12s after %5.1fs" % (key, firsts[key]))
    print("  all %d pods Running after %.1fs (the walkthrough: 1 to 2 minutes on AWS)" % (args.replicas, took))
    if args.keep:
        return 0
    print("\n== Scale inflate %d -> 0: consolidation (NodePool disruption) removes the empty nodes" % args.replicas)
    took, _ = scale_down(obs, args.timeout)
    print("  NodeClaims, Nodes and instances gone after %.1fs" % took)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Record Karpenter's NodeClaims and Nodes through an upgrade, then report what happened to them.

    python nodes.py record <out.jsonl> [--stop-file F] [--max-seconds N]   (runs until F exists)
    python nodes.py report <out.jsonl>                                        (prints JSON)

``record`` (its pid in <out.jsonl>.pid while it runs) reads every NodeClaim and every Node labelled karpenter.sh/nodepool twice a second (kubeconfig
from $KUBECONFIG) and appends a line whenever something changed: per NodeClaim its uid, node, whether it is
being deleted and the conditions that are True (Drifted among them); per Node whether it is Ready. It ends
when the stop file appears, after --max-seconds, or when the API server has been unreachable for a minute
(the sandbox is gone).

``report`` reads the record back: the NodeClaims and Ready Nodes of the first sample (before the upgrade),
the fewest Ready Nodes at any sample, the NodeClaims that were deleted and whether each was Drifted before
its deletion began, and the last sample.
"""

import argparse
import json
import os
import sys
import time


def snapshot(custom, core):
    claims = custom.list_cluster_custom_object("karpenter.sh", "v1", "nodeclaims")["items"]
    nodes = core.list_node(label_selector="karpenter.sh/nodepool").items
    return {
        "nodeclaims": {
            c["metadata"]["name"]: {
                "uid": c["metadata"]["uid"],
                "node": (c.get("status") or {}).get("nodeName"),
                "deleting": bool(c["metadata"].get("deletionTimestamp")),
                "true": sorted(x["type"] for x in (c.get("status") or {}).get("conditions") or [] if x.get("status") == "True"),
            }
            for c in claims
        },
        "nodes": {
            n.metadata.name: any(x.type == "Ready" and x.status == "True" for x in n.status.conditions or [])
            for n in nodes
        },
    }


def record(out, stop_file, max_seconds):
    from kubernetes import client, config

    api = config.new_client_from_config(os.environ["KUBECONFIG"])
    custom, core = client.CustomObjectsApi(api), client.CoreV1Api(api)
    pid_file = out + ".pid"
    with open(pid_file, "w") as f:
        f.write(str(os.getpid()))
    try:
        return _loop(out, stop_file, max_seconds, custom, core)
    finally:
        os.unlink(pid_file)


def _loop(out, stop_file, max_seconds, custom, core):
    started = last_ok = time.time()
    previous = None
    with open(out, "a") as f:
        while not (stop_file and os.path.exists(stop_file)) and time.time() - started < max_seconds:
            try:
                snap = snapshot(custom, core)
                last_ok = time.time()
            except Exception as e:  # noqa: BLE001 - the API server restarting or gone
                if time.time() - last_ok > 60:
                    print("API server unreachable for a minute (%s); stopping" % e, file=sys.stderr)
                    return 1
                time.sleep(1)
                continue
            if snap != previous:
                f.write(json.dumps(dict(snap, t=round(time.time(), 2)), sort_keys=True) + "\n")
                f.flush()
                previous = snap
            time.sleep(0.5)
    return 0


def report(samples):
    """What the samples (as ``record`` writes them, oldest first) say happened to the nodes."""
    if not samples:
        raise ValueError("no samples recorded")
    first, last = samples[0], samples[-1]
    history = {}  # NodeClaim name -> {"drifted_at", "deleting_at", "gone_at"}
    fewest = None
    for s in samples:
        ready = sum(1 for v in s["nodes"].values() if v)
        if fewest is None or ready < fewest[0]:
            fewest = (ready, s["t"])
        for name, claim in s["nodeclaims"].items():
            h = history.setdefault(name, {"drifted_at": None, "deleting_at": None, "gone_at": None})
            if "Drifted" in claim["true"] and h["drifted_at"] is None:
                h["drifted_at"] = s["t"]
            if claim["deleting"] and h["deleting_at"] is None:
                h["deleting_at"] = s["t"]
        for name, h in history.items():
            if name not in s["nodeclaims"] and h["gone_at"] is None:
                h["gone_at"] = s["t"]
                h["deleting_at"] = h["deleting_at"] or s["t"]
    deleted = []
    for name, h in sorted(history.items()):
        if h["deleting_at"] is None:
            continue
        drifted = h["drifted_at"] is not None and h["drifted_at"] <= h["deleting_at"]
        deleted.append({"name": name, "drifted_before_deletion": drifted, "drifted_at": h["drifted_at"],
                        "deleting_at": h["deleting_at"], "gone_at": h["gone_at"]})
    return {
        "samples": len(samples),
        "from": first["t"],
        "to": last["t"],
        "baseline_nodeclaims": sorted(first["nodeclaims"]),
        "baseline_ready_nodes": sum(1 for v in first["nodes"].values() if v),
        "fewest_ready_nodes": fewest[0],
        "fewest_ready_nodes_at": fewest[1],
        "drifted": sorted(n for n, h in history.items() if h["drifted_at"] is not None),
        "deleted": deleted,
        "deleted_not_drifted": [d["name"] for d in deleted if not d["drifted_before_deletion"]],
        "final_nodeclaims": sorted(last["nodeclaims"]),
        "final_ready_nodes": sum(1 for v in last["nodes"].values() if v),
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("command", choices=["record", "report"])
    p.add_argument("file")
    p.add_argument("--stop-file")
    p.add_argument("--max-seconds", type=float, default=3600)
    args = p.parse_args(argv)
    if args.command == "record":
        return record(args.file, args.stop_file, args.max_seconds)
    with open(args.file) as f:
        samples = [json.loads(line) for line in f if line.strip()]
    print(json.dumps(report(samples), indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())

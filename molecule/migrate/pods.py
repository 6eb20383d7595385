"""Record a workload's pods through the migration, then report the fewest that were ready at once.

    python pods.py record <out.jsonl> <namespace> <selector> [--stop-file F] [--max-seconds N]
    python pods.py report <out.jsonl>                                              (prints JSON)

``record`` reads the pods matching the label selector twice a second ($KUBECONFIG) and appends a line
whenever something changed: per pod its node and whether it is ready (condition Ready True, not being
deleted). It ends when the stop file appears, after --max-seconds, or when the API server has been
unreachable for a minute (the sandbox is gone). ``report`` reads it back: the number of samples, the
fewest ready pods at any sample, the first and the last sample.
"""

import argparse
import json
import os
import sys
import time


def snapshot(core, namespace, selector):
    pods = core.list_namespaced_pod(namespace, label_selector=selector).items
    return {p.metadata.name: {"node": p.spec.node_name,
                              "ready": not p.metadata.deletion_timestamp and any(
                                  c.type == "Ready" and c.status == "True" for c in (p.status.conditions or []))}
            for p in pods}


def record(args):
    from kubernetes import client, config

    config.load_kube_config()
    core = client.CoreV1Api()
    with open(args.out + ".pid", "w") as f:
        f.write(str(os.getpid()))
    try:
        _loop(args, core)
    finally:
        os.remove(args.out + ".pid")


def _loop(args, core):
    last, failing_since, started = None, None, time.time()
    while not os.path.exists(args.stop_file or "/nonexistent") and time.time() - started < args.max_seconds:
        try:
            sample = snapshot(core, args.namespace, args.selector)
            failing_since = None
        except Exception:  # noqa: BLE001 - the API server restarting, or gone
            failing_since = failing_since or time.time()
            if time.time() - failing_since > 60:
                break
            time.sleep(0.5)
            continue
        if sample != last:
            with open(args.out, "a") as f:
                f.write(json.dumps({"t": round(time.time(), 2), "pods": sample}) + "\n")
            last = sample
        time.sleep(0.5)


def report(args):
    samples = [json.loads(line) for line in open(args.out) if line.strip()]
    ready = [sum(1 for p in s["pods"].values() if p["ready"]) for s in samples]
    print(json.dumps({"samples": len(samples), "min_ready": min(ready) if ready else 0,
                      "first": samples[0] if samples else None, "last": samples[-1] if samples else None}))


def main(argv=None):
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    rec = sub.add_parser("record")
    rec.add_argument("out")
    rec.add_argument("namespace")
    rec.add_argument("selector")
    rec.add_argument("--stop-file")
    rec.add_argument("--max-seconds", type=float, default=3600)
    rep = sub.add_parser("report")
    rep.add_argument("out")
    args = parser.parse_args(argv)
    record(args) if args.cmd == "record" else report(args)


if __name__ == "__main__":
    sys.exit(main())

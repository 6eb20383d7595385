"""Time to just-in-time compute: from the start of karpenter.yml to the canary pod Running.

    python -m benchmarks.time_to_jit [--runs 1] [--port-base 28900] [--out FILE]

For each run, on a fresh sandbox of the eksctl profile (its own state in .build/bench/time-to-jit and its
own port range; the real Karpenter controller runs as the chart's pods):
  1. converge alone: playbooks/karpenter.yml with karpenter_verify=false, timed;
  2. on another fresh sandbox, karpenter.yml with karpenter_verify_jit=true, timed from its start to the
     moment the canary pod is Running (watched from outside the playbook), and to the end of the run.
Prints a markdown table: each figure and the ratio of the time to just-in-time compute to the converge
alone. On AWS the canary's node takes about 1 to 2 minutes to boot and join; here instances run as soon
as CreateFleet answers, so the difference is the playbook's own proof plus Karpenter's batching, launch
and registration.
"""

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from sandbox.cluster import Sandbox
from sandbox.harness import Harness

ROOT = Path(__file__).resolve().parent.parent


CANARY = "karpenter-canary-default"


def _log(msg):
    print("time-to-jit: %s" % msg, file=sys.stderr, flush=True)


def _fresh(state, port_base):
    sb = Sandbox(state_dir=state, cluster="demo", port_base=port_base, log=_log, profile="eksctl")
    sb.down()
    if not sb.ports_free():
        raise SystemExit("ports %d.. are taken; pass --port-base" % port_base)
    sb.up()
    env = dict(os.environ)
    env.update(Harness(state).env(path=True))
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".build" / "collections"))
    env.setdefault("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg"))
    return sb, env


def _playbook(state, env, *extra):
    argv = [str(Path(sys.executable).parent / "ansible-playbook"), "playbooks/karpenter.yml",
            "-e", "@%s" % (state / "vars.yml")]
    for item in extra:
        argv += ["-e", item]
    start = time.monotonic()
    res = subprocess.run(argv, cwd=str(ROOT), env=env, capture_output=True, text=True)
    took = time.monotonic() - start
    if res.returncode != 0:
        raise SystemExit("karpenter.yml failed (exit %d):\n%s" % (res.returncode, (res.stdout + res.stderr)[-3000:]))
    return start, took


def _watch_canary(env, found, stop):
    """Poll the canary pod's phase every 0.2 s; note the first moment it is Running."""
    argv = ["kubectl", "get", "pod", CANARY, "-n", "default", "-o", "jsonpath={.status.phase}",
            "--ignore-not-found"]
    while not stop.is_set():
        res = subprocess.run(argv, env=env, capture_output=True, text=True)
        if res.stdout.strip() == "Running":
            found.append(time.monotonic())
            return
        time.sleep(0.2)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--port-base", type=int, default=28900)
    p.add_argument("--out", help="also write the table to this file")
    args = p.parse_args(argv)
    state = ROOT / ".build" / "bench" / "time-to-jit"
    converge, to_jit, total = [], [], []
    sb = None
    try:
        for run in range(1, args.runs + 1):
            _log("run %d: fresh sandbox, converge alone" % run)
            sb, env = _fresh(state, args.port_base)
            converge.append(_playbook(state, env, "karpenter_verify=false")[1])
            _log("run %d: fresh sandbox, karpenter.yml with the canary" % run)
            sb, env = _fresh(state, args.port_base)
            found, stop = [], threading.Event()
            watcher = threading.Thread(target=_watch_canary, args=(env, found, stop), daemon=True)
            watcher.start()
            start, took = _playbook(state, env, "karpenter_verify_jit=true")
            stop.set()
            watcher.join(timeout=5)
            if not found:
                raise SystemExit("the canary pod was never seen Running")
            to_jit.append(found[0] - start)
            total.append(took)
    finally:
        if sb is not None:
            sb.down()
    med = statistics.median
    lines = [
        "| figure (fresh eksctl-profile sandbox, median of %d) | seconds | ratio to converge alone |" % args.runs,
        "| --- | --- | --- |",
        "| converge alone (karpenter.yml, karpenter_verify=false) | %.1f | 1.00 |" % med(converge),
        "| start of karpenter.yml to the canary pod Running | %.1f | %.2f |" % (med(to_jit), med(to_jit) / med(converge)),
        "| karpenter.yml with the canary, whole run | %.1f | %.2f |" % (med(total), med(total) / med(converge)),
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Scale-up latency with the real Karpenter controller: from the scale command to all pods Running.

    python -m benchmarks.scaleup [--replicas 1 10 50] [--port-base 28800] [--out FILE]

Starts a sandbox of its own (state in .build/bench/scaleup, its own port range), runs
playbooks/karpenter.yml (the sandbox runs the real controller for the chart's pods),
creates inflate with 0 replicas, waits until the NodePools are Ready, then for each N: scales 0 -> N and measures until every pod is
Running (the first NodeClaim, instance and Ready node on the way), then scales to 0 and waits until
consolidation has removed the NodeClaims, Nodes and instances, so that each N starts from no
Karpenter capacity. Prints a markdown table beside the walkthrough's figure (1 to 2 minutes on
AWS) and stops the sandbox.

On AWS the time is dominated by the instance booting and the kubelet joining (about a minute);
here instances are "running" as soon as CreateFleet answers and the node agent joins them within
its one-second poll, so what remains is Karpenter's own work: batching (1 s idle, 10 s max),
scheduling simulation, launch, registration.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

from sandbox import timeline, tools
from sandbox.cluster import Sandbox
from sandbox.harness import Harness

ROOT = Path(__file__).resolve().parent.parent


WALKTHROUGH = (60, 120)  # seconds: "within a couple of minutes", 1 to 2 minutes on AWS


def _log(msg):
    print("scaleup: %s" % msg, file=sys.stderr, flush=True)


def _run(argv, env):
    res = subprocess.run(argv, cwd=str(ROOT), env=env, capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit("`%s` failed (exit %d):\n%s" % (" ".join(argv), res.returncode, (res.stdout + res.stderr)[-3000:]))
    return res


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--replicas", type=int, nargs="+", default=[1, 10, 50])
    p.add_argument("--port-base", type=int, default=28800)
    p.add_argument("--timeout", type=int, default=600)
    p.add_argument("--out", help="also write the table to this file")
    args = p.parse_args(argv)

    state = ROOT / ".build" / "bench" / "scaleup"
    sb = Sandbox(state_dir=state, cluster="demo", port_base=args.port_base, log=_log)
    sb.down()
    if not sb.ports_free():
        raise SystemExit("ports %d.. are taken; pass --port-base" % args.port_base)
    rows = []
    try:
        sb.up()
        env = dict(os.environ)
        env.update(Harness(state).env(path=True))
        env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".build" / "collections"))
        env.setdefault("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg"))
        playbook = [str(Path(sys.executable).parent / "ansible-playbook")]
        _log("karpenter.yml")
        _run(playbook + ["playbooks/karpenter.yml", "-e", "@%s" % (state / "vars.yml")], env)
        _run(playbook + ["playbooks/inflate.yml", "-e", "@%s" % (state / "vars.yml"), "-e", "inflate_replicas=0"], env)
        os.environ.update({k: v for k, v in env.items() if k.startswith(("AWS_", "KUBECONFIG"))})
        obs = timeline.Observer(sb.cluster, kubeconfig=str(state / "kubeconfig"))
        obs.wait_nodepools_ready()
        for n in args.replicas:
            _log("scale 0 -> %d" % n)
            took, firsts = timeline.scale_up(obs, n, args.timeout, out=_log)
            snap = obs.snapshot()
            rows.append((n, took, firsts.get("nodeclaims"), firsts.get("instances"), firsts.get("nodes ready"),
                         snap["nodeclaims"]))
            _log("scale %d -> 0" % n)
            timeline.scale_down(obs, args.timeout, out=_log)
    finally:
        sb.down()

    lines = [
        "Scale-up latency, real Karpenter %s on the sandbox: from the scale command to all pods Running."
        % tools.karpenter_version(),
        "",
        "| inflate replicas | all pods Running (s) | first NodeClaim (s) | first instance (s) | first Node Ready (s) | NodeClaims | walkthrough on AWS (s) | AWS / sandbox |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    fmt = lambda v: "%.1f" % v if v is not None else "-"  # noqa: E731
    for n, took, claim, inst, ready, claims in rows:
        ratio = "%.0f-%.0fx" % (WALKTHROUGH[0] / took, WALKTHROUGH[1] / took) if took else "-"
        lines.append("| %d | %.1f | %s | %s | %s | %d | %d-%d | %s |"
                     % (n, took, fmt(claim), fmt(inst), fmt(ready), claims, WALKTHROUGH[0], WALKTHROUGH[1], ratio))
    table = "\n".join(lines)
    print(table)
    if args.out:
        Path(args.out).write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

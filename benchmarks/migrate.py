"""The migration from Karpenter 0.16 to 1.x: its time per old node.

    python -m benchmarks.migrate [--nodes 1 3] [--port-base 30300] [--out benchmarks/MIGRATE.md]

For each count of old nodes, one fresh sandbox after the other in the legacy profile, on the same port range
(state under .build/bench/): playbooks/karpenter.yml installs Karpenter 0.16 (legacy mode); that many nodes are
seeded as 0.16 launched them (molecule/migrate/old_nodes.py), with molecule/migrate/workload.yml's Deployment
scaled to one pod per old node (its PodDisruptionBudget: one less); then, timed, playbooks/migrate.yml (plan,
0.16 stopped and its release removed, IAM, 1.x with the converted pools and verify, the old nodes drained one
at a time, 0.16 removed), and a no-op re-run. Prints a markdown table: per count the wall and CPU time, API
calls and tasks; the time each old node adds (the difference between the largest and the smallest count,
divided by the difference in nodes) and its ratio to the migration with the fewest nodes. No figure is
asserted: the numbers depend on the machine.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import collection as bench
from sandbox import charts

ROOT = Path(__file__).resolve().parent.parent


KARPENTER_YML = ROOT / "playbooks" / "karpenter.yml"
MIGRATE_YML = ROOT / "playbooks" / "migrate.yml"
SCENARIO = ROOT / "molecule" / "migrate"
LEGACY_VERSION = "0.16.0"


class Box(bench.Box):
    """A benchmark sandbox in the legacy profile (Karpenter 0.16's charts) on a given port base."""

    def __init__(self, name, base):
        super(Box, self).__init__(name)
        self.base = base

    def _cli(self, command):
        argv = [sys.executable, "-m", "sandbox", command, "--state-dir", str(self.state), "--port-base",
                str(self.base), "--cluster", self.cluster]
        if command == "up":
            argv += ["--karpenter-version", LEGACY_VERSION]
        res = subprocess.run(argv, cwd=str(ROOT), env=bench._clean_env(), capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError("`%s` failed (exit %d):\n%s" % (" ".join(argv[1:]), res.returncode, res.stderr[-3000:]))
        return res


def _seed(box, nodes):
    env = dict(bench._ansible_env(box.env))
    subprocess.run([sys.executable, str(SCENARIO / "old_nodes.py"), "seed", box.cluster, "default", str(nodes)],
                   cwd=str(ROOT), env=env, check=True, capture_output=True, text=True)
    docs = list(__import__("yaml").safe_load_all((SCENARIO / "workload.yml").read_text()))
    docs[0]["spec"]["replicas"] = nodes
    docs[1]["spec"]["minAvailable"] = max(nodes - 1, 0)
    subprocess.run(["kubectl", "apply", "-f", "-"], input="\n---\n".join(json.dumps(d) for d in docs), cwd=str(ROOT),
                   env=env, check=True, capture_output=True, text=True)
    subprocess.run(["kubectl", "rollout", "status", "deployment/web", "--timeout=120s"], cwd=str(ROOT), env=env,
                   check=True, capture_output=True, text=True)


def _one(nodes, base, target):
    box = Box("migrate-%d" % nodes, base)
    try:
        bench.log("%d old nodes: sandbox in the legacy profile" % nodes)
        box.up()
        bench.play(KARPENTER_YML, box.env, vars_files=[box.vars_file],
                   args=["-e", "karpenter_skip_compatibility_check=true"], label="install %s" % LEGACY_VERSION)
        _seed(box, nodes)
        extra = ["-e", "karpenter_version=%s" % target]
        migrate = bench.play(MIGRATE_YML, box.env, vars_files=[box.vars_file], logs=[box], args=extra,
                             label="migrate %d nodes" % nodes)
        noop = bench.play(MIGRATE_YML, box.env, vars_files=[box.vars_file], logs=[box], args=extra,
                          label="no-op after the migration")
        return {"migrate": migrate, "noop": noop}
    finally:
        box.down()


def table(results):
    counts = sorted(results)
    lines = ["| old nodes | migration wall, s | CPU, s | AWS reads / writes | kube reads / writes | tasks run / changed "
             "| no-op re-run wall, s / changed |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for n in counts:
        m, z = results[n]["migrate"], results[n]["noop"]
        lines.append("| %d | %.1f | %.1f | %d / %d | %d / %d | %d / %d | %.1f / %d |" % (
            n, m.wall, m.cpu, m.calls["aws_reads"], m.calls["aws_writes"], m.calls["kube_reads"], m.calls["kube_writes"],
            m.executed, m.changed, z.wall, z.changed))
    if len(counts) > 1:
        lo, hi = counts[0], counts[-1]
        per_node = (results[hi]["migrate"].wall - results[lo]["migrate"].wall) / (hi - lo)
        base = results[lo]["migrate"].wall
        lines.append("")
        lines.append("Each old node adds %.1f s (%d to %d nodes); ratio per node / migration of %d node%s: %.2f; "
                     "ratio migration of %d / of %d: %.2f." % (per_node, lo, hi, lo, "" if lo == 1 else "s",
                                                                per_node / base if base else 0, hi, lo,
                                                                results[hi]["migrate"].wall / base if base else 0))
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--nodes", type=int, nargs="+", default=[1, 3])
    p.add_argument("--port-base", type=int, default=30300)
    p.add_argument("--out", help="also write the table, with the machine, to this file")
    args = p.parse_args(argv)
    bench.BENCH.mkdir(parents=True, exist_ok=True)
    target = charts.chart_version()
    started = time.monotonic()
    results = {n: _one(n, args.port_base, target) for n in sorted(set(args.nodes))}
    text = table(results)
    print(text)
    if args.out:
        m = bench.machine()
        Path(args.out).write_text(
            "# Migration from 0.16 to 1.x, per old node\n\n"
            "`make bench-migrate` (benchmarks/migrate.py): Karpenter %s with old nodes seeded as 0.16 launched them and "
            "one pod of a Deployment under a PodDisruptionBudget on each, migrated to %s with playbooks/migrate.yml "
            "(one node at a time), then re-run. Machine: %s cores, %s, %s; whole benchmark %.0f s.\n\n%s\n"
            % (LEGACY_VERSION, target, m["nproc"], m["memory"], m["cpu"], time.monotonic() - started, text))
    return 0


if __name__ == "__main__":
    sys.exit(main())

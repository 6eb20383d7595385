"""An upgrade of Karpenter from the oldest release the sandbox serves to the default, beside a fresh install.

    python -m benchmarks.upgrade [--runs 1] [--port-base 30000] [--out benchmarks/UPGRADE.md]

For each run, one fresh sandbox after the other, on the same port range (state under .build/bench/):
  1. upgrade: a sandbox serving the oldest release too (--extra-karpenter-version); playbooks/karpenter.yml
     with karpenter_version at the oldest release; inflate scaled to 3, so that its controller has launched
     nodes; then, timed, karpenter.yml at the default version (the upgrade: IAM stack, rules, karpenter-crd,
     karpenter, verify), and a no-op re-run;
  2. fresh: a new sandbox; karpenter.yml at the default version, timed.
Both sides run the real controllers as the chart's pods. Prints a markdown table with the median of each
figure side by side and the ratio upgrade / fresh install: wall time, CPU time of ansible-playbook and
everything it ran (modules, helm; not the sandbox's servers), and API calls (AWS requests and kube-apiserver
calls, reads / writes, as benchmarks/collection.py counts them: the audit log leaves out control-plane users
and the controller's own service account).
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import collection as bench
from sandbox import charts, tools

ROOT = Path(__file__).resolve().parent.parent


PLAYBOOK = ROOT / "playbooks" / "karpenter.yml"
INFLATE = ROOT / "playbooks" / "inflate.yml"


def oldest_release():
    return sorted(tools.karpenter_groups(), key=lambda v: tuple(int(p) for p in v.split(".")))[0]


class Box(bench.Box):
    """A benchmark sandbox on a given port base that also serves ``extra`` Karpenter releases."""

    def __init__(self, name, base, extra=()):
        super(Box, self).__init__(name)
        self.base = base
        self.extra = list(extra)

    def _cli(self, command):
        argv = [sys.executable, "-m", "sandbox", command, "--state-dir", str(self.state), "--port-base",
                str(self.base), "--cluster", self.cluster]
        if command == "up":
            argv += ["--extra-karpenter-version=%s" % v for v in self.extra]
        res = subprocess.run(argv, cwd=str(ROOT), env=bench._clean_env(), capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError("`%s` failed (exit %d):\n%s" % (" ".join(argv[1:]), res.returncode, res.stderr[-3000:]))
        return res


def _one_run(run, base, oldest, default):
    out = {}
    box = Box("upgrade", base, extra=[oldest])
    try:
        bench.log("run %d: sandbox serving %s and %s" % (run, oldest, default))
        box.up()
        out["install_oldest"] = bench.play(PLAYBOOK, box.env, vars_files=[box.vars_file], logs=[box],
                                           # The sandbox runs Kubernetes 1.36, which Karpenter supports from 1.13.
                                           args=["-e", "karpenter_version=%s" % oldest,
                                                 "-e", "karpenter_skip_compatibility_check=true"],
                                           label="install %s" % oldest)
        bench.play(INFLATE, box.env, vars_files=[box.vars_file],
                   args=["-e", "inflate_replicas=3", "-e", "inflate_wait_timeout=180"], label="inflate 3")
        out["upgrade"] = bench.play(PLAYBOOK, box.env, vars_files=[box.vars_file], logs=[box],
                                    label="upgrade %s -> %s" % (oldest, default))
        out["noop_after"] = bench.play(PLAYBOOK, box.env, vars_files=[box.vars_file], logs=[box],
                                       label="no-op after the upgrade")
    finally:
        box.down()
    box = Box("fresh", base)
    try:
        bench.log("run %d: fresh sandbox, install of %s" % (run, default))
        box.up()
        out["fresh"] = bench.play(PLAYBOOK, box.env, vars_files=[box.vars_file], logs=[box],
                                  label="fresh install %s" % default)
    finally:
        box.down()
    return out


def table(runs, oldest, default):
    med = bench.median

    def figures(key):
        rs = [r[key] for r in runs]
        return {
            "wall": med([r.wall for r in rs]), "cpu": med([r.cpu for r in rs]),
            "aws_r": med([r.calls["aws_reads"] for r in rs]), "aws_w": med([r.calls["aws_writes"] for r in rs]),
            "kube_r": med([r.calls["kube_reads"] for r in rs]), "kube_w": med([r.calls["kube_writes"] for r in rs]),
            "changed": med([r.changed for r in rs]), "executed": med([r.executed for r in rs]),
        }

    up, fresh, first, noop = figures("upgrade"), figures("fresh"), figures("install_oldest"), figures("noop_after")

    def ratio(a, b):
        return "%.2f" % (a / b) if b else "n/a"

    rows = [
        ("wall time, s", "%.1f", "wall"), ("CPU time, s (ansible-playbook and its children)", "%.1f", "cpu"),
        ("AWS requests, reads", "%d", "aws_r"), ("AWS requests, writes", "%d", "aws_w"),
        ("kube-apiserver calls, reads", "%d", "kube_r"), ("kube-apiserver calls, writes", "%d", "kube_w"),
        ("tasks run / changed", None, None),
    ]
    lines = [
        "| figure (median of %d) | upgrade %s -> %s | fresh install %s | ratio upgrade / fresh | install %s (before) "
        "| no-op after the upgrade |" % (len(runs), oldest, default, default, oldest),
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for label, fmt, key in rows:
        if key is None:
            lines.append("| %s | %d / %d | %d / %d | %s | %d / %d | %d / %d |" % (
                label, up["executed"], up["changed"], fresh["executed"], fresh["changed"],
                ratio(up["executed"], fresh["executed"]), first["executed"], first["changed"],
                noop["executed"], noop["changed"]))
            continue
        lines.append("| %s | %s | %s | %s | %s | %s |" % (label, fmt % up[key], fmt % fresh[key], ratio(up[key], fresh[key]),
                                                          fmt % first[key], fmt % noop[key]))
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--port-base", type=int, default=30000)
    p.add_argument("--out", help="also write the table, with the machine, to this file")
    args = p.parse_args(argv)
    bench.BENCH.mkdir(parents=True, exist_ok=True)
    oldest, default = oldest_release(), charts.chart_version()
    if oldest == default:
        raise SystemExit("the sandbox builds only Karpenter %s; an upgrade needs an older release "
                         "(a module sandbox/go/karpenter-<minor>/)" % default)
    tools.ensure_karpenter(oldest, log=bench.log)  # built once, before anything is timed
    started = time.monotonic()
    runs = [_one_run(run, args.port_base, oldest, default) for run in range(1, args.runs + 1)]
    text = table(runs, oldest, default)
    print(text)
    if args.out:
        m = bench.machine()
        Path(args.out).write_text(
            "# Upgrade beside a fresh install\n\n"
            "`make bench-upgrade` (benchmarks/upgrade.py): Karpenter %s installed with just-in-time nodes, then "
            "playbooks/karpenter.yml at %s (IAM stack, rules, karpenter-crd, karpenter, verify), beside "
            "karpenter.yml at %s on a fresh sandbox; the real controllers run as the chart's pods, and the AWS "
            "requests counted include those the running controller sends during the run (the no-op's writes). "
            "Machine: %s cores, %s, %s; whole benchmark %.0f s.\n\n%s\n"
            % (oldest, default, default, m["nproc"], m["memory"], m["cpu"], time.monotonic() - started, text))
    return 0


if __name__ == "__main__":
    sys.exit(main())

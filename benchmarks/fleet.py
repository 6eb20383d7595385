"""A fleet: playbooks/karpenter.yml on 1, 3 and 6 clusters in one run, found by the inventory plugin.

    python -m benchmarks.fleet [--runs 2] [--port-start 28600] [--out benchmarks/FLEET.md]

Six fresh sandboxes (state under .build/bench/fleet-<n>), one AWS emulator for all of them (the first
sandbox's; the others start with `python -m sandbox up --aws-url`), the clusters alternating between us-east-1
and us-west-2. The run is what a user types:

    ansible-playbook -i <dir>/ playbooks/karpenter.yml -e karpenter_hosts=eks_clusters --forks <n>

where <dir> holds fleet.eks_clusters.yml (jit.karpenter.eks_clusters over both regions, name_patterns picking
the first n clusters) and group_vars/all.yml (the first sandbox's chart registry). No kubeconfig: every cluster
is reached with EKS tokens, as in molecule/fleet.

One cold run converges all six; then, for each size, --runs no-op runs (sizes alternating, so that load from
other processes falls on each alike). Per run: the wall time, and the CPU seconds (user + system) of the whole
ansible-playbook process tree - the playbook, its forks, every module and helm process it started - from
getrusage(RUSAGE_CHILDREN) around it; not the sandboxes' servers. "Module runs" counts the task results that
start a module process (everything but the actions the controller runs itself, such as set_fact, assert and
include_*). Every no-op run must change nothing; the benchmark fails otherwise.

With --attach DIR the benchmark starts no sandbox: it uses the six that run in DIR (fleet-1 ... fleet-6, as
another invocation of this benchmark started them, already converged) and makes only the no-op runs; so two
trees of the collection can be measured side by side, under the same load, on the same clusters.

Goal: at most 4 CPU seconds per cluster on a no-op run.
"""

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from sandbox.cluster import Sandbox
from sandbox.harness import Harness

ROOT = Path(__file__).resolve().parent.parent


BENCH = ROOT / ".build" / "bench"
PLAYBOOK = ROOT / "playbooks" / "karpenter.yml"
CALLBACKS = ROOT / "benchmarks" / "callback_plugins"
SIZES = (1, 3, 6)
REGIONS = ("us-east-1", "us-west-2")
GOAL_CPU_PER_CLUSTER = 4.0
NOTES_MARKER = "<!-- notes: written by hand, kept when the table above is regenerated -->"
# Actions that the controller runs in its own process: no module process starts for them.
CONTROLLER_ACTIONS = {
    "set_fact", "assert", "debug", "fail", "meta", "include_tasks", "import_tasks", "include_role", "import_role",
    "include_vars", "add_host", "group_by", "set_stats", "pause", "validate_argument_spec",
}


def log(msg):
    print("bench: %s" % msg, file=sys.stderr, flush=True)


def _clean_env():
    drop = ("AWS_", "KUBECONFIG", "K8S_AUTH_", "HELM_", "SANDBOX_", "ANSIBLE_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["PYTHONPATH"] = str(ROOT)
    return env


class Fleet(object):
    """Sandboxes bench-fleet-1..n; the first runs the AWS emulator, the others seed into it."""

    def __init__(self, n, port_start, state=BENCH):
        self.n = n
        self.state = Path(state)
        self.port_start = port_start
        self.boxes = []  # (cluster, region, state dir, port base)

    def _cli(self, *args):
        argv = [sys.executable, "-m", "sandbox"] + list(args)
        res = subprocess.run(argv, cwd=str(ROOT), env=_clean_env(), capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError("`%s` failed (exit %d):\n%s" % (" ".join(argv[1:]), res.returncode, res.stderr[-3000:]))

    def up(self):
        base = self.port_start
        for i in range(1, self.n + 1):
            while not Sandbox(state_dir="unused", port_base=base).ports_free():
                base += 100
            cluster, region, state = "bench-fleet-%d" % i, REGIONS[(i - 1) % 2], self.state / ("fleet-%d" % i)
            self._cli("down", "--state-dir", str(state))  # what an interrupted run left
            self.boxes.append((cluster, region, state, base))
            t0 = time.monotonic()
            extra = ["--aws-url", self.aws_url] if i > 1 else []
            self._cli("up", "--state-dir", str(state), "--port-base", str(base), "--cluster", cluster,
                      "--region", region, *extra)
            log("sandbox %s (%s) up on port base %d in %.1fs" % (cluster, region, base, time.monotonic() - t0))
            base += 100
        return self

    def attach(self):
        """The sandboxes running in the state directory, as ``up`` left them."""
        for i in range(1, self.n + 1):
            state = self.state / ("fleet-%d" % i)
            cfg = json.loads((state / "sandbox.json").read_text())
            self.boxes.append((cfg["cluster"], cfg["region"], state, int(cfg["port_base"])))
        log("attached to %s" % ", ".join(b[0] for b in self.boxes))
        return self

    @property
    def aws_url(self):
        return "http://127.0.0.1:%d" % (self.boxes[0][3] + 50)

    def down(self):
        for cluster, _, state, _ in reversed(self.boxes):
            try:
                self._cli("down", "--state-dir", str(state))
            except Exception as e:  # noqa: BLE001 - stop the others all the same
                log("stopping %s failed: %s" % (cluster, e))

    def inventory(self, work, size):
        """An inventory directory that finds the first ``size`` clusters."""
        inv = work / ("inventory-%d" % size)
        (inv / "group_vars").mkdir(parents=True, exist_ok=True)
        (inv / "fleet.eks_clusters.yml").write_text(yaml.safe_dump({
            "plugin": "jit.karpenter.eks_clusters", "regions": list(REGIONS), "hostname_format": "{name}.{region}",
            "name_patterns": [b[0] for b in self.boxes[:size]]}))
        first = yaml.safe_load((self.boxes[0][2] / "vars.yml").read_text())
        (inv / "group_vars" / "all.yml").write_text(yaml.safe_dump({
            "karpenter_chart_registry": first["karpenter_chart_registry"], "karpenter_chart_plain_http": True}))
        return inv

    def env(self, work):
        box_env = Harness(self.boxes[0][2]).env()
        env = _clean_env()
        env.update({
            "AWS_ENDPOINT_URL": self.aws_url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "HELM_CONFIG_HOME": str(work / "helm" / "config"), "HELM_CACHE_HOME": str(work / "helm" / "cache"),
            "HELM_DATA_HOME": str(work / "helm" / "data"),
            "PATH": os.pathsep.join([box_env["SANDBOX_BIN_PATH"], str(Path(sys.executable).parent),
                                     os.environ.get("PATH", "")]),
            "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
            "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".build" / "collections"),
            "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACKS), "ANSIBLE_CALLBACKS_ENABLED": "bench_timings",
            "ANSIBLE_NOCOLOR": "true",
        })
        return env


class Run(object):
    def __init__(self, size, wall, cpu, data, stdout):
        self.size, self.wall, self.cpu, self.stdout = size, wall, cpu, stdout
        self.recap = data["recap"]
        self.tasks = data["tasks"]

    @property
    def changed(self):
        return sum(r["changed"] for r in self.recap.values())

    @property
    def module_runs(self):
        return sum(len([s for s in t["statuses"] if s != "skipped"]) for t in self.tasks
                   if t["action"].rsplit(".", 1)[-1] not in CONTROLLER_ACTIONS)

    @property
    def executed(self):
        return sum(len([s for s in t["statuses"] if s != "skipped"]) for t in self.tasks)


def play(fleet, work, size, label, must_pass=True):
    timings = work / "timings.json"
    env = fleet.env(work)
    env["BENCH_TIMINGS_FILE"] = str(timings)
    argv = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(fleet.inventory(work, size)),
            str(PLAYBOOK), "-e", "karpenter_hosts=eks_clusters", "--forks", str(size)]
    r0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    res = subprocess.run(argv, cwd=str(ROOT), env=env, capture_output=True, text=True)
    wall, r1 = time.monotonic() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    if res.returncode != 0 and (must_pass or not timings.exists()):
        raise RuntimeError("%s failed (exit %d):\n%s\n%s" % (label, res.returncode, res.stdout[-4000:], res.stderr[-2000:]))
    run = Run(size, wall, cpu, json.loads(timings.read_text()), res.stdout)
    run.failed = sorted(h for h, r in run.recap.items() if r["failures"] or r["unreachable"])
    timings.unlink()
    if len(run.recap) != size:
        raise RuntimeError("%s: the inventory gave %d hosts, not %d: %s" % (label, len(run.recap), size, sorted(run.recap)))
    log("%s: %.1fs wall, %.1f CPU s (%.2f per cluster), %d module runs, changed %d"
        % (label, wall, cpu, cpu / size, run.module_runs, run.changed))
    return run


def converge(fleet, work, label):
    """A converge of all six (the first run is the cold one); again, at most twice, while a cluster fails - on a
    loaded machine a chart can miss Helm's wait. The first run is returned."""
    first = run = play(fleet, work, max(SIZES), label, must_pass=False)
    for attempt in range(2):
        if not run.failed:
            break
        log("%s: %s failed; converging again%s" % (label, ", ".join(run.failed), _failures(run, work, label)))
        run = play(fleet, work, max(SIZES), "%s, again %d" % (label, attempt + 1), must_pass=False)
    if run.failed:
        raise RuntimeError("%s: %s still fail%s" % (label, ", ".join(run.failed), _failures(run, work, label)))
    return first


def _failures(run, work, label):
    """The failed tasks' lines of a run, and where its whole output is kept (beside the work directory)."""
    path = work.parent / ("fleet-%s.log" % "".join(c if c.isalnum() else "-" for c in label))
    path.write_text(run.stdout)
    lines = [line for line in run.stdout.splitlines() if line.startswith(("fatal:", "failed:")) or "FAILED!" in line]
    return ":\n%s\n(whole output: %s)" % ("\n".join(line[:600] for line in lines[:12]), path)


def _median(values):
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def table(cold, noops):
    base = {k: _median([r.cpu / r.size for r in noops[1]]) for k in ("cpu",)}
    wall1 = _median([r.wall for r in noops[1]])
    lines = [
        "| clusters | run | wall s | ratio to 1 | CPU s (tree) | CPU s per cluster | ratio to 1 | module runs per cluster "
        "| goal (CPU s per cluster) | status |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    if cold is not None:
        lines.append("| %d | cold%s | %.1f | | %.1f | %.2f | | %.0f | | |" % (
            cold.size, " (%d failed, converged again)" % len(cold.failed) if cold.failed else "", cold.wall, cold.cpu, cold.cpu / cold.size, cold.module_runs / cold.size))
    for size in SIZES:
        runs = noops[size]
        wall, cpu = _median([r.wall for r in runs]), _median([r.cpu for r in runs])
        per = cpu / size
        lines.append("| %d | no-op (median of %d) | %.1f | %.2f | %.1f | %.2f | %.2f | %.0f | <= %.1f | %s |" % (
            size, len(runs), wall, wall / wall1, cpu, per, per / base["cpu"],
            _median([r.module_runs for r in runs]) / size, GOAL_CPU_PER_CLUSTER,
            "met" if per <= GOAL_CPU_PER_CLUSTER else "not met (%.1fx)" % (per / GOAL_CPU_PER_CLUSTER)))
    return "\n".join(lines)


def slowest(runs, n=8):
    """The no-op tasks that took longest (per run, task start to its last host's result), 6 clusters."""
    agg = {}
    for r in runs:
        for t in r.tasks:
            key = (t["action"], t["name"])
            agg.setdefault(key, []).append(t["span"] or 0.0)
    rows = sorted(((sum(v) / len(runs), k) for k, v in agg.items()), reverse=True)[:n]
    return "\n".join("| %s | %s | %.2f |" % (k[1], k[0], s) for s, k in rows)


def _loadavg():
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def write(path, text, started, took, loads, extra):
    notes = ""
    if path.exists() and NOTES_MARKER in path.read_text():
        notes = path.read_text().split(NOTES_MARKER, 1)[1]
    body = ["# Fleet benchmark", "",
            "`make bench-fleet` (benchmarks/fleet.py) on %s: %d CPUs, load average %s before and %s after; %.1f min."
            % (started, os.cpu_count(), loads[0], loads[1], took / 60), "", text, "", extra, "", NOTES_MARKER]
    path.write_text("\n".join(body) + notes)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=2, help="no-op runs per size (default 2)")
    p.add_argument("--port-start", type=int, default=28600, help="first port base tried (step 100; default 28600)")
    p.add_argument("--attach", type=Path, default=None, metavar="DIR",
                   help="use the six converged sandboxes running in DIR (fleet-1 ... fleet-6): no-op runs only")
    p.add_argument("--out", type=Path, default=None, help="also write this markdown file (benchmarks/FLEET.md)")
    args = p.parse_args(argv)

    def interrupted(signum, frame):
        raise KeyboardInterrupt()

    signal.signal(signal.SIGTERM, interrupted)
    BENCH.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="fleet-work-", dir=str(BENCH)))
    started, t0, load0 = time.strftime("%Y-%m-%d"), time.monotonic(), _loadavg()
    fleet = Fleet(max(SIZES), args.port_start, state=args.attach or BENCH)
    cold = None
    try:
        if args.attach:
            fleet.attach()
            converge(fleet, work, "%d clusters, converge first (not measured)" % max(SIZES))
        else:
            fleet.up()
            cold = converge(fleet, work, "%d clusters, cold" % max(SIZES))
        noops = {size: [] for size in SIZES}
        for i in range(args.runs):
            for size in (SIZES if i % 2 == 0 else tuple(reversed(SIZES))):
                run = play(fleet, work, size, "%d clusters, no-op %d" % (size, i + 1))
                if run.changed:
                    raise RuntimeError("a no-op run changed something:\n%s" % run.stdout[-3000:])
                noops[size].append(run)
    finally:
        if not args.attach:
            fleet.down()
        subprocess.run(["rm", "-rf", str(work)])
    text = table(cold, noops)
    extra = "\n".join(["The no-op tasks that took longest, %d clusters (seconds, task start to the last host's result):"
                       % max(SIZES), "", "| task | action | s |", "|---|---|---|", slowest(noops[max(SIZES)])])
    print(text)
    print()
    print(extra)
    took = time.monotonic() - t0
    if args.out:
        write(args.out, text, started, took, (load0, _loadavg()), extra)
        log("wrote %s" % args.out)
    log("done in %.1f min" % (took / 60))
    return 0


if __name__ == "__main__":
    sys.exit(main())

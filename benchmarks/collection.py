"""The collection against fresh sandboxes: converge, the Ansible floor, API calls, check mode,
aws-auth scale, node pools and several clusters at once.

    python -m benchmarks.collection [--runs 3] [--out benchmarks/RESULTS.md]

Every sandbox gets a state directory under .build/bench/ and a free port range from 28600 up (step
200), so a running default sandbox is not touched; each is started fresh and stopped at the end,
also on failure or interrupt. Prints one markdown table; with --out, also writes it with the
machine and the versions, keeping whatever follows the notes marker of the existing file.

Time is wall clock of the ansible-playbook process unless a row says "task": then it is the
task's own time from the bench_timings callback (benchmarks/callback_plugins). Ratios compare
runs made side by side in the same invocation, alternating, so that load from other processes
on a shared machine falls on both sides alike.

Phases:
  A  one sandbox: cold converge of playbooks/karpenter.yml; no-op re-runs alternating with the
     floor (a generated playbook of as many `command: /bin/true` tasks as the no-op run executed);
     a --check run; the iam_identity_mapping module on aws-auth-like ConfigMaps of 1 to 5,000
     entries; the nodepool module on its own with 1, 10 and 50 pools.
  B  four sandboxes: the playbook on 1 and on 4 clusters in one run (forks), cold and no-op.
API calls are the lines each run appends to the sandbox's AWS request log and kube-apiserver audit
log (control-plane users are not audited). Kube verbs create/update/patch/delete/deletecollection
are writes (dry runs included, and also counted on their own), get/list/watch reads.
"""

import argparse
import importlib.metadata
import json
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from sandbox import charts
from sandbox.cluster import Sandbox
from sandbox.harness import Harness

ROOT = Path(__file__).resolve().parent.parent


BENCH = ROOT / ".build" / "bench"
PLAYBOOK = ROOT / "playbooks" / "karpenter.yml"
CALLBACKS = ROOT / "benchmarks" / "callback_plugins"
NOTES_MARKER = "<!-- notes: written by hand, kept when the table above is regenerated -->"
KUBE_WRITES = {"create", "update", "patch", "delete", "deletecollection"}
KUBE_READS = {"get", "list", "watch"}
AWS_AUTH_SIZES = (1, 100, 1000, 5000)
NODEPOOL_COUNTS = (1, 10, 50)


def log(msg):
    print("bench: %s" % msg, file=sys.stderr, flush=True)


def median(values):
    return statistics.median(values) if values else float("nan")


# ---------------------------------------------------------------------------------- sandboxes


def _clean_env():
    drop = ("AWS_", "KUBECONFIG", "K8S_AUTH_", "HELM_", "SANDBOX_", "ANSIBLE_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["PYTHONPATH"] = str(ROOT)
    return env


def _ports_free(base):
    return Sandbox(state_dir="unused", port_base=base).ports_free()


class Box(object):
    """One sandbox of the benchmark's own: fresh state, free port range."""

    taken = set()
    started = []

    def __init__(self, name):
        self.name = name
        self.cluster = "bench-" + name
        self.state = BENCH / name
        self.base = None
        self.env = None
        self.vars = None

    def _cli(self, command):
        argv = [sys.executable, "-m", "sandbox", command, "--state-dir", str(self.state), "--port-base",
                str(self.base), "--cluster", self.cluster]
        res = subprocess.run(argv, cwd=str(ROOT), env=_clean_env(), capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError("`%s` failed (exit %d):\n%s" % (" ".join(argv[1:]), res.returncode, res.stderr[-3000:]))
        return res

    def up(self, attempts=3):
        if self not in Box.started:
            Box.started.append(self)
        t0 = time.monotonic()
        for attempt in range(attempts):
            if self.base is None:
                self.base = next(b for b in range(28600, 32600, 200) if b not in Box.taken and _ports_free(b))
                Box.taken.add(self.base)
            self._cli("down")  # whatever an earlier, interrupted run left
            try:
                self._cli("up")
                break
            except RuntimeError as e:
                # A port of the range can be taken between the check and the start (another sandbox,
                # or an outgoing connection's ephemeral port): stop what started, take the next range.
                if "is taken" not in str(e) or attempt == attempts - 1:
                    raise
                self._cli("down")
                self.base = None
        log("sandbox %s up on port base %d in %.1fs" % (self.cluster, self.base, time.monotonic() - t0))
        self.env = Harness(self.state).env(path=True)
        self.vars = yaml.safe_load((self.state / "vars.yml").read_text())
        return self

    def down(self):
        if self.base is not None:
            self._cli("down")

    @property
    def vars_file(self):
        return self.state / "vars.yml"

    def kube(self):
        from kubernetes import config

        return config.new_client_from_config(str(self.state / "kubeconfig"))

    def logs(self):
        return ApiLogs(self.state / "logs")


class ApiLogs(object):
    """Counts the lines appended to the AWS request log and the audit log since creation."""

    def __init__(self, logs):
        self.aws = logs / "aws-requests.jsonl"
        self.audit = logs / "audit.log"
        self.offsets = {p: (p.stat().st_size if p.exists() else 0) for p in (self.aws, self.audit)}

    def _new_lines(self, path):
        if not path.exists():
            return []
        with open(path, "rb") as f:
            f.seek(self.offsets[path])
            return [json.loads(line) for line in f.read().splitlines() if line.strip()]

    def count(self):
        time.sleep(0.5)  # the audit backend writes as requests complete; let the last lines land
        aws = self._new_lines(self.aws)
        kube = self._new_lines(self.audit)
        kube_writes = [e for e in kube if e["verb"] in KUBE_WRITES]
        return {
            "aws_reads": sum(1 for e in aws if not e["write"]),
            "aws_writes": sum(1 for e in aws if e["write"]),
            "aws_write_ops": sorted({e["operation"] for e in aws if e["write"]}),
            "kube_reads": sum(1 for e in kube if e["verb"] in KUBE_READS),
            "kube_writes": len(kube_writes),
            "kube_dry_run_writes": sum(1 for e in kube_writes if "dryRun=" in e["requestURI"]),
            "kube_write_calls": sorted({"%s %s" % (e["verb"], e["requestURI"].split("?")[0]) for e in kube_writes}),
            "kube_other": sum(1 for e in kube if e["verb"] not in KUBE_WRITES | KUBE_READS),
        }


# ---------------------------------------------------------------------------------- ansible


def _ansible_env(box_env=None):
    env = _clean_env()
    env.update(box_env or {})
    env.update(
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".build" / "collections"),
        ANSIBLE_CALLBACK_PLUGINS=str(CALLBACKS),
        ANSIBLE_CALLBACKS_ENABLED="bench_timings",
        ANSIBLE_FORCE_COLOR="false",
        ANSIBLE_NOCOLOR="true",
    )
    return env


class Run(object):
    def __init__(self, wall, cpu, data, calls, stdout):
        self.wall = wall
        self.cpu = cpu
        self.tasks = data["tasks"]
        self.recap = data["recap"]
        self.calls = calls
        self.stdout = stdout

    @property
    def executed(self):
        """Tasks run (not skipped), summed over hosts: PLAY RECAP ok (which includes changed) + failed."""
        return sum(r["ok"] + r["failures"] for r in self.recap.values())

    @property
    def changed(self):
        return sum(r["changed"] for r in self.recap.values())

    def task(self, name):
        found = [t for t in self.tasks if t["name"] == name]
        if len(found) != 1:
            raise RuntimeError("task %r found %d times" % (name, len(found)))
        return found[0]["end"] - found[0]["start"]


def play(playbook, box_env=None, args=(), vars_files=(), logs=(), inventory="localhost,", label=""):
    """Run ansible-playbook; return a Run (wall seconds, task timings, recap, API calls)."""
    with tempfile.NamedTemporaryFile(prefix="timings-", suffix=".json", dir=str(BENCH), delete=False) as f:
        timings = Path(f.name)
    env = _ansible_env(box_env)
    env["BENCH_TIMINGS_FILE"] = str(timings)
    argv = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", inventory, str(playbook)]
    for vf in vars_files:
        argv += ["-e", "@%s" % vf]
    argv += list(args)
    counters = [b.logs() for b in logs]
    r0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    res = subprocess.run(argv, cwd=str(ROOT), env=env, capture_output=True, text=True)
    wall, r1 = time.monotonic() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU time of ansible-playbook and everything it ran (modules, helm); not the sandbox's servers.
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    try:
        if res.returncode != 0:
            raise RuntimeError("%s failed (exit %d):\n%s\n%s" % (label or playbook, res.returncode, res.stdout[-4000:],
                                                                 res.stderr[-2000:]))
        data = json.loads(timings.read_text())
    finally:
        timings.unlink(missing_ok=True)
    calls = _sum_calls([c.count() for c in counters]) if counters else None
    log("%s: %.1fs%s" % (label or playbook.name, wall, "" if calls is None else " %s" % _short(calls)))
    return Run(wall, cpu, data, calls, res.stdout)


def _sum_calls(items):
    out = {}
    for item in items:
        for k, v in item.items():
            out[k] = sorted(set(out.get(k, [])) | set(v)) if isinstance(v, list) else out.get(k, 0) + v
    return out


def _short(c):
    return "aws r/w %d/%d, kube r/w %d/%d" % (c["aws_reads"], c["aws_writes"], c["kube_reads"], c["kube_writes"])


def _write_yaml(path, data):
    path.write_text("---\n" + yaml.safe_dump(data, sort_keys=False, width=1000))
    return path


def floor_playbook(path, n):
    tasks = [{"name": "true %d" % (i + 1), "ansible.builtin.command": "/bin/true", "changed_when": False}
             for i in range(n)]
    return _write_yaml(path, [{
        "name": "The Ansible floor: %d tasks that do nothing" % n,
        "hosts": "localhost", "connection": "local", "gather_facts": False,
        "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        "tasks": tasks,
    }])


def _plain_play(name, tasks):
    return [{
        "name": name, "hosts": "localhost", "connection": "local", "gather_facts": False,
        "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        "tasks": tasks,
    }]


# ---------------------------------------------------------------------------------- phase A


def phase_converge(box, runs, work):
    """Cold converge, then no-op runs alternating with the floor, then --check."""
    out = {}
    cold = play(PLAYBOOK, box.env, vars_files=[box.vars_file], logs=[box], label="cold converge")
    out["cold"] = cold
    noops, floors = [], []
    floor = None
    for i in range(runs):
        noop = play(PLAYBOOK, box.env, vars_files=[box.vars_file], logs=[box], label="no-op %d" % (i + 1))
        if noop.changed:
            raise RuntimeError("the no-op re-run changed %d task(s):\n%s" % (noop.changed, noop.stdout[-3000:]))
        noops.append(noop)
        if floor is None:
            floor = floor_playbook(work / "floor.yml", noop.executed)
        floors.append(play(floor, box.env, label="floor %d (%d tasks)" % (i + 1, noop.executed)))
    out["noops"], out["floors"] = noops, floors
    out["check"] = play(PLAYBOOK, box.env, args=["--check"], vars_files=[box.vars_file], logs=[box], label="--check")
    return out


def slowest(runs, n=10):
    """The n slowest tasks by median span (profile_tasks' measure) over runs, with their action."""
    spans, actions = {}, {}
    for r in runs:
        for t in r.tasks:
            if "skipped" in t["statuses"] and len(set(t["statuses"])) == 1:
                continue
            spans.setdefault(t["name"], []).append(t["span"])
            actions[t["name"]] = t["action"]
    rows = sorted(((median(v), k) for k, v in spans.items()), reverse=True)[:n]
    return [(k, actions[k], s) for s, k in rows]


# aws-auth as eksctl and hand edits leave it: a comment, mixed key order, a user list.
def _aws_auth_text(n):
    lines = ["# managed by hand and by eksctl; keep this comment\n"]
    for i in range(n):
        arn = "arn:aws:iam::111122223333:role/team-%05d-NodeInstanceRole" % i
        if i % 3 == 0:
            lines.append("- groups:\n  - system:bootstrappers\n  - system:nodes\n  rolearn: %s\n"
                         "  username: system:node:{{EC2PrivateDNSName}}\n" % arn)
        elif i % 3 == 1:
            lines.append("- rolearn: %s\n  username: team-%05d\n  groups:\n    - team-%05d-editors\n" % (arn, i, i))
        else:
            lines.append("  # entry %d\n- rolearn: %s\n  username: 'ops:{{SessionName}}'\n  groups: [ops]\n" % (i, arn))
    return "".join(lines)


_USERS = "- userarn: arn:aws:iam::111122223333:user/alice\n  username: alice\n  groups:\n  - system:masters\n"


def phase_aws_auth(box, work, reps=4):
    """iam_identity_mapping adding one entry to ConfigMaps of 1 to 5,000 entries, interleaved."""
    from kubernetes import client

    core = client.CoreV1Api(box.kube())
    ns = "bench-aws-auth"
    core.create_namespace({"metadata": {"name": ns}})
    before = {}
    for n in AWS_AUTH_SIZES:
        name = "aws-auth-%d" % n
        data = {"mapRoles": _aws_auth_text(n), "mapUsers": _USERS}
        core.create_namespaced_config_map(ns, {"metadata": {"name": name, "namespace": ns}, "data": data})
        before[n] = data
    tasks = []
    kubeconfig = str(box.state / "kubeconfig")
    # Rep 0 warms the module's first load and is not counted.
    for rep in range(reps + 1):
        for n in AWS_AUTH_SIZES:
            tasks.append({
                "name": "aws-auth %d entries, add %d" % (n, rep),
                "jit.karpenter.iam_identity_mapping": {
                    "arn": "arn:aws:iam::111122223333:role/bench-added-%d" % rep,
                    "mapped_username": "bench-added-%d" % rep, "groups": ["bench"],
                    "namespace": ns, "name": "aws-auth-%d" % n, "kubeconfig": kubeconfig,
                },
            })
    pb = _write_yaml(work / "aws-auth.yml", _plain_play("aws-auth scale", tasks))
    run = play(pb, box.env, logs=[box], label="aws-auth scale")
    times = {n: [run.task("aws-auth %d entries, add %d" % (n, rep)) for rep in range(1, reps + 1)] for n in AWS_AUTH_SIZES}
    stable = {}
    for n in AWS_AUTH_SIZES:
        after = core.read_namespaced_config_map("aws-auth-%d" % n, ns).data
        old, new = before[n]["mapRoles"], after["mapRoles"]
        added = yaml.safe_load(new[len(old):]) if new.startswith(old) else None
        want = [{"rolearn": "arn:aws:iam::111122223333:role/bench-added-%d" % rep, "username": "bench-added-%d" % rep,
                 "groups": ["bench"]} for rep in range(reps + 1)]
        stable[n] = added == want and after["mapUsers"] == before[n]["mapUsers"] and set(after) == set(before[n])
    return {"times": times, "stable": stable, "calls": run.calls, "reps": reps}


def _nodepool_task(names, cluster, role):
    return {
        "name": "node pools",
        "jit.karpenter.nodepool": {
            "name": "{{ item }}", "cluster_name": cluster,
            "labels": {"intent": "apps"},
            "requirements": [
                {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]},
                {"key": "karpenter.k8s.aws/instance-size", "operator": "NotIn",
                 "values": ["nano", "micro", "small", "medium", "large"]},
            ],
            "limits": {"cpu": "1000", "memory": "1000Gi"},
            "disruption": {"consolidation_policy": "WhenEmpty", "consolidate_after": "30s"},
            "expire_after": "720h",
            "nodeclass": {"role": role, "tags": {"NodeType": "bench"}},
            "kubeconfig": "{{ sandbox_kubeconfig }}",
        },
        "loop": names,
    }


def phase_nodepools(box, work, reps):
    """The nodepool module alone (one looped task), N pools created then re-run unchanged."""
    role = "KarpenterNodeRole-%s" % box.cluster
    out = {n: {"create": [], "noop": [], "create_wall": [], "noop_wall": [], "noop_calls": []} for n in NODEPOOL_COUNTS}
    for rep in range(reps):
        for n in NODEPOOL_COUNTS:
            names = ["bench-%d-%d-%d" % (n, rep, i) for i in range(n)]
            pb = _write_yaml(work / ("nodepools-%d.yml" % n),
                             _plain_play("%d node pools" % n, [_nodepool_task(names, box.cluster, role)]))
            for phase in ("create", "noop"):
                r = play(pb, box.env, vars_files=[box.vars_file], logs=[box], label="%d node pools, %s" % (n, phase))
                out[n][phase].append(r.task("node pools"))
                out[n][phase + "_wall"].append(r.wall)
                if phase == "noop":
                    out[n]["noop_calls"].append(r.calls)
    return out


# ---------------------------------------------------------------------------------- phase B


def multi_playbook(path):
    """A play like karpenter.yml's for the inventory group bench_clusters, each host with its own environment.

    As an ops repo would write it: the role jit.karpenter.karpenter on every host of the group, and a
    play-level `environment` that takes each host's AWS endpoint, kubeconfig, Helm homes and PATH from its
    host vars (each sandbox is a separate emulator and API server).
    """
    play = {
        "name": "Karpenter on every benchmark cluster", "hosts": "bench_clusters", "connection": "local",
        "gather_facts": False, "environment": "{{ bench_environment }}",
        "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        "tasks": [{"name": "Karpenter", "ansible.builtin.include_role": {"name": "jit.karpenter.karpenter"}}],
    }
    return _write_yaml(path, [play])


def multi_inventory(path, boxes):
    hosts = {}
    for b in boxes:
        hv = {"ansible_connection": "local", "bench_environment": b.env, "bench_vars": b.vars}
        hosts[b.cluster] = hv
    return _write_yaml(path, {"all": {"children": {"bench_clusters": {"hosts": hosts}}}})


def _per_host_extra_vars(boxes):
    """Each host's vars.yml as extra vars, resolved per host: `-e '{"cluster_name": "{{ bench_vars.cluster_name }}"}'`.

    Extra vars outrank the play's own vars (aws_region, the chart registry, the kubeconfig), and are
    templated in each host's context, so every host gets its own sandbox's values.
    """
    keys = sorted(set().union(*(b.vars for b in boxes)))
    extra = {k: "{{ bench_vars.%s }}" % k for k in keys}
    extra["karpenter_kubeconfig"] = "{{ bench_vars.sandbox_kubeconfig }}"
    return json.dumps(extra)


def play_multi(boxes, work, label):
    inv = multi_inventory(work / ("inventory-%d.yml" % len(boxes)), boxes)
    return play(work / "karpenter-multi.yml", None, args=["--forks", str(len(boxes)), "-e", _per_host_extra_vars(boxes)],
                inventory=str(inv), logs=boxes, label=label)


def phase_multi(runs, work):
    multi_playbook(work / "karpenter-multi.yml")
    boxes = [Box("m%d" % i) for i in range(1, 5)]
    for b in boxes:
        b.up()
    out = {"cold1": play_multi(boxes[:1], work, "1 cluster, cold")}
    boxes[0].down()
    boxes[0].up()
    out["cold4"] = play_multi(boxes, work, "4 clusters, cold")
    out["noop1"], out["noop4"] = [], []
    for i in range(runs):
        out["noop1"].append(play_multi(boxes[:1], work, "1 cluster, no-op %d" % (i + 1)))
        out["noop4"].append(play_multi(boxes, work, "4 clusters, no-op %d" % (i + 1)))
    for r in out["noop1"] + out["noop4"]:
        if r.changed:
            raise RuntimeError("a multi-cluster no-op run changed something:\n%s" % r.stdout[-3000:])
    return out, boxes


# ---------------------------------------------------------------------------------- report


def machine():
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    return {"nproc": os.cpu_count(), "memory": "%.1f GiB" % (mem / 1024 / 1024), "cpu": cpu}


def versions(box):
    from kubernetes import client

    server = client.VersionApi(box.kube()).get_code().git_version
    return {
        "ansible-core": importlib.metadata.version("ansible-core"),
        "python": platform.python_version(),
        "kubernetes server": server,
        "Karpenter charts": charts.chart_version(),
        "moto": importlib.metadata.version("moto"),
        "helm": box.env.get("SANDBOX_BIN_PATH", "") and _helm_version(box.env),
    }


def _helm_version(env):
    res = subprocess.run(["helm", "version", "--short"], env=dict(_clean_env(), **env), capture_output=True, text=True)
    return res.stdout.strip() or "unknown"


def _status(ok):
    return "met" if ok else "**MISSED**"


def _calls(c):
    return "%d / %d" % (c["aws_reads"], c["aws_writes"]), "%d / %d%s" % (
        c["kube_reads"], c["kube_writes"], " (%d dry-run)" % c["kube_dry_run_writes"] if c["kube_dry_run_writes"] else "")


def table(a, aws_auth, pools, multi, runs):
    rows = []

    def row(what, value, target="", status=""):
        rows.append("| %s | %s | %s | %s |" % (what, value, target, status))

    cold, noops, floors, check = a["cold"], a["noops"], a["floors"], a["check"]
    noop_med, floor_med = median([r.wall for r in noops]), median([r.wall for r in floors])
    pair = median([n.wall / f.wall for n, f in zip(noops, floors)])
    row("converge, cold (1 run)", "%.1f s" % cold.wall)
    row("converge, no-op re-run (median of %d)" % len(noops), "%.1f s (%s)" % (noop_med, ", ".join("%.1f" % r.wall for r in noops)))
    row("floor: %d × `command: /bin/true` (median of %d, alternating with the no-op)" % (noops[0].executed, len(floors)),
        "%.1f s" % floor_med)
    ratio = noop_med / floor_med
    row("**no-op / floor** (ratio of medians; median of per-pair ratios %.2f)" % pair, "**%.2f**" % ratio, "≤ 1.5",
        _status(ratio <= 1.5))
    cpu_n, cpu_f = median([r.cpu for r in noops]), median([r.cpu for r in floors])
    row("no-op / floor in CPU time of the ansible-playbook process tree (%.1f s / %.1f s; less sensitive to load)"
        % (cpu_n, cpu_f), "%.2f" % (cpu_n / cpu_f))
    for i, (name, action, span) in enumerate(slowest(noops), 1):
        row("no-op slowest task %d: %s (`%s`)" % (i, name.replace("|", "/"), action), "%.2f s" % span)
    for label, run in (("cold converge", cold), ("no-op re-run (first)", noops[0]), ("`--check` on the converged cluster", check)):
        aws, kube = _calls(run.calls)
        target = "0 writes" if run is not cold else ""
        ok = run.calls["aws_writes"] == 0 and run.calls["kube_writes"] == 0
        row("API calls, %s: AWS reads / writes" % label, aws, target, _status(run.calls["aws_writes"] == 0) if target else "")
        row("API calls, %s: kube reads / writes" % label, kube, target, _status(run.calls["kube_writes"] == 0) if target else "")
        if target and not ok:
            row("… writes seen", ", ".join(run.calls["aws_write_ops"] + run.calls["kube_write_calls"]))
    other_noops = noops[1:]
    if other_noops and any(r.calls["aws_writes"] or r.calls["kube_writes"] for r in other_noops):
        row("no-op re-runs 2..%d: writes" % len(noops), ", ".join(_short(r.calls) for r in other_noops), "0", _status(False))
    row("`--check` on the converged cluster, time", "%.1f s" % check.wall)

    base = median(aws_auth["times"][1])
    for n in AWS_AUTH_SIZES:
        t = median(aws_auth["times"][n])
        target, status = ("≤ 2× of 1 entry", _status(t / base <= 2)) if n == max(AWS_AUTH_SIZES) else ("", "")
        row("aws-auth: add 1 entry to %s (task, median of %d): time, × 1-entry; untouched text byte-stable"
            % ("{:,} entries".format(n), aws_auth["reps"]),
            "%.2f s, %.2f×, %s" % (t, t / base, "yes" if aws_auth["stable"][n] else "**NO**"), target, status)

    for n in NODEPOOL_COUNTS:
        p = pools[n]
        writes = sum(c["aws_writes"] + c["kube_writes"] for c in p["noop_calls"])
        reads = median([c["kube_reads"] for c in p["noop_calls"]])
        row("node pools: %d, `nodepool` module alone, one looped task (median of %d): create / no-op; no-op kube reads, writes"
            % (n, len(p["create"])),
            "%.1f s / %.1f s; %d, %d" % (median(p["create"]), median(p["noop"]), reads, writes),
            "0 writes" if n == max(NODEPOOL_COUNTS) else "", _status(writes == 0))

    c1, c4 = multi["cold1"].wall, multi["cold4"].wall
    n1, n4 = median([r.wall for r in multi["noop1"]]), median([r.wall for r in multi["noop4"]])
    row("several clusters, cold: 1 cluster / 4 clusters (forks 4, 1 run each)", "%.1f s / %.1f s → **%.2f×**" % (c1, c4, c4 / c1))
    row("several clusters, no-op: 1 cluster / 4 clusters (median of %d, alternating)" % runs,
        "%.1f s / %.1f s → **%.2f×**" % (n1, n4, n4 / n1))
    w4 = sum(r.calls["aws_writes"] + r.calls["kube_writes"] for r in multi["noop4"])
    row("several clusters, no-op on 4 clusters: writes (all runs)", str(w4), "0", _status(w4 == 0))
    head = ["| measurement | value | target | status |", "| --- | --- | --- | --- |"]
    return "\n".join(head + rows)


def write_results(path, text, mach, vers, started, took, loads):
    notes = ""
    if path.exists():
        old = path.read_text()
        if NOTES_MARKER in old:
            notes = old[old.index(NOTES_MARKER) + len(NOTES_MARKER):]
    body = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`benchmarks/collection.py`) on %s in %.0f min." % (started, took / 60),
        "",
        "Machine: %d CPUs (%s), %s memory; load average %s at the start and %s at the end. The machine"
        % (mach["nproc"], mach["cpu"], mach["memory"], loads[0], loads[1]),
        "was shared with other work while this ran, so absolute times are noisy: read the ratios, which",
        "compare runs made side by side in the same invocation.",
        "",
        "Versions: " + ", ".join("%s %s" % (k, v) for k, v in vers.items()) + ".",
        "",
        text,
        "",
        NOTES_MARKER,
    ]
    path.write_text("\n".join(body) + (notes if notes.strip() else "\n"))


def _loadavg():
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3, help="no-op/floor pairs and multi-cluster no-op pairs (default 3)")
    p.add_argument("--nodepool-runs", type=int, default=1)
    p.add_argument("--aws-auth-runs", type=int, default=4)
    p.add_argument("--out", type=Path, default=None, help="also write this markdown file (benchmarks/RESULTS.md)")
    args = p.parse_args(argv)

    def interrupted(signum, frame):
        raise KeyboardInterrupt()

    signal.signal(signal.SIGTERM, interrupted)
    BENCH.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="work-", dir=str(BENCH)))
    started, t0, load0 = time.strftime("%Y-%m-%d"), time.monotonic(), _loadavg()
    try:
        box = Box("a").up()
        vers = versions(box)
        a = phase_converge(box, args.runs, work)
        aws_auth = phase_aws_auth(box, work, args.aws_auth_runs)
        pools = phase_nodepools(box, work, args.nodepool_runs)
        box.down()
        multi, _ = phase_multi(args.runs, work)
    finally:
        for b in reversed(Box.started):
            try:
                b.down()
            except Exception as e:  # noqa: BLE001 - stop the others all the same
                log("stopping %s failed: %s" % (b.cluster, e))
        for f in sorted(work.iterdir()):
            f.unlink()
        work.rmdir()
    text = table(a, aws_auth, pools, multi, args.runs)
    print(text)
    took = time.monotonic() - t0
    if args.out:
        write_results(args.out, text, machine(), vers, started, took, (load0, _loadavg()))
        log("wrote %s" % args.out)
    log("done in %.1f min" % (took / 60))
    return 0


if __name__ == "__main__":
    sys.exit(main())

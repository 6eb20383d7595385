"""Warm start of the sandbox: `down` then `up`, N times, with the binaries already cached.

    python -m benchmarks.sandbox_start [--runs 3] [--port-base 28400]

The sandbox under test has a state directory and port range of its own, so a running default
sandbox is not touched. Each run starts from nothing (`down` removes the state directory): new
PKI, new etcd, the emulator seeded afresh, the charts pushed. The time measured is what `up`
reports: nodes Ready, emulator seeded, registry serving. Prints one markdown table; the cold
build time comes from the cache (``build.json`` beside the binaries, or else the file times).
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sandbox import tools
from sandbox.cluster import AGENTS, COMPONENTS, Sandbox

ROOT = Path(__file__).resolve().parent.parent


TARGET_SECONDS = 30.0


def _env():
    drop = ("AWS_", "KUBECONFIG", "K8S_AUTH_", "HELM_", "SANDBOX_PORT_BASE")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return env


def _ports_free(base):
    return Sandbox(state_dir="unused", port_base=base).ports_free()


def _cli(command, state_dir, port_base, cluster):
    argv = [sys.executable, "-m", "sandbox", command, "--state-dir", str(state_dir), "--port-base", str(port_base),
            "--cluster", cluster]
    t0 = time.monotonic()
    res = subprocess.run(argv, cwd=str(ROOT), env=_env(), capture_output=True, text=True)
    wall = time.monotonic() - t0
    if res.returncode != 0:
        raise SystemExit("`%s` failed (exit %d):\n%s" % (" ".join(argv[1:]), res.returncode, res.stderr[-3000:]))
    return res, wall


def _build_seconds(group):
    """(seconds, how) for the cached build of ``group``, or (None, reason)."""
    out = tools.group_dir(group)
    record = out / "build.json"
    if record.is_file():
        return json.loads(record.read_text())["seconds"], "recorded"
    if not out.is_dir():
        return None, "not cached"
    # The build directory is created when the build starts; the binaries are written as it ends.
    born = subprocess.run(["stat", "-c", "%W", str(out)], capture_output=True, text=True).stdout.strip()
    binaries = [p for p in out.iterdir() if p.is_file()]
    if not born.isdigit() or int(born) == 0 or not binaries:
        return None, "unknown"
    return round(max(p.stat().st_mtime for p in binaries) - int(born), 1), "from file times"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--port-base", type=int, default=None, help="default: the first free range from 28400")
    p.add_argument("--cluster", default="bench")
    args = p.parse_args(argv)

    base = args.port_base or next(b for b in range(28400, 32600, 100) if _ports_free(b))
    state = Path(tempfile.mkdtemp(prefix="sandbox-bench-")) / "state"
    print("building or finding the cached binaries ...", file=sys.stderr, flush=True)
    tools.ensure_all(log=lambda m: print(m, file=sys.stderr, flush=True))

    ups, walls, downs = [], [], []
    try:
        for i in range(args.runs):
            _, down_wall = _cli("down", state, base, args.cluster)
            if i:
                downs.append(down_wall)
            res, wall = _cli("up", state, base, args.cluster)
            m = re.search(r"up in ([0-9.]+)s \(started: ([^)]*)\)", res.stderr)
            if not m or m.group(2) != ", ".join(COMPONENTS + AGENTS):
                raise SystemExit("`up` did not start the whole sandbox:\n%s" % res.stderr[-3000:])
            ups.append(float(m.group(1)))
            walls.append(wall)
            print("run %d: up %.1fs (wall %.1fs)" % (i + 1, ups[-1], wall), file=sys.stderr, flush=True)
    finally:
        _, down_wall = _cli("down", state, base, args.cluster)
        downs.append(down_wall)
        shutil.rmtree(state.parent, ignore_errors=True)

    median = statistics.median(ups)
    builds = {g: _build_seconds(g) for g in tools.GROUPS}
    known = [s for s, _ in builds.values() if s is not None]
    cold = ", ".join("%s %s" % (g, "%.0f s (%s)" % (s, how) if s is not None else how) for g, (s, how) in builds.items())

    print("| sandbox start (%d-core machine) | seconds |" % os.cpu_count())
    print("| --- | --- |")
    print("| warm `up`, median of %d (nodes Ready, emulator seeded, registry serving) | **%.1f** |" % (len(ups), median))
    print("| warm `up`, each run | %s |" % ", ".join("%.1f" % u for u in ups))
    print("| warm `up`, median wall clock of the CLI | %.1f |" % statistics.median(walls))
    print("| `down`, median | %.1f |" % statistics.median(downs))
    print("| cold build of the binaries (%s) | %s |" % (cold, "%.0f" % sum(known) if known else "n/a"))
    print("| target: warm `up` <= %.0f s | %s |" % (TARGET_SECONDS, "met" if median <= TARGET_SECONDS else "MISSED"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

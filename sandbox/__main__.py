"""Command line: python -m sandbox {up,down,status,build,controller,env}.

Every command on an existing sandbox takes its ports from the sandbox's state directory. ``env`` prints, as
JSON, what sandbox.harness reads from it: ``{"env": {...the env file's variables}, "ports": {...}}``.
"""

import argparse
import json
import sys
from pathlib import Path

from sandbox import tools
from sandbox.cluster import AUTHENTICATION_MODES, DEFAULT_STATE, Sandbox
from sandbox.emulator.profiles import DEFAULT_PROFILE, PROFILES
from sandbox.harness import Harness
from sandbox.tools import SandboxError


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m sandbox", description="Local stand-in for an EKS cluster.")
    p.add_argument("command", choices=["up", "down", "status", "build", "controller", "env"])
    p.add_argument("--cluster", default="demo")
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--state-dir", default=None, help="state directory (default: .sandbox in the repository)")
    p.add_argument(
        "--profile",
        choices=PROFILES,
        default=None,
        help="the cluster the sandbox starts from, as the tool that made it left it (default %s; "
        "a running sandbox keeps its own)" % DEFAULT_PROFILE,
    )
    p.add_argument(
        "--authentication-mode",
        choices=AUTHENTICATION_MODES,
        default=None,
        help="the cluster's accessConfig.authenticationMode when it is created (default: the "
        "profile's, CONFIG_MAP for eksctl, API_AND_CONFIG_MAP for terraform and karpenter-guide)",
    )
    p.add_argument(
        "--port-base",
        type=int,
        default=None,
        help="first port of the range of a new sandbox (default: $SANDBOX_PORT_BASE or 26400); "
        "an existing sandbox keeps the one in its state directory",
    )
    p.add_argument(
        "--karpenter-version",
        default=None,
        help="Karpenter version written to vars.yml: the pinned one (default) or a 0.16.x (legacy profile)",
    )
    p.add_argument(
        "--extra-karpenter-version",
        action="append",
        default=None,
        metavar="X.Y.Z",
        help="also serve this Karpenter release (its charts, and its controller for pods of its image), "
        "built from sandbox/go/karpenter-<minor>/; repeatable; a new sandbox only",
    )
    p.add_argument(
        "--aws-url",
        default=None,
        metavar="http://127.0.0.1:PORT",
        help="use the AWS emulator at this URL (another sandbox's, at its port base + 50) instead of "
        "starting one: the clusters of several sandboxes in one AWS endpoint; a new sandbox only",
    )
    args = p.parse_args(argv)
    log = lambda m: print("sandbox: %s" % m, file=sys.stderr, flush=True)  # noqa: E731
    state_dir = Path(args.state_dir).resolve() if args.state_dir else DEFAULT_STATE
    if args.command == "env":
        box = Harness(state_dir)
        if not box.exists():
            print("sandbox: error: no sandbox in %s (its env file is absent)" % state_dir, file=sys.stderr)
            return 2
        print(json.dumps({"env": box.env(), "ports": box.ports}, indent=2, sort_keys=True))
        return 0
    try:
        sb = Sandbox(
            state_dir=state_dir,
            cluster=args.cluster,
            region=args.region,
            port_base=args.port_base,
            log=log,
            authentication_mode=args.authentication_mode,
            karpenter_version=args.karpenter_version,
            profile=args.profile,
            extra_karpenter_versions=args.extra_karpenter_version,
            aws_url=args.aws_url,
        )
        if args.command == "build":
            for name, path in sorted(tools.ensure_all(log=log).items()):
                print("%-24s %s" % (name, path))
        elif args.command == "up":
            sb.up()
            for name, state, pid in sb.status():
                print("%-20s %-8s pid %s" % (name, state, pid))
            print("env:  . %s/env" % sb.state)
            print("vars: %s/vars.yml" % sb.state)
        elif args.command == "status":
            rows = sb.status()
            for name, state, pid in rows:
                print("%-20s %-8s %s" % (name, state, "pid %s" % pid if pid else ""))
            _print_pods(sb)
            return 0 if all(s == "running" for _, s, _ in rows) else 1
        elif args.command == "controller":
            # The sandbox runs the controller for each pod of the chart's Deployment (sandbox/controller.py).
            if not sb.alive("karpenter-pods"):
                raise SandboxError("karpenter-pods is not running in %s; `python -m sandbox up` starts it" % sb.state)
            if not _print_pods(sb):
                print("no pod of the Karpenter chart yet: playbooks/karpenter.yml installs it")
        elif args.command == "down":
            stopped = sb.down()
            print("stopped: %s" % (", ".join(stopped) or "nothing was running"))
    except SandboxError as e:
        print("sandbox: error: %s" % e, file=sys.stderr)
        return 2
    return 0


def _print_pods(sb):
    """One line per pod of the Karpenter chart that the sandbox runs (or emulates); how many."""
    from sandbox import controller

    rows = controller.pod_rows(sb)
    for r in rows:
        state = "emulated" if r["emulated"] else ("running" if r["pid"] else (r["waiting"] or "starting"))
        detail = (
            "pid %s ports %s" % (r["pid"], ",".join(str(p) for p in sorted(r["ports"].values()))) if r["pid"] else ""
        )
        print(
            "pod %s  %s%s, %s%s%s"
            % (
                r["pod"],
                state,
                " " + r["version"] if r.get("version") else "",
                "ready" if r["ready"] else "not ready",
                ", " + detail if detail else "",
                ", terminating" if r["terminating"] else "",
            )
        )
    return len(rows)


if __name__ == "__main__":
    sys.exit(main())

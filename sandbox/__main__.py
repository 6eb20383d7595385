"""Command line: python -m sandbox {up,down,status,build,controller [start|stop]}."""

import argparse
import sys
from pathlib import Path

from sandbox import tools
from sandbox.cluster import AUTHENTICATION_MODES, DEFAULT_STATE, Sandbox
from sandbox.emulator.profiles import DEFAULT_PROFILE, PROFILES
from sandbox.tools import SandboxError


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m sandbox", description="Local stand-in for an EKS cluster.")
    p.add_argument("command", choices=["up", "down", "status", "build", "controller"])
    p.add_argument("action", nargs="?", choices=["start", "stop"], default="start",
                   help="controller: start (default) or stop the Karpenter controller and the node agent")
    p.add_argument("--cluster", default="demo")
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--state-dir", default=None, help="state directory (default: .sandbox in the repository)")
    p.add_argument("--profile", choices=PROFILES, default=None,
                   help="the cluster the sandbox starts from, as the tool that made it left it (default %s; "
                        "a running sandbox keeps its own)" % DEFAULT_PROFILE)
    p.add_argument("--authentication-mode", choices=AUTHENTICATION_MODES, default=None,
                   help="the cluster's accessConfig.authenticationMode when it is created (default: the "
                        "profile's, CONFIG_MAP for eksctl, API_AND_CONFIG_MAP for terraform and karpenter-guide)")
    p.add_argument("--port-base", type=int, default=None, help="first port of the range (default: $SANDBOX_PORT_BASE or 26400)")
    p.add_argument("--karpenter-version", default=None,
                   help="Karpenter version written to vars.yml: the pinned one (default) or a 0.16.x (legacy profile)")
    args = p.parse_args(argv)
    log = lambda m: print("sandbox: %s" % m, file=sys.stderr, flush=True)  # noqa: E731
    state_dir = Path(args.state_dir).resolve() if args.state_dir else DEFAULT_STATE
    sb = Sandbox(state_dir=state_dir, cluster=args.cluster, region=args.region, port_base=args.port_base, log=log,
                 authentication_mode=args.authentication_mode, karpenter_version=args.karpenter_version,
                 profile=args.profile)
    try:
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
            return 0 if all(s == "running" for _, s, _ in rows) else 1
        elif args.command == "controller":
            from sandbox import controller

            if args.action == "start":
                controller.start_all(sb, log=log)
            else:
                stopped = [n for n in ("node-agent", "karpenter") if sb.stop(n)]
                print("stopped: %s" % (", ".join(stopped) or "nothing was running"))
        elif args.command == "down":
            stopped = sb.down()
            print("stopped: %s" % (", ".join(stopped) or "nothing was running"))
    except SandboxError as e:
        print("sandbox: error: %s" % e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

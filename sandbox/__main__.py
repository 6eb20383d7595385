"""Command line: python -m sandbox {up,down,status,build}."""

import argparse
import sys

from sandbox import tools
from sandbox.cluster import Sandbox
from sandbox.tools import SandboxError


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m sandbox", description="Local stand-in for an EKS cluster.")
    p.add_argument("command", choices=["up", "down", "status", "build"])
    p.add_argument("--cluster", default="demo")
    p.add_argument("--region", default="us-east-1")
    args = p.parse_args(argv)
    log = lambda m: print("sandbox: %s" % m, file=sys.stderr, flush=True)  # noqa: E731
    sb = Sandbox(cluster=args.cluster, region=args.region, log=log)
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
        elif args.command == "down":
            stopped = sb.down()
            print("stopped: %s" % (", ".join(stopped) or "nothing was running"))
    except SandboxError as e:
        print("sandbox: error: %s" % e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The AWS emulator's catalogue cache: server CPU and wall time of Karpenter's catalogue reads, with and without.

    python benchmarks/emulator.py [--rounds 5] [--port 33950] [--out benchmarks/EMULATOR.md]

Two emulator servers start side by side, one as the sandbox runs it and one with ``--no-catalogue-cache``
(moto alone). Each round makes the reads a Karpenter controller makes when it starts and on its refresh
loops: every page of DescribeInstanceTypes, DescribeInstanceTypeOfferings by zone, and
DescribeSpotPriceHistory, in two regions. Prints one markdown table with the ratios.
"""

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent


def _cpu_seconds(pid):
    fields = Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _start(port, *extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_"))}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.Popen([sys.executable, "-m", "sandbox.emulator.server", "--port", str(port), *extra],
                            cwd=str(ROOT), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/_sandbox/health" % port, timeout=2):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the emulator on port %d did not start" % port)


def _round(url):
    for region in ("us-east-1", "us-west-2"):
        ec2 = boto3.client("ec2", endpoint_url=url, region_name=region,
                           aws_access_key_id="testing", aws_secret_access_key="testing")
        for _ in ec2.get_paginator("describe_instance_types").paginate(PaginationConfig={"PageSize": 100}):
            pass
        ec2.describe_instance_type_offerings(LocationType="availability-zone")
        ec2.describe_spot_price_history()


def measure(port, rounds, *extra):
    proc = _start(port, *extra)
    try:
        url = "http://127.0.0.1:%d" % port
        cpu0, t0 = _cpu_seconds(proc.pid), time.monotonic()
        for _ in range(rounds):
            _round(url)
        return _cpu_seconds(proc.pid) - cpu0, time.monotonic() - t0
    finally:
        proc.terminate()
        proc.wait(30)


def _free(port):
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--port", type=int, default=33950)
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    if not _free(args.port):
        raise SystemExit("port %d is taken" % args.port)
    moto_cpu, moto_wall = measure(args.port, args.rounds, "--no-catalogue-cache")
    kept_cpu, kept_wall = measure(args.port, args.rounds)
    lines = [
        "# The emulator's catalogue cache",
        "",
        "%d rounds of Karpenter's catalogue reads (every DescribeInstanceTypes page, offerings by zone, spot "
        "price history; us-east-1 and us-west-2), against one emulator each (`python benchmarks/emulator.py`)." % args.rounds,
        "",
        "| | moto alone (`--no-catalogue-cache`) | with the cache | ratio |",
        "| --- | --- | --- | --- |",
        "| server CPU seconds | %.1f | %.1f | %.1fx |" % (moto_cpu, kept_cpu, moto_cpu / max(kept_cpu, 0.01)),
        "| wall seconds (client included) | %.1f | %.1f | %.1fx |" % (moto_wall, kept_wall, moto_wall / max(kept_wall, 0.01)),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()

"""A second, independent sandbox beside the running one: its own issuer, and its lifecycle.

The tests below share one second sandbox and run in file order: status, a killed component,
idempotent `up`, commands that take its ports from its state directory, a port taken by a foreign
process, `down`, and `up` failing on a taken port.
"""

import base64
import contextlib
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from sandbox.harness import Harness

if not Harness().exists():
    pytest.skip("no sandbox: .sandbox/env is absent (start one with `make sandbox`)", allow_module_level=True)

import boto3  # noqa: E402
from .sandbox_testlib import REPO_ROOT, cli_env, free_port_base, openid_issuer, run_cli, tls_handshake  # noqa: E402

from sandbox.cluster import AGENTS, COMPONENTS, Sandbox  # noqa: E402

CLUSTER = "other"


class Second(object):
    def __init__(self, state_dir, port_base):
        self.state = state_dir
        self.port_base = port_base
        self.ports = Sandbox(state_dir=state_dir, port_base=port_base).ports

    def cli(self, *args):
        return run_cli(*args, state_dir=self.state, port_base=self.port_base, cluster=CLUSTER)

    def status(self):
        """(returncode, {component: (state, pid or None)}) from `python -m sandbox status`."""
        res = self.cli("status")
        rows = {}
        for line in res.stdout.splitlines():
            if line.startswith("pod "):  # the Karpenter chart's pods (none here)
                continue
            m = re.fullmatch(r"(\S+)\s+(running|DEAD|stopped)\s*(?:pid (\d+))?\s*", line)
            assert m, "unexpected status line %r in:\n%s" % (line, res.stdout)
            rows[m.group(1)] = (m.group(2), int(m.group(3)) if m.group(3) else None)
        return res.returncode, rows


@pytest.fixture(scope="module")
def second(tmp_path_factory):
    sb = Second(tmp_path_factory.mktemp("sbtest-second") / "state", free_port_base(27400))
    try:
        res = sb.cli("up")
        assert res.returncode == 0, res.stderr
        yield sb
    finally:
        sb.cli("down")


def _process_alive(pid):
    """True when ``pid`` is a live (non-zombie) process."""
    try:
        stat = Path("/proc/%d/stat" % pid).read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _group_members(pgid):
    """Live processes in process group ``pgid`` (components run in sessions of their own)."""
    members = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(d.name))
    return members


def _listening(port):
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _bindable(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


@contextlib.contextmanager
def _squat(port, timeout=5):
    """Listen on ``port`` as a foreign process would, once the kernel has released it."""
    deadline = time.time() + timeout
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        while True:
            try:
                s.bind(("127.0.0.1", port))
                break
            except OSError:
                # A killed listener's port comes free a moment after the process is gone.
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        s.listen(1)
        yield s


def _wait_gone(pid, timeout=10):
    deadline = time.time() + timeout
    while _process_alive(pid) and time.time() < deadline:
        time.sleep(0.1)
    return not _process_alive(pid)


def test_status_reports_every_component_running(second):
    rc, rows = second.status()
    assert rc == 0
    assert list(rows) == COMPONENTS + AGENTS
    for name, (state, pid) in rows.items():
        assert state == "running" and pid, (name, state, pid)
        assert _process_alive(pid), name
    for name in ("aws", "etcd", "apiserver", "kwok", "registry"):
        assert _listening(second.ports[name]), "%s not listening on %d" % (name, second.ports[name])


def test_issuer_is_unique_per_cluster(second, sbenv, sbvars, kube):
    from kubernetes import config

    env = Harness(second.state).env()
    assert env["AWS_ENDPOINT_URL"] != sbenv["AWS_ENDPOINT_URL"]
    eks = boto3.client(
        "eks",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_REGION"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    other = eks.describe_cluster(name=CLUSTER)["cluster"]
    first = boto3.client(
        "eks",
        endpoint_url=sbenv["AWS_ENDPOINT_URL"],
        region_name=sbenv["AWS_REGION"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).describe_cluster(name=sbvars["cluster_name"])["cluster"]

    assert other["identity"]["oidc"]["issuer"] != first["identity"]["oidc"]["issuer"]
    assert other["endpoint"] != first["endpoint"]
    # Each apiserver issues tokens as its own cluster's issuer.
    second_kube = config.new_client_from_config(env["KUBECONFIG"])
    assert openid_issuer(second_kube) == other["identity"]["oidc"]["issuer"]
    assert openid_issuer(kube) == first["identity"]["oidc"]["issuer"]
    # Each cluster's CA validates its own apiserver only.
    other_ca = base64.b64decode(other["certificateAuthority"]["data"])
    first_ca = base64.b64decode(first["certificateAuthority"]["data"])
    assert tls_handshake(other["endpoint"], other_ca)["commonName"] == "kube-apiserver"
    with pytest.raises(ssl.SSLCertVerificationError):
        tls_handshake(other["endpoint"], first_ca)


def test_killed_component_is_dead_then_restarted(second):
    _, before = second.status()
    pid = before["scheduler"][1]
    os.killpg(pid, signal.SIGKILL)
    assert _wait_gone(pid)

    rc, rows = second.status()
    assert rc != 0
    assert rows["scheduler"] == ("DEAD", None)
    assert all(rows[n] == before[n] for n in COMPONENTS + AGENTS if n != "scheduler")

    res = second.cli("up")
    assert res.returncode == 0, res.stderr
    assert "(started: scheduler)" in res.stderr
    rc, rows = second.status()
    assert rc == 0
    assert rows["scheduler"][0] == "running" and rows["scheduler"][1] != pid
    assert all(rows[n] == before[n] for n in COMPONENTS + AGENTS if n != "scheduler")


def test_up_again_starts_nothing(second):
    _, before = second.status()
    res = second.cli("up")
    assert res.returncode == 0, res.stderr
    assert "(started: nothing, all running)" in res.stderr
    rc, after = second.status()
    assert rc == 0 and after == before


def _cli_in_shell(state, *args, port_base_env):
    """`python -m sandbox ...` on ``state`` without --port-base, in a shell whose SANDBOX_PORT_BASE is another's."""
    env = dict(cli_env(), SANDBOX_PORT_BASE=str(port_base_env))
    return subprocess.run(
        [sys.executable, "-m", "sandbox", *args, "--state-dir", str(state), "--cluster", CLUSTER],
        cwd=str(REPO_ROOT),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_commands_take_the_ports_from_the_state_directory(second, sbenv):
    """In a shell set up for the first sandbox, commands on the second one still reach the second one."""
    first_base = urlsplit(sbenv["AWS_ENDPOINT_URL"]).port - 50
    assert first_base != second.port_base
    _, before = second.status()
    env_before = (second.state / "env").read_text()
    res = _cli_in_shell(second.state, "up", port_base_env=first_base)
    assert res.returncode == 0, res.stderr
    assert "(started: nothing, all running)" in res.stderr
    # Its env file and kubeconfig still name its own emulator and API server.
    assert (second.state / "env").read_text() == env_before
    assert Harness(second.state).env()["AWS_ENDPOINT_URL"] == "http://127.0.0.1:%d" % second.ports["aws"]
    assert "127.0.0.1:%d" % second.ports["apiserver"] in (second.state / "kubeconfig").read_text()
    res = _cli_in_shell(second.state, "status", port_base_env=first_base)
    assert res.returncode == 0, res.stdout + res.stderr
    assert second.status() == (0, before)
    res = _cli_in_shell(second.state, "controller", port_base_env=first_base)
    assert res.returncode == 0 and "no pod of the Karpenter chart yet" in res.stdout, res.stdout + res.stderr
    # An explicit port base that is not the sandbox's is refused, naming both.
    res = run_cli("status", state_dir=second.state, port_base=first_base, cluster=CLUSTER)
    assert res.returncode == 2
    assert "uses port base %d, not %d" % (second.port_base, first_base) in res.stderr, res.stderr


def test_port_taken_by_a_foreign_process_fails_up(second):
    _, before = second.status()
    pid = before["kwok"][1]
    os.killpg(pid, signal.SIGKILL)
    assert _wait_gone(pid)
    port = second.ports["kwok"]
    with _squat(port):
        res = second.cli("up")
        assert res.returncode != 0
        assert "port %d" % port in res.stderr and "kwok" in res.stderr, res.stderr
        assert "did not become ready" not in res.stderr
        rc, rows = second.status()
        assert rc != 0 and rows["kwok"][0] == "DEAD"
        assert all(rows[n] == before[n] for n in COMPONENTS + AGENTS if n != "kwok")
    # Once the port is free again, `up` starts what is missing.
    res = second.cli("up")
    assert res.returncode == 0, res.stderr
    assert "(started: kwok)" in res.stderr


def test_down_leaves_no_process_and_no_port(second):
    rc, rows = second.status()
    assert rc == 0
    pids = {n: pid for n, (_, pid) in rows.items()}
    res = second.cli("down")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "stopped: %s" % ", ".join(list(reversed(AGENTS)) + list(reversed(COMPONENTS)))
    for name, pid in pids.items():
        assert not _process_alive(pid), "%s (pid %d) still running" % (name, pid)
        assert _group_members(pid) == [], "%s left processes behind" % name
    for name, port in second.ports.items():
        assert not _listening(port), "%s port %d still accepts connections" % (name, port)
        assert _bindable(port), "%s port %d cannot be bound" % (name, port)
    assert not second.state.exists()
    rc, rows = second.status()
    assert rc != 0 and all(state == "stopped" for state, _ in rows.values())


def test_fresh_up_fails_fast_on_a_taken_port(second):
    port = second.ports["aws"]  # the first component `up` starts
    with _squat(port):
        res = second.cli("up")
    assert res.returncode != 0
    assert "port %d (for aws) is taken" % port in res.stderr, res.stderr
    _, rows = second.status()
    assert all(state == "stopped" for state, _ in rows.values()), rows
    assert not any(_listening(p) for n, p in second.ports.items() if n != "aws")

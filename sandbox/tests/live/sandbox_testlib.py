"""Helpers for the sandbox tests (a module of its own: the test modules import from it)."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path


REPO_ROOT = Path(__file__).resolve().parents[3]


def sandbox_tool(env, name):
    """Path of a pinned binary (kubectl, helm) from the env file's SANDBOX_BIN_PATH."""
    for d in env["SANDBOX_BIN_PATH"].split(":"):
        p = Path(d) / name
        if p.is_file():
            return str(p)
    raise AssertionError("%s not in SANDBOX_BIN_PATH %s" % (name, env["SANDBOX_BIN_PATH"]))


def ports_free(ports):
    for port in ports:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def free_port_base(start, stop=32600, step=100):
    """The first port base from ``start`` whose sandbox ports are all free."""
    from sandbox.cluster import Sandbox

    for base in range(start, stop, step):
        if ports_free(Sandbox(state_dir="unused", port_base=base).ports.values()):
            return base
    raise RuntimeError("no free port range for a second sandbox between %d and %d" % (start, stop))


def cli_env():
    """Environment for `python -m sandbox` that points at no running sandbox."""
    drop = ("AWS_", "KUBECONFIG", "K8S_AUTH_", "HELM_", "SANDBOX_PORT_BASE")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    return env


def run_cli(*args, state_dir, port_base, cluster, timeout=300):
    """Run `python -m sandbox ...` for the sandbox in ``state_dir``; return the CompletedProcess."""
    argv = [
        sys.executable,
        "-m",
        "sandbox",
        *args,
        "--state-dir",
        str(state_dir),
        "--port-base",
        str(port_base),
        "--cluster",
        cluster,
    ]
    return subprocess.run(argv, cwd=str(REPO_ROOT), env=cli_env(), capture_output=True, text=True, timeout=timeout)


def tls_handshake(url, ca_pem):
    """TLS-connect to ``url`` trusting only ``ca_pem`` (hostname checked); return the peer cert's subject."""
    import ssl
    from urllib.parse import urlsplit

    u = urlsplit(url)
    ctx = ssl.create_default_context(cadata=ca_pem.decode() if isinstance(ca_pem, bytes) else ca_pem)
    with socket.create_connection((u.hostname, u.port or 443), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname=u.hostname) as tls:
            return dict(x[0] for x in tls.getpeercert()["subject"])


def openid_issuer(api_client):
    """``issuer`` of the apiserver's /.well-known/openid-configuration."""
    resp = api_client.call_api(
        "/.well-known/openid-configuration",
        "GET",
        auth_settings=["BearerToken"],
        _preload_content=False,
        _return_http_data_only=True,
    )
    return json.loads(resp.data)["issuer"]

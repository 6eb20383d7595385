"""Helpers for the ecosystem tests (build, install, docs, AWX-style runs, version matrix).

The tools come from the virtualenv that runs pytest (so the same tests run on every supported
ansible-core: ``.venv``, ``.venv-min``, ``.venv-new``). Tests that need the sandbox skip when
``.sandbox/env`` is absent or its API server and AWS emulator do not answer.
"""

import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse


REPO_ROOT = Path(__file__).resolve().parents[2]
# The sandbox's state directory; SANDBOX_STATE_DIR points at another one (or a missing one to skip).
SANDBOX_STATE = Path(os.environ.get("SANDBOX_STATE_DIR") or REPO_ROOT / ".sandbox")
SANDBOX_ENV = SANDBOX_STATE / "env"
SANDBOX_VARS = SANDBOX_STATE / "vars.yml"
BIN = Path(sys.executable).parent


def tool(name):
    path = BIN / name
    assert path.exists(), "%s is not installed beside %s" % (name, sys.executable)
    return str(path)


def read_env(path):
    """``export K='v'`` lines, expanded by bash so that PATH="$X:$PATH" comes out right."""
    out = subprocess.run(
        ["bash", "-c", 'set -a; . "$1"; set +a; env -0', "bash", str(path)],
        capture_output=True,
        check=True,
    ).stdout.decode()
    env = dict(item.split("=", 1) for item in out.split("\0") if "=" in item)
    names = set()
    for line in path.read_text().splitlines():
        m = re.match(r"export ([A-Z0-9_]+)=", line)
        if m:
            names.add(m.group(1))
    return {k: env[k] for k in names if k in env}


def answers(url):
    u = urlparse(url)
    try:
        with socket.create_connection((u.hostname, u.port or (443 if u.scheme == "https" else 80)), timeout=3):
            return True
    except OSError:
        return False


def clean_env(extra=None):
    """The caller's environment without the repository's Ansible settings."""
    drop = ("ANSIBLE_", "PYTHONPATH", "K8S_AUTH_", "KUBECONFIG", "AWS_", "MOLECULE_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["ANSIBLE_FORCE_COLOR"] = "false"
    env["ANSIBLE_NOCOLOR"] = "true"
    env.update(extra or {})
    return env


def recap(stdout):
    """The PLAY RECAP counters of localhost as a dict of ints."""
    m = re.search(r"^localhost\s+:\s+(.*)$", stdout, re.M)
    assert m, "no PLAY RECAP in output:\n" + stdout[-3000:]
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(1))}

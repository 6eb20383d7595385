"""Helpers for the ecosystem tests (build, install, docs, AWX-style runs, version matrix).

The tools come from the virtualenv that runs pytest (so the same tests run on every supported
ansible-core: ``.venv``, ``.venv-min``, ``.venv-new``). Tests that need the sandbox skip when
``.sandbox/env`` is absent or its API server and AWS emulator do not answer.
"""

import os
import re
import socket
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

from sandbox.harness import Harness


REPO_ROOT = Path(__file__).resolve().parents[2]
# The sandbox, by its state directory; SANDBOX_STATE_DIR points at another one (or a missing one to skip).
SANDBOX = Harness(os.environ.get("SANDBOX_STATE_DIR") or None)
SANDBOX_VARS = SANDBOX.vars_file
BIN = Path(sys.executable).parent


def tool(name):
    path = BIN / name
    assert path.exists(), "%s is not installed beside %s" % (name, sys.executable)
    return str(path)


def answers(url):
    u = urlparse(url)
    try:
        with socket.create_connection((u.hostname, u.port or (443 if u.scheme == "https" else 80)), timeout=3):
            return True
    except OSError:
        return False


def running_sandbox():
    """The sandbox's environment (PATH with its helm and kubectl first); skips the test when there is no
    sandbox or its API server or AWS emulator does not answer."""
    if not SANDBOX.exists() or not SANDBOX_VARS.exists():
        pytest.skip("no sandbox (.sandbox/env); start it with `make sandbox`")
    env = SANDBOX.env(path=True)
    kubeconfig = yaml.safe_load(Path(env["KUBECONFIG"]).read_text())
    for url in (kubeconfig["clusters"][0]["cluster"]["server"], env["AWS_ENDPOINT_URL"]):
        if not answers(url):
            pytest.skip("the sandbox is not running (%s does not answer); `make sandbox`" % url)
    return env


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

# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the tests that run a playbook against the sandbox and count what the run wrote.

The sandbox is the one whose env file the shell sourced (tests/integration/run.sh sources it): KUBECONFIG
points into its state directory, beside its vars file and its logs. The writes of a run are the lines it
added to the AWS emulator's request log (requests signed with the run's access key: the Karpenter controller,
when the chart runs, signs its own with temporary keys) and to the kube-apiserver's audit log (dry runs count).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
KUBE_WRITE_VERBS = {"create", "update", "patch", "delete", "deletecollection"}


class Sandbox(object):
    """The sourced sandbox's files."""

    def __init__(self, kubeconfig):
        self.kubeconfig = kubeconfig
        self.state = Path(kubeconfig).parent
        self.vars_file = self.state / "vars.yml"
        self.aws_log = self.state / "logs" / "aws-requests.jsonl"
        self.audit_log = self.state / "logs" / "audit.log"


class PlaybookRun(object):
    """One ansible-playbook run: its exit code, its output and what it added to the two logs."""

    def __init__(self, proc, requests, audit, access_key):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.out = proc.stdout + proc.stderr
        self.requests = requests  # every AWS request of the run, whoever signed it
        self.mine = [r for r in requests if r.get("access_key") == access_key]
        self.audit = audit
        self.aws_writes = [r["service"] + ":" + r["operation"] for r in self.mine if r.get("write")]
        self.kube_writes = [
            "%s %s" % (e["verb"], e.get("requestURI")) for e in audit if e.get("verb") in KUBE_WRITE_VERBS
        ]


def _lines(path):
    return path.read_text().splitlines() if path.exists() else []


@pytest.fixture(scope="session")
def sandbox():
    kubeconfig = (os.environ.get("KUBECONFIG") or "").split(os.pathsep)[0]
    if not kubeconfig or not os.environ.get("AWS_ENDPOINT_URL"):
        pytest.skip("needs the sandbox: source its env file (KUBECONFIG, AWS_ENDPOINT_URL)")
    box = Sandbox(kubeconfig)
    if not box.vars_file.exists():
        pytest.skip("needs a running sandbox: %s is absent" % box.vars_file)
    return box


@pytest.fixture(scope="session")
def run_playbook(sandbox):
    """``run_playbook("karpenter.yml", "-e", "karpenter_version=1.13.1")`` -> PlaybookRun, with the sandbox's
    vars file before the arguments given."""

    def run(playbook, *args, timeout=600):
        before = len(_lines(sandbox.aws_log)), len(_lines(sandbox.audit_log))
        env = dict(
            os.environ,
            ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".build" / "collections"),
            ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
            ANSIBLE_FORCE_COLOR="false",
        )
        argv = [
            str(Path(sys.executable).parent / "ansible-playbook"),
            str(ROOT / "playbooks" / playbook),
            "-e",
            "@" + str(sandbox.vars_file),
        ]
        proc = subprocess.run(
            argv + list(args), cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
        time.sleep(1)  # the audit backend writes as requests complete
        requests = [json.loads(line) for line in _lines(sandbox.aws_log)[before[0] :] if line.strip()]
        audit = [json.loads(line) for line in _lines(sandbox.audit_log)[before[1] :] if line.strip()]
        return PlaybookRun(proc, requests, audit, env.get("AWS_ACCESS_KEY_ID"))

    return run

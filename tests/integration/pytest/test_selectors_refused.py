# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input, as a user gives it: node class selector terms that match nothing.

karpenter.yml must refuse them in its preflight, naming the selector and what exists, with nothing
written: 0 AWS writes in the emulator's request log and 0 Kubernetes writes in the API server's audit
log, counted over the whole run (dry runs count as writes too). AWS requests are those signed with the
run's access key (the request log names it); the audit log leaves out the sandbox's own components.

Needs a running sandbox (its env file sourced: KUBECONFIG points into its state directory); skipped otherwise.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys
import time

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
KUBECONFIG = (os.environ.get("KUBECONFIG") or "").split(os.pathsep)[0]
STATE = os.path.dirname(KUBECONFIG) if KUBECONFIG else ""
if not STATE or not os.path.exists(os.path.join(STATE, "vars.yml")):
    pytest.skip("needs a running sandbox (source its env file)", allow_module_level=True)

AWS_LOG = os.path.join(STATE, "logs", "aws-requests.jsonl")
AUDIT_LOG = os.path.join(STATE, "logs", "audit.log")
KUBE_WRITES = {"create", "update", "patch", "delete", "deletecollection"}


def _offset(path):
    return os.path.getsize(path) if os.path.exists(path) else 0


def _lines_since(path, offset):
    if not os.path.exists(path):
        return []
    with open(path, "rb") as handle:
        handle.seek(offset)
        return [json.loads(line) for line in handle.read().splitlines() if line.strip()]


def _run_playbook(tmp_path, extra):
    extra_file = tmp_path / "extra.yml"
    extra_file.write_text(yaml.safe_dump(extra))
    env = dict(
        os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "collections"), ANSIBLE_FORCE_COLOR="false"
    )
    return subprocess.run(
        [
            os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
            "playbooks/karpenter.yml",
            "-e",
            "@" + os.path.join(STATE, "vars.yml"),
            "-e",
            "@" + str(extra_file),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.parametrize(
    "nodeclass,expected",
    [
        (
            {"subnet_selector_terms": [{"tags": {"karpenter.sh/discovery": "no-such-cluster"}}]},
            [
                'EC2NodeClass default: subnet_selector_terms [{"tags": {"karpenter.sh/discovery": "no-such-cluster"}}]'
                " match no subnet",
                "has subnets:",
            ],
        ),
        (
            {"security_group_selector_terms": [{"name": "no-such-group"}]},
            [
                'EC2NodeClass default: security_group_selector_terms [{"name": "no-such-group"}] match no security group',
                "has security groups:",
            ],
        ),
        (
            {"ami_selector_terms": [{"alias": "al2023@v19990101"}]},
            [
                'EC2NodeClass default: ami_selector_terms [{"alias": "al2023@v19990101"}] match no image',
                "amazon-eks-node-al2023-x86_64-standard-",
            ],
        ),
    ],
    ids=["subnets", "security-groups", "amis"],
)
def test_selectors_that_match_nothing_are_refused_with_nothing_written(tmp_path, nodeclass, expected):
    pool = {
        "name": "default",
        "requirements": [{"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]}],
        "nodeclass": nodeclass,
    }
    aws_offset, audit_offset = _offset(AWS_LOG), _offset(AUDIT_LOG)
    run = _run_playbook(tmp_path, {"karpenter_nodepools": [pool]})
    time.sleep(1)  # the audit backend writes as requests complete
    aws = _lines_since(AWS_LOG, aws_offset)
    audit = _lines_since(AUDIT_LOG, audit_offset)
    output = run.stdout + run.stderr
    assert run.returncode != 0, output
    assert "node class selectors refused before anything was written" in output, output
    for text in expected:
        assert text in output, output
    assert aws, "the run made no AWS request at all: the request log is not where the test looks"
    # The Karpenter controller, if the chart runs, makes its own requests with its own (temporary) keys.
    mine = [e for e in aws if e.get("access_key") == os.environ.get("AWS_ACCESS_KEY_ID")]
    assert mine, "no AWS request signed with this run's access key: the run did not reach preflight"
    assert [e["operation"] for e in mine if e["write"]] == []
    assert audit, "the run made no Kubernetes request at all: the audit log is not where the test looks"
    writes = ["%s %s" % (e["verb"], e["requestURI"]) for e in audit if e["verb"] in KUBE_WRITES]
    assert writes == []
    assert "changed=0" in run.stdout

# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input, as a user gives it: node class selector terms that match nothing.

karpenter.yml must refuse them in its preflight, naming the selector and what exists, with nothing
written: 0 AWS writes in the emulator's request log and 0 Kubernetes writes in the API server's audit
log, counted over the whole run (dry runs count as writes too). AWS requests are those signed with the
run's access key (the request log names it); the audit log leaves out the sandbox's own components.

Needs a running sandbox (its env file sourced: KUBECONFIG points into its state directory); skipped otherwise.
The writes are counted as conftest.py does for every refusal.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
import yaml


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
def test_selectors_that_match_nothing_are_refused_with_nothing_written(run_playbook, tmp_path, nodeclass, expected):
    pool = {
        "name": "default",
        "requirements": [{"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]}],
        "nodeclass": nodeclass,
    }
    extra_file = tmp_path / "extra.yml"
    extra_file.write_text(yaml.safe_dump({"karpenter_nodepools": [pool]}))
    run = run_playbook("karpenter.yml", "-e", "@" + str(extra_file))
    assert run.rc != 0, run.out
    assert "node class selectors refused before anything was written" in run.out, run.out
    for text in expected:
        assert text in run.out, run.out
    assert run.requests, "the run made no AWS request at all: the request log is not where the test looks"
    assert run.mine, "no AWS request signed with this run's access key: the run did not reach preflight"
    assert run.aws_writes == []
    assert run.audit, "the run made no Kubernetes request at all: the audit log is not where the test looks"
    assert run.kube_writes == []
    assert "changed=0" in run.stdout

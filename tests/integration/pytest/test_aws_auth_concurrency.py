# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Concurrent writers on one aws-auth ConfigMap, against a real kube-apiserver.

Each round starts WRITERS threads at once through the module_utils write path; every
thread adds (or, in the mixed round, removes) its own role. Afterwards every expected
entry must be there exactly once and every removed one gone: no lost update, no duplicate.

Needs Kubernetes credentials in KUBECONFIG (the sandbox's env file sets it); skipped otherwise.
Uses its own namespace, never kube-system/aws-auth.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import threading
import uuid

import pytest
import yaml

if not os.environ.get("KUBECONFIG") or not os.path.exists(os.environ["KUBECONFIG"].split(os.pathsep)[0]):
    pytest.skip("needs a kube-apiserver: KUBECONFIG is not set (source the sandbox env file)", allow_module_level=True)

kubernetes = pytest.importorskip("kubernetes")
from ansible_collections.jit.karpenter.plugins.module_utils import _iam_identity_mapping as aws_auth
from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError
from kubernetes.client.exceptions import ApiException

WRITERS = 10
ROUNDS = 3
ACCOUNT = "111122223333"
NODE_ARN = f"arn:aws:iam::{ACCOUNT}:role/NodeRole"
NAME = "aws-auth"


def _core():
    client = kubernetes.config.new_client_from_config(config_file=os.environ["KUBECONFIG"].split(os.pathsep)[0])
    return kubernetes.client.CoreV1Api(client)


@pytest.fixture(scope="module")
def namespace():
    core = _core()
    ns = f"jit-karpenter-test-iim-conc-{uuid.uuid4().hex[:6]}"
    core.create_namespace(kubernetes.client.V1Namespace(metadata=kubernetes.client.V1ObjectMeta(name=ns)))
    try:
        node = aws_auth.identity(arn=NODE_ARN, username="system:node:{{EC2PrivateDNSName}}", groups=["system:nodes"])
        aws_auth.ensure(core, node, namespace=ns, name=NAME)
        yield ns
    finally:
        try:
            core.delete_namespace(ns)
        except ApiException:
            pass


def _role(writer, round_):
    return f"arn:aws:iam::{ACCOUNT}:role/writer-{writer:02d}-round-{round_}"


def _run_concurrently(namespace, jobs):
    """Run ``jobs`` (list of (identity, state)) at the same moment, one thread each."""
    barrier = threading.Barrier(len(jobs))
    outcomes = [None] * len(jobs)

    def work(i, ident, state):
        core = _core()
        barrier.wait()
        try:
            outcomes[i] = aws_auth.ensure(core, ident, state, namespace=namespace, name=NAME)
        except KarpenterError as e:  # reported below with the others
            outcomes[i] = e.msg

    threads = [threading.Thread(target=work, args=(i, ident, state)) for i, (ident, state) in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    errors = [o for o in outcomes if not isinstance(o, tuple)]  # None: the thread raised
    assert not errors, errors
    return outcomes


def _role_arns(namespace):
    cm = _core().read_namespaced_config_map(NAME, namespace)
    return [e["rolearn"] for e in yaml.safe_load(cm.data["mapRoles"])]


def test_concurrent_adds_lose_nothing(namespace):
    attempts = []
    for round_ in range(ROUNDS):
        jobs = [(aws_auth.identity(arn=_role(w, round_), groups=["viewers"]), "present") for w in range(WRITERS)]
        outcomes = _run_concurrently(namespace, jobs)
        assert all(changed for changed, _result in outcomes)
        attempts.extend(result["attempts"] for _changed, result in outcomes)
        arns = _role_arns(namespace)
        expected = [NODE_ARN] + [_role(w, r) for r in range(round_ + 1) for w in range(WRITERS)]
        assert sorted(arns) == sorted(expected), "lost or duplicated entries"
    # Writers really did collide, so the retry path was exercised.
    assert max(attempts) > 1


def test_concurrent_adds_and_removes(namespace):
    before = set(_role_arns(namespace))
    jobs = []
    for w in range(WRITERS):
        if w % 2:
            jobs.append((aws_auth.identity(arn=_role(w, 0)), "absent"))
        else:
            jobs.append((aws_auth.identity(arn=_role(w, "mixed"), groups=["viewers"]), "present"))
    _run_concurrently(namespace, jobs)
    arns = _role_arns(namespace)
    expected = (before - {_role(w, 0) for w in range(1, WRITERS, 2)}) | {
        _role(w, "mixed") for w in range(0, WRITERS, 2)
    }
    assert len(arns) == len(set(arns)), "duplicated entries"
    assert set(arns) == expected, "lost entries or lost removals"

"""The sandbox's legacy side: the old HTTP Helm repository and the stand-in for Karpenter 0.16's webhook.

The stand-in is emulated, not Karpenter's webhook: it admits every well-formed AdmissionReview unchanged.
The first tests pin that (what it does not check); the molecule scenario `legacy` drives it through
the API server with the chart's real webhook configurations.
"""

import hashlib
import urllib.request
from pathlib import Path

import pytest
import yaml

from sandbox.webhook import admission_response, egress_selector_config

SANDBOX = (Path(__file__).resolve().parents[2] / ".sandbox" / "env").exists()


def review(obj, operation="CREATE"):
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
            "kind": {"group": "karpenter.sh", "version": "v1alpha5", "kind": "Provisioner"},
            "operation": operation,
            "name": obj["metadata"]["name"],
            "object": obj,
        },
    }


def test_stand_in_admits_what_karpenter_0_16_would_reject():
    # Karpenter 0.16's validating webhook refuses ttlSecondsAfterEmpty together with consolidation;
    # the stand-in does not validate, so it admits it. Schema validation (the CRDs) still applies.
    provisioner = {
        "apiVersion": "karpenter.sh/v1alpha5",
        "kind": "Provisioner",
        "metadata": {"name": "both"},
        "spec": {"ttlSecondsAfterEmpty": 30, "consolidation": {"enabled": True}},
    }
    answer = admission_response(review(provisioner))
    assert answer == {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "response": {"uid": "705ab4f5-6393-11e8-b7cc-42010a800002", "allowed": True},
    }


def test_stand_in_does_not_default():
    # Karpenter 0.16's defaulting webhook adds requirements (capacity type, architecture...);
    # the stand-in returns no patch, so the object is stored as written.
    answer = admission_response(review({"metadata": {"name": "bare"}, "spec": {}}))
    assert "patch" not in answer["response"] and "patchType" not in answer["response"]


@pytest.mark.parametrize(
    "body",
    [
        {"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview", "request": {"uid": "x"}},
        {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {}},
        {"apiVersion": "v1", "kind": "Pod"},
    ],
)
def test_malformed_reviews_are_refused(body):
    with pytest.raises(ValueError):
        admission_response(body)


def test_api_server_cluster_egress_goes_through_the_socket():
    config = egress_selector_config("/state/run/cluster-network.sock")
    (selection,) = config["egressSelections"]
    assert selection["name"] == "cluster"
    assert selection["connection"] == {
        "proxyProtocol": "HTTPConnect",
        "transport": {"uds": {"udsName": "/state/run/cluster-network.sock"}},
    }


@pytest.mark.skipif(not SANDBOX, reason="no sandbox: .sandbox/env is absent (start one with `make sandbox`)")
def test_old_http_repository_serves_the_0_16_charts(sbvars):
    repo = sbvars["karpenter_chart_repository"]
    with urllib.request.urlopen(repo + "/index.yaml", timeout=5) as r:
        index = yaml.safe_load(r.read())
    entries = index["entries"]["karpenter"]
    assert sorted(e["version"] for e in entries) == ["0.16.0", "0.16.1", "0.16.2", "0.16.3"]
    for entry in entries:
        (url,) = entry["urls"]
        with urllib.request.urlopen("%s/%s" % (repo, url), timeout=5) as r:
            assert hashlib.sha256(r.read()).hexdigest() == entry["digest"]

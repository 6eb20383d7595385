"""The sandbox's legacy side: the old HTTP Helm repository and the stand-in for Karpenter 0.16's webhook.

The stand-in is emulated, not Karpenter's webhook: it admits every well-formed AdmissionReview and, of
the defaulting, only adds the capacity-type and architecture requirements. The first tests pin what it
does and does not do; the molecule scenario `legacy` drives it through the API server with the chart's
real webhook configurations.
"""

import base64
import hashlib
import json
import urllib.request

import pytest
import yaml

from sandbox.clusternet import admission_response, egress_selector_config
from sandbox.harness import Harness

SANDBOX = Harness().exists()


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
    assert answer["apiVersion"] == "admission.k8s.io/v1" and answer["kind"] == "AdmissionReview"
    assert answer["response"]["uid"] == "705ab4f5-6393-11e8-b7cc-42010a800002"
    assert answer["response"]["allowed"] is True


def _patch(answer):
    response = answer["response"]
    if "patch" not in response:
        return []
    assert response["patchType"] == "JSONPatch"
    return json.loads(base64.b64decode(response["patch"]))


def test_stand_in_defaults_capacity_type_and_architecture():
    # As Karpenter 0.16 on AWS: requirements for what nothing constrains, appended.
    answer = admission_response(review({"metadata": {"name": "bare"}, "spec": {}}))
    assert _patch(answer) == [
        {"op": "add", "path": "/spec/requirements", "value": []},
        {
            "op": "add",
            "path": "/spec/requirements/-",
            "value": {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]},
        },
        {
            "op": "add",
            "path": "/spec/requirements/-",
            "value": {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
        },
    ]


def test_stand_in_keeps_what_the_provisioner_constrains():
    spec = {
        "labels": {"kubernetes.io/arch": "arm64"},
        "requirements": [{"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot"]}],
    }
    assert _patch(admission_response(review({"metadata": {"name": "set"}, "spec": spec}))) == []


def test_stand_in_does_no_other_defaulting():
    # Not a Provisioner (an AWSNodeTemplate), or a DELETE: no patch, whatever the object.
    template = review({"metadata": {"name": "t"}, "spec": {}})
    template["request"]["kind"] = {"group": "karpenter.k8s.aws", "version": "v1alpha1", "kind": "AWSNodeTemplate"}
    assert _patch(admission_response(template)) == []
    assert _patch(admission_response(review({"metadata": {"name": "d"}, "spec": {}}, operation="DELETE"))) == []


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

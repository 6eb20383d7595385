# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import boto3
import pytest
from ansible_collections.jit.karpenter.plugins.module_utils import _eks_token as eks_token
from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


@pytest.fixture
def sts(monkeypatch):
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_PROFILE", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    # Older botocore signs for the global STS endpoint unless told otherwise; newer ones default to regional.
    monkeypatch.setenv("AWS_STS_REGIONAL_ENDPOINTS", "regional")
    session = boto3.session.Session(
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name="eu-west-1"
    )
    return session.client("sts")


def _signature_ok(url, cluster_name):
    """Recompute the SigV4 query signature of ``url`` as if the request carried ``x-k8s-aws-id: cluster_name``."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    given = dict(query)["X-Amz-Signature"]
    unsigned = urlunsplit(parts._replace(query=urlencode([(k, v) for k, v in query if k != "X-Amz-Signature"])))
    request = AWSRequest(method="GET", url=unsigned, headers={eks_token.CLUSTER_ID_HEADER: cluster_name})
    request.context["timestamp"] = dict(query)["X-Amz-Date"]
    region = dict(query)["X-Amz-Credential"].split("/")[2]
    auth = SigV4QueryAuth(Credentials(ACCESS_KEY, SECRET_KEY), "sts", region, expires=60)
    string_to_sign = auth.string_to_sign(request, auth.canonical_request(request))
    return auth.signature(string_to_sign, request) == given


def test_token_decodes_to_a_presigned_get_caller_identity_url(sts):
    token = eks_token.get_token(sts, "prod-1")
    assert token.startswith("k8s-aws-v1.")
    assert "=" not in token
    assert "+" not in token and "/" not in token
    url = eks_token.decode_token(token)
    assert url.startswith("https://sts.eu-west-1.amazonaws.com/?")
    described = eks_token.describe_url(url)
    assert described["action"] == "GetCallerIdentity"
    assert described["expires"] == 60
    assert described["algorithm"] == "AWS4-HMAC-SHA256"
    assert described["credential"].startswith(ACCESS_KEY + "/")
    assert "/eu-west-1/sts/aws4_request" in described["credential"]
    assert sorted(described["signed_headers"]) == ["host", "x-k8s-aws-id"]


def test_signature_covers_the_cluster_name(sts):
    url = eks_token.decode_token(eks_token.get_token(sts, "prod-1"))
    assert _signature_ok(url, "prod-1")
    assert not _signature_ok(url, "prod-2")


def test_the_cluster_name_is_not_sent_as_a_query_parameter(sts):
    url = eks_token.presigned_url(sts, "prod-1")
    assert "prod-1" not in url
    assert "x-k8s-aws-id" in url  # only as a signed-header name


def test_registering_the_handlers_twice_keeps_one_header(sts):
    eks_token.get_token(sts, "a")
    url = eks_token.decode_token(eks_token.get_token(sts, "b"))
    assert eks_token.describe_url(url)["signed_headers"].count("x-k8s-aws-id") == 1
    assert _signature_ok(url, "b")


def test_endpoint_override_is_the_token_host(monkeypatch):
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    session = boto3.session.Session(aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
    client = session.client("sts", region_name="eu-west-1", endpoint_url="http://127.0.0.1:5000")
    url = eks_token.decode_token(eks_token.get_token(client, "demo"))
    assert url.startswith("http://127.0.0.1:5000/?")


@pytest.mark.parametrize(
    "url",
    ["https://sts.amazonaws.com/?Action=GetCallerIdentity", "x", "https://sts.eu-west-1.amazonaws.com/?a=1&b=22"],
)
def test_encode_decode_round_trip(url):
    token = eks_token.encode_token(url)
    assert not token.endswith("=")
    assert eks_token.decode_token(token) == url


def test_decode_rejects_other_strings():
    with pytest.raises(KarpenterError, match="k8s-aws-v1"):
        eks_token.decode_token("Bearer abc")


def test_empty_cluster_name_is_refused(sts):
    with pytest.raises(KarpenterError, match="cluster_name"):
        eks_token.presigned_url(sts, "")


def test_cluster_access_takes_endpoint_and_ca():
    cluster = {"endpoint": "https://x.example", "certificateAuthority": {"data": "Q0E="}}
    assert eks_token.cluster_access("t", cluster) == {"token": "t", "endpoint": "https://x.example", "ca_data": "Q0E="}
    assert eks_token.cluster_access("t", {}) == {"token": "t", "endpoint": None, "ca_data": None}


@pytest.mark.parametrize(
    "terms, option, expected",
    [([], "demo", "demo"), (["demo"], None, "demo"), (["demo"], "demo", "demo"), ([None, "demo"], None, "demo")],
)
def test_pick_cluster_name(terms, option, expected):
    assert eks_token.pick_cluster_name(terms, option) == expected


@pytest.mark.parametrize(
    "terms, option, match",
    [
        ([], None, "cluster_name is required"),
        (["a", "b"], None, "One token is made per call"),
        (["a"], "b", "not both"),
    ],
)
def test_pick_cluster_name_refuses(terms, option, match):
    with pytest.raises(KarpenterError, match=match):
        eks_token.pick_cluster_name(terms, option)

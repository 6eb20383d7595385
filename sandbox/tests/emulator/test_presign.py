"""Presigned STS requests (EKS tokens): routed and identified by their query, and their signature checked
by ``POST /_sandbox/sts/verify-presigned`` (``sandbox/emulator/presign.py``)."""

import json
import urllib.request
import xml.etree.ElementTree as ET

import pytest

TRUST_EC2 = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def presigned(sts, cluster):
    """A GetCallerIdentity URL presigned as the EKS token does: x-k8s-aws-id among the signed headers."""

    def take(params, context, **_):
        context["x-k8s-aws-id"] = params.pop("x-k8s-aws-id")

    def add(request, **_):
        request.headers["x-k8s-aws-id"] = request.context["x-k8s-aws-id"]

    sts.meta.events.register("provide-client-params.sts.GetCallerIdentity", take)
    sts.meta.events.register("before-sign.sts.GetCallerIdentity", add)
    return sts.generate_presigned_url(
        "get_caller_identity", Params={"x-k8s-aws-id": cluster}, ExpiresIn=60, HttpMethod="GET"
    )


def caller_arn(url, cluster):
    request = urllib.request.Request(url, headers={"x-k8s-aws-id": cluster})
    with urllib.request.urlopen(request, timeout=10) as response:
        root = ET.fromstring(response.read())
    return next(e.text for e in root.iter() if e.tag.endswith("}Arn"))


@pytest.fixture
def node_session(emulator, unique):
    """Credentials of an instance session of a fresh role (as an EC2 instance profile gives them)."""
    role = emulator.client("iam").create_role(
        RoleName="node-" + unique, AssumeRolePolicyDocument=json.dumps(TRUST_EC2)
    )["Role"]
    creds = emulator.client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="i-0123456789abcdef0")[
        "Credentials"
    ]
    import boto3

    sts = boto3.client(
        "sts",
        endpoint_url=emulator.url,
        region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    return role, sts


def test_presigned_request_answers_for_its_signer(node_session):
    role, sts = node_session
    url = presigned(sts, "demo")
    assert caller_arn(url, "demo") == (
        "arn:aws:sts::123456789012:assumed-role/%s/i-0123456789abcdef0" % role["RoleName"]
    )


def test_verify_presigned_accepts_the_signed_cluster_only(emulator, node_session):
    _, sts = node_session
    url = presigned(sts, "demo")
    ok = emulator.admin("POST", "/_sandbox/sts/verify-presigned", {"url": url, "headers": {"x-k8s-aws-id": "demo"}})
    assert ok == (200, {"valid": True, "reason": ok[1]["reason"]})
    other = emulator.admin("POST", "/_sandbox/sts/verify-presigned", {"url": url, "headers": {"x-k8s-aws-id": "other"}})
    assert other[0] == 200 and other[1]["valid"] is False and "SignatureDoesNotMatch" in other[1]["reason"]
    missing = emulator.admin("POST", "/_sandbox/sts/verify-presigned", {"url": url, "headers": {}})
    assert missing[1]["valid"] is False and "x-k8s-aws-id" in missing[1]["reason"]


def test_verify_presigned_rejects_tampering_and_unknown_keys(emulator):
    sts = emulator.client("sts")  # the sandbox's own credentials
    url = presigned(sts, "demo")
    ok = emulator.admin("POST", "/_sandbox/sts/verify-presigned", {"url": url, "headers": {"x-k8s-aws-id": "demo"}})
    assert ok[1]["valid"] is True
    tampered = url.replace("Version=2011-06-15", "Version=2011-06-15&X-Amz-Expires-Extra=1")
    bad = emulator.admin(
        "POST", "/_sandbox/sts/verify-presigned", {"url": tampered, "headers": {"x-k8s-aws-id": "demo"}}
    )
    assert bad[1]["valid"] is False and "SignatureDoesNotMatch" in bad[1]["reason"]
    unknown = url.replace("X-Amz-Credential=testing", "X-Amz-Credential=AKIAUNKNOWNKEY000000")
    res = emulator.admin(
        "POST", "/_sandbox/sts/verify-presigned", {"url": unknown, "headers": {"x-k8s-aws-id": "demo"}}
    )
    assert res[1]["valid"] is False and "InvalidClientTokenId" in res[1]["reason"]
    plain = emulator.admin(
        "POST", "/_sandbox/sts/verify-presigned", {"url": emulator.url + "/?Action=GetCallerIdentity", "headers": {}}
    )
    assert plain[1]["valid"] is False and "not a presigned request" in plain[1]["reason"]


def test_verify_presigned_needs_a_url(emulator):
    assert emulator.admin("POST", "/_sandbox/sts/verify-presigned", {"headers": {}})[0] == 400
    assert emulator.admin("GET", "/_sandbox/sts/verify-presigned")[0] == 405

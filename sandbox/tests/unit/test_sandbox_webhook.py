"""sandbox/webhook.py: the token checks and the TokenReview it answers (pure parts; the cluster state is a
stand-in object here, the sandbox tests run the webhook for real)."""

import base64
import datetime

import pytest

from sandbox import webhook

STS = "127.0.0.1:26450"
NOW = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
URL = (
    "http://%s/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=testing%%2F20260102%%2Fus-east-1%%2Fsts%%2Faws4_request&X-Amz-Date=20260102T030000Z"
    "&X-Amz-Expires=60&X-Amz-SignedHeaders=host%%3Bx-k8s-aws-id&X-Amz-Signature=%s" % (STS, "ab" * 32)
)


def token(url):
    return "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def test_decode_token_round_trip_and_refusals():
    assert webhook.decode_token(token(URL)) == URL
    with pytest.raises(webhook.Rejected, match="no k8s-aws-v1. prefix"):
        webhook.decode_token("eyJhbGciOi.service-account-token")
    with pytest.raises(webhook.Rejected, match="not base64url"):
        webhook.decode_token("k8s-aws-v1.__4")


def test_check_url_accepts_a_fresh_token():
    assert webhook.check_url(URL, STS, now=NOW)["Action"] == "GetCallerIdentity"


@pytest.mark.parametrize(
    "url, message",
    [
        (URL.replace(STS, "sts.amazonaws.com"), "not this cluster's STS endpoint"),
        (URL.replace("/?Action", "/other?Action"), "unexpected path"),
        (URL.replace("GetCallerIdentity", "AssumeRole"), "not an STS GetCallerIdentity"),
        (URL.replace("host%3Bx-k8s-aws-id", "host"), "x-k8s-aws-id is not among the signed headers"),
        (URL + "&Extra=1", "unexpected query parameter"),
        (URL.replace("20260102T030000Z", "20260102T024800Z"), "expired"),
        (URL.replace("&X-Amz-Date=20260102T030000Z", ""), "X-Amz-Date is missing"),
    ],
)
def test_check_url_refuses(url, message):
    with pytest.raises(webhook.Rejected, match=message):
        webhook.check_url(url, STS, now=NOW)


def test_moto_caller_arn_only_rewrites_the_moto_user_form():
    assert webhook.moto_caller_arn("arn:aws:sts::123456789012:user/moto") == "arn:aws:iam::123456789012:user/moto"
    role = "arn:aws:sts::123456789012:assumed-role/Node/i-0abc1234"
    assert webhook.moto_caller_arn(role) == role


def test_policy_groups_cover_cluster_scoped_policies_the_sandbox_binds():
    arn = "arn:aws:eks::aws:cluster-access-policy/"
    assert webhook.policy_groups([arn + "AmazonEKSClusterAdminPolicy", arn + "AmazonEKSAutoNodePolicy"]) == [
        "sandbox:access-policy:AmazonEKSClusterAdminPolicy"
    ]
    bindings = {b["subjects"][0]["name"]: b["roleRef"]["name"] for b in webhook.policy_bindings()}
    assert bindings["sandbox:access-policy:AmazonEKSClusterAdminPolicy"] == "cluster-admin"
    assert bindings["sandbox:access-policy:AmazonEKSViewPolicy"] == "view"


class FakeState(object):
    """The cluster as the webhook reads it; records what the review asked for."""

    def __init__(self, mode, arn, entries=(), aws_auth=None, creator=None, signature_ok=True):
        self.mode, self.arn, self.entries, self.aws_auth_data = mode, arn, list(entries), aws_auth
        self.creator, self.signature_ok = creator, signature_ok

    def verify_signature(self, url):
        if not self.signature_ok:
            raise webhook.Rejected("STS refuses the token: SignatureDoesNotMatch")

    def caller_arn(self, url):
        return self.arn

    def view(self):
        return self.mode, self.creator

    def access_entries(self):
        return self.entries

    def aws_auth(self):
        return self.aws_auth_data

    def private_dns_name(self, instance_id):
        return "ip-10-0-0-1.ec2.internal" if instance_id == "i-0abc1234" else None


NODE = "arn:aws:sts::123456789012:assumed-role/KarpenterNodeRole-demo/i-0abc1234"
NODE_ROLE = "arn:aws:iam::123456789012:role/KarpenterNodeRole-demo"


def test_review_maps_an_instance_session_through_its_ec2_linux_entry():
    state = FakeState("API", NODE, entries=[{"principalArn": NODE_ROLE, "type": "EC2_LINUX"}])
    status = webhook.review(token(URL), state, STS, now=NOW)
    assert status["authenticated"] is True
    assert status["user"]["username"] == "system:node:ip-10-0-0-1.ec2.internal"
    assert status["user"]["groups"] == ["system:nodes"]
    assert status["user"]["extra"]["canonicalArn"] == [NODE_ROLE]


def test_review_adds_policy_groups_and_denies_with_the_reason():
    admin = "arn:aws:iam::123456789012:user/moto"
    entry = {
        "principalArn": admin,
        "type": "STANDARD",
        "username": admin,
        "kubernetesGroups": [],
        "accessPolicies": [{"policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"}],
    }
    status = webhook.review(token(URL), FakeState("API_AND_CONFIG_MAP", admin, entries=[entry]), STS, now=NOW)
    assert status["user"]["groups"] == ["sandbox:access-policy:AmazonEKSClusterAdminPolicy"]
    denied = webhook.review(token(URL), FakeState("API", NODE), STS, now=NOW)
    assert denied["authenticated"] is False and "no access entry" in denied["error"]
    forged = webhook.review(token(URL), FakeState("API", NODE, signature_ok=False), STS, now=NOW)
    assert forged == {"authenticated": False, "error": "STS refuses the token: SignatureDoesNotMatch"}

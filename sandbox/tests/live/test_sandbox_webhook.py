"""The token webhook: kube-apiserver authenticates EKS tokens (``k8s-aws-v1.``) as EKS does.

Runs against the default sandbox (CONFIG_MAP mode, so aws-auth decides). The other modes are
covered by tests/auth, each on a sandbox started in that mode.
"""

import json
import ssl
import urllib.error
import urllib.request

import pytest

from ansible_collections.jit.karpenter.plugins.module_utils._eks_token import get_token
from sandbox.harness import Harness


def whoami(sbenv, state, token):
    """(HTTP status, userInfo) of a SelfSubjectReview made with ``token``."""
    ctx = ssl.create_default_context(cafile=str(state / "pki" / "ca.crt"))
    server = Harness(state).ports["apiserver"]
    request = urllib.request.Request(
        "https://127.0.0.1:%d/apis/authentication.k8s.io/v1/selfsubjectreviews" % server,
        method="POST",
        data=json.dumps({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}).encode(),
        headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, context=ctx, timeout=15) as response:
            return response.status, json.load(response)["status"]["userInfo"]
    except urllib.error.HTTPError as err:
        return err.code, None


@pytest.fixture(scope="module")
def instance_sts(aws, seed):
    """An STS client with the credentials an instance of the managed node group has."""
    import boto3

    instance = seed["node_instances"][0]
    creds = aws("sts").assume_role(RoleArn=seed["node_role_arn"], RoleSessionName=instance["instance_id"])[
        "Credentials"
    ]
    sts = boto3.client(
        "sts",
        endpoint_url=aws("sts").meta.endpoint_url,
        region_name=seed["region"],
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    return sts, instance


def test_cluster_creator_is_admin(sbenv, state, aws, seed):
    """system:masters in CONFIG_MAP mode; in the API modes the creator's access entry with
    AmazonEKSClusterAdminPolicy (EKS's bootstrap entry, or the one terraform-aws-eks makes)."""
    status, user = whoami(sbenv, state, get_token(aws("sts"), seed["cluster_name"]))
    assert status == 201
    if seed["authentication_mode"] == "CONFIG_MAP":
        assert user["username"] == "kubernetes-admin" and "system:masters" in user["groups"]
    else:
        assert user["username"] == seed["cluster_creator_arn"]
        assert "sandbox:access-policy:AmazonEKSClusterAdminPolicy" in user["groups"]
    assert user["extra"]["arn"] == [seed["cluster_creator_arn"]]


def test_instance_session_maps_to_its_node(sbenv, state, seed, instance_sts):
    """Through aws-auth in CONFIG_MAP mode, through the node group role's EC2_LINUX access entry in
    the API modes."""
    sts, instance = instance_sts
    status, user = whoami(sbenv, state, get_token(sts, seed["cluster_name"]))
    assert status == 201
    assert user["username"] == "system:node:" + instance["private_dns_name"]
    if seed["authentication_mode"] == "CONFIG_MAP":
        assert {"system:bootstrappers", "system:nodes"} <= set(user["groups"])
    else:
        assert "system:nodes" in user["groups"]


def test_tokens_for_another_cluster_or_malformed_are_refused(sbenv, state, aws, seed):
    assert whoami(sbenv, state, get_token(aws("sts"), "another-cluster"))[0] == 401
    assert whoami(sbenv, state, "k8s-aws-v1.bm90LWEtdXJs")[0] == 401
    log = (state / "logs" / "webhook.log").read_text()
    assert "SignatureDoesNotMatch" in log and "not this cluster's STS endpoint" in log

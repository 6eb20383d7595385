"""IRSA on the sandbox: a real service-account token from the kube-apiserver, checked by the emulator's STS
against the keys that API server publishes and against the role's trust policy."""

import json

import pytest

from sandbox.harness import Harness

if not Harness().exists():
    pytest.skip("no sandbox: .sandbox/env is absent (start one with `make sandbox`)", allow_module_level=True)

from botocore.exceptions import ClientError  # noqa: E402
from kubernetes import client  # noqa: E402


@pytest.fixture(scope="module")
def irsa(aws, kube, sbvars, namespace):
    """An OIDC provider for the cluster's issuer (unless there is one), a role trusting sbtest-irsa, its token."""
    iam = aws("iam")
    issuer = aws("eks").describe_cluster(name=sbvars["cluster_name"])["cluster"]["identity"]["oidc"]["issuer"]
    host = issuer[len("https://") :]
    provider_arn = "arn:aws:iam::%s:oidc-provider/%s" % (sbvars["sandbox_account_id"], host)
    created = provider_arn not in [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
    if created:
        iam.create_open_id_connect_provider(Url=issuer, ClientIDList=["sts.amazonaws.com"])
    core = client.CoreV1Api(kube)
    core.create_namespaced_service_account(namespace, {"metadata": {"name": "sbtest-irsa"}})
    roles = []

    def role(sub):
        doc = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringEquals": {host + ":sub": sub, host + ":aud": "sts.amazonaws.com"}},
                }
            ],
        }
        name = "sbtest-irsa-%d" % len(roles)
        roles.append(name)
        return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(doc))["Role"]["Arn"]

    token = core.create_namespaced_service_account_token(
        "sbtest-irsa", namespace, {"spec": {"audiences": ["sts.amazonaws.com"], "expirationSeconds": 600}}
    ).status.token
    yield {
        "role": role,
        "token": token,
        "provider_arn": provider_arn,
        "sub": "system:serviceaccount:%s:sbtest-irsa" % namespace,
    }
    for name in roles:
        iam.delete_role(RoleName=name)
    if created:
        iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=provider_arn)


def _assume(aws, role_arn, token):
    return aws("sts").assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="sbtest", WebIdentityToken=token)


def test_service_account_token_gets_credentials(aws, irsa):
    response = _assume(aws, irsa["role"](irsa["sub"]), irsa["token"])
    assert response["SubjectFromWebIdentityToken"] == irsa["sub"]
    assert response["Provider"] == irsa["provider_arn"]
    assert response["Credentials"]["AccessKeyId"]


def test_trust_policy_for_another_service_account_is_access_denied(aws, irsa):
    with pytest.raises(ClientError) as err:
        _assume(aws, irsa["role"]("system:serviceaccount:kube-system:karpenter"), irsa["token"])
    assert err.value.response["Error"]["Code"] == "AccessDenied"


def test_tampered_token_is_invalid(aws, irsa):
    header, payload, signature = irsa["token"].split(".")
    forged = ".".join([header, payload, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")])
    with pytest.raises(ClientError) as err:
        _assume(aws, irsa["role"](irsa["sub"]), forged)
    assert err.value.response["Error"]["Code"] == "InvalidIdentityToken"

"""AssumeRoleWithWebIdentity checks the token and the trust policy as AWS STS does.

The issuer's keys are served by a small discovery server standing in for the cluster's
kube-apiserver (the sandbox's real API server serves the same two documents).
"""

import http.server
import json
import threading
import time

import jwt
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric import rsa

from .conftest import ACCOUNT_ID

ISSUER_HOST = "oidc.eks.us-east-1.amazonaws.com/id/"


class _Discovery(http.server.BaseHTTPRequestHandler):
    documents = {}

    def do_GET(self):  # noqa: N802 - http.server's naming
        body = self.documents.get(self.path)
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(body or {}).encode())

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def discovery():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Discovery)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()


@pytest.fixture
def identity(emulator, bare_cluster, discovery, unique):
    """A cluster whose issuer's keys the discovery server publishes, its provider and an IRSA role."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = "kid-" + unique
    issuer = "https://" + ISSUER_HOST + unique.upper() * 4
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
    prefix = "/" + unique
    _Discovery.documents[prefix + "/.well-known/openid-configuration"] = {
        "issuer": issuer,
        "jwks_uri": discovery + prefix + "/openid/v1/jwks",
    }
    _Discovery.documents[prefix + "/openid/v1/jwks"] = {"keys": [jwk]}
    name = "wi-" + unique
    bare_cluster(name)
    status, _ = emulator.admin(
        "POST", "/_sandbox/eks/clusters/" + name, {"endpoint": discovery + prefix, "oidc_issuer": issuer}
    )
    assert status == 200
    iam = emulator.client("iam")
    provider_arn = iam.create_open_id_connect_provider(Url=issuer, ClientIDList=["sts.amazonaws.com"])[
        "OpenIDConnectProviderArn"
    ]
    host = issuer[len("https://") :]

    def role(sub="system:serviceaccount:kube-system:karpenter", operator="StringEquals", federated=provider_arn):
        doc = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": federated},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {operator: {host + ":sub": sub, host + ":aud": "sts.amazonaws.com"}},
                }
            ],
        }
        return iam.create_role(
            RoleName="irsa-%s-%d" % (unique, time.monotonic_ns() % 10**9), AssumeRolePolicyDocument=json.dumps(doc)
        )["Role"]["Arn"]

    def token(
        sub="system:serviceaccount:kube-system:karpenter", aud="sts.amazonaws.com", signer=key, expires_in=600, kid_=kid
    ):
        now = int(time.time())
        claims = {"iss": issuer, "sub": sub, "aud": [aud], "iat": now, "nbf": now, "exp": now + expires_in}
        return jwt.encode(claims, signer, algorithm="RS256", headers={"kid": kid_})

    return {"role": role, "token": token, "provider_arn": provider_arn, "issuer": issuer}


def _assume(emulator, role_arn, token):
    return emulator.client("sts").assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName="karpenter", WebIdentityToken=token
    )


def _code(err):
    return err.value.response["Error"]["Code"], err.value.response["Error"]["Message"]


def test_valid_token_and_trust_policy_get_credentials(emulator, identity):
    role_arn = identity["role"]()
    response = _assume(emulator, role_arn, identity["token"]())
    name = role_arn.split("/")[-1]
    assert response["AssumedRoleUser"]["Arn"] == "arn:aws:sts::%s:assumed-role/%s/karpenter" % (ACCOUNT_ID, name)
    assert response["Credentials"]["AccessKeyId"]
    assert response["SubjectFromWebIdentityToken"] == "system:serviceaccount:kube-system:karpenter"
    assert response["Provider"] == identity["provider_arn"]
    assert response["Audience"] == "sts.amazonaws.com"


def test_string_like_condition(emulator, identity):
    role_arn = identity["role"](sub="system:serviceaccount:kube-system:*", operator="StringLike")
    assert _assume(emulator, role_arn, identity["token"]())["Credentials"]


def test_wrong_service_account_is_access_denied(emulator, identity):
    role_arn = identity["role"]()
    with pytest.raises(ClientError) as err:
        _assume(emulator, role_arn, identity["token"](sub="system:serviceaccount:default:inflate"))
    assert _code(err) == ("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")


def test_trust_policy_naming_another_provider_is_access_denied(emulator, identity):
    role_arn = identity["role"](federated="arn:aws:iam::%s:oidc-provider/%sOTHER" % (ACCOUNT_ID, ISSUER_HOST))
    with pytest.raises(ClientError) as err:
        _assume(emulator, role_arn, identity["token"]())
    assert _code(err)[0] == "AccessDenied"


def test_missing_role_is_access_denied(emulator, identity, unique):
    with pytest.raises(ClientError) as err:
        _assume(emulator, "arn:aws:iam::%s:role/missing-%s" % (ACCOUNT_ID, unique), identity["token"]())
    assert _code(err)[0] == "AccessDenied"


def test_token_signed_by_another_key_is_invalid(emulator, identity):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(ClientError) as err:
        _assume(emulator, identity["role"](), identity["token"](signer=other))
    assert _code(err)[0] == "InvalidIdentityToken"


def test_unknown_key_id_is_invalid(emulator, identity):
    with pytest.raises(ClientError) as err:
        _assume(emulator, identity["role"](), identity["token"](kid_="not-published"))
    assert _code(err)[0] == "InvalidIdentityToken"
    assert "verification key" in _code(err)[1]


def test_expired_token(emulator, identity):
    with pytest.raises(ClientError) as err:
        _assume(emulator, identity["role"](), identity["token"](expires_in=-60))
    assert _code(err)[0] == "ExpiredTokenException"


def test_audience_not_among_the_providers_client_ids(emulator, identity):
    with pytest.raises(ClientError) as err:
        _assume(emulator, identity["role"](), identity["token"](aud="https://kubernetes.default.svc"))
    assert _code(err) == ("InvalidIdentityToken", "Incorrect token audience")


def test_no_provider_for_the_issuer(emulator, identity):
    emulator.client("iam").delete_open_id_connect_provider(OpenIDConnectProviderArn=identity["provider_arn"])
    with pytest.raises(ClientError) as err:
        _assume(emulator, identity["role"](), identity["token"]())
    assert _code(err)[0] == "InvalidIdentityToken"
    assert identity["issuer"] in _code(err)[1]


def test_junk_token_is_invalid(emulator, identity):
    with pytest.raises(ClientError) as err:
        _assume(emulator, identity["role"](), "not-a-jwt")
    assert _code(err)[0] == "InvalidIdentityToken"

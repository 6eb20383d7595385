"""EKS Auth's AssumeRoleForPodIdentity checks the token, the association and the role's trust as EKS does.

The cluster's keys are served by test_web_identity's discovery server, standing in for its kube-apiserver.
"""

import json
import time

import jwt
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric import rsa
from .test_web_identity import ISSUER_HOST, _Discovery, discovery  # noqa: F401 - the discovery fixture

from .conftest import ACCOUNT_ID

NAMESPACE, ACCOUNT = "kube-system", "karpenter"


@pytest.fixture
def pod_identity(emulator, bare_cluster, discovery, unique):  # noqa: F811 - the imported fixture
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = "kid-" + unique
    issuer = "https://" + ISSUER_HOST + unique.upper() * 4
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
    prefix = "/pi-" + unique
    _Discovery.documents[prefix + "/.well-known/openid-configuration"] = {
        "issuer": issuer,
        "jwks_uri": discovery + prefix + "/openid/v1/jwks",
    }
    _Discovery.documents[prefix + "/openid/v1/jwks"] = {"keys": [jwk]}
    name = "pi-" + unique
    bare_cluster(name)
    status, _ = emulator.admin(
        "POST", "/_sandbox/eks/clusters/" + name, {"endpoint": discovery + prefix, "oidc_issuer": issuer}
    )
    assert status == 200
    iam, eks = emulator.client("iam"), emulator.client("eks")
    cluster_arn = eks.describe_cluster(name=name)["cluster"]["arn"]

    def role(statement=None):
        statement = statement or {
            "Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
        }
        return iam.create_role(
            RoleName="pi-%s-%d" % (unique, time.monotonic_ns() % 10**9),
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
        )["Role"]["Arn"]

    def associate(role_arn, namespace=NAMESPACE, account=ACCOUNT):
        return eks.create_pod_identity_association(
            clusterName=name, namespace=namespace, serviceAccount=account, roleArn=role_arn
        )["association"]

    def token(namespace=NAMESPACE, account=ACCOUNT, aud="pods.eks.amazonaws.com", expires_in=600, pod=True):
        now = int(time.time())
        kube = {"namespace": namespace, "serviceaccount": {"name": account, "uid": "sa-uid"}}
        if pod:
            kube["pod"] = {"name": "karpenter-abc", "uid": "pod-uid"}
        claims = {
            "iss": issuer,
            "sub": "system:serviceaccount:%s:%s" % (namespace, account),
            "aud": [aud],
            "iat": now,
            "nbf": now,
            "exp": now + expires_in,
            "kubernetes.io": kube,
        }
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})

    return {"cluster": name, "cluster_arn": cluster_arn, "role": role, "associate": associate, "token": token}


def _assume(emulator, cluster, token):
    return emulator.client("eks-auth").assume_role_for_pod_identity(clusterName=cluster, token=token)


def _code(err):
    return err.value.response["Error"]["Code"]


def test_associated_service_account_gets_the_roles_credentials(emulator, pod_identity):
    role_arn = pod_identity["role"]()
    association = pod_identity["associate"](role_arn)
    answer = _assume(emulator, pod_identity["cluster"], pod_identity["token"]())
    assert answer["subject"] == {"namespace": NAMESPACE, "serviceAccount": ACCOUNT}
    assert answer["audience"] == "pods.eks.amazonaws.com"
    assert answer["podIdentityAssociation"]["associationId"] == association["associationId"]
    name = role_arn.split("/")[-1]
    assert answer["assumedRoleUser"]["arn"].startswith("arn:aws:sts::%s:assumed-role/%s/eks-" % (ACCOUNT_ID, name))
    creds = answer["credentials"]
    # The credentials are the role's: STS names it for them.
    import boto3

    sts = boto3.client(
        "sts",
        endpoint_url=emulator.url,
        region_name="us-east-1",
        aws_access_key_id=creds["accessKeyId"],
        aws_secret_access_key=creds["secretAccessKey"],
        aws_session_token=creds["sessionToken"],
    )
    assert sts.get_caller_identity()["Arn"] == answer["assumedRoleUser"]["arn"]


def test_trust_conditions_on_the_session_tags_are_evaluated(emulator, pod_identity):
    # This collection's trust policy (playbooks/karpenter.yml __karpenter_pod_identity_trust).
    def statement(namespace):
        return {
            "Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {
                "StringEquals": {
                    "aws:RequestTag/eks-cluster-arn": pod_identity["cluster_arn"],
                    "aws:RequestTag/kubernetes-namespace": namespace,
                    "aws:RequestTag/kubernetes-service-account": ACCOUNT,
                }
            },
        }

    pod_identity["associate"](pod_identity["role"](statement(NAMESPACE)))
    assert _assume(emulator, pod_identity["cluster"], pod_identity["token"]())["credentials"]
    pod_identity["associate"](pod_identity["role"](statement(NAMESPACE)), namespace="karpenter")
    with pytest.raises(ClientError) as err:
        _assume(emulator, pod_identity["cluster"], pod_identity["token"](namespace="karpenter"))
    assert _code(err) == "AccessDeniedException"


def test_role_without_tag_session_is_access_denied(emulator, pod_identity):
    pod_identity["associate"](
        pod_identity["role"](
            {"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": "sts:AssumeRole"}
        )
    )
    with pytest.raises(ClientError) as err:
        _assume(emulator, pod_identity["cluster"], pod_identity["token"]())
    assert _code(err) == "AccessDeniedException"


def test_no_association_is_not_found(emulator, pod_identity):
    pod_identity["associate"](pod_identity["role"]())
    with pytest.raises(ClientError) as err:
        _assume(emulator, pod_identity["cluster"], pod_identity["token"](account="other"))
    assert _code(err) == "ResourceNotFoundException"


@pytest.mark.parametrize("kwargs", [{"aud": "sts.amazonaws.com"}, {"pod": False}])
def test_token_of_another_audience_or_not_bound_to_a_pod_is_invalid(emulator, pod_identity, kwargs):
    pod_identity["associate"](pod_identity["role"]())
    with pytest.raises(ClientError) as err:
        _assume(emulator, pod_identity["cluster"], pod_identity["token"](**kwargs))
    assert _code(err) == "InvalidTokenException"


def test_expired_token_and_unknown_cluster(emulator, pod_identity):
    pod_identity["associate"](pod_identity["role"]())
    with pytest.raises(ClientError) as err:
        _assume(emulator, pod_identity["cluster"], pod_identity["token"](expires_in=-60))
    assert _code(err) == "ExpiredTokenException"
    with pytest.raises(ClientError) as err:
        _assume(emulator, "no-such-cluster", pod_identity["token"]())
    assert _code(err) == "ResourceNotFoundException"

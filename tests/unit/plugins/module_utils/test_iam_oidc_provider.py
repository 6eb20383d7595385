# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import socket
import ssl
import threading

import pytest
from ansible_collections.jit.karpenter.plugins.module_utils import _iam_oidc_provider as oidc
from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ISSUER = "https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
HOST_PATH = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"


# ------------------------------------------------------------ issuer and ARN


@pytest.mark.parametrize(
    "issuer, expected",
    [
        (ISSUER, HOST_PATH),
        (ISSUER + "/", HOST_PATH),
        ("https://OIDC.EKS.us-east-1.amazonaws.com/id/ABC", "oidc.eks.us-east-1.amazonaws.com/id/ABC"),
        ("https://oidc.example.com:443/id/ABC", "oidc.example.com/id/ABC"),
        ("https://oidc.example.com:8443/id/ABC", "oidc.example.com:8443/id/ABC"),
        ("https://oidc.example.com", "oidc.example.com"),
    ],
)
def test_provider_url(issuer, expected):
    assert oidc.provider_url(issuer) == expected


def test_provider_arn():
    assert oidc.provider_arn(ISSUER, "123456789012") == ("arn:aws:iam::123456789012:oidc-provider/" + HOST_PATH)
    assert oidc.provider_arn(ISSUER, "123456789012", "aws-cn").startswith("arn:aws-cn:iam::123456789012:")


@pytest.mark.parametrize("account", ["", None, "12345", "abcdefghijkl"])
def test_provider_arn_rejects_bad_account(account):
    with pytest.raises(KarpenterError):
        oidc.provider_arn(ISSUER, account)


@pytest.mark.parametrize(
    "issuer",
    [
        "http://oidc.eks.us-east-1.amazonaws.com/id/ABC",
        "oidc.eks.us-east-1.amazonaws.com/id/ABC",
        "ftp://oidc.example.com/id",
        "https:///id/ABC",
        "https://oidc.example.com/id?x=1",
        "",
        None,
    ],
)
def test_parse_issuer_rejects(issuer):
    with pytest.raises(KarpenterError) as err:
        oidc.parse_issuer(issuer)
    if issuer:
        assert issuer in err.value.msg


def test_non_https_error_names_the_issuer():
    with pytest.raises(KarpenterError, match="http://oidc.example.com/id/X.*not an https URL"):
        oidc.parse_issuer("http://oidc.example.com/id/X")


# ------------------------------------------------------------------ options


def test_thumbprint_mode():
    thumb = "9E99A48A9960B14926BB7F3B02E22DA2B0AB7280"
    assert oidc.thumbprint_mode("auto") == ("auto", None)
    assert oidc.thumbprint_mode(None) == ("auto", None)
    assert oidc.thumbprint_mode("omit") == ("omit", None)
    assert oidc.thumbprint_mode([thumb, thumb.lower()]) == ("explicit", [thumb.lower()])
    assert oidc.thumbprint_mode(thumb) == ("explicit", [thumb.lower()])
    assert oidc.thumbprint_mode("aa" * 20 + "," + "bb" * 20) == ("explicit", ["aa" * 20, "bb" * 20])
    assert oidc.thumbprint_mode([]) == ("explicit", [])


@pytest.mark.parametrize("value", ["sometimes", ["abc"], [f"{i:040x}" for i in range(6)], 42])
def test_thumbprint_mode_rejects(value):
    with pytest.raises(KarpenterError):
        oidc.thumbprint_mode(value)


def test_plan_leaves_unspecified_values_alone():
    current = {"client_ids": ["other"], "thumbprints": ["aa" * 20]}
    plan = oidc.plan_update(current)
    assert oidc.plan_is_empty(plan)


def test_plan_client_ids_and_thumbprints():
    current = {"arn": "a", "client_ids": ["other", "sts.amazonaws.com"], "thumbprints": ["aa" * 20]}
    plan = oidc.plan_update(current, client_ids=["sts.amazonaws.com", "new"], thumbprints=["bb" * 20])
    assert plan == {"add_client_ids": ["new"], "remove_client_ids": ["other"], "thumbprints": ["bb" * 20]}
    assert oidc.apply_plan(current, plan) == {
        "arn": "a",
        "client_ids": ["new", "sts.amazonaws.com"],
        "thumbprints": ["bb" * 20],
    }
    same = oidc.plan_update(current, client_ids=["sts.amazonaws.com", "other"], thumbprints=["aa" * 20])
    assert oidc.plan_is_empty(same)


def test_normalize_provider_adds_scheme_and_sorts():
    response = {"Url": HOST_PATH, "ClientIDList": ["b", "a"], "ThumbprintList": ["BB" * 20, "aa" * 20]}
    assert oidc.normalize_provider("arn", response) == {
        "arn": "arn",
        "url": ISSUER,
        "client_ids": ["a", "b"],
        "thumbprints": ["aa" * 20, "bb" * 20],
    }


# --------------------------------------------------------------- thumbprints


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject, key, issuer_name, issuer_key, ca, san=None):
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        # What Python 3.13's default TLS context (VERIFY_X509_STRICT) requires, as real CAs issue.
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def pki():
    """A root CA, an intermediate CA it signs, and a leaf for localhost."""
    keys = [ec.generate_private_key(ec.SECP256R1()) for unused in range(3)]
    root = _cert("Test Root", keys[0], "Test Root", keys[0], ca=True)
    inter = _cert("Test Intermediate", keys[1], "Test Root", keys[0], ca=True)
    leaf = _cert("localhost", keys[2], "Test Intermediate", keys[1], ca=False, san="localhost")
    return {"root": root, "inter": inter, "leaf": leaf, "leaf_key": keys[2]}


def _der(cert):
    return cert.public_bytes(serialization.Encoding.DER)


def _sha1(cert):
    return cert.fingerprint(hashes.SHA1()).hex()


def test_chain_thumbprint_is_the_top_certificate(pki):
    presented = [_der(pki["leaf"]), _der(pki["inter"])]
    assert oidc.chain_thumbprint(presented) == _sha1(pki["inter"])
    assert oidc.chain_thumbprint(presented) != _sha1(pki["leaf"])
    with_root = presented + [_der(pki["root"])]
    assert oidc.chain_thumbprint(with_root) == _sha1(pki["root"])
    assert len(oidc.chain_thumbprint(presented)) == 40


def test_chain_thumbprint_empty():
    with pytest.raises(KarpenterError):
        oidc.chain_thumbprint([])


# The TLS handshake below runs over loopback against certificates generated here; nothing is mocked.


@pytest.fixture
def tls_issuer(pki, tmp_path):
    chain_pem = tmp_path / "chain.pem"
    key_pem = tmp_path / "key.pem"
    chain_pem.write_bytes(
        pki["leaf"].public_bytes(serialization.Encoding.PEM) + pki["inter"].public_bytes(serialization.Encoding.PEM)
    )
    key_pem.write_bytes(
        pki["leaf_key"].private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(str(chain_pem), str(key_pem))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(0.1)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _addr = listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(5)
            try:
                with server_ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    listener.close()
    thread.join(5)


def test_issuer_thumbprint_over_tls(pki, tls_issuer):
    client_ctx = ssl.create_default_context(cadata=pki["root"].public_bytes(serialization.Encoding.PEM).decode())
    thumb, note = oidc.issuer_thumbprint(f"https://localhost:{tls_issuer}/id/ABC", timeout=5, context=client_ctx)
    assert note is None
    assert thumb == _sha1(pki["inter"])


def test_issuer_thumbprint_untrusted_chain_is_not_used(tls_issuer):
    thumb, note = oidc.issuer_thumbprint(f"https://localhost:{tls_issuer}/id/ABC", timeout=5)
    assert thumb is None
    assert "could not be read" in note


def test_issuer_thumbprint_unreachable():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens on this port now
    thumb, note = oidc.issuer_thumbprint(f"https://127.0.0.1:{port}/id/ABC", timeout=1)
    assert thumb is None
    assert f"127.0.0.1:{port}" in note


# ------------------------------------------------------------ ownership and trust

PROVIDER_ARN = "arn:aws:iam::111122223333:oidc-provider/" + HOST_PATH
# The IRSA trust policy the EKS user guide gives (and eksctl writes) for a service account's role.
IRSA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Federated": PROVIDER_ARN},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {HOST_PATH + ":sub": "system:serviceaccount:default:my-sa"}},
        }
    ],
}


@pytest.mark.parametrize(
    "document, expected",
    [
        (IRSA_TRUST, [PROVIDER_ARN]),
        (__import__("json").dumps(IRSA_TRUST), [PROVIDER_ARN]),
        (__import__("urllib.parse").parse.quote(__import__("json").dumps(IRSA_TRUST)), [PROVIDER_ARN]),
        ({"Statement": {"Effect": "Allow", "Principal": {"Federated": [PROVIDER_ARN, "x"]}}}, [PROVIDER_ARN, "x"]),
        ({"Statement": [{"Effect": "Deny", "Principal": {"Federated": PROVIDER_ARN}}]}, []),
        ({"Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}}]}, []),
        ({"Statement": [{"Effect": "Allow", "Principal": "*"}]}, []),
        ("not json", []),
        (None, []),
    ],
)
def test_trusting_principals(document, expected):
    assert oidc.trusting_principals(document) == expected


def test_keep_reason():
    mark = {"jit.karpenter/managed-by": "jit.karpenter"}
    assert oidc.keep_reason(PROVIDER_ARN, mark, mark, []) is None
    assert oidc.keep_reason(PROVIDER_ARN, {}, None, []) is None
    assert "jit.karpenter/managed-by=jit.karpenter" in oidc.keep_reason(PROVIDER_ARN, {}, mark, [])
    assert "not created by this collection" in oidc.keep_reason(
        PROVIDER_ARN, {"jit.karpenter/managed-by": "eksctl"}, mark, []
    )
    assert oidc.keep_reason(PROVIDER_ARN, mark, mark, ["payments"]) == "IAM role payments still trusts it"
    assert oidc.keep_reason(PROVIDER_ARN, mark, mark, ["b", "a"]) == "IAM roles a, b still trust it"

"""Certificates and keys for the sandbox's control plane (made once per sandbox state dir)."""

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# Client identities: file stem -> (CN, O)
CLIENTS = {
    "admin": ("kubernetes-admin", "system:masters"),
    "kube-controller-manager": ("system:kube-controller-manager", None),
    "kube-scheduler": ("system:kube-scheduler", None),
    "kwok": ("kwok-controller", "system:masters"),
}


def _write_key(path, key):
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    path.chmod(0o600)


def _name(cn, org=None):
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    for o in [org] if isinstance(org, str) else org or []:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, o))
    return x509.Name(attrs)


def _cert(subject, key, issuer, issuer_key, ca=False, server_names=(), server_ips=(), client=False):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        # Python 3.13's default TLS context (VERIFY_X509_STRICT) rejects certificates without it.
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        ).add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    else:
        usages = [ExtendedKeyUsageOID.CLIENT_AUTH] if client else [ExtendedKeyUsageOID.SERVER_AUTH]
        builder = builder.add_extension(
            x509.KeyUsage(True, False, True, False, False, False, False, False, False), critical=True
        ).add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        if server_names or server_ips:
            sans = [x509.DNSName(n) for n in server_names] + [
                x509.IPAddress(ipaddress.ip_address(i)) for i in server_ips
            ]
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def client_credentials(pki_dir, username, groups=()):
    """(certificate PEM, key PEM) for ``username`` in ``groups``, signed by the sandbox's CA.

    The API server takes the certificate's CN as the username and its O values as the groups.
    """
    d = Path(pki_dir)
    ca_key = serialization.load_pem_private_key((d / "ca.key").read_bytes(), password=None)
    ca = x509.load_pem_x509_certificate((d / "ca.crt").read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _cert(_name(username, list(groups)), key, ca.subject, ca_key, client=True)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return _pem(cert), key_pem


def ensure_pki(pki_dir, service_ip="10.100.0.1"):
    """Create the CA, serving and client certificates and the service-account key pair.

    Idempotent: an existing CA is kept, so kubeconfigs written earlier stay valid.
    """
    d = Path(pki_dir)
    d.mkdir(parents=True, exist_ok=True)
    if (d / "ca.crt").exists() and (d / "sa.key").exists():
        return d
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("kubernetes")
    ca = _cert(ca_name, ca_key, ca_name, ca_key, ca=True)
    _write_key(d / "ca.key", ca_key)
    (d / "ca.crt").write_bytes(_pem(ca))

    key = ec.generate_private_key(ec.SECP256R1())
    names = [
        "localhost",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
    ]
    cert = _cert(
        _name("kube-apiserver"), key, ca_name, ca_key, server_names=names, server_ips=["127.0.0.1", service_ip]
    )
    _write_key(d / "apiserver.key", key)
    (d / "apiserver.crt").write_bytes(_pem(cert))

    for stem, (cn, org) in CLIENTS.items():
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _cert(_name(cn, org), key, ca_name, ca_key, client=True)
        _write_key(d / ("%s.key" % stem), key)
        (d / ("%s.crt" % stem)).write_bytes(_pem(cert))

    # Service-account tokens are RS256-signed, as on EKS.
    sa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _write_key(d / "sa.key", sa)
    (d / "sa.pub").write_bytes(
        sa.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return d


def ensure_server_cert(pki_dir, stem, common_name):
    """``<stem>.crt``/``<stem>.key``: a serving certificate for 127.0.0.1 and localhost from the sandbox CA."""
    d = Path(pki_dir)
    if (d / ("%s.crt" % stem)).exists() and (d / ("%s.key" % stem)).exists():
        return d / ("%s.crt" % stem), d / ("%s.key" % stem)
    ca = x509.load_pem_x509_certificate((d / "ca.crt").read_bytes())
    ca_key = serialization.load_pem_private_key((d / "ca.key").read_bytes(), password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _cert(_name(common_name), key, ca.subject, ca_key, server_names=["localhost"], server_ips=["127.0.0.1"])
    _write_key(d / ("%s.key" % stem), key)
    (d / ("%s.crt" % stem)).write_bytes(_pem(cert))
    return d / ("%s.crt" % stem), d / ("%s.key" % stem)


def kubeconfig(server, ca_pem, cert_pem, key_pem, cluster, user):
    """A kubeconfig document (as a dict) with embedded credentials."""
    import base64

    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    context = "%s@%s" % (user, cluster)
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": {"server": server, "certificate-authority-data": b64(ca_pem)}}],
        "users": [{"name": user, "user": {"client-certificate-data": b64(cert_pem), "client-key-data": b64(key_pem)}}],
        "contexts": [{"name": context, "context": {"cluster": cluster, "user": user}}],
        "current-context": context,
    }


def ensure_serving_cert(pki_dir, stem, server_names):
    """A serving certificate ``<stem>.crt``/``<stem>.key`` for ``server_names``, signed by the sandbox CA."""
    d = Path(pki_dir)
    if (d / ("%s.crt" % stem)).exists():
        return d / ("%s.crt" % stem), d / ("%s.key" % stem)
    ca_key = serialization.load_pem_private_key((d / "ca.key").read_bytes(), password=None)
    ca = x509.load_pem_x509_certificate((d / "ca.crt").read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _cert(_name(server_names[0]), key, ca.subject, ca_key, server_names=server_names)
    _write_key(d / ("%s.key" % stem), key)
    (d / ("%s.crt" % stem)).write_bytes(_pem(cert))
    return d / ("%s.crt" % stem), d / ("%s.key" % stem)

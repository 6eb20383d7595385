"""Signature checks of presigned STS requests, which moto does not make.

moto answers a presigned ``GetCallerIdentity`` URL without looking at its signature, and reads
neither the service nor the access key from the query string: it sends such a request to S3, or,
once it reaches STS, answers with its default identity whoever signed it. The emulator's WSGI app
therefore copies the query's ``X-Amz-Credential`` into an ``Authorization`` header before moto sees
the request (:func:`authorization_from_query`), which moto reads both from. The signature itself
stays unchecked by moto (pinned in sandbox/tests/emulator/test_divergences.py). STS itself recomputes the AWS
Signature Version 4 over the query string and the signed headers, so a token whose
``x-k8s-aws-id`` header was signed for another cluster fails there. The sandbox's token webhook
asks the emulator to make that check (``POST /_sandbox/sts/verify-presigned``) before it calls STS.

Secret keys come from where moto keeps them: ``AssumeRole`` sessions and IAM users' access keys.
The sandbox's own credentials (``SANDBOX_CREDENTIALS``, what ``.sandbox/env`` exports) are not in
IAM; moto treats them as its default identity, and so does this check.
"""

import hashlib
import hmac
from urllib.parse import parse_qsl, quote, urlsplit

SANDBOX_CREDENTIALS = {"testing": "testing"}
_ALGORITHM = "AWS4-HMAC-SHA256"
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _quote(value):
    return quote(value, safe="-_.~")


def signature(url, headers, secret_key):
    """The SigV4 signature of a presigned GET ``url`` sent with ``headers`` (names lower case)."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    params = dict(pairs)
    unsigned = sorted((k, v) for k, v in pairs if k != "X-Amz-Signature")
    canonical_query = "&".join("%s=%s" % (_quote(k), _quote(v)) for k, v in unsigned)
    signed = params.get("X-Amz-SignedHeaders", "").split(";")
    values = {k.lower(): v for k, v in headers.items()}
    values["host"] = parts.netloc
    missing = [h for h in signed if h not in values]
    if missing:
        raise ValueError("the request lacks the signed header(s) %s" % ", ".join(missing))
    canonical_headers = "".join("%s:%s\n" % (h, " ".join(str(values[h]).split())) for h in signed)
    canonical_request = "\n".join(
        ["GET", parts.path or "/", canonical_query, canonical_headers, ";".join(signed), _EMPTY_SHA256]
    )
    scope = params["X-Amz-Credential"].split("/", 1)[1]
    to_sign = "\n".join(
        [_ALGORITHM, params["X-Amz-Date"], scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = ("AWS4" + secret_key).encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def authorization_from_query(environ):
    """Give a query-signed request the Authorization header moto routes and identifies by."""
    if environ.get("HTTP_AUTHORIZATION"):
        return
    query = environ.get("QUERY_STRING") or ""
    if "X-Amz-Credential=" not in query or "X-Amz-Signature=" not in query:
        return
    params = dict(parse_qsl(query, keep_blank_values=True))
    if params.get("X-Amz-Algorithm") != _ALGORITHM or params.get("X-Amz-Credential", "").count("/") != 4:
        return
    environ["HTTP_AUTHORIZATION"] = "%s Credential=%s, SignedHeaders=%s, Signature=%s" % (
        _ALGORITHM,
        params["X-Amz-Credential"],
        params.get("X-Amz-SignedHeaders", ""),
        params["X-Amz-Signature"],
    )


def secret_for(access_key_id):
    """The secret key moto holds for ``access_key_id``, or None when it knows none."""
    if access_key_id in SANDBOX_CREDENTIALS:
        return SANDBOX_CREDENTIALS[access_key_id]
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    for account_backends in list(sts_backends.values()):
        for backend in list(account_backends.values()):
            role = backend.get_assumed_role_from_access_key(access_key_id)
            if role is not None:
                return role.secret_access_key
    for account_backends in list(iam_backends.values()):
        for backend in list(account_backends.values()):
            for user in list(backend.users.values()):
                for key in user.access_keys:
                    if key.access_key_id == access_key_id:
                        return key.secret_access_key
    return None


def verify(url, headers):
    """``(valid, reason)``: whether STS would accept the signature of the presigned ``url``."""
    params = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    for name in ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature"):
        if not params.get(name):
            return False, "%s is missing: not a presigned request" % name
    if params["X-Amz-Algorithm"] != _ALGORITHM:
        return False, "unsupported signing algorithm %s" % params["X-Amz-Algorithm"]
    access_key_id = params["X-Amz-Credential"].split("/", 1)[0]
    secret = secret_for(access_key_id)
    if secret is None:
        return False, "InvalidClientTokenId: the access key %s is not known" % access_key_id
    try:
        expected = signature(url, headers, secret)
    except ValueError as err:
        return False, "SignatureDoesNotMatch: %s" % err
    if not hmac.compare_digest(expected, params["X-Amz-Signature"]):
        return False, "SignatureDoesNotMatch: the signature does not match the request and its signed headers"
    return True, "signature valid for access key %s" % access_key_id

"""AssumeRoleWithWebIdentity as AWS STS does it, for service-account tokens of the sandbox's clusters.

moto's STS issues credentials for any token and any role. Here the call is checked the way
STS checks it, in this order:

1. The token is a JWT whose ``iss`` is the OIDC issuer of an EKS cluster in the emulator.
   Its signing keys come from that issuer's discovery document, fetched from the cluster's
   API endpoint (``<endpoint>/.well-known/openid-configuration``, then its ``jwks_uri``,
   trusting the cluster's certificate authority): the keys the kube-apiserver publishes.
   A bad signature or an unknown issuer is ``InvalidIdentityToken``; an expired token
   ``ExpiredTokenException``.
2. An IAM OIDC provider for the issuer exists in the role's account
   (``InvalidIdentityToken``: "No OpenIDConnect provider found ...") and lists the token's
   audience among its client IDs (``InvalidIdentityToken``: "Incorrect token audience").
3. The role exists and its trust policy allows ``sts:AssumeRoleWithWebIdentity`` to
   ``Principal.Federated`` = that provider's ARN, with every condition met: ``StringEquals``,
   ``StringLike`` (``*`` and ``?``) and their ``IgnoreCase``/``Not`` forms on
   ``<issuer host/path>:sub``, ``:aud`` and ``:amr``. A matching ``Deny`` wins. Otherwise
   ``AccessDenied``: "Not authorized to perform sts:AssumeRoleWithWebIdentity".

The answer carries ``SubjectFromWebIdentityToken``, ``Audience`` and ``Provider`` as the
botocore model's ``AssumeRoleWithWebIdentityResponse`` has them.
"""

import base64
import fnmatch
import functools
import json
import ssl
import threading
import time
import urllib.request

import jwt

JWKS_TTL = 300
_jwks_cache = {}
_jwks_lock = threading.Lock()

NOT_AUTHORIZED = "Not authorized to perform sts:AssumeRoleWithWebIdentity"


def _error(code, message):
    from moto.sts.exceptions import STSClientError

    return STSClientError(code, message)


def issuer_clusters(issuer):
    """The emulator's EKS clusters (any account, any region) whose OIDC issuer is ``issuer``."""
    from moto.eks.models import eks_backends

    found = []
    for account_id in list(eks_backends.keys()):
        for region in list(eks_backends[account_id].keys()):
            for cluster in list(eks_backends[account_id][region].clusters.values()):
                if (getattr(cluster, "identity", None) or {}).get("oidc", {}).get("issuer") == issuer:
                    found.append(cluster)
    return found


def _fetch_json(url, ca_data):
    ctx = None
    if url.startswith("https://"):
        ctx = ssl.create_default_context()
        if ca_data:
            ctx.load_verify_locations(cadata=base64.b64decode(ca_data).decode())
    with urllib.request.urlopen(url, context=ctx, timeout=5) as response:
        return json.load(response)


def signing_keys(issuer, refresh=False):
    """{kid: key} published for ``issuer`` by its cluster's API server (cached ``JWKS_TTL`` s)."""
    with _jwks_lock:
        cached = _jwks_cache.get(issuer)
        if cached and not refresh and time.time() - cached[0] < JWKS_TTL:
            return cached[1]
    keys = {}
    for cluster in issuer_clusters(issuer):
        ca_data = (cluster.certificate_authority or {}).get("data")
        try:
            discovery = _fetch_json(cluster.endpoint.rstrip("/") + "/.well-known/openid-configuration", ca_data)
            if discovery.get("issuer") != issuer:
                continue
            jwks = _fetch_json(discovery["jwks_uri"], ca_data)
        except (OSError, ValueError, KeyError):
            continue
        for jwk in jwks.get("keys", []):
            try:
                keys[jwk.get("kid")] = jwt.PyJWK(jwk).key
            except jwt.PyJWTError:
                continue
    with _jwks_lock:
        _jwks_cache[issuer] = (time.time(), keys)
    return keys


def verify_token(token):
    """The verified claims of ``token``; raises STS's errors for a token STS would refuse."""
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise _error(
            "InvalidIdentityToken",
            "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)",
        ) from None
    issuer = unverified.get("iss")
    if not issuer or not issuer.startswith("https://"):
        raise _error("InvalidIdentityToken", "Issuer must be a valid URL")
    keys = signing_keys(issuer)
    if header.get("kid") not in keys:
        keys = signing_keys(issuer, refresh=True)
    key = keys.get(header.get("kid"))
    if key is None:
        raise _error(
            "InvalidIdentityToken",
            "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements",
        )
    try:
        return jwt.decode(
            token,
            key=key,
            algorithms=[header.get("alg", "RS256")],
            options={"verify_aud": False, "require": ["exp", "iss", "sub", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        exp = unverified.get("exp")
        raise _error(
            "ExpiredTokenException",
            "Token expired: current date/time %d must be before the expiration date/time%s" % (time.time(), exp),
        ) from None
    except jwt.PyJWTError as err:
        raise _error("InvalidIdentityToken", "The token is invalid: %s" % err) from None


def _as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _action_matches(actions):
    return any(fnmatch.fnmatchcase("sts:assumerolewithwebidentity", a.lower()) for a in _as_list(actions))


def _condition_met(operator, key_values, context):
    negate = "Not" in operator
    base = operator.replace("IfExists", "")
    ignore_case = base.endswith("IgnoreCase")
    like = base.startswith(("StringLike", "StringNotLike"))
    if not base.startswith(("StringEquals", "StringNotEquals", "StringLike", "StringNotLike")):
        return False  # an operator this emulator does not evaluate never grants access
    for key, wanted in key_values.items():
        actual = context.get(key.lower())
        if actual is None:
            if operator.endswith("IfExists"):
                continue
            return negate
        values = _as_list(actual)
        patterns = [str(w) for w in _as_list(wanted)]

        def hit(value, pattern):
            if ignore_case:
                value, pattern = value.lower(), pattern.lower()
            return fnmatch.fnmatchcase(value, pattern) if like else value == pattern

        matched = any(hit(v, p) for v in values for p in patterns)
        if matched == negate:
            return False
    return True


def _statement_applies(statement, provider_arn, context):
    principals = statement.get("Principal") or {}
    if principals != "*" and provider_arn not in _as_list(principals.get("Federated")):
        return False
    if not _action_matches(statement.get("Action")):
        return False
    return all(_condition_met(op, kv, context) for op, kv in (statement.get("Condition") or {}).items())


def trust_allows(policy_document, provider_arn, claims, provider_url):
    """Whether a role's trust policy lets ``claims`` (from ``provider_url``'s token) assume it."""
    try:
        policy = json.loads(policy_document) if isinstance(policy_document, str) else policy_document
    except ValueError:
        return False
    context = {
        (provider_url + ":sub").lower(): claims.get("sub"),
        (provider_url + ":aud").lower(): claims.get("aud"),
        (provider_url + ":amr").lower(): claims.get("amr"),
    }
    statements = _as_list(policy.get("Statement"))
    applicable = [s for s in statements if _statement_applies(s, provider_arn, context)]
    if any(s.get("Effect") == "Deny" for s in applicable):
        return False
    return any(s.get("Effect") == "Allow" for s in applicable)


def authorize(role_arn, token):
    """Check a web identity call; return (claims, provider_arn, audience) or raise STS's error."""
    from moto.iam.models import iam_backends

    claims = verify_token(token)
    issuer = claims["iss"]
    provider_url = issuer[len("https://") :].rstrip("/")
    parts = role_arn.split(":")
    if len(parts) < 6 or parts[2] != "iam" or not parts[5].startswith("role/"):
        raise _error("ValidationError", "%s is invalid" % role_arn)
    partition, account_id = parts[1], parts[4]
    iam = iam_backends[account_id]["global"]
    provider_arn = "arn:%s:iam::%s:oidc-provider/%s" % (partition, account_id, provider_url)
    provider = iam.open_id_providers.get(provider_arn)
    if provider is None:
        raise _error("InvalidIdentityToken", "No OpenIDConnect provider found in your account for %s" % issuer)
    audiences = _as_list(claims.get("aud"))
    audience = next((a for a in audiences if a in (provider.client_id_list or [])), None)
    if audience is None:
        raise _error("InvalidIdentityToken", "Incorrect token audience")
    role = next((r for r in iam.get_roles() if r.arn == role_arn), None)
    if role is None or not trust_allows(role.assume_role_policy_document, provider_arn, claims, provider_url):
        raise _error("AccessDenied", NOT_AUTHORIZED)
    return claims, provider_arn, audience


def apply():
    from moto.core.responses import ActionResult
    from moto.sts.responses import TokenResponse

    original = TokenResponse.assume_role_with_web_identity

    @functools.wraps(original)
    def assume_role_with_web_identity(self):
        claims, provider_arn, audience = authorize(
            self._get_param("RoleArn") or "", self._get_param("WebIdentityToken") or ""
        )
        result = original(self)
        body = dict(result.result) if hasattr(result, "result") else result
        body["SubjectFromWebIdentityToken"] = claims["sub"]
        body["Provider"] = provider_arn
        body["Audience"] = audience
        return ActionResult(body)

    TokenResponse.assume_role_with_web_identity = assume_role_with_web_identity

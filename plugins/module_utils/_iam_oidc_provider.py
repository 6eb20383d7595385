# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IAM OpenID Connect provider for an EKS cluster's service-account issuer.

The pure part (issuer parsing, ARN building, thumbprint selection, the plan of
changes) is kept apart from the AWS and TLS calls so it can be tested alone.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import re
import socket
import ssl

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover  (Python 2)
    from urlparse import urlsplit

from ansible_collections.jit.karpenter.plugins.module_utils._names import is_account_id, parse_arn
from ansible_collections.jit.karpenter.plugins.module_utils._aws import MISSING
from ansible_collections.jit.karpenter.plugins.module_utils._aws import aws_call as _call
from ansible_collections.jit.karpenter.plugins.module_utils._eks import describe_cluster
from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError

DEFAULT_CLIENT_IDS = ["sts.amazonaws.com"]
THUMBPRINT_MODES = ("auto", "omit")
MAX_THUMBPRINTS = 5
_THUMBPRINT_RE = re.compile(r"^[0-9a-f]{40}$")


# ---------------------------------------------------------------- pure helpers


def parse_issuer(issuer):
    """Validate an OIDC issuer URL and return ``(host, port, path)``.

    Only ``https`` issuers are accepted (IAM and eksctl refuse anything else).
    A trailing slash on the path is dropped, as IAM does.
    """
    if not issuer or not isinstance(issuer, str):
        raise KarpenterError("The OIDC issuer URL is empty", issuer=issuer)
    parts = urlsplit(issuer.strip())
    if parts.scheme != "https":
        raise KarpenterError(
            f"The OIDC issuer URL '{issuer}' is not an https URL; IAM accepts only https issuers",
            issuer=issuer,
        )
    if not parts.hostname:
        raise KarpenterError(f"The OIDC issuer URL '{issuer}' has no host", issuer=issuer)
    if parts.query or parts.fragment:
        raise KarpenterError(f"The OIDC issuer URL '{issuer}' must not carry a query or fragment", issuer=issuer)
    try:
        port = parts.port or 443
    except ValueError:
        raise KarpenterError(f"The OIDC issuer URL '{issuer}' has an invalid port", issuer=issuer)
    return parts.hostname.lower(), port, parts.path.rstrip("/")


def provider_url(issuer):
    """The provider's identity as IAM stores it: ``host[:port]/path`` without the scheme.

    This is also the prefix of the ``:sub`` and ``:aud`` keys in IRSA trust
    conditions. The default port 443 is left out, as in the ARNs IAM returns.
    """
    host, port, path = parse_issuer(issuer)
    netloc = host if port == 443 else f"{host}:{port}"
    return netloc + path


def provider_arn(issuer, account_id, partition="aws"):
    """``arn:<partition>:iam::<account>:oidc-provider/<host><path>``."""
    if not is_account_id(str(account_id or "")):
        raise KarpenterError(f"'{account_id}' is not a 12-digit AWS account ID")
    return f"arn:{partition}:iam::{account_id}:oidc-provider/{provider_url(issuer)}"


def normalize_thumbprints(values):
    """Lower-case, de-duplicate and validate a list of SHA-1 hex thumbprints."""
    result = []
    for value in values or []:
        thumb = str(value).strip().replace(":", "").lower()
        if not _THUMBPRINT_RE.match(thumb):
            raise KarpenterError(f"'{value}' is not a thumbprint (40 hexadecimal characters of a SHA-1 digest)")
        if thumb not in result:
            result.append(thumb)
    if len(result) > MAX_THUMBPRINTS:
        raise KarpenterError(f"IAM accepts at most {MAX_THUMBPRINTS} thumbprints, got {len(result)}")
    return result


def thumbprint_mode(value):
    """Split the ``thumbprint`` option into ``(mode, explicit_list)``.

    ``auto`` and ``omit`` are modes; a string of 40 hex digits or a list of
    them is an explicit list (mode ``explicit``).
    """
    if value is None:
        return "auto", None
    if isinstance(value, str):
        if value in THUMBPRINT_MODES:
            return value, None
        value = [v for v in value.split(",") if v.strip()]
    if isinstance(value, (list, tuple)):
        return "explicit", normalize_thumbprints(value)
    raise KarpenterError(f"thumbprint must be 'auto', 'omit' or a list of thumbprints, not {value!r}")


def sha1_thumbprint(der_bytes):
    """Hex SHA-1 digest of a DER-encoded certificate, as IAM expects it."""
    return hashlib.sha1(der_bytes).hexdigest()  # nosec: the IAM API defines thumbprints as SHA-1


def chain_thumbprint(chain):
    """Thumbprint of the top certificate of a server's presented chain.

    ``chain`` is the list of DER certificates in the order the server sent
    them (leaf first). Like eksctl, the top one is the last the server sends:
    the certificate closest to the root that IAM would otherwise work out.
    """
    if not chain:
        raise KarpenterError("The issuer presented no certificates")
    return sha1_thumbprint(chain[-1])


def normalize_provider(arn, response):
    """The module's view of ``GetOpenIDConnectProvider``."""
    url = response.get("Url", "")
    if url and not url.startswith("https://"):
        url = "https://" + url
    return {
        "arn": arn,
        "url": url,
        "client_ids": sorted(response.get("ClientIDList") or []),
        "thumbprints": sorted(t.lower() for t in (response.get("ThumbprintList") or [])),
    }


def plan_update(current, client_ids=None, thumbprints=None):
    """What to change on an existing provider: ``{"add_client_ids", "remove_client_ids", "thumbprints"}``.

    ``client_ids``/``thumbprints`` are ``None`` when the user did not give them:
    then the provider's values are left alone, whatever they are.
    """
    plan = {"add_client_ids": [], "remove_client_ids": [], "thumbprints": None}
    if client_ids is not None:
        wanted = set(client_ids)
        have = set(current.get("client_ids") or [])
        plan["add_client_ids"] = sorted(wanted - have)
        plan["remove_client_ids"] = sorted(have - wanted)
    if thumbprints is not None and set(thumbprints) != set(current.get("thumbprints") or []):
        plan["thumbprints"] = sorted(thumbprints)
    return plan


def trusting_principals(document):
    """The ``Principal.Federated`` values of a trust policy's Allow statements (a dict or its JSON text)."""
    import json

    try:
        from urllib.parse import unquote
    except ImportError:  # pragma: no cover  (Python 2)
        from urllib import unquote
    if isinstance(document, str):
        text = document if document.lstrip().startswith("{") else unquote(document)
        try:
            document = json.loads(text)
        except ValueError:
            return []
    statements = (document or {}).get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    found = []
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        federated = (
            (statement.get("Principal") or {}).get("Federated")
            if isinstance(statement.get("Principal"), dict)
            else None
        )
        if isinstance(federated, str):
            federated = [federated]
        found.extend(federated or [])
    return found


def keep_reason(arn, tags, required_tags, trusting_roles):
    """Why ``state=absent`` keeps the provider, or ``None`` when it may be deleted.

    ``required_tags``: the provider must carry each of them (the ownership mark of whoever created
    it); ``trusting_roles``: the names of roles whose trust policy names the provider.
    """
    tags = tags or {}
    missing = sorted(k for k, v in (required_tags or {}).items() if tags.get(k) != v)
    if missing:
        return "it does not carry the tag{0} {1}, so it was not created by this collection".format(
            "s" if len(missing) > 1 else "", ", ".join("{0}={1}".format(k, required_tags[k]) for k in missing)
        )
    if trusting_roles:
        return "IAM role{0} {1} still trust{2} it".format(
            "s" if len(trusting_roles) > 1 else "",
            ", ".join(sorted(trusting_roles)),
            "" if len(trusting_roles) > 1 else "s",
        )
    return None


def plan_is_empty(plan):
    return not (plan["add_client_ids"] or plan["remove_client_ids"] or plan["thumbprints"] is not None)


def apply_plan(current, plan):
    """The provider as it will be after ``plan`` (for check mode and diff)."""
    after = dict(current)
    ids = set(current.get("client_ids") or [])
    ids.update(plan["add_client_ids"])
    ids.difference_update(plan["remove_client_ids"])
    after["client_ids"] = sorted(ids)
    if plan["thumbprints"] is not None:
        after["thumbprints"] = sorted(plan["thumbprints"])
    return after


# ------------------------------------------------------------------------- TLS


def fetch_peer_chain(host, port=443, timeout=5.0, context=None):
    """The DER certificates ``host:port`` presents, leaf first.

    The handshake is verified against the system trust store (or ``context``),
    so a thumbprint is never taken from a certificate nobody vouches for.
    Raises ``OSError``/``ssl.SSLError`` when the issuer cannot be reached.
    """
    context = context or ssl.create_default_context()
    with socket.create_connection((host, port), timeout=timeout) as sock:  # noqa: SIM117 (Python 3.8 targets)
        with context.wrap_socket(sock, server_hostname=host) as tls:
            getter = getattr(tls, "get_unverified_chain", None)  # Python >= 3.13
            if getter is None:
                getter = getattr(getattr(tls, "_sslobj", None), "get_unverified_chain", None)  # 3.10 - 3.12
            if getter is None:
                raise ssl.SSLError("this Python cannot read the certificate chain a server presents")
            chain = getter() or []
    return [c if isinstance(c, bytes) else c.public_bytes(ssl._ssl.ENCODING_DER) for c in chain]


def issuer_thumbprint(issuer, timeout=5.0, context=None):
    """``(thumbprint, note)``: the thumbprint of the issuer's top certificate, or
    ``(None, reason)`` when the issuer cannot be reached in ``timeout`` seconds."""
    host, port, _path = parse_issuer(issuer)
    try:
        chain = fetch_peer_chain(host, port, timeout=timeout, context=context)
        return chain_thumbprint(chain), None
    except (OSError, ssl.SSLError, ValueError, KarpenterError) as e:
        return None, (
            f"No thumbprint sent: the issuer {host}:{port} could not be read ({e}); "
            "IAM then secures the provider with its own trusted root CAs"
        )


# ------------------------------------------------------------------------- AWS


def cluster_issuer(eks, cluster_name, region):
    """The OIDC issuer URL of an EKS cluster."""
    issuer = ((describe_cluster(eks, cluster_name, region).get("identity") or {}).get("oidc") or {}).get("issuer")
    if not issuer:
        raise KarpenterError(
            f"EKS cluster '{cluster_name}' in {region} has no OIDC issuer",
            cluster_name=cluster_name,
            region=region,
        )
    return issuer


def account_and_partition(sts):
    identity = _call("Looking up the AWS account (sts:GetCallerIdentity)", sts.get_caller_identity)
    return identity["Account"], parse_arn(identity["Arn"]).partition


def get_provider(iam, arn):
    """The normalized provider, or ``None`` when it does not exist."""
    response = _call(
        f"Reading OIDC provider {arn}",
        iam.get_open_id_connect_provider,
        missing=("NoSuchEntity",),
        OpenIDConnectProviderArn=arn,
    )
    if response is MISSING:
        return None
    return normalize_provider(arn, response)


def provider_tags(iam, arn):
    page = _call("Reading the tags of " + arn, iam.list_open_id_connect_provider_tags, OpenIDConnectProviderArn=arn)
    return {t["Key"]: t["Value"] for t in page.get("Tags") or []}


def roles_trusting(iam, arn):
    """Names of the IAM roles whose trust policy names the provider ``arn``."""
    names, marker = [], None
    while True:
        kwargs = {"Marker": marker} if marker else {}
        page = _call("Listing IAM roles (iam:ListRoles)", iam.list_roles, **kwargs)
        for role in page.get("Roles") or []:
            if arn in trusting_principals(role.get("AssumeRolePolicyDocument")):
                names.append(role["RoleName"])
        marker = page.get("Marker") if page.get("IsTruncated") else None
        if not marker:
            return sorted(names)


def _create_provider_input(iam):
    """The CreateOpenIDConnectProvider input shape of the installed botocore."""
    return iam.meta.service_model.operation_model("CreateOpenIDConnectProvider").input_shape


def ensure_present(
    iam,
    arn,
    issuer,
    client_ids=None,
    thumbprint=None,
    check_mode=False,
    timeout=5.0,
    tls_context=None,
    tags=None,
):
    """Create the provider, or bring an existing one in line with explicit options.

    ``tags`` are set when the provider is created, never on one that exists: they mark who created it.

    Returns ``(changed, {"before": ..., "after": ..., "note": ...})``.
    """
    mode, explicit = thumbprint_mode(thumbprint)
    current = get_provider(iam, arn)
    note = None

    if current is None:
        ids = sorted(set(client_ids)) if client_ids is not None else list(DEFAULT_CLIENT_IDS)
        thumbs = explicit or []
        if mode == "auto":
            found, note = issuer_thumbprint(issuer, timeout=timeout, context=tls_context)
            thumbs = [found] if found else []
        elif mode == "omit":
            note = "No thumbprint sent (thumbprint=omit); IAM secures the provider with its own trusted root CAs"
        after = {"arn": arn, "url": issuer, "client_ids": ids, "thumbprints": sorted(thumbs)}
        if tags:
            after["tags"] = dict(tags)
        if not check_mode:
            params = {"Url": issuer, "ClientIDList": ids}
            # botocore before the thumbprint became optional (1.34.0, the minimum) still requires the
            # member: send the empty list there, which IAM reads as no thumbprint.
            if thumbs or "ThumbprintList" in _create_provider_input(iam).required_members:
                params["ThumbprintList"] = thumbs
            if tags:
                params["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(tags.items())]
            # EntityAlreadyExists: created concurrently, which is success.
            _call(
                f"Creating OIDC provider for {issuer}",
                iam.create_open_id_connect_provider,
                missing=("EntityAlreadyExists",),
                **params,
            )
            after = get_provider(iam, arn) or after
        return True, {"before": None, "after": after, "note": note}

    plan = plan_update(current, client_ids=client_ids, thumbprints=explicit)
    if plan_is_empty(plan):
        return False, {"before": current, "after": current, "note": None}
    if not check_mode:
        for client_id in plan["add_client_ids"]:
            _call(
                f"Adding client ID {client_id} to {arn}",
                iam.add_client_id_to_open_id_connect_provider,
                OpenIDConnectProviderArn=arn,
                ClientID=client_id,
            )
        for client_id in plan["remove_client_ids"]:
            _call(
                f"Removing client ID {client_id} from {arn}",
                iam.remove_client_id_from_open_id_connect_provider,
                OpenIDConnectProviderArn=arn,
                ClientID=client_id,
            )
        if plan["thumbprints"] is not None:
            _call(
                f"Updating thumbprints of {arn}",
                iam.update_open_id_connect_provider_thumbprint,
                OpenIDConnectProviderArn=arn,
                ThumbprintList=plan["thumbprints"],
            )
        after = get_provider(iam, arn)
    else:
        after = apply_plan(current, plan)
    return True, {"before": current, "after": after, "note": None}


def ensure_absent(iam, arn, check_mode=False, required_tags=None, keep_if_trusted=False, ignore_roles=None):
    """Delete the provider if it exists, unless it must be kept.

    With ``required_tags`` it is kept unless it carries them; with ``keep_if_trusted`` it is kept
    while any IAM role other than ``ignore_roles`` trusts it. Returns ``(changed, {"before", "after",
    "kept"})``, ``kept`` the reason or ``None``.
    """
    current = get_provider(iam, arn)
    if current is None:
        return False, {"before": None, "after": None, "kept": None}
    if required_tags or keep_if_trusted:
        tags = provider_tags(iam, arn) if required_tags else {}
        trusting = [r for r in roles_trusting(iam, arn) if r not in (ignore_roles or [])] if keep_if_trusted else []
        reason = keep_reason(arn, tags, required_tags, trusting)
        if reason:
            return False, {"before": current, "after": current, "kept": reason}
    if not check_mode:
        _call(
            f"Deleting OIDC provider {arn}",
            iam.delete_open_id_connect_provider,
            missing=("NoSuchEntity",),
            OpenIDConnectProviderArn=arn,
        )
    return True, {"before": current, "after": None, "kept": None}


def run(clients, params, check_mode=False, region=None):
    """Everything the module does; returns the result (with ``diff``, which the module keeps on request)."""
    issuer = params.get("issuer_url")
    if not issuer:
        issuer = cluster_issuer(clients.aws("eks"), params["cluster_name"], region)
    issuer = issuer.strip().rstrip("/")
    parse_issuer(issuer)
    account_id, partition = account_and_partition(clients.aws("sts"))
    iam = clients.aws("iam")
    arn = provider_arn(issuer, account_id, partition)

    if params.get("state") == "absent":
        changed, state = ensure_absent(
            iam,
            arn,
            check_mode=check_mode,
            required_tags=params.get("required_tags"),
            keep_if_trusted=params.get("keep_if_trusted"),
            ignore_roles=params.get("ignore_roles"),
        )
        note = None
    else:
        changed, state = ensure_present(
            iam,
            arn,
            issuer,
            client_ids=params.get("client_ids"),
            thumbprint=params.get("thumbprint"),
            check_mode=check_mode,
            timeout=params.get("thumbprint_timeout") or 5,
            tags=params.get("tags"),
        )
        note = state.get("note")
    result = {
        "changed": changed,
        "issuer": issuer,
        "issuer_host_path": provider_url(issuer),
        "oidc_provider": state["after"],
        "diff": {"before": state["before"] or {}, "after": state["after"] or {}},
    }
    if note:
        result["thumbprint_note"] = note
    if state.get("kept"):
        result["kept"] = state["kept"]
        result["oidc_provider"] = state["before"]
    return result

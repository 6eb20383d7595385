"""Admin routes under ``/_sandbox/`` (not AWS APIs).

``GET  /_sandbox/health``                 200 once the emulator serves requests.
``GET  /_sandbox/eks/clusters/<name>``    the stored cluster's sandbox-relevant fields (with its add-ons and
                                          Pod Identity associations).
``POST /_sandbox/eks/clusters/<name>``    override them; JSON body, every key optional::

    {"endpoint": "https://127.0.0.1:6443",
     "certificate_authority_data": "<base64 of the CA PEM, as EKS returns it>",
     "oidc_issuer": "https://oidc.eks.<region>.amazonaws.com/id/<32 hex>",
     "version": "1.36",
     "authentication_mode": "CONFIG_MAP",
     "region": "us-east-1", "account_id": "123456789012"}

``POST /_sandbox/sts/verify-presigned``  ``{"url": ..., "headers": {...}}`` -> ``{"valid": bool,
"reason": str}``: the SigV4 check STS makes on a presigned request, which moto skips (see
``presign``).

``region``/``account_id`` narrow the search; without them the one cluster of that name in any
account and region is used (409 when the name is ambiguous, 404 when absent).
"""

import base64
import binascii
import json
import re
from urllib.parse import unquote

from . import patches, presign

PREFIX = "/_sandbox/"
_CLUSTER_PATH = re.compile(r"^/_sandbox/eks/clusters/([^/]+)/?$")


class AdminError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def _find_cluster(name, region=None, account_id=None):
    from moto.eks.models import eks_backends

    found = []
    for account, regions in list(eks_backends.items()):
        if account_id and account != account_id:
            continue
        for region_name, backend in list(regions.items()):
            if region and region_name != region:
                continue
            cluster = backend.clusters.get(name)
            if cluster is not None:
                found.append(cluster)
    if not found:
        raise AdminError(404, f"No cluster found for name: {name}.")
    if len(found) > 1:
        raise AdminError(409, f"Cluster name {name} is ambiguous; give region/account_id")
    return found[0]


def cluster_view(cluster):
    return {
        "name": cluster.name,
        "arn": cluster.arn,
        "endpoint": cluster.endpoint,
        "certificate_authority_data": cluster.certificate_authority.get("data"),
        "oidc_issuer": cluster.identity["oidc"]["issuer"],
        "version": cluster.version,
        "authentication_mode": cluster.access_config["authenticationMode"],
        "resources_vpc_config": cluster.resources_vpc_config,
        # Who created the cluster (not in any AWS API): system:masters in CONFIG_MAP mode.
        "cluster_creator_arn": cluster.__dict__.get("_sandbox_creator_arn"),
        # What EKS's control plane knows without an API call (the Pod Identity webhook and agent of the
        # sandbox read them here, staying out of the request log): installed add-ons and the
        # Pod Identity associations as (namespace, service account, role).
        "addons": sorted(cluster.__dict__.get("_sandbox_addons") or {}),
        "pod_identity_associations": sorted(
            [a["namespace"], a["serviceAccount"], a["roleArn"]]
            for a in (cluster.__dict__.get("_sandbox_pod_identity_associations") or {}).values()
        ),
    }


def _validate(body):
    if not isinstance(body, dict):
        raise AdminError(400, "body must be a JSON object")
    known = {
        "endpoint",
        "certificate_authority_data",
        "oidc_issuer",
        "version",
        "authentication_mode",
        "region",
        "account_id",
    }
    unknown = sorted(set(body) - known)
    if unknown:
        raise AdminError(400, "unknown keys: {}".format(", ".join(unknown)))
    for key in known:
        if key in body and not isinstance(body[key], str):
            raise AdminError(400, f"{key} must be a string")
    if "endpoint" in body and not re.match(r"^https?://[^/]+", body["endpoint"]):
        raise AdminError(400, "endpoint must be an http(s) URL")
    if "oidc_issuer" in body and not body["oidc_issuer"].startswith("https://"):
        raise AdminError(400, "oidc_issuer must be an https URL")
    if "certificate_authority_data" in body:
        try:
            pem = base64.b64decode(body["certificate_authority_data"], validate=True)
        except (binascii.Error, ValueError):
            raise AdminError(400, "certificate_authority_data must be base64") from None
        if b"-----BEGIN CERTIFICATE-----" not in pem:
            raise AdminError(400, "certificate_authority_data must encode a PEM certificate")
    if "authentication_mode" in body and body["authentication_mode"] not in patches.AUTHENTICATION_MODES:
        raise AdminError(
            400,
            "authentication_mode must be one of {}".format(", ".join(patches.AUTHENTICATION_MODES)),
        )
    if "version" in body and not re.match(r"^\d+\.\d+$", body["version"]):
        raise AdminError(400, "version must look like 1.36")


def override_cluster(name, body):
    """Apply an override body to the stored cluster; returns the new view."""
    _validate(body)
    cluster = _find_cluster(name, body.get("region"), body.get("account_id"))
    if "endpoint" in body:
        cluster.endpoint = body["endpoint"]
    if "certificate_authority_data" in body:
        cluster.certificate_authority = {"data": body["certificate_authority_data"]}
    if "oidc_issuer" in body:
        cluster.identity = {"oidc": {"issuer": body["oidc_issuer"]}}
    if "version" in body:
        cluster.version = body["version"]
    if "authentication_mode" in body:
        cluster.access_config["authenticationMode"] = body["authentication_mode"]
    return cluster_view(cluster)


def _respond(start_response, status, payload):
    reasons = {
        200: "OK",
        400: "Bad Request",
        404: "Not Found",
        405: "Method Not Allowed",
        409: "Conflict",
    }
    data = json.dumps(payload, sort_keys=True).encode("utf-8")
    start_response(
        f"{status} {reasons.get(status, 'Error')}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
    )
    return [data]


def _json_body(environ):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b"{}"
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise AdminError(400, "body is not JSON") from None
    if not isinstance(body, dict):
        raise AdminError(400, "body is not a JSON object")
    return body


def handle(environ, start_response):
    """WSGI handler for every path under ``/_sandbox/``."""
    path = environ.get("PATH_INFO", "")
    method = environ.get("REQUEST_METHOD", "GET")
    try:
        if path.rstrip("/") == "/_sandbox/health":
            if method not in ("GET", "HEAD"):
                raise AdminError(405, "use GET")
            return _respond(start_response, 200, {"status": "ok"})
        if path.rstrip("/") == "/_sandbox/sts/verify-presigned":
            if method != "POST":
                raise AdminError(405, "use POST")
            body = _json_body(environ)
            if not isinstance(body.get("url"), str) or not isinstance(body.get("headers", {}), dict):
                raise AdminError(400, 'body must be {"url": str, "headers": {name: value}}')
            valid, reason = presign.verify(body["url"], body.get("headers") or {})
            return _respond(start_response, 200, {"valid": valid, "reason": reason})
        match = _CLUSTER_PATH.match(path)
        if not match:
            raise AdminError(404, f"no such admin route: {path}")
        name = unquote(match.group(1))
        if method == "GET":
            return _respond(start_response, 200, cluster_view(_find_cluster(name)))
        if method != "POST":
            raise AdminError(405, "use GET or POST")
        return _respond(start_response, 200, override_cluster(name, _json_body(environ)))
    except AdminError as err:
        return _respond(start_response, err.status, {"error": err.message})

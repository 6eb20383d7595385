"""Request log: which AWS operation a request is, whether it writes, and a WSGI logger.

Each logged request is one JSON line::

    {"time": "...Z", "service": "eks", "operation": "DescribeCluster", "method": "GET",
     "path": "/clusters/demo", "status": 200, "write": false, "access_key": "AKID..."}

``access_key`` is the access key ID the request was signed with (not a secret; ``null`` when unsigned),
so that a test can count one caller's writes while the Karpenter controller makes its own.

Operations are resolved the way botocore frames them: the ``Action`` parameter (query
protocol), the ``X-Amz-Target`` header (JSON protocol), or the method and ``requestUri``
of the botocore service model (REST protocols).
"""

import datetime
import functools
import io
import json
import re
import threading
from urllib.parse import parse_qs

# Verbs whose operations never change state. Anything else (including an operation that
# could not be resolved) counts as a write, so "no writes" assertions fail loudly.
READ_VERBS = (
    "Assume",  # STS AssumeRole*: returns credentials, stores nothing
    "Check",
    "Decode",
    "Describe",
    "Estimate",
    "Filter",
    "Get",
    "Head",
    "List",
    "Lookup",
    "Preview",
    "Query",
    "Scan",
    "Search",
    "Select",
    "Simulate",
    "Validate",
)
_READ_RE = re.compile(r"^(?:Batch)?(?:{})(?=[A-Z0-9]|$)".format("|".join(READ_VERBS)))

# Unsigned requests carry no credential scope; these operations name their service.
_UNSIGNED_ACTIONS = {
    "AssumeRoleWithWebIdentity": "sts",
    "AssumeRoleWithSAML": "sts",
}

# Signing names that differ from the botocore service name.
_SIGNING_TO_SERVICE = {"execute-api": "apigateway", "elasticloadbalancing": "elbv2"}


def is_write(operation):
    """Classify an AWS operation name: False for reads (Describe*, Get*, List*, ...)."""
    if not operation:
        return True
    return _READ_RE.match(operation) is None


def _credential_scope_service(authorization):
    # "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/eks/aws4_request, ..."
    match = re.search(r"Credential=[^/]+/[^/]+/([^/]+)/([^/,]+)/", authorization or "")
    if not match:
        return None, None
    return match.group(2).lower(), match.group(1)


@functools.cache
def _rest_routes(service):
    """[(method, regex, literal_length, required_query_keys, operation)] from botocore."""
    import botocore.exceptions
    import botocore.session

    try:
        model = botocore.session.get_session().get_service_model(service)
    except botocore.exceptions.UnknownServiceError:
        return ()
    if model.protocol not in ("rest-json", "rest-xml"):
        return ()
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri = http.get("requestUri", "/")
        path, _, query = uri.partition("?")
        pattern = ""
        for piece in re.split(r"(\{[^}]+\})", path):
            if piece.startswith("{"):
                pattern += ".+" if piece.endswith("+}") else "[^/]+"
            else:
                pattern += re.escape(piece)
        keys = tuple(k.split("=")[0] for k in query.split("&") if k)
        literal = len(re.sub(r"\{[^}]+\}", "", path))
        routes.append(
            (
                http.get("method", "POST"),
                re.compile(pattern + "/?$"),
                literal,
                keys,
                name,
            )
        )
    return tuple(routes)


def resolve_rest_operation(service, method, path, query_string=""):
    """Operation name of a REST request by matching the botocore model's requestUri."""
    present = set(parse_qs(query_string or "", keep_blank_values=True))
    best = None
    for route_method, regex, literal, keys, name in _rest_routes(service):
        if route_method != method or not regex.match(path):
            continue
        if any(k not in present for k in keys):
            continue
        score = (len(keys), literal)
        if best is None or score > best[0]:
            best = (score, name)
    return best[1] if best else None


def _raw_path(environ):
    """The request path as sent, still percent-encoded.

    ``PATH_INFO`` is decoded, so a label holding an encoded ``/`` (an IAM ARN in EKS's
    ``/clusters/{name}/access-entries/{principalArn}``) would span several segments.
    """
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        path = raw.split("?", 1)[0]
        if "://" in path:  # absolute-form request target
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        return path
    return environ.get("PATH_INFO", "/")


def identify(environ):
    """(service, operation) of an AWS request; restores the request body it reads."""
    service, _region = _credential_scope_service(environ.get("HTTP_AUTHORIZATION"))
    service = _SIGNING_TO_SERVICE.get(service, service)
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target and "." in target:
        return service, target.rsplit(".", 1)[1]

    params = parse_qs(environ.get("QUERY_STRING", ""))
    content_type = environ.get("CONTENT_TYPE", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        params.update(parse_qs(body.decode("utf-8", "replace")))
    action = (params.get("Action") or [None])[0]
    if action:
        return service or _UNSIGNED_ACTIONS.get(action), action
    if service:
        operation = resolve_rest_operation(
            service,
            environ.get("REQUEST_METHOD", "GET"),
            _raw_path(environ),
            environ.get("QUERY_STRING", ""),
        )
        return service, operation
    return None, None


class RequestLog:
    """Appends one JSON line per request to a file (thread-safe)."""

    def __init__(self, path):
        self.path = path
        self._lock = threading.Lock()

    def write(self, record):
        line = json.dumps(record, sort_keys=True) + "\n"
        with self._lock, open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line)


def access_key_id(authorization):
    """The access key ID of a SigV4 ``Authorization`` header, or None."""
    match = re.search(r"Credential=([^/,\s]+)/", authorization or "")
    return match.group(1) if match else None


def make_record(service, operation, method, path, status, access_key=None):
    return {
        "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "service": service or "unknown",
        "operation": operation or "unknown",
        "method": method,
        "path": path,
        "status": status,
        "write": is_write(operation),
        "access_key": access_key,
    }


class RequestLogMiddleware:
    """WSGI middleware that logs every request it passes to ``app``."""

    def __init__(self, app, log):
        self.app = app
        self.log = log

    def __call__(self, environ, start_response):
        service, operation = identify(environ)
        seen = {}

        def recording_start_response(status, headers, exc_info=None):
            seen["status"] = int(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info)

        try:
            result = self.app(environ, recording_start_response)
        except Exception:
            seen.setdefault("status", 500)
            raise
        finally:
            self.log.write(
                make_record(
                    service,
                    operation,
                    environ.get("REQUEST_METHOD"),
                    environ.get("PATH_INFO"),
                    seen.get("status", 500),
                    access_key_id(environ.get("HTTP_AUTHORIZATION")),
                )
            )
        return result

"""Keep moto's answers to EC2's catalogue reads, which cannot change while the server runs.

moto renders ``DescribeInstanceTypes`` (about 3 MB of XML for a region), ``DescribeInstanceTypeOfferings``
and ``DescribeSpotPriceHistory`` afresh on every call, from tables it loads once and never writes
(``moto.ec2.models.instance_types.INSTANCE_TYPES`` and ``INSTANCE_TYPE_OFFERINGS``). Each such call costs the
server up to two CPU seconds, and Karpenter's controller makes them when it starts and again every few
minutes, on every sandbox at once. The same request (its region and its parameters) always gets the same
answer, so the first successful answer is kept and served again. Nothing else is kept: every other action
reads state that requests can change.
"""

import io
import threading
from urllib.parse import parse_qsl

from .oplog import _credential_scope_service

CATALOGUE_ACTIONS = frozenset(
    {
        "DescribeInstanceTypes",
        "DescribeInstanceTypeOfferings",
        "DescribeSpotPriceHistory",
    }
)

MAX_ENTRIES = 512


def cache_key(environ, body):
    """(region, sorted parameters) of an EC2 catalogue read, or None for any other request.

    The parameters are the query string's and the form body's; the credentials are not part of the key,
    since the catalogue is the same for every caller.
    """
    service, region = _credential_scope_service(environ.get("HTTP_AUTHORIZATION"))
    if service != "ec2" or environ.get("REQUEST_METHOD") not in ("GET", "POST"):
        return None
    params = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    params += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    if dict(params).get("Action") not in CATALOGUE_ACTIONS:
        return None
    return region, tuple(sorted(params))


class CatalogueCacheMiddleware:
    """WSGI middleware: serve a kept answer to an EC2 catalogue read, or ask ``app`` and keep a 200."""

    def __init__(self, app, max_entries=MAX_ENTRIES):
        self.app = app
        self.max_entries = max_entries
        self._answers = {}
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        body = b""
        if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
        key = cache_key(environ, body)
        if key is None:
            return self.app(environ, start_response)
        with self._lock:
            kept = self._answers.get(key)
        if kept is not None:
            status, headers, content = kept
            start_response(status, list(headers))
            return [content]

        seen = {}

        def recording_start_response(status, headers, exc_info=None):
            seen["status"], seen["headers"] = status, list(headers)
            return start_response(status, headers, exc_info)

        result = self.app(environ, recording_start_response)
        try:
            content = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close:
                close()
        if seen.get("status", "").startswith("200"):
            with self._lock:
                if len(self._answers) < self.max_entries:
                    self._answers[key] = (seen["status"], tuple(seen["headers"]), content)
        return [content]

# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""EKS bearer tokens, as ``aws eks get-token`` makes them.

A token is a presigned STS ``GetCallerIdentity`` URL (GET, valid 60 seconds for
the signature) whose signature also covers the header ``x-k8s-aws-id: <cluster>``,
encoded as ``k8s-aws-v1.`` + URL-safe base64 without padding. The API server's
authenticator replays the request to STS to learn who the caller is. Presigning
is local: it needs credentials but no network.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64

try:
    from urllib.parse import parse_qs, urlsplit
except ImportError:  # pragma: no cover  (Python 2)
    from urlparse import parse_qs, urlsplit

from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError

TOKEN_PREFIX = "k8s-aws-v1."
CLUSTER_ID_HEADER = "x-k8s-aws-id"
URL_EXPIRES_IN = 60
# The token is accepted for about 15 minutes after signing; the AWS CLI reports 14 to be safe.
TOKEN_LIFETIME_SECONDS = 14 * 60


def _take_cluster_id(params, context, **kwargs):
    """Move the cluster name from the call's parameters into the request context."""
    if CLUSTER_ID_HEADER in params:
        context[CLUSTER_ID_HEADER] = params.pop(CLUSTER_ID_HEADER)


def _add_cluster_id_header(request, **kwargs):
    """Put the cluster name in a header before signing, so the signature covers it."""
    if CLUSTER_ID_HEADER in request.context:
        request.headers[CLUSTER_ID_HEADER] = request.context[CLUSTER_ID_HEADER]


def presigned_url(sts, cluster_name):
    """The presigned ``GetCallerIdentity`` URL for ``cluster_name`` from a boto3 STS client."""
    if not cluster_name:
        raise KarpenterError("cluster_name is empty; an EKS token is bound to one cluster's name")
    events = sts.meta.events
    events.register("provide-client-params.sts.GetCallerIdentity", _take_cluster_id, unique_id="jit-k8s-aws-id-params")
    events.register("before-sign.sts.GetCallerIdentity", _add_cluster_id_header, unique_id="jit-k8s-aws-id-header")
    return sts.generate_presigned_url(
        "get_caller_identity",
        Params={CLUSTER_ID_HEADER: cluster_name},
        ExpiresIn=URL_EXPIRES_IN,
        HttpMethod="GET",
    )


def encode_token(url):
    """``k8s-aws-v1.`` + URL-safe base64 of ``url`` without ``=`` padding."""
    return TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode("utf-8")).decode("ascii").rstrip("=")


def decode_token(token):
    """The presigned URL inside a token (the inverse of :func:`encode_token`)."""
    if not token or not token.startswith(TOKEN_PREFIX):
        raise KarpenterError("Not an EKS token: it does not start with '{0}'".format(TOKEN_PREFIX))
    body = token[len(TOKEN_PREFIX) :]
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode("utf-8")


def describe_url(url):
    """The parts of a presigned URL a reader checks: host, action, expiry and signed headers."""
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return {
        "host": parts.hostname,
        "action": query.get("Action"),
        "expires": int(query["X-Amz-Expires"]) if "X-Amz-Expires" in query else None,
        "signed_headers": (query.get("X-Amz-SignedHeaders") or "").split(";"),
        "algorithm": query.get("X-Amz-Algorithm"),
        "credential": query.get("X-Amz-Credential"),
    }


def pick_cluster_name(terms, cluster_name):
    """The one cluster name, from the lookup's terms or its ``cluster_name`` option."""
    names = [t for t in (terms or []) if t]
    if cluster_name and names and names != [cluster_name]:
        raise KarpenterError("Give the cluster name once: as the term or as cluster_name, not both")
    if len(names) > 1:
        raise KarpenterError("One token is made per call; got {0} cluster names".format(len(names)))
    name = cluster_name or (names[0] if names else None)
    if not name:
        raise KarpenterError("cluster_name is required: the token is bound to one cluster's name")
    return name


def get_token(sts, cluster_name):
    """The bearer token for ``cluster_name``."""
    return encode_token(presigned_url(sts, cluster_name))


def cluster_access(token, cluster):
    """``{token, endpoint, ca_data}`` from a token and a raw DescribeCluster ``cluster``."""
    return {
        "token": token,
        "endpoint": cluster.get("endpoint"),
        "ca_data": (cluster.get("certificateAuthority") or {}).get("data"),
    }

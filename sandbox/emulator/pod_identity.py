"""EKS Auth's AssumeRoleForPodIdentity, which moto lacks: what the EKS Pod Identity agent calls.

``POST /clusters/{clusterName}/assume-role-for-pod-identity`` with ``{"token": ...}`` (botocore's
``eks-auth`` model, signing name ``eks-auth``). The call is checked the way EKS Auth checks it:

1. The cluster exists in the caller's account and region (``ResourceNotFoundException``).
2. The token is a service-account token of that cluster: a JWT signed with the keys its API
   server publishes, whose ``iss`` is the cluster's OIDC issuer (``InvalidTokenException``;
   an expired one ``ExpiredTokenException``), with the audience ``pods.eks.amazonaws.com``
   (``InvalidTokenException``), naming a pod (``kubernetes.io.pod``).
3. A Pod Identity association exists for the token's namespace and service account
   (``ResourceNotFoundException``).
4. The associated role trusts the service principal ``pods.eks.amazonaws.com`` for
   ``sts:AssumeRole`` and, unless the association disables session tags, ``sts:TagSession``, with
   every condition met on the session tags EKS sets (``aws:RequestTag/eks-cluster-arn``,
   ``eks-cluster-name``, ``kubernetes-namespace``, ``kubernetes-service-account``,
   ``kubernetes-pod-name``, ``kubernetes-pod-uid``); a matching ``Deny`` wins
   (``AccessDeniedException``).

The credentials are moto STS's (an assumed-role session, so GetCallerIdentity with them names the
role); the answer is shaped as botocore's ``AssumeRoleForPodIdentityResponse``.
"""

import fnmatch
import json
import re

from . import web_identity

SERVICE = "eks-auth"
AUDIENCE = "pods.eks.amazonaws.com"
PRINCIPAL = "pods.eks.amazonaws.com"
SESSION_SECONDS = 6 * 3600  # EKS Pod Identity credentials last six hours
_PATH = re.compile(r"^/clusters/(?P<name>[^/]+)/assume-role-for-pod-identity/?$")
_SCOPE = re.compile(r"Credential=(?P<key>[^/]+)/[^/]+/(?P<region>[^/]+)/(?P<service>[^/]+)/")


class AuthError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def is_request(environ):
    """Whether a request is for EKS Auth: signed for ``eks-auth``, or an unsigned POST to its path."""
    scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION") or "")
    if scope:
        return scope.group("service") == SERVICE
    return environ.get("REQUEST_METHOD") == "POST" and bool(_PATH.match(environ.get("PATH_INFO", "")))


def _cluster(name, region, account_id):
    from moto.eks.models import eks_backends

    backend = eks_backends.get(account_id, {}).get(region) if account_id in eks_backends else None
    cluster = backend.clusters.get(name) if backend is not None else None
    if cluster is None:
        raise AuthError(404, "ResourceNotFoundException", "No cluster found for name: %s." % name)
    return cluster


def _trust_allows(policy_document, tags, session_tags):
    try:
        policy = json.loads(policy_document) if isinstance(policy_document, str) else policy_document
    except ValueError:
        return False
    context = {("aws:requesttag/" + k).lower(): v for k, v in tags.items()}
    wanted = ["sts:assumerole"] + (["sts:tagsession"] if session_tags else [])
    statements = web_identity._as_list(policy.get("Statement"))

    def applies(statement, action):
        principal = statement.get("Principal") or {}
        if principal != "*" and PRINCIPAL not in web_identity._as_list(principal.get("Service")):
            return False
        if not any(fnmatch.fnmatchcase(action, a.lower()) for a in web_identity._as_list(statement.get("Action"))):
            return False
        return all(
            web_identity._condition_met(op, kv, context) for op, kv in (statement.get("Condition") or {}).items()
        )

    for action in wanted:
        hits = [s for s in statements if applies(s, action)]
        if any(s.get("Effect") == "Deny" for s in hits) or not any(s.get("Effect") == "Allow" for s in hits):
            return False
    return True


def assume_role_for_pod_identity(cluster_name, token, region, account_id):
    """The answer of AssumeRoleForPodIdentity, or raises ``AuthError`` as EKS Auth would."""
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends
    from moto.sts.exceptions import STSClientError

    cluster = _cluster(cluster_name, region, account_id)
    if not token:
        raise AuthError(400, "InvalidParameterException", "token is required")
    try:
        claims = web_identity.verify_token(token)
    except STSClientError as err:
        code = "ExpiredTokenException" if err.code == "ExpiredTokenException" else "InvalidTokenException"
        raise AuthError(400, code, "The token is not valid: %s" % err.message) from None
    issuer = ((getattr(cluster, "identity", None) or {}).get("oidc") or {}).get("issuer")
    if claims.get("iss") != issuer:
        raise AuthError(400, "InvalidTokenException", "The token was not issued by cluster %s" % cluster_name)
    if AUDIENCE not in web_identity._as_list(claims.get("aud")):
        raise AuthError(400, "InvalidTokenException", "The token's audience is not %s" % AUDIENCE)
    kube = claims.get("kubernetes.io") or {}
    pod = kube.get("pod") or {}
    sa = kube.get("serviceaccount") or {}
    namespace = kube.get("namespace")
    if not (namespace and sa.get("name") and pod.get("name")):
        raise AuthError(400, "InvalidTokenException", "The token is not bound to a pod")
    associations = cluster.__dict__.get("_sandbox_pod_identity_associations") or {}  # eks_extensions._store
    association = next(
        (a for a in associations.values() if (a["namespace"], a["serviceAccount"]) == (namespace, sa["name"])), None
    )
    if association is None:
        raise AuthError(
            404,
            "ResourceNotFoundException",
            "No Pod Identity association found for service account %s in namespace %s of cluster %s"
            % (sa["name"], namespace, cluster_name),
        )
    role_arn = association["roleArn"]
    partition = role_arn.split(":")[1]
    role = next((r for r in iam_backends[account_id]["global"].get_roles() if r.arn == role_arn), None)
    tags = {
        "eks-cluster-arn": cluster.arn,
        "eks-cluster-name": cluster.name,
        "kubernetes-namespace": namespace,
        "kubernetes-service-account": sa["name"],
        "kubernetes-pod-name": pod["name"],
        "kubernetes-pod-uid": pod.get("uid", ""),
    }
    session_tags = not association.get("disableSessionTags")
    if role is None or not _trust_allows(role.assume_role_policy_document, tags if session_tags else {}, session_tags):
        raise AuthError(
            403,
            "AccessDeniedException",
            "Failed to assume role %s for Pod Identity association %s: the role does not exist or its "
            "trust policy does not allow %s to call sts:AssumeRole%s"
            % (role_arn, association["associationId"], PRINCIPAL, " and sts:TagSession" if session_tags else ""),
        )
    # EKS names the session eks-<cluster>-<pod>-<uid>, cut to STS's 64 characters.
    session = ("eks-%s-%s-%s" % (cluster.name, pod["name"], pod.get("uid", "")))[:64]
    assumed = sts_backends[account_id][partition].assume_role(
        region_name=region,
        role_session_name=session,
        role_arn=role_arn,
        policy=None,
        duration=SESSION_SECONDS,
        external_id=None,
    )
    return {
        "subject": {"namespace": namespace, "serviceAccount": sa["name"]},
        "audience": AUDIENCE,
        "podIdentityAssociation": {
            "associationArn": association["associationArn"],
            "associationId": association["associationId"],
        },
        "assumedRoleUser": {"arn": assumed.arn, "assumeRoleId": assumed.user_id},
        "credentials": {
            "sessionToken": assumed.session_token,
            "secretAccessKey": assumed.secret_access_key,
            "accessKeyId": assumed.access_key_id,
            "expiration": assumed.expiration.timestamp(),
        },
    }


def handle(environ, start_response):
    """The WSGI handler for EKS Auth requests."""
    from moto.core import DEFAULT_ACCOUNT_ID

    status, body = 200, None
    match = _PATH.match(environ.get("PATH_INFO", ""))
    scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION") or "")
    region = scope.group("region") if scope else "us-east-1"
    try:
        if environ.get("REQUEST_METHOD") != "POST" or not match:
            raise AuthError(
                404,
                "ResourceNotFoundException",
                "Unknown operation %s %s" % (environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")),
            )
        length = int(environ.get("CONTENT_LENGTH") or 0)
        try:
            request = json.loads(environ["wsgi.input"].read(length) or b"{}")
        except ValueError:
            raise AuthError(400, "InvalidRequestException", "The request body is not JSON") from None
        account_id = DEFAULT_ACCOUNT_ID  # the sandbox's one account
        body = assume_role_for_pod_identity(match.group("name"), request.get("token"), region, account_id)
    except AuthError as err:
        status, body = err.status, {"message": err.message}
        headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", err.code)]
    else:
        headers = [("Content-Type", "application/json")]
    data = json.dumps(body).encode()
    reasons = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found"}
    start_response("%d %s" % (status, reasons.get(status, "Error")), headers + [("Content-Length", str(len(data)))])
    return [data]

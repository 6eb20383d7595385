"""The sandbox's token webhook: kube-apiserver authenticates ``k8s-aws-v1.`` tokens here, as EKS does.

kube-apiserver sends every bearer token it cannot verify itself to this server as a ``TokenReview``
(``--authentication-token-webhook-config-file``). For an EKS token the webhook does what
aws-iam-authenticator does on EKS:

1. decode ``k8s-aws-v1.<base64url>`` into the presigned STS URL and check it: the emulator's STS
   endpoint, path ``/``, ``Action=GetCallerIdentity``, ``Version=2011-06-15``, only the expected
   query parameters, ``x-k8s-aws-id`` among the signed headers, ``X-Amz-Date`` less than 15 minutes old;
2. have the signature checked with ``x-k8s-aws-id`` set to this cluster's name, so a token made for
   another cluster fails (STS does this on AWS; moto does not, so the emulator's
   ``/_sandbox/sts/verify-presigned`` route does);
3. send the request to STS and read the caller's ARN;
4. map the ARN with :func:`sandbox.authn.resolve` from what the cluster holds right now: its
   authentication mode, access entries with their access policies, ``kube-system/aws-auth`` and its
   creator, and the instance's private DNS name for ``{{EC2PrivateDNSName}}``.

Access policies: EKS authorizes them with an authorizer of its own. The sandbox emulates the
cluster-scoped ones with RBAC: an entry's policy ``AmazonEKS<X>Policy`` adds the group
``sandbox:access-policy:AmazonEKS<X>Policy``, which a ClusterRoleBinding the sandbox creates
(``POLICY_CLUSTER_ROLES``) binds to the matching Kubernetes role. Namespace-scoped associations grant
nothing in the sandbox.

    python -m sandbox.webhook --config .sandbox/webhook.json
"""

import argparse
import base64
import datetime
import json
import logging
import re
import ssl
import sys
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from sandbox import authn

TOKEN_PREFIX = "k8s-aws-v1."
CLUSTER_ID_HEADER = "x-k8s-aws-id"
TOKEN_MAX_AGE = datetime.timedelta(minutes=15)
# Each call to the AWS emulator during a review. kube-apiserver gives the whole review 30 s; an emulator that
# serves several sandboxes' controllers on a loaded machine can take longer than a few seconds to answer, and a
# review that gives up early refuses a good token (real STS answers in milliseconds).
EMULATOR_TIMEOUT = 25
# Query parameters aws-iam-authenticator accepts in the presigned URL.
ALLOWED_PARAMS = {
    "action",
    "version",
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
    "x-amz-expires",
    "x-amz-security-token",
    "x-amz-signature",
    "x-amz-signedheaders",
}
POLICY_GROUP_PREFIX = "sandbox:access-policy:"
# Cluster-scoped access policy -> the Kubernetes ClusterRole the sandbox binds its group to.
POLICY_CLUSTER_ROLES = {
    "AmazonEKSClusterAdminPolicy": "cluster-admin",
    "AmazonEKSAdminPolicy": "admin",
    "AmazonEKSEditPolicy": "edit",
    "AmazonEKSViewPolicy": "view",
    "AmazonEKSAdminViewPolicy": "view",
}

log = logging.getLogger("sandbox.webhook")


class Rejected(Exception):
    """The token is not a valid EKS token for this cluster."""


def decode_token(token):
    """The presigned URL inside an EKS token."""
    if not token.startswith(TOKEN_PREFIX):
        raise Rejected("not an EKS token (no %s prefix)" % TOKEN_PREFIX)
    body = token[len(TOKEN_PREFIX) :]
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise Rejected("the token body is not base64url of a URL") from None


def check_url(url, sts_netloc, now=None):
    """The checks aws-iam-authenticator makes on the URL before it calls STS; returns the query."""
    parts = urlsplit(url)
    if parts.netloc != sts_netloc:
        raise Rejected("the token is presigned for %r, not this cluster's STS endpoint %r" % (parts.netloc, sts_netloc))
    if parts.path not in ("", "/"):
        raise Rejected("unexpected path %r in the presigned URL" % parts.path)
    query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    unknown = sorted(k for k in query if k.lower() not in ALLOWED_PARAMS)
    if unknown:
        raise Rejected("unexpected query parameter(s) %s" % ", ".join(unknown))
    if query.get("Action") != "GetCallerIdentity" or query.get("Version") != "2011-06-15":
        raise Rejected("the URL is not an STS GetCallerIdentity request")
    if CLUSTER_ID_HEADER not in query.get("X-Amz-SignedHeaders", "").lower().split(";"):
        raise Rejected("%s is not among the signed headers" % CLUSTER_ID_HEADER)
    try:
        signed_at = datetime.datetime.strptime(query.get("X-Amz-Date", ""), "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc
        )
    except ValueError:
        raise Rejected("X-Amz-Date is missing or malformed") from None
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if now - signed_at > TOKEN_MAX_AGE:
        raise Rejected("the token expired: signed at %s, tokens last 15 minutes" % signed_at.isoformat())
    return query


def caller_arn_from_xml(body):
    """The ``Arn`` of a GetCallerIdentity XML response."""
    root = ET.fromstring(body)
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] == "Arn" and element.text:
            return element.text.strip()
    raise Rejected("STS answered without an Arn")


def moto_caller_arn(arn):
    """moto answers ``arn:aws:sts::<acct>:user/<name>`` for an IAM user (pinned in
    sandbox/tests/emulator/test_divergences.py); STS answers ``arn:aws:iam::<acct>:user/<name>``."""
    m = re.match(r"^arn:([^:]+):sts::(\d{12}):user/(.+)$", arn)
    return "arn:%s:iam::%s:user/%s" % m.groups() if m else arn


def policy_groups(policies):
    """Groups that stand for an entry's cluster-scoped access policies (see the module docstring)."""
    groups = []
    for policy in policies or ():
        name = str(policy).rsplit("/", 1)[-1]
        if name in POLICY_CLUSTER_ROLES:
            groups.append(POLICY_GROUP_PREFIX + name)
    return groups


class ClusterState(object):
    """Reads what the mapping needs, fresh for every review, from the emulator and the API server."""

    def __init__(self, cfg):
        self.cfg = cfg
        self._clients = {}

    def client(self, service):
        if service not in self._clients:
            import boto3

            self._clients[service] = boto3.client(
                service,
                endpoint_url=self.cfg["aws_url"],
                region_name=self.cfg["region"],
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
        return self._clients[service]

    def admin(self, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.cfg["aws_url"] + path,
            data=data,
            method="POST" if data else "GET",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=EMULATOR_TIMEOUT) as r:
            return json.load(r)

    def verify_signature(self, url):
        answer = self.admin(
            "/_sandbox/sts/verify-presigned", {"url": url, "headers": {CLUSTER_ID_HEADER: self.cfg["cluster"]}}
        )
        if not answer.get("valid"):
            raise Rejected("STS refuses the token for cluster %s: %s" % (self.cfg["cluster"], answer.get("reason")))

    def caller_arn(self, url):
        req = urllib.request.Request(url, headers={CLUSTER_ID_HEADER: self.cfg["cluster"]})
        try:
            with urllib.request.urlopen(req, timeout=EMULATOR_TIMEOUT) as r:
                return moto_caller_arn(caller_arn_from_xml(r.read()))
        except urllib.error.HTTPError as err:
            raise Rejected("STS answered %d: %s" % (err.code, err.read()[:300])) from None

    def view(self):
        """``(authentication_mode, cluster_creator_arn)``."""
        mode = self.client("eks").describe_cluster(name=self.cfg["cluster"])["cluster"].get("accessConfig", {})
        admin = self.admin("/_sandbox/eks/clusters/%s" % self.cfg["cluster"])
        return mode.get("authenticationMode") or "CONFIG_MAP", admin.get("cluster_creator_arn")

    def access_entries(self):
        eks = self.client("eks")
        name = self.cfg["cluster"]
        entries = []
        for page in eks.get_paginator("list_access_entries").paginate(clusterName=name):
            for arn in page["accessEntries"]:
                entry = eks.describe_access_entry(clusterName=name, principalArn=arn)["accessEntry"]
                entry["accessPolicies"] = eks.list_associated_access_policies(clusterName=name, principalArn=arn)[
                    "associatedAccessPolicies"
                ]
                entries.append(entry)
        return entries

    def aws_auth(self):
        from kubernetes import client, config
        from kubernetes.client.exceptions import ApiException

        api = client.CoreV1Api(config.new_client_from_config(self.cfg["kubeconfig"]))
        try:
            return api.read_namespaced_config_map("aws-auth", "kube-system").data or {}
        except ApiException as e:
            if e.status == 404:
                return None
            raise

    def private_dns_name(self, instance_id):
        try:
            reservations = self.client("ec2").describe_instances(InstanceIds=[instance_id])["Reservations"]
        except Exception:  # noqa: BLE001 - an unknown instance has no name; resolve() says so
            return None
        for reservation in reservations:
            for instance in reservation["Instances"]:
                return instance.get("PrivateDnsName")
        return None


def review(token, state, sts_netloc, now=None):
    """The ``status`` of a TokenReview for ``token``."""
    try:
        url = decode_token(token)
        check_url(url, sts_netloc, now=now)
        state.verify_signature(url)
        arn = state.caller_arn(url)
    except Rejected as e:
        log.info("token rejected: %s", e)
        return {"authenticated": False, "error": str(e)}
    mode, creator = state.view()
    try:
        principal = authn.parse_arn(arn) if arn else None
    except ValueError:  # resolve() refuses it and says why
        principal = None
    access_key_id = parse_qs(urlsplit(url).query)["X-Amz-Credential"][0].split("/")[0]
    dns = None
    if principal and principal.session_name.startswith("i-"):
        dns = state.private_dns_name(principal.session_name)
    decision = authn.resolve(
        arn,
        authentication_mode=mode,
        aws_auth=state.aws_auth() if mode != "API" else None,
        access_entries=state.access_entries() if mode != "CONFIG_MAP" else (),
        cluster_creator_arn=creator,
        private_dns_name=dns,
        access_key_id=access_key_id,
    )
    log.info("%s (%s): %s", arn, mode, decision.reason)
    if not decision.allowed:
        return {"authenticated": False, "error": "%s: %s" % (arn, decision.reason)}
    extra = {
        "arn": [arn],
        "canonicalArn": [principal.canonical_arn],
        "sessionName": [principal.session_name],
        "accessKeyId": [access_key_id],
    }
    return {
        "authenticated": True,
        "user": {
            "username": decision.username,
            "uid": "aws-iam-authenticator:%s:%s" % (principal.account, principal.canonical_arn),
            "groups": list(decision.groups) + policy_groups(decision.access_policies),
            "extra": extra,
        },
    }


def policy_bindings():
    """The ClusterRoleBindings that give the access-policy groups their rights."""
    return [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {
                "name": "sandbox-access-policy-" + name.lower(),
                "labels": {"app.kubernetes.io/managed-by": "sandbox"},
            },
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [
                {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": POLICY_GROUP_PREFIX + name}
            ],
        }
        for name, role in sorted(POLICY_CLUSTER_ROLES.items())
    ]


def webhook_kubeconfig(url, ca_file):
    """The file kube-apiserver's ``--authentication-token-webhook-config-file`` reads."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "aws-iam-authenticator", "cluster": {"server": url, "certificate-authority": str(ca_file)}}
        ],
        "users": [{"name": "apiserver", "user": {}}],
        "contexts": [{"name": "webhook", "context": {"cluster": "aws-iam-authenticator", "user": "apiserver"}}],
        "current-context": "webhook",
    }


class _Handler(BaseHTTPRequestHandler):
    server_version = "sandbox-token-webhook"

    def log_message(self, fmt, *args):  # the access log would repeat every review; decisions are logged
        pass

    def _send(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802 - http.server's naming
        if self.path.rstrip("/") == "/healthz":
            return self._send(200, {"status": "ok"})
        return self._send(404, {"error": "POST a TokenReview to /authenticate"})

    def do_POST(self):  # noqa: N802
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            token = ((body.get("spec") or {}).get("token")) or ""
        except ValueError:
            return self._send(400, {"error": "body is not a TokenReview"})
        try:
            status = review(token, self.server.state, self.server.sts_netloc)
        except Exception as e:  # noqa: BLE001 - never fail open; report the error to the API server
            log.exception("review failed")
            status = {"authenticated": False, "error": "the token webhook failed: %s" % e}
        self._send(
            200,
            {"apiVersion": body.get("apiVersion", "authentication.k8s.io/v1"), "kind": "TokenReview", "status": status},
        )


def serve(cfg):
    server = ThreadingHTTPServer(("127.0.0.1", cfg["port"]), _Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cfg["cert"], cfg["key"])
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.state = ClusterState(cfg)
    server.sts_netloc = urlsplit(cfg["aws_url"]).netloc
    log.info("serving TokenReviews for cluster %s on https://127.0.0.1:%d/authenticate", cfg["cluster"], cfg["port"])
    server.serve_forever()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", required=True, help="JSON: cluster, region, aws_url, port, cert, key, kubeconfig")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    with open(args.config, encoding="utf-8") as f:
        serve(json.load(f))


if __name__ == "__main__":
    sys.exit(main())

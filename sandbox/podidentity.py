"""EKS Pod Identity for the chart's pods: what EKS's webhook injects and what the agent on the node serves.

On EKS a pod whose service account has a Pod Identity association gets, from the control plane's
webhook, a projected service-account token for the audience ``pods.eks.amazonaws.com`` and the
environment ``AWS_CONTAINER_CREDENTIALS_FULL_URI`` (the agent, ``http://169.254.170.23/v1/credentials``)
and ``AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`` (that token). The AWS SDK sends the token to the agent,
a DaemonSet of the ``eks-pod-identity-agent`` add-on, which exchanges it through EKS Auth's
``AssumeRoleForPodIdentity`` for the associated role's credentials. Without the add-on nothing
listens there and the pod gets no credentials; without an association EKS injects nothing.

Here (``sandbox.controller`` uses it): the association is read from the emulator's view of the
cluster (its admin route, as the webhook reads the control plane's state, out of the request log),
and the agent is a small HTTP server on 127.0.0.1 at the sandbox's port base + 96, listening only
while the emulator's cluster has the ``eks-pod-identity-agent`` add-on. It answers
``GET /v1/credentials`` (``Authorization: <token>``) with the credentials the emulator's EKS Auth
returns (it checks the token against the cluster's keys, the association and the role's trust
policy with EKS's session tags), in the agent's shape: ``AccessKeyId``, ``SecretAccessKey``,
``Token``, ``AccountId``, ``Expiration``. EKS Auth's refusals are passed on as 4xx answers.
"""

import json
import logging
import threading
import time
import urllib.request
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

log = logging.getLogger("karpenter-pods")

ADDON = "eks-pod-identity-agent"
AUDIENCE = "pods.eks.amazonaws.com"
TOKEN_SECONDS = 86400  # the webhook projects the token for a day
TOKEN_FILE = "eks-pod-identity-token"
PORT_OFFSET = 96  # after the controller's port slots (sandbox.controller SLOT_OFFSET, SLOTS)
PATH = "/v1/credentials"
CHECK_EVERY = 5  # seconds between looks at the cluster's add-ons


class Agent(object):
    """The Pod Identity agent of the sandbox's nodes, and the webhook's view of the associations."""

    def __init__(self, aws_url, region, cluster, port):
        self.aws_url, self.region, self.cluster, self.port = aws_url, region, cluster, port
        self.server = None
        self.checked_at = 0
        self._view = {}

    # -- the control plane's view ---------------------------------------------------------------
    def view(self, refresh=False):
        if refresh or time.time() - self.checked_at >= CHECK_EVERY:
            url = "%s/_sandbox/eks/clusters/%s" % (self.aws_url, quote(self.cluster, safe=""))
            with urllib.request.urlopen(url, timeout=5) as r:
                self._view = json.load(r)
            self.checked_at = time.time()
        return self._view

    def association(self, namespace, service_account):
        """The role associated with ``namespace/service_account`` (what the webhook looks for), or None."""
        for ns, sa, role in self.view(refresh=True).get("pod_identity_associations") or []:
            if (ns, sa) == (namespace, service_account):
                return role
        return None

    @property
    def url(self):
        return "http://127.0.0.1:%d%s" % (self.port, PATH)

    def pod_env(self, token_path):
        """What the webhook injects into a pod with an association."""
        return {
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": self.url,
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token_path),
        }

    # -- the agent ------------------------------------------------------------------------------
    def sync(self):
        """Listen while the add-on is installed, as its DaemonSet runs only then."""
        try:
            installed = ADDON in (self.view().get("addons") or [])
        except (OSError, ValueError):
            return
        if installed and self.server is None:
            self.start()
        elif not installed and self.server is not None:
            log.info("pod identity agent: the %s add-on is gone; stopping the agent on %s", ADDON, self.url)
            self.stop()

    def start(self):
        agent = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                status, body = agent.credentials(self.path, self.headers.get("Authorization"))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, name="pod-identity-agent", daemon=True).start()
        log.info("pod identity agent: the %s add-on is installed; serving %s", ADDON, self.url)

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def credentials(self, path, token):
        """(HTTP status, body) of the agent's answer to a credentials request."""
        import boto3
        from botocore.exceptions import ClientError

        if path.split("?", 1)[0] != PATH:
            return 404, {"message": "not found: %s" % path}
        if not token:
            return 400, {"message": "the Authorization header with the service account token is required"}
        # The agent calls EKS Auth with its node's credentials (AmazonEKSWorkerNodePolicy allows it).
        client = boto3.client(
            "eks-auth",
            endpoint_url=self.aws_url,
            region_name=self.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        try:
            answer = client.assume_role_for_pod_identity(clusterName=self.cluster, token=token.strip())
        except ClientError as err:
            error = err.response.get("Error") or {}
            status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 500
            log.warning("pod identity agent: %s: %s", error.get("Code"), error.get("Message"))
            return (status if 400 <= status < 500 else 500), {
                "code": error.get("Code"),
                "message": error.get("Message"),
            }
        creds = answer["credentials"]
        expiration = creds["expiration"]
        if isinstance(expiration, datetime):
            expiration = expiration.astimezone(timezone.utc)
        else:
            expiration = datetime.fromtimestamp(float(expiration), timezone.utc)
        return 200, {
            "AccessKeyId": creds["accessKeyId"],
            "SecretAccessKey": creds["secretAccessKey"],
            "Token": creds["sessionToken"],
            "AccountId": answer["assumedRoleUser"]["arn"].split(":")[4],
            "Expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

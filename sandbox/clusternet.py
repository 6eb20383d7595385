"""The cluster network of the sandbox, as far as the API server needs it, and a stand-in for
Karpenter 0.16's admission webhook.

The sandbox's pods are kwok pods: no process behind them, pod and service IPs lead nowhere. The
API server sends its cluster traffic (admission webhooks, kubelets) through an HTTP CONNECT proxy,
as it would through Konnectivity (its --egress-selector-config-file names this process), so:

- a connection to the ClusterIP and port of a Service that an admission webhook configuration
  of Karpenter 0.16 references is answered by the stand-in below;
- any other connection is relayed to the address asked for, as a plain TCP relay.

The stand-in plays the part of the karpenter-webhook container of the karpenter 0.16.x chart:

- like Karpenter's webhook at start-up, it puts its CA into the caBundle of the chart's webhook
  configurations (defaulting.webhook.provisioners.karpenter.sh,
  validation.webhook.provisioners.karpenter.sh, validation.webhook.config.karpenter.sh), and
  keeps it there;
- it serves AdmissionReview v1 over TLS (a certificate for <service>.<namespace>.svc signed by the
  sandbox CA) and admits every well-formed request;
- of the real webhook's defaulting it does one documented part: a Provisioner that constrains
  neither karpenter.sh/capacity-type nor kubernetes.io/arch (by requirement or label) gets the
  requirement `In [on-demand]` or `In [amd64]` appended, as Karpenter 0.16 on AWS does.

Emulated, not real: it does NOT validate (the real one rejects, for example, ttlSecondsAfterEmpty
together with consolidation.enabled) and does no other defaulting. What checks the objects in the
sandbox is the API server's validation against the chart's real CRD schemas. sandbox/tests/live pin this.

  python -m sandbox.clusternet --socket S --webhook-port W --kubeconfig K --pki DIR
"""

import argparse
import base64
import json
import os
import select
import socket
import socketserver
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

from sandbox import pki

# The webhook configurations of the karpenter 0.16.x chart (templates/webhooks.yaml).
WEBHOOK_CONFIGURATIONS = {
    "mutating": ["defaulting.webhook.provisioners.karpenter.sh"],
    "validating": ["validation.webhook.provisioners.karpenter.sh", "validation.webhook.config.karpenter.sh"],
}


def log(msg):
    print("%s %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


# Karpenter 0.16 (AWS) defaults a Provisioner's capacity type and architecture when nothing constrains them.
DEFAULT_REQUIREMENTS = (("karpenter.sh/capacity-type", "on-demand"), ("kubernetes.io/arch", "amd64"))


def default_patch(request):
    """JSON patch operations that add the default requirements to a Provisioner (none for other kinds)."""
    obj = request.get("object") or {}
    if (request.get("kind") or {}).get("kind") != "Provisioner" or request.get("operation") not in ("CREATE", "UPDATE"):
        return []
    spec = obj.get("spec") or {}
    requirements = spec.get("requirements")
    labels = spec.get("labels") or {}
    ops = []
    if requirements is None:
        ops.append({"op": "add", "path": "/spec/requirements", "value": []})
        requirements = []
    for key, value in DEFAULT_REQUIREMENTS:
        if key not in labels and not any(r.get("key") == key for r in requirements):
            ops.append(
                {
                    "op": "add",
                    "path": "/spec/requirements/-",
                    "value": {"key": key, "operator": "In", "values": [value]},
                }
            )
    if len(ops) == 1 and ops[0]["path"] == "/spec/requirements":
        return []
    return ops


def admission_response(review):
    """The stand-in's answer to an AdmissionReview v1: allowed, with the default requirements as a
    JSON patch where they are missing. Raises ValueError when malformed."""
    if review.get("apiVersion") != "admission.k8s.io/v1" or review.get("kind") != "AdmissionReview":
        raise ValueError("not an admission.k8s.io/v1 AdmissionReview")
    request = review.get("request") or {}
    if not request.get("uid"):
        raise ValueError("AdmissionReview without request.uid")
    response = {"uid": request["uid"], "allowed": True}
    patch = default_patch(request)
    if patch:
        response["patchType"] = "JSONPatch"
        response["patch"] = base64.b64encode(json.dumps(patch).encode()).decode()
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response}


class _Admission(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        log("webhook: " + fmt % args)

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            answer = admission_response(json.loads(body))
        except ValueError as e:
            data = json.dumps({"error": str(e)}).encode()
            self.send_response(400)
        else:
            req = json.loads(body)["request"]
            log("admitted %s %s %s" % (req.get("operation"), req.get("kind", {}).get("kind"), req.get("name")))
            data = json.dumps(answer).encode()
            self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _ThreadingHTTPServer(socketserver.ThreadingMixIn, HTTPServer):
    daemon_threads = True


class Network(object):
    """Routes: (ClusterIP, port) of the webhook Services -> the stand-in; kept fresh from the API."""

    def __init__(self, kube, webhook_port):
        self.kube = kube
        self.webhook_port = webhook_port
        self.routes = {}
        self.lock = threading.Lock()

    def route(self, host, port):
        with self.lock:
            return self.routes.get((host, port))

    def refresh(self, ca_bundle):
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        adm = client.AdmissionregistrationV1Api(self.kube)
        core = client.CoreV1Api(self.kube)
        routes = {}
        for kind, names in WEBHOOK_CONFIGURATIONS.items():
            read = getattr(adm, "read_%s_webhook_configuration" % kind)
            replace = getattr(adm, "replace_%s_webhook_configuration" % kind)
            wanted = base64.b64encode(ca_bundle).decode()
            for name in names:
                try:
                    config = read(name)
                except ApiException as e:
                    if e.status == 404:
                        continue
                    raise
                stale = False
                for hook in config.webhooks or []:
                    svc = hook.client_config.service
                    if svc is None:
                        continue
                    try:
                        service = core.read_namespaced_service(svc.name, svc.namespace)
                    except ApiException as e:
                        if e.status != 404:
                            raise
                    else:
                        routes[(service.spec.cluster_ip, svc.port or 443)] = ("127.0.0.1", self.webhook_port)
                    if hook.client_config.ca_bundle != wanted:
                        hook.client_config.ca_bundle = wanted
                        stale = True
                if stale:
                    try:
                        replace(name, config)
                    except ApiException as e:
                        if e.status != 409:  # written in between: the next round does it again
                            raise
                    else:
                        log("put the CA into the caBundle of %s" % name)
        with self.lock:
            self.routes = routes


def _pipe(a, b):
    sockets = [a, b]
    try:
        while True:
            readable, _, _ = select.select(sockets, [], [], 300)
            if not readable:
                return
            for s in readable:
                data = s.recv(65536)
                if not data:
                    return
                (b if s is a else a).sendall(data)
    except OSError:
        return
    finally:
        a.close()
        b.close()


class _Connect(socketserver.StreamRequestHandler):
    """HTTP CONNECT, as the API server's egress selector speaks it."""

    def handle(self):
        line = self.rfile.readline(8192).decode("latin-1").strip()
        while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
            pass
        parts = line.split()
        if len(parts) < 2 or parts[0] != "CONNECT":
            self.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
            return
        host, _, port = parts[1].rpartition(":")
        host = host.strip("[]")
        target = self.server.network.route(host, int(port)) or (host, int(port))
        try:
            upstream = socket.create_connection(target, timeout=10)
        except OSError as e:
            log("connect %s:%s (%s:%s) failed: %s" % (host, port, target[0], target[1], e))
            self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\n\r\n")
            return
        upstream.settimeout(None)
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        _pipe(self.connection, upstream)


class _ThreadingUnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def egress_selector_config(socket_path):
    """The API server's EgressSelectorConfiguration: cluster traffic through this process's socket."""
    return {
        "apiVersion": "apiserver.k8s.io/v1beta1",
        "kind": "EgressSelectorConfiguration",
        "egressSelections": [
            {
                "name": "cluster",
                "connection": {"proxyProtocol": "HTTPConnect", "transport": {"uds": {"udsName": str(socket_path)}}},
            }
        ],
    }


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m sandbox.clusternet")
    p.add_argument("--socket", required=True, help="Unix socket of the CONNECT proxy")
    p.add_argument("--webhook-port", type=int, required=True)
    p.add_argument("--kubeconfig", required=True)
    p.add_argument("--pki", required=True)
    p.add_argument(
        "--service", default="karpenter.karpenter.svc", help="DNS name of the webhook Service the certificate is for"
    )
    args = p.parse_args(argv)

    from kubernetes import config

    kube = config.new_client_from_config(args.kubeconfig)
    cert, key = pki.ensure_serving_cert(args.pki, "karpenter-webhook", [args.service])
    ca_bundle = open("%s/ca.crt" % args.pki, "rb").read()

    network = Network(kube, args.webhook_port)
    if os.path.exists(args.socket):
        os.unlink(args.socket)
    proxy = _ThreadingUnixServer(args.socket, _Connect)
    proxy.network = network
    webhook = _ThreadingHTTPServer(("127.0.0.1", args.webhook_port), _Admission)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(cert), str(key))
    webhook.socket = ctx.wrap_socket(webhook.socket, server_side=True)
    for server in (proxy, webhook):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    log("cluster egress proxy on %s, webhook stand-in on 127.0.0.1:%d" % (args.socket, args.webhook_port))
    while True:
        try:
            network.refresh(ca_bundle)
        except Exception as e:  # noqa: BLE001 - keep serving while the API server restarts
            log("refresh failed: %s" % e)
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())

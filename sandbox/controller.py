"""The real Karpenter controller, run by the sandbox as a local process, as the Helm release configured it.

The chart's Deployment stays as installed (kwok "runs" its pods). This module reads that
Deployment and runs the controller binary built from the pinned Go module
(``tools.GROUPS["karpenter"]``) with:

* the container's environment, resolved the way the kubelet resolves it (``value``,
  ``fieldRef`` ``metadata.namespace``, ``resourceFieldRef`` requests/limits with their
  divisor). Only the metrics and health-probe ports are moved onto the sandbox's ports
  (base+76, base+77), since every sandbox shares 127.0.0.1;
* ``LEADER_ELECTION_NAMESPACE``, which in a pod comes from the mounted service account;
* the API server reached with a token of the Deployment's service account (so the chart's RBAC
  is exactly what it gets);
* AWS credentials by web identity, as IRSA gives them: ``AWS_ROLE_ARN`` from the service
  account's ``eks.amazonaws.com/role-arn`` annotation, ``AWS_WEB_IDENTITY_TOKEN_FILE`` holding a
  TokenRequest token for audience ``sts.amazonaws.com``; the emulator's STS checks it
  (``sandbox/emulator/web_identity.py``). No static keys are passed on.

Both tokens are valid for 24 hours (``TOKEN_SECONDS``); the kubelet would refresh them, the sandbox
does not: ``python -m sandbox controller stop`` then ``start`` after a day.

    python -m sandbox controller [start|stop]     (after playbooks/karpenter.yml ran)
"""

import json
import os
import time
from pathlib import Path

import yaml

from sandbox import pki, tools
from sandbox.tools import SandboxError

NAMESPACE = "kube-system"
RELEASE = "karpenter"
ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn"
TOKEN_SECONDS = 24 * 3600
_QUANTITY_SUFFIXES = {
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
    "n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
}


def quantity(text):
    """A Kubernetes resource quantity ("250m", "1Gi", "2") as a number."""
    text = str(text).strip()
    for suffix in sorted(_QUANTITY_SUFFIXES, key=len, reverse=True):
        if suffix and text.endswith(suffix):
            return float(text[: -len(suffix)]) * _QUANTITY_SUFFIXES[suffix]
    return float(text)


def resolve_env(container, pod_namespace, node_allocatable=None):
    """The container's environment as the kubelet gives it; an unsupported source is an error naming it.

    As with the kubelet, an unset request reads as 0 and an unset limit as the node's allocatable.
    """
    env = {}
    resources = container.get("resources") or {}
    for var in container.get("env") or []:
        name = var["name"]
        if "value" in var:
            env[name] = str(var["value"])
            continue
        source = var.get("valueFrom") or {}
        if "fieldRef" in source and source["fieldRef"].get("fieldPath") == "metadata.namespace":
            env[name] = pod_namespace
        elif "resourceFieldRef" in source:
            ref = source["resourceFieldRef"]
            kind, _, res = ref["resource"].partition(".")
            value = (resources.get(kind) or {}).get(res)
            if value is None and kind == "requests":
                value = "0"
            if value is None:
                value = (node_allocatable or {}).get(res)
            if value is None:
                raise SandboxError("env %s: the container sets no %s and its node is unknown" % (name, ref["resource"]))
            divisor = quantity(ref.get("divisor") or "1")
            divisor = divisor if divisor else 1
            env[name] = str(int(-(-quantity(value) // divisor)))  # the kubelet rounds up
        else:
            raise SandboxError("env %s: source %s is not supported by the sandbox" % (name, sorted(source)))
    return env


class Controller(object):
    """Start, stop and report the Karpenter controller of one sandbox."""

    def __init__(self, sandbox):
        self.sb = sandbox
        self.dir = sandbox.state / "karpenter"
        base = sandbox.ports["aws"] - 50
        self.metrics_port = base + 76
        self.health_port = base + 77

    def _apis(self):
        from kubernetes import client

        api = self.sb.kube()
        return client.AppsV1Api(api), client.CoreV1Api(api)

    def deployment(self):
        apps, _ = self._apis()
        found = apps.list_namespaced_deployment(
            NAMESPACE, label_selector="app.kubernetes.io/instance=%s,app.kubernetes.io/name=karpenter" % RELEASE).items
        if not found:
            raise SandboxError("no Karpenter Deployment of Helm release %r in %s; run playbooks/karpenter.yml first"
                               % (RELEASE, NAMESPACE))
        return apps.api_client.sanitize_for_serialization(found[0])

    def settings(self):
        """(env, service account name) of the installed Deployment's controller container."""
        dep = self.deployment()
        spec = dep["spec"]["template"]["spec"]
        containers = [c for c in spec["containers"] if c["name"] == "controller"] or spec["containers"]
        namespace = dep["metadata"]["namespace"]
        _, core = self._apis()
        selector = ",".join("%s=%s" % kv for kv in sorted(dep["spec"]["selector"].get("matchLabels", {}).items()))
        nodes = [p.spec.node_name for p in core.list_namespaced_pod(namespace, label_selector=selector).items if p.spec.node_name]
        allocatable = core.read_node(nodes[0]).status.allocatable if nodes else None
        env = resolve_env(containers[0], namespace, allocatable)
        return env, spec.get("serviceAccountName") or "default"

    def _token(self, service_account, audiences, seconds):
        _, core = self._apis()
        req = {"spec": {"audiences": audiences, "expirationSeconds": seconds}}
        res = core.create_namespaced_service_account_token(service_account, NAMESPACE, req)
        return res.status.token

    def prepare(self):
        """Write the kubeconfig and web identity token; return the process environment."""
        env, service_account = self.settings()
        _, core = self._apis()
        sa = core.read_namespaced_service_account(service_account, NAMESPACE)
        role_arn = (sa.metadata.annotations or {}).get(ROLE_ARN_ANNOTATION)
        if not role_arn:
            raise SandboxError("service account %s/%s has no %s annotation (IRSA)" % (NAMESPACE, service_account, ROLE_ARN_ANNOTATION))
        self.dir.mkdir(parents=True, exist_ok=True)
        token_file = self.dir / "web-identity-token"
        token_file.write_text(self._token(service_account, ["sts.amazonaws.com"], TOKEN_SECONDS))
        token_file.chmod(0o600)
        kubeconfig = self.dir / "kubeconfig"
        ca = (self.sb.pki / "ca.crt").read_bytes()
        doc = pki.kubeconfig(self.sb.apiserver_url, ca, b"", b"", self.sb.cluster, "system:serviceaccount:%s:%s" % (NAMESPACE, service_account))
        user = doc["users"][0]["user"]
        user.clear()
        user["token"] = self._token(service_account, [], TOKEN_SECONDS)
        kubeconfig.write_text(yaml.safe_dump(doc))
        kubeconfig.chmod(0o600)
        env.update({
            "METRICS_PORT": str(self.metrics_port),
            "HEALTH_PROBE_PORT": str(self.health_port),
            "KUBECONFIG": str(kubeconfig),
            # In a pod, the namespace comes from the mounted service-account token's directory.
            "LEADER_ELECTION_NAMESPACE": NAMESPACE,
            "AWS_ROLE_ARN": role_arn,
            "AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file),
            "AWS_ROLE_SESSION_NAME": "karpenter",
            "AWS_REGION": self.sb.region,
            "AWS_DEFAULT_REGION": self.sb.region,
            "AWS_ENDPOINT_URL": self.sb.aws_url,
            # The SDK resolves web identity credentials before it applies AWS_ENDPOINT_URL.
            "AWS_ENDPOINT_URL_STS": self.sb.aws_url,
            "AWS_EC2_METADATA_DISABLED": "true",
        })
        (self.dir / "settings.json").write_text(json.dumps(
            {k: v for k, v in env.items() if k != "AWS_WEB_IDENTITY_TOKEN_FILE"}, indent=2, sort_keys=True))
        return env

    def start(self, log=print):
        """Start the controller; restart it when the release's settings changed. Whether it (re)started."""
        binary = tools.ensure_group("karpenter", log=log)["karpenter-controller"]
        saved = settings_path(self.sb)
        before = saved.read_text() if saved.exists() else None
        env = self.prepare()
        if self.sb.alive("karpenter"):
            if saved.read_text() == before:
                return False
            log("the Helm release's settings changed; restarting the Karpenter controller")
            self.sb.stop("karpenter")
        # The controller must not find the sandbox's static keys: IRSA is its only credential.
        base = {k: v for k, v in os.environ.items()
                if not k.startswith("AWS_") and k not in ("KUBECONFIG", "K8S_AUTH_KUBECONFIG")}
        log_file = self.sb.logs / "karpenter.log"
        offset = log_file.stat().st_size if log_file.exists() else 0

        def leading():
            # Ready, and the leader: after a restart the previous process's lease must expire first.
            with open(log_file, "rb") as f:
                f.seek(offset)
                return b"Successfully acquired lease" in f.read() and self.sb._http_ok(
                    "http://127.0.0.1:%d/readyz" % self.health_port)

        self.sb._spawn("karpenter", [binary], env=env, port=self.health_port, base_env=base)
        self.sb._wait("karpenter", leading, timeout=90)
        log("karpenter controller %s running (log %s)" % (tools.karpenter_version(), self.sb.logs / "karpenter.log"))
        return True


def start_node_agent(sandbox, log=print):
    if sandbox.alive("node-agent"):
        return False
    import sys

    sandbox._spawn("node-agent", [sys.executable, "-u", "-m", "sandbox.nodeagent",
                                  "--kubeconfig", str(sandbox.state / "kubeconfig"), "--pki-dir", str(sandbox.pki),
                                  "--cluster", sandbox.cluster,
                                  "--endpoint-url", sandbox.aws_url, "--region", sandbox.region],
                   env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    sandbox._wait("node-agent", lambda: "watching NodeClaims" in sandbox._log_tail("node-agent"), timeout=30)
    log("node agent running (log %s)" % (sandbox.logs / "node-agent.log"))
    return True


def start_all(sandbox, log=print):
    """Start the node agent and the controller (each only if not running)."""
    start_node_agent(sandbox, log=log)
    Controller(sandbox).start(log=log)


def wait_for(check, timeout, interval=1.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise SandboxError("timed out after %ds waiting for %s" % (timeout, what))


def settings_path(sandbox):
    return Path(sandbox.state) / "karpenter" / "settings.json"

"""The real Karpenter controller, run by the sandbox for each pod of the chart's Deployment.

A sandbox component (``karpenter-pods``, log ``.sandbox/logs/karpenter-pods.log``) that plays the
kubelet's part for the pods labelled ``app.kubernetes.io/name=karpenter``: kwok runs every other
pod, and its stages leave these to this one (``charts.kwok_stages``). For each such pod, once it is
bound to a node, it runs the controller binary of the pod's Karpenter release, the tag of the controller
container's image (the Deployment's ``app.kubernetes.io/version`` when the image has none), built from
that release's Go module (``tools.karpenter_groups``: the pinned one, and any other the sandbox was
started with), as a local process (log ``.sandbox/logs/karpenter-<pod>.log``):

* with the controller container's environment as the kubelet resolves it (``value``,
  ``fieldRef``, ``resourceFieldRef`` with its divisor). Only the ports the container listens on
  (metrics, health probe, webhook) move into the sandbox's range, one slot of ports per pod,
  because every process shares 127.0.0.1;
* with the pod's service account, through tokens the kubelet would get: a TokenRequest bound to
  the pod (``boundObjectRef``), for the API server, and one for audience ``sts.amazonaws.com``
  (IRSA). The role is the pod's ``AWS_ROLE_ARN`` if the pod has one, else the service account's
  ``eks.amazonaws.com/role-arn`` annotation, which is what EKS's pod identity webhook injects.
  Without either, EKS Pod Identity: if the emulator's cluster has an association for the pod's
  namespace and service account, the pod gets what EKS's webhook injects (a token for audience
  ``pods.eks.amazonaws.com``, ``AWS_CONTAINER_CREDENTIALS_FULL_URI``,
  ``AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE``), pointing at the sandbox's Pod Identity agent, which
  serves credentials only while the ``eks-pod-identity-agent`` add-on is installed
  (``sandbox.podidentity``).
  Both tokens are files that the watcher renews at 80 % of their life, as the kubelet does; the
  controller re-reads them. The watcher's own writes (pod status, TokenRequests, the final delete)
  go out as the kubelet of the pod's node (``system:node:<node>``, group ``system:nodes``), so the
  API server's Node authorizer decides them as it would a kubelet's;
* the pod's status as the kubelet reports it: Running once the process started, ``Ready`` from
  the container's own readiness probe (its ``httpGet`` path, the port mapped into the slot, its
  delay, period and thresholds) against the running controller; a process that exits is restarted
  with the kubelet's back-off (10 s doubling to 5 min) and the container shows ``CrashLoopBackOff``;
* stopped when the pod is deleted: SIGTERM, SIGKILL after the pod's grace period, then the pod is
  deleted with grace 0, as the kubelet does. A replacement pod (new UID) gets a process of its own.

Emulated rather than run, and said in the log, the pod then marked Ready as kwok would:
* a pod of a Karpenter release the sandbox has no binary for (Karpenter 0.16, the legacy profile);
* a pod with no IRSA role and no Pod Identity association (on EKS it would get no credentials).
The liveness probe is not run.

    python -m sandbox.controller --state-dir .sandbox --binary [VERSION=]PATH ...   (started by ``python -m sandbox up``)
"""

import argparse
import hashlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import yaml

from sandbox import pki, podidentity, tools
from sandbox.tools import SandboxError

log = logging.getLogger("karpenter-pods")

LABEL = ("app.kubernetes.io/name", "karpenter")
CONTAINER = "controller"
ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn"
KUBE_TOKEN_SECONDS = 3607  # the kubelet's kube-api-access token
STS_TOKEN_SECONDS = 86400  # EKS's pod identity webhook projects the IRSA token for a day
PORT_ENV = ("METRICS_PORT", "HEALTH_PROBE_PORT", "WEBHOOK_PORT")
SLOT_OFFSET = 84  # slots of len(PORT_ENV) ports from base + 84
SLOTS = 4
BACKOFF = (10, 300)  # the kubelet's crash-loop back-off: 10 s, doubling, at most 5 min
_QUANTITY_SUFFIXES = {
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
    "n": 1e-9,
    "u": 1e-6,
    "m": 1e-3,
    "": 1,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
}


# ---- pure parts -----------------------------------------------------------------------------
def quantity(text):
    """A Kubernetes resource quantity ("250m", "1Gi", "2") as a number."""
    text = str(text).strip()
    for suffix in sorted(_QUANTITY_SUFFIXES, key=len, reverse=True):
        if suffix and text.endswith(suffix):
            return float(text[: -len(suffix)]) * _QUANTITY_SUFFIXES[suffix]
    return float(text)


_FIELD_PATHS = {
    "metadata.name": ("metadata", "name"),
    "metadata.namespace": ("metadata", "namespace"),
    "metadata.uid": ("metadata", "uid"),
    "spec.nodeName": ("spec", "nodeName"),
    "spec.serviceAccountName": ("spec", "serviceAccountName"),
    "status.hostIP": ("status", "hostIP"),
    "status.podIP": ("status", "podIP"),
}


def resolve_env(container, pod_namespace, node_allocatable=None, pod=None):
    """The container's environment as the kubelet gives it; an unsupported source is an error naming it.

    As with the kubelet, an unset request reads as 0 and an unset limit as the node's allocatable.
    ``fieldRef`` reads ``pod`` (as the API returns it); without it only ``metadata.namespace``.
    """
    env = {}
    resources = container.get("resources") or {}
    for var in container.get("env") or []:
        name = var["name"]
        if "value" in var:
            env[name] = str(var["value"])
            continue
        source = var.get("valueFrom") or {}
        field = (source.get("fieldRef") or {}).get("fieldPath")
        if field == "metadata.namespace":
            env[name] = pod_namespace
        elif field in _FIELD_PATHS and pod is not None:
            section, key = _FIELD_PATHS[field]
            env[name] = str((pod.get(section) or {}).get(key) or "")
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
            raise SandboxError("env %s: source %s is not supported by the sandbox" % (name, field or sorted(source)))
    if container.get("envFrom"):
        raise SandboxError("envFrom is not supported by the sandbox")
    return env


def controller_container(pod):
    containers = pod["spec"]["containers"]
    return next((c for c in containers if c["name"] == CONTAINER), containers[0])


def image_version(image):
    """The tag of an image reference ("repo/controller:1.14.3@sha256:..." -> "1.14.3"), or None."""
    ref = image.split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    return last.split(":", 1)[1].lstrip("v") if ":" in last else None


def slot_ports(port_base, slot):
    """{env name: port} of a slot in the sandbox's range."""
    first = port_base + SLOT_OFFSET + slot * len(PORT_ENV)
    return {name: first + i for i, name in enumerate(PORT_ENV)}


def probe_url(container, env, ports):
    """The readiness probe's URL on 127.0.0.1, with the container's port moved to its slot; None without one."""
    probe = (container.get("readinessProbe") or {}).get("httpGet")
    if not probe:
        return None
    port = probe.get("port")
    if isinstance(port, str) and not port.isdigit():
        named = [p["containerPort"] for p in container.get("ports") or [] if p.get("name") == port]
        if not named:
            raise SandboxError("readiness probe port %r is not a port of container %s" % (port, container["name"]))
        port = named[0]
    moved = {int(env[name]): ports[name] for name in PORT_ENV if str(env.get(name, "")).isdigit()}
    port = moved.get(int(port), int(port))
    return "http://127.0.0.1:%d%s" % (port, probe.get("path") or "/")


def pod_ip(uid):
    """An address for the pod, from its UID, in 192.168.0.0/17 (kwok hands out 192.168.128.0/17)."""
    h = hashlib.sha256(uid.encode()).digest()
    return "192.168.%d.%d" % (h[0] % 128, 1 + h[1] % 254)


def pod_status(pod, *, now, host_ip, started_at=None, ready=False, restarts=0, waiting=None, last_exit=None):
    """The status the kubelet reports for ``pod`` (as the API returns it): Running with its containers
    started at ``started_at`` (or ``waiting`` as (reason, message)), Ready as given."""
    containers = pod["spec"]["containers"]
    statuses = []
    for c in containers:
        st = {
            "name": c["name"],
            "image": c["image"],
            "imageID": "",
            "restartCount": restarts,
            "ready": bool(ready and not waiting),
            "started": bool(started_at and not waiting),
        }
        if waiting:
            st["state"] = {"waiting": {"reason": waiting[0], "message": waiting[1]}}
        else:
            st["state"] = {"running": {"startedAt": started_at or now}}
        if last_exit:
            st["lastState"] = {
                "terminated": {
                    "exitCode": last_exit[0],
                    "reason": "Error" if last_exit[0] else "Completed",
                    "finishedAt": last_exit[1],
                    "startedAt": last_exit[2],
                }
            }
        statuses.append(st)
    is_ready = "True" if ready and not waiting else "False"
    conditions = [
        {"type": "PodReadyToStartContainers", "status": "True"},
        {"type": "Initialized", "status": "True"},
        {"type": "ContainersReady", "status": is_ready},
        {"type": "Ready", "status": is_ready},
    ]
    old = {c["type"]: c for c in (pod.get("status") or {}).get("conditions") or []}
    for cond in conditions:
        before = old.get(cond["type"])
        same = before is not None and before.get("status") == cond["status"]
        cond["lastTransitionTime"] = before.get("lastTransitionTime") if same else now
        cond["lastProbeTime"] = None
    ip = (pod.get("status") or {}).get("podIP") or pod_ip(pod["metadata"]["uid"])
    return {
        "phase": "Running",
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "podIP": ip,
        "podIPs": [{"ip": ip}],
        "startTime": (pod.get("status") or {}).get("startTime") or now,
        "conditions": conditions,
        "containerStatuses": statuses,
    }


def irsa_role(pod_env, service_account_annotations):
    """The IRSA role for the pod: its own AWS_ROLE_ARN, else its service account's annotation; or None."""
    return pod_env.get("AWS_ROLE_ARN") or (service_account_annotations or {}).get(ROLE_ARN_ANNOTATION)


def backoff(restarts):
    return min(BACKOFF[0] * 2 ** max(restarts - 1, 0), BACKOFF[1])


def _now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---- the watcher ----------------------------------------------------------------------------
class PodProcess(object):
    """What the watcher knows of one pod: its process, slot, probe state and tokens."""

    def __init__(self, pod):
        meta = pod["metadata"]
        self.namespace, self.name, self.uid = meta["namespace"], meta["name"], meta["uid"]
        self.node = pod["spec"]["nodeName"]
        self.proc = None
        self.slot = None
        self.ports = {}
        self.env = None
        self.emulated = None  # why the controller is not run for this pod
        self.started_at = None
        self.restarts = 0
        self.last_exit = None
        self.restart_after = None
        self.ready = False
        self.failures = 0
        self.next_probe = None
        self.probe = None
        self.terminating_until = None
        self.tokens_at = 0
        self.waiting = None
        self.container = self.account = self.role = None
        self.version = None  # the Karpenter release whose binary runs for the pod
        self.pod_identity = False

    @property
    def key(self):
        return "%s/%s" % (self.namespace, self.name)

    def row(self):
        return {
            "pod": self.key,
            "uid": self.uid,
            "node": self.node,
            "pid": self.proc.pid if self.proc and self.proc.poll() is None else None,
            "ports": self.ports,
            "ready": self.ready,
            "restarts": self.restarts,
            "version": self.version,
            "emulated": self.emulated,
            "waiting": self.waiting[0] if self.waiting else None,
            "terminating": self.terminating_until is not None,
        }


class Watcher(object):
    def __init__(self, sandbox, binaries, interval=1.0):
        from kubernetes import client, config

        self.sb = sandbox
        self.binaries = dict(binaries)  # Karpenter release (X.Y.Z) -> its controller binary
        self.interval = interval
        # It reads as kwok does (kwok-controller), since it stands in for kwok for these pods; like
        # kwok's and the kubelets', its requests stay out of the audit log, which is about clients.
        self.api = config.new_client_from_config(str(sandbox.state / "kwok.kubeconfig"))
        self.core = client.CoreV1Api(self.api)
        self.port_base = sandbox.ports["etcd"] - 1
        self.dir = sandbox.state / "karpenter"
        self.pods = {}
        self.kubelets = {}
        self.said = {}
        self.stopping = False
        self.agent = podidentity.Agent(
            sandbox.aws_url, sandbox.region, sandbox.cluster, self.port_base + podidentity.PORT_OFFSET
        )

    # -- helpers ---------------------------------------------------------------------------
    def say(self, key, message, level=logging.INFO):
        if self.said.get(key) != message:
            self.said[key] = message
            log.log(level, message)

    def kubelet(self, node):
        """A CoreV1Api as the kubelet of ``node`` (system:node:<node>, group system:nodes)."""
        if node not in self.kubelets:
            from kubernetes import client

            creds = self.dir / "kubelets"
            creds.mkdir(mode=0o700, parents=True, exist_ok=True)
            cert, key = pki.client_credentials(self.sb.pki, "system:node:" + node, ["system:nodes"])
            paths = creds / (node + ".crt"), creds / (node + ".key")
            paths[0].write_bytes(cert)
            paths[1].write_bytes(key)
            paths[1].chmod(0o600)
            conf = client.Configuration()
            conf.host = self.sb.apiserver_url
            conf.ssl_ca_cert = str(self.sb.pki / "ca.crt")
            conf.cert_file, conf.key_file = str(paths[0]), str(paths[1])
            self.kubelets[node] = client.CoreV1Api(client.ApiClient(conf))
        return self.kubelets[node]

    def host_ip(self, node):
        try:
            addresses = self.core.read_node(node).status.addresses or []
        except Exception:  # noqa: BLE001 - a node that is gone has no address
            addresses = []
        internal = [a.address for a in addresses if a.type == "InternalIP"]
        return internal[0] if internal else "127.0.0.1"

    def patch_status(self, run, pod, **kw):
        status = pod_status(
            pod,
            now=_now(),
            host_ip=self.host_ip(run.node),
            started_at=run.started_at,
            restarts=run.restarts,
            last_exit=run.last_exit,
            waiting=run.waiting,
            **kw,
        )
        # A strategic merge, as the kubelet's status manager sends: conditions merge by type (PodScheduled stays).
        self.kubelet(run.node).patch_namespaced_pod_status(
            run.name, run.namespace, {"status": status}, _content_type="application/strategic-merge-patch+json"
        )

    def free_slot(self):
        used = {p.slot for p in self.pods.values() if p.slot is not None}
        for slot in range(SLOTS):
            if slot in used:
                continue
            if all(self.sb._port_free(port) for port in slot_ports(self.port_base, slot).values()):
                return slot
        return None

    # -- one pod ---------------------------------------------------------------------------
    def plan(self, run, pod):
        """Resolve the pod's settings; set ``run.emulated`` (why not run) or ``run.env`` (how to run)."""
        container = controller_container(pod)
        version = image_version(container["image"]) or self.chart_version(pod)
        if version not in self.binaries:
            run.emulated = (
                "Karpenter %s (image %s) is not a release the sandbox builds (%s); the pod is marked "
                "Ready as kwok would" % (version, container["image"], ", ".join(sorted(self.binaries)))
            )
            return
        node = self.core.read_node(run.node).status.allocatable
        try:
            env = resolve_env(container, run.namespace, node, pod)
        except SandboxError as e:
            run.waiting = ("CreateContainerConfigError", str(e))
            return
        account = pod["spec"].get("serviceAccountName") or "default"
        sa = self.core.read_namespaced_service_account(account, run.namespace)
        role = irsa_role(env, sa.metadata.annotations)
        if not role:
            role = self.agent.association(run.namespace, account)
            run.pod_identity = bool(role)
        if not role:
            run.emulated = (
                "service account %s/%s has no %s annotation, the pod no AWS_ROLE_ARN and the cluster no "
                "Pod Identity association for it: no credentials; the controller is not run and the pod "
                "is marked Ready as kwok would" % (run.namespace, account, ROLE_ARN_ANNOTATION)
            )
            return
        run.account, run.role = account, role
        run.version = version
        run.env = env
        run.container = container

    def chart_version(self, pod):
        """``app.kubernetes.io/version`` of the Deployment that owns the pod (the chart's appVersion), or None;
        the release of a pod whose image has no tag."""
        from kubernetes import client

        apps = client.AppsV1Api(self.api)
        namespace = pod["metadata"]["namespace"]
        for ref in pod["metadata"].get("ownerReferences") or []:
            if ref.get("kind") != "ReplicaSet":
                continue
            rs = apps.read_namespaced_replica_set(ref["name"], namespace)
            for owner in rs.metadata.owner_references or []:
                if owner.kind == "Deployment":
                    labels = apps.read_namespaced_deployment(owner.name, namespace).metadata.labels or {}
                    version = labels.get("app.kubernetes.io/version")
                    return version.lstrip("v") if version else None
        return None

    def write_tokens(self, run, pod_dir):
        """The pod's two service-account tokens, bound to the pod, as files the controller re-reads."""
        kubelet = self.kubelet(run.node)
        bound = {"kind": "Pod", "apiVersion": "v1", "name": run.name, "uid": run.uid}
        aws_token = (
            ([podidentity.AUDIENCE], podidentity.TOKEN_SECONDS, podidentity.TOKEN_FILE)
            if run.pod_identity
            else (["sts.amazonaws.com"], STS_TOKEN_SECONDS, "web-identity-token")
        )
        for audiences, seconds, name in (([], KUBE_TOKEN_SECONDS, "token"), aws_token):
            res = kubelet.create_namespaced_service_account_token(
                run.account,
                run.namespace,
                {"spec": {"audiences": audiences, "expirationSeconds": seconds, "boundObjectRef": bound}},
            )
            tmp = pod_dir / (name + ".tmp")
            tmp.write_text(res.status.token)
            tmp.chmod(0o600)
            tmp.replace(pod_dir / name)
        run.tokens_at = time.time()

    def spawn(self, run):
        pod_dir = self.dir / "pods" / run.uid
        pod_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.write_tokens(run, pod_dir)
        kubeconfig = pod_dir / "kubeconfig"
        doc = pki.kubeconfig(
            self.sb.apiserver_url,
            (self.sb.pki / "ca.crt").read_bytes(),
            b"",
            b"",
            self.sb.cluster,
            "system:serviceaccount:%s:%s" % (run.namespace, run.account),
        )
        user = doc["users"][0]["user"]
        user.clear()
        user["tokenFile"] = str(pod_dir / "token")
        kubeconfig.write_text(yaml.safe_dump(doc))
        kubeconfig.chmod(0o600)
        env = dict(run.env)
        env.update({name: str(port) for name, port in run.ports.items()})
        env.update(
            {
                "KUBECONFIG": str(kubeconfig),
                # In a pod, the namespace comes from the mounted service-account token's directory.
                "LEADER_ELECTION_NAMESPACE": run.namespace,
                "AWS_STS_REGIONAL_ENDPOINTS": "regional",
                "AWS_REGION": self.sb.region,
                "AWS_DEFAULT_REGION": self.sb.region,
                # The emulator stands for AWS's endpoints; the SDK resolves web identity before AWS_ENDPOINT_URL.
                "AWS_ENDPOINT_URL": self.sb.aws_url,
                "AWS_ENDPOINT_URL_STS": self.sb.aws_url,
                "AWS_EC2_METADATA_DISABLED": "true",
            }
        )
        if run.pod_identity:  # what EKS's Pod Identity webhook injects
            env.update(self.agent.pod_env(pod_dir / podidentity.TOKEN_FILE))
        else:  # what EKS's pod identity webhook injects for IRSA
            env.update({"AWS_ROLE_ARN": run.role, "AWS_WEB_IDENTITY_TOKEN_FILE": str(pod_dir / "web-identity-token")})
        (pod_dir / "settings.json").write_text(
            json.dumps(
                {"pod": run.key, "uid": run.uid, "env": {k: v for k, v in env.items() if "TOKEN" not in k}},
                indent=2,
                sort_keys=True,
            )
        )
        # A container's environment is its own: nothing of the sandbox's (no static AWS keys).
        base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(pod_dir)}
        logf = open(self.sb.logs / ("karpenter-%s.log" % run.name), "ab")
        run.proc = subprocess.Popen(
            [self.binaries[run.version]],
            env=dict(base, **env),
            stdout=logf,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=str(pod_dir),
        )
        logf.close()
        run.started_at = _now()
        run.ready = False
        run.failures = 0
        probe = run.container.get("readinessProbe") or {}
        run.next_probe = time.time() + int(probe.get("initialDelaySeconds") or 0)
        log.info(
            "pod %s (uid %s): karpenter controller %s pid %d, ports %s, log %s",
            run.key,
            run.uid,
            run.version,
            run.proc.pid,
            run.ports,
            self.sb.logs / ("karpenter-%s.log" % run.name),
        )

    def start(self, run, pod):
        self.plan(run, pod)
        if run.emulated:
            self.say(run.uid, "pod %s: not running the controller: %s" % (run.key, run.emulated), logging.WARNING)
            run.ready = True
            run.started_at = _now()
            self.patch_status(run, pod, ready=True)
            return
        if run.waiting:
            self.say(run.uid, "pod %s: %s: %s" % (run.key, run.waiting[0], run.waiting[1]), logging.WARNING)
            self.patch_status(run, pod)
            return
        run.slot = self.free_slot()
        if run.slot is None:
            self.say(
                run.uid,
                "pod %s: waiting for a free port slot (%d slots from port %d)"
                % (run.key, SLOTS, self.port_base + SLOT_OFFSET),
                logging.WARNING,
            )
            return
        run.ports = slot_ports(self.port_base, run.slot)
        run.probe = probe_url(run.container, run.env, run.ports)
        self.spawn(run)
        self.patch_status(run, pod)

    def supervise(self, run, pod):
        if run.emulated or (run.waiting and run.waiting[0] == "CreateContainerConfigError"):
            return
        if run.proc is None:  # no slot yet
            if run.slot is None:
                self.start(run, pod)
            return
        now = time.time()
        code = run.proc.poll()
        if code is not None and run.restart_after is None:
            run.restarts += 1
            run.last_exit = (code, _now(), run.started_at)
            run.restart_after = now + backoff(run.restarts)
            run.ready = False
            run.waiting = (
                "CrashLoopBackOff",
                "back-off %ds restarting failed container=%s pod=%s"
                % (backoff(run.restarts), run.container["name"], run.name),
            )
            log.warning(
                "pod %s: the controller exited with %d; restarting in %ds", run.key, code, backoff(run.restarts)
            )
            self.patch_status(run, pod)
            return
        if run.restart_after is not None:
            if now >= run.restart_after:
                run.restart_after = None
                run.waiting = None
                self.spawn(run)
                self.patch_status(run, pod)
            return
        if now - run.tokens_at > 0.8 * KUBE_TOKEN_SECONDS:
            self.write_tokens(run, self.dir / "pods" / run.uid)
        if run.next_probe is not None and now >= run.next_probe:
            probe = run.container.get("readinessProbe") or {}
            run.next_probe = now + int(probe.get("periodSeconds") or 10)
            # The probe's timeout, at most 5 s: one slow probe must not hold up the other pods.
            ok = True if run.probe is None else _http_ok(run.probe, min(int(probe.get("timeoutSeconds") or 1), 5))
            run.failures = 0 if ok else run.failures + 1
            ready = ok if not run.ready else run.failures < int(probe.get("failureThreshold") or 3)
            if ready != run.ready:
                run.ready = ready
                log.info("pod %s: readiness probe %s: Ready=%s", run.key, run.probe, ready)
                self.patch_status(run, pod, ready=ready)

    def terminate(self, run, pod=None):
        """SIGTERM, then SIGKILL after the grace period; then delete the pod with grace 0. Whether done."""
        if run.proc is not None and run.proc.poll() is None:
            if run.terminating_until is None:
                grace = ((pod or {}).get("spec") or {}).get("terminationGracePeriodSeconds")
                grace = 30 if grace is None else int(grace)
                run.terminating_until = time.time() + grace
                log.info("pod %s: stopping the controller (pid %d, grace %ds)", run.key, run.proc.pid, grace)
                run.proc.terminate()
                return False
            if time.time() < run.terminating_until:
                return False
            run.proc.kill()
            run.proc.wait()
        if run.proc is not None:
            log.info("pod %s: the controller exited with %s", run.key, run.proc.returncode)
        run.terminating_until = run.terminating_until or time.time()
        if pod is not None:
            from kubernetes.client.exceptions import ApiException

            try:
                # DeleteOptions in the body: the API server takes them over the query's.
                self.kubelet(run.node).delete_namespaced_pod(
                    run.name, run.namespace, body={"gracePeriodSeconds": 0, "preconditions": {"uid": run.uid}}
                )
            except ApiException as e:
                if e.status not in (404, 409):
                    raise
        return True

    # -- the loop --------------------------------------------------------------------------
    def reconcile(self):
        self.agent.sync()
        listed = self.core.list_pod_for_all_namespaces(label_selector="%s=%s" % LABEL)
        pods = self.api.sanitize_for_serialization(listed)["items"]
        present = set()
        for pod in pods:
            uid = pod["metadata"]["uid"]
            if not pod["spec"].get("nodeName"):
                continue
            present.add(uid)
            run = self.pods.get(uid)
            if pod["metadata"].get("deletionTimestamp"):
                run = run or PodProcess(pod)
                self.pods[uid] = run
                if self.terminate(run, pod):
                    self.pods.pop(uid, None)
                continue
            if run is None:
                run = self.pods[uid] = PodProcess(pod)
                self.start(run, pod)
            else:
                self.supervise(run, pod)
        for uid in list(self.pods):
            if uid not in present:  # deleted without grace: the kubelet kills its containers
                run = self.pods[uid]
                if run.proc is not None and run.proc.poll() is None:
                    run.proc.kill()
                    run.proc.wait()
                    log.info("pod %s is gone; killed its controller", run.key)
                del self.pods[uid]
        self.write_state()

    def write_state(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.dir / "pods.json.tmp"
        tmp.write_text(json.dumps([run.row() for run in self.pods.values()], indent=2, sort_keys=True))
        tmp.replace(self.dir / "pods.json")

    def shutdown(self):
        for run in self.pods.values():
            if run.proc is not None and run.proc.poll() is None:
                run.proc.terminate()
        deadline = time.time() + 10
        for run in self.pods.values():
            if run.proc is not None:
                try:
                    run.proc.wait(max(0.1, deadline - time.time()))
                except subprocess.TimeoutExpired:
                    run.proc.kill()
        (self.dir / "pods.json").unlink(missing_ok=True)
        self.agent.stop()

    def run(self):
        log.info(
            "watching pods labelled %s=%s (Karpenter %s)",
            LABEL[0],
            LABEL[1],
            ", ".join("%s: %s" % item for item in sorted(self.binaries.items())),
        )
        while not self.stopping:
            try:
                self.reconcile()
            except Exception as e:  # noqa: BLE001 - keep supervising through API hiccups
                self.say("error", "reconcile failed: %s" % e, logging.ERROR)
            time.sleep(self.interval)
        self.shutdown()


def _http_ok(url, timeout):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return 200 <= r.status < 400
    except Exception:  # noqa: BLE001 - a refused or failed probe is a failed probe
        return False


def binaries_by_version(specs):
    """{version: path} from ``--binary`` values: VERSION=PATH, or PATH alone for the pinned version."""
    binaries = {}
    for spec in specs:
        version, sep, path = spec.partition("=")
        if not sep:
            version, path = tools.karpenter_version().lstrip("v"), spec
        binaries[version.lstrip("v")] = path
    return binaries


def pod_rows(sandbox):
    """The watcher's view of the chart's pods (``pods.json``), [] when there is none."""
    path = Path(sandbox.state) / "karpenter" / "pods.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return []


def main(argv=None):
    from sandbox.cluster import Sandbox

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--state-dir", required=True)
    p.add_argument(
        "--binary",
        required=True,
        action="append",
        help="a karpenter controller binary, VERSION=PATH (PATH alone: the pinned version); repeatable",
    )
    p.add_argument("--interval", type=float, default=1.0)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(levelname)s %(message)s")
    cfg = json.loads((Path(args.state_dir) / "sandbox.json").read_text())
    sb = Sandbox(state_dir=args.state_dir, cluster=cfg["cluster"], region=cfg["region"])
    watcher = Watcher(sb, binaries_by_version(args.binary), interval=args.interval)

    def stop(*_):
        watcher.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    watcher.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

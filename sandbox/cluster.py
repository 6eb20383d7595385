"""Bring the sandbox up, report on it, take it down.

Processes (all bound to 127.0.0.1, each logging to .sandbox/logs/<name>.log):
  aws        the AWS emulator (moto server plus the sandbox's patches, sandbox/emulator)
  etcd       etcd, built from go.etcd.io/etcd/server/v3
  webhook    the token webhook: EKS tokens (k8s-aws-v1.) to users and groups (sandbox/webhook.py)
  apiserver  kube-apiserver, built from k8s.io/kubernetes
  controller-manager, scheduler
  kwok       plays the kubelets of the managed node group's nodes
  registry   Debian's docker-registry (CNCF distribution), serving the Karpenter charts over OCI
  cluster-network  the API server's way into the cluster (sandbox/clusternet.py): an HTTP CONNECT proxy
             for its cluster egress, relaying to the addresses asked for, except that the Services of
             Karpenter 0.16's admission webhooks lead to a stand-in for that webhook (emulated: it
             admits every request and only defaults a Provisioner's capacity type and architecture)
  legacy-charts  a static HTTP server holding the old HTTP Helm repository (index.yaml and the
             karpenter 0.16.x charts, as https://charts.karpenter.sh published them)

Then, once the cluster is seeded, the agents that play kubelets:
  node-agent plays the kubelet of the instances Karpenter launches (sandbox/nodeagent.py)
  karpenter-pods  plays the kubelet of the Karpenter chart's pods: runs the real Karpenter
             controller for each of them, with the pod's environment and service account, and
             reports its readiness (sandbox/controller.py; one log per pod, karpenter-<pod>.log)

The port base is kept in the state directory (sandbox.json) when the sandbox is created; every
later command on that state directory takes its ports from there, not from $SANDBOX_PORT_BASE.

`up` with a 0.16.x Karpenter version (the legacy profile) writes that version into vars.yml, so
playbooks/karpenter.yml installs Karpenter the way the walkthrough did.

`up --extra-karpenter-version X.Y.Z` (repeatable) also serves that Karpenter release beside the pinned
one, for upgrades: its charts in the registry and its controller binary for pods of its image, both built
from its Go module (sandbox/go/karpenter-<minor>/) only when asked for; the choice is kept in sandbox.json
and vars.yml lists every release served (sandbox_karpenter_versions, oldest first).

`up --profile eksctl|terraform|karpenter-guide` chooses the cluster a new sandbox starts from, as
that tool leaves it (sandbox/emulator/profiles.py); the choice is kept in sandbox.json.

`up --aws-url http://127.0.0.1:<port>` starts no emulator of its own: the sandbox seeds its cluster into the
emulator at that URL (another sandbox's, at its port base + 50) and every component reaches AWS there. Several
sandboxes so make a fleet that one AWS endpoint lists, as one account's EKS lists its clusters in every region
(give each cluster its own name). The URL is kept in sandbox.json; `down` leaves that emulator running, and what
the cluster's seed put there stays until that emulator's own sandbox goes down.
"""

import base64
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

from sandbox import charts, clusternet, pki, tools, webhook
from sandbox.emulator.profiles import DEFAULT_PROFILE, PROFILES, default_authentication_mode
from sandbox.tools import SandboxError

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STATE = ROOT / ".sandbox"

AUTHENTICATION_MODES = ("CONFIG_MAP", "API_AND_CONFIG_MAP", "API")
COMPONENTS = [
    "aws",
    "etcd",
    "webhook",
    "apiserver",
    "cluster-network",
    "controller-manager",
    "scheduler",
    "kwok",
    "registry",
    "legacy-charts",
]
# Started once the cluster is seeded (they need its kubeconfig); stopped first.
AGENTS = ["node-agent", "karpenter-pods"]
DEFAULT_PORT_BASE = 26400

AUDIT_POLICY = {
    "apiVersion": "audit.k8s.io/v1",
    "kind": "Policy",
    "omitStages": ["RequestReceived"],
    "rules": [
        # Control-plane chatter is not what the collection does; keep the log about clients.
        {
            "level": "None",
            "users": ["system:kube-controller-manager", "system:kube-scheduler", "system:apiserver", "kwok-controller"],
        },
        {"level": "None", "userGroups": ["system:serviceaccounts:kube-system", "system:nodes"]},
        {"level": "None", "nonResourceURLs": ["/healthz*", "/readyz*", "/livez*", "/version", "/openapi/*"]},
        {"level": "Metadata"},
    ],
}


class Sandbox(object):
    def __init__(
        self,
        state_dir=DEFAULT_STATE,
        cluster="demo",
        region="us-east-1",
        port_base=None,
        log=print,
        authentication_mode=None,
        karpenter_version=None,
        profile=None,
        extra_karpenter_versions=None,
        aws_url=None,
    ):
        self.state = Path(state_dir)
        self.karpenter_version = karpenter_version
        self.requested_extra = sorted(
            {v.lstrip("v") for v in extra_karpenter_versions or []} - {charts.chart_version()}
        )
        self.cluster = cluster
        self.region = region
        if authentication_mode is not None and authentication_mode not in AUTHENTICATION_MODES:
            raise SandboxError(
                "authentication mode must be one of %s, not %r" % (", ".join(AUTHENTICATION_MODES), authentication_mode)
            )
        self.requested_mode = authentication_mode
        if profile is not None and profile not in PROFILES:
            raise SandboxError("profile must be one of %s, not %r" % (", ".join(PROFILES), profile))
        self.requested_profile = profile
        self.log = log
        # Below Linux's ephemeral port range (32768-60999 by default), so that no outgoing connection
        # of another process can hold a sandbox port; a base must stay under 32600.
        saved = saved_port_base(self.state)
        if saved is not None and port_base is not None and int(port_base) != saved:
            raise SandboxError(
                "the sandbox in %s uses port base %d, not %s; run `make sandbox-down` first to "
                "start one on other ports" % (self.state, saved, port_base)
            )
        base = saved if saved is not None else int(port_base or os.environ.get("SANDBOX_PORT_BASE", DEFAULT_PORT_BASE))
        self.port_base = base
        self.external_aws_url = external_aws_url(self.state, aws_url)
        self.ports = {
            "etcd": base + 1,
            "etcd-peer": base + 2,
            "apiserver": base + 43,
            "controller-manager": base + 57,
            "scheduler": base + 59,
            "kwok": base + 10,
            "aws": base + 50,
            "registry": base + 60,
            "webhook": base + 70,
            "legacy-charts": base + 80,
            "cluster-network": base + 82,  # the webhook stand-in
        }
        if self.external_aws_url:
            del self.ports["aws"]
        self.components = components(self.external_aws_url)
        self.logs = self.state / "logs"
        self.run = self.state / "run"
        self.pki = self.state / "pki"

    # ---- paths and config -------------------------------------------------
    @property
    def config_path(self):
        return self.state / "sandbox.json"

    def config(self):
        if self.config_path.exists():
            return json.loads(self.config_path.read_text())
        return {}

    def save_config(self, cfg):
        self.config_path.write_text(json.dumps(cfg, indent=2, sort_keys=True))

    @property
    def apiserver_url(self):
        return "https://127.0.0.1:%d" % self.ports["apiserver"]

    @property
    def webhook_url(self):
        return "https://127.0.0.1:%d" % self.ports["webhook"]

    @property
    def aws_url(self):
        return self.external_aws_url or "http://127.0.0.1:%d" % self.ports["aws"]

    @property
    def network_socket(self):
        return self.run / "cluster-network.sock"

    @property
    def legacy_chart_repository(self):
        """The old HTTP Helm repository (Karpenter 0.16.x charts), as https://charts.karpenter.sh was."""
        return "http://127.0.0.1:%d" % self.ports["legacy-charts"]

    @property
    def registry_host(self):
        return "127.0.0.1:%d" % self.ports["registry"]

    # ---- process supervision ---------------------------------------------
    def _pid(self, name):
        f = self.run / ("%s.pid" % name)
        if not f.exists():
            return None
        try:
            pid = int(f.read_text().strip())
            os.kill(pid, 0)
        except (ValueError, ProcessLookupError, PermissionError):
            return None
        # A zombie or a recycled pid is not our process.
        try:
            stat = Path("/proc/%d/stat" % pid).read_text()
            if stat.split(")")[-1].split()[0] == "Z":
                return None
        except OSError:
            return None
        return pid

    def alive(self, name):
        return self._pid(name) is not None

    def _port_free(self, port):
        s = socket.socket()
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False
        finally:
            s.close()

    def ports_free(self):
        """Whether every port of this sandbox can be bound now."""
        return all(self._port_free(p) for p in self.ports.values())

    def _spawn(self, name, argv, env=None, port=None, base_env=None):
        if port is not None and not self._port_free(port):
            raise SandboxError(
                "port %d (for %s) is taken by another process; free it or set SANDBOX_PORT_BASE" % (port, name)
            )
        self.logs.mkdir(parents=True, exist_ok=True)
        self.run.mkdir(parents=True, exist_ok=True)
        logf = open(self.logs / ("%s.log" % name), "ab")
        proc = subprocess.Popen(
            argv,
            stdout=logf,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(os.environ if base_env is None else base_env, **(env or {})),
            cwd=str(ROOT),
            start_new_session=True,
        )
        (self.run / ("%s.pid" % name)).write_text(str(proc.pid))
        return proc

    def _wait(self, name, check, timeout=60):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            if not self.alive(name):
                tail = self._log_tail(name)
                raise SandboxError("%s exited while starting; last log lines:\n%s" % (name, tail))
            try:
                if check():
                    return
            except Exception as e:  # noqa: BLE001 - readiness probes fail in many ways
                last = e
            time.sleep(0.2)
        raise SandboxError(
            "%s did not become ready in %ds (%s); see %s" % (name, timeout, last, self.logs / (name + ".log"))
        )

    def _log_tail(self, name, lines=15):
        f = self.logs / ("%s.log" % name)
        if not f.exists():
            return "(no log)"
        return "\n".join(f.read_text(errors="replace").splitlines()[-lines:])

    def _https_ok(self, url, client=True):
        ctx = ssl.create_default_context(cafile=str(self.pki / "ca.crt"))
        if client:
            ctx.load_cert_chain(str(self.pki / "admin.crt"), str(self.pki / "admin.key"))
        with urllib.request.urlopen(url, context=ctx, timeout=3) as r:
            return r.status == 200

    def _insecure_ok(self, url):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        try:
            with urllib.request.urlopen(url, context=ctx, timeout=3) as r:
                return r.status == 200
        except urllib.error.HTTPError as e:
            return e.code in (401, 403)  # serving, just not for anonymous

    @staticmethod
    def _tcp_ok(port):
        with socket.create_connection(("127.0.0.1", port), timeout=3):
            return True

    @staticmethod
    def _http_ok(url):
        with urllib.request.urlopen(url, timeout=3) as r:
            return r.status == 200

    # ---- components -------------------------------------------------------
    def _kubeconfig_for(self, stem, user, name=None):
        path = self.state / ("%s.kubeconfig" % (name or stem))
        doc = pki.kubeconfig(
            self.apiserver_url,
            (self.pki / "ca.crt").read_bytes(),
            (self.pki / ("%s.crt" % stem)).read_bytes(),
            (self.pki / ("%s.key" % stem)).read_bytes(),
            self.cluster,
            user,
        )
        path.write_text(yaml.safe_dump(doc))
        path.chmod(0o600)
        return path

    def _start(self, name, bins, cfg):
        p = self.ports
        if name == "aws":
            # Karpenter's own static on-demand prices: fleets launch the cheapest type, as EC2's lowest-price does.
            prices = tools.karpenter_module_dir() / "pkg" / "providers" / "pricing" / "zz_generated.pricing_aws.go"
            self._spawn(
                name,
                [
                    sys.executable,
                    "-m",
                    "sandbox.emulator.server",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(p["aws"]),
                    "--request-log",
                    str(self.logs / "aws-requests.jsonl"),
                    "--ec2-prices",
                    str(prices),
                ],
                port=p["aws"],
            )
            self._wait(name, lambda: self._http_ok(self.aws_url + "/_sandbox/health"))
        elif name == "etcd":
            url = "http://127.0.0.1:%d" % p["etcd"]
            peer = "http://127.0.0.1:%d" % p["etcd-peer"]
            self._spawn(
                name,
                [
                    bins["etcd"],
                    "--name",
                    "sandbox",
                    "--data-dir",
                    str(self.state / "etcd"),
                    "--listen-client-urls",
                    url,
                    "--advertise-client-urls",
                    url,
                    "--listen-peer-urls",
                    peer,
                    "--initial-advertise-peer-urls",
                    peer,
                    "--initial-cluster",
                    "sandbox=" + peer,
                    "--unsafe-no-fsync",
                    "--log-level",
                    "warn",
                ],
                port=p["etcd"],
            )
            self._wait(name, lambda: self._http_ok(url + "/health"))
        elif name == "webhook":
            cert, key = pki.ensure_server_cert(self.pki, "webhook", "sandbox-token-webhook")
            conf = self.state / "webhook.json"
            conf.write_text(
                json.dumps(
                    {
                        "cluster": self.cluster,
                        "region": self.region,
                        "aws_url": self.aws_url,
                        "port": p["webhook"],
                        "cert": str(cert),
                        "key": str(key),
                        "kubeconfig": str(self._kubeconfig_for("admin", "kubernetes-admin", name="webhook-client")),
                    },
                    indent=2,
                )
            )
            self._spawn(name, [sys.executable, "-m", "sandbox.webhook", "--config", str(conf)], port=p["webhook"])
            self._wait(name, lambda: self._https_ok(self.webhook_url + "/healthz", client=False))
        elif name == "apiserver":
            audit = self.state / "audit-policy.yaml"
            hook = self.state / "webhook.kubeconfig"
            hook.write_text(
                yaml.safe_dump(webhook.webhook_kubeconfig(self.webhook_url + "/authenticate", self.pki / "ca.crt"))
            )
            audit.write_text(yaml.safe_dump(AUDIT_POLICY))
            egress = self.state / "egress-selector.yaml"
            egress.write_text(yaml.safe_dump(clusternet.egress_selector_config(self.network_socket)))
            k = self.pki
            argv = [
                bins["kube-apiserver"],
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                "--secure-port=%d" % p["apiserver"],
                "--etcd-servers=http://127.0.0.1:%d" % p["etcd"],
                "--client-ca-file=%s" % (k / "ca.crt"),
                "--tls-cert-file=%s" % (k / "apiserver.crt"),
                "--tls-private-key-file=%s" % (k / "apiserver.key"),
                "--service-account-issuer=%s" % cfg["oidc_issuer"],
                "--service-account-key-file=%s" % (k / "sa.pub"),
                "--service-account-signing-key-file=%s" % (k / "sa.key"),
                "--service-account-jwks-uri=%s/openid/v1/jwks" % self.apiserver_url,
                "--api-audiences=https://kubernetes.default.svc,sts.amazonaws.com",
                "--authorization-mode=Node,RBAC",
                "--service-cluster-ip-range=10.100.0.0/16",
                "--allow-privileged=true",
                "--endpoint-reconciler-type=none",
                "--audit-policy-file=%s" % audit,
                "--audit-log-path=%s" % (self.logs / "audit.log"),
                "--audit-log-format=json",
                "--audit-log-maxsize=200",
                # EKS tokens: the token webhook, with a short cache so mapping changes show within seconds.
                "--authentication-token-webhook-config-file=%s" % hook,
                "--authentication-token-webhook-version=v1",
                "--authentication-token-webhook-cache-ttl=5s",
                "--egress-selector-config-file=%s" % egress,
            ]
            # Service names (webhooks) go through the egress selector, never an HTTP(S) proxy of the host.
            no_proxy = ",".join(x for x in (os.environ.get("NO_PROXY") or os.environ.get("no_proxy"), ".svc") if x)
            self._spawn(name, argv, port=p["apiserver"], env={"NO_PROXY": no_proxy, "no_proxy": no_proxy})
            self._wait(name, lambda: self._https_ok(self.apiserver_url + "/readyz"), timeout=90)
        elif name in ("controller-manager", "scheduler"):
            stem = "kube-" + name
            kc = self._kubeconfig_for(stem, "system:" + stem)
            argv = [
                bins[stem],
                "--kubeconfig=%s" % kc,
                "--authentication-kubeconfig=%s" % kc,
                "--authorization-kubeconfig=%s" % kc,
                "--bind-address=127.0.0.1",
                "--secure-port=%d" % p[name],
                "--leader-elect=false",
            ]
            if name == "controller-manager":
                argv += [
                    "--service-account-private-key-file=%s" % (self.pki / "sa.key"),
                    "--root-ca-file=%s" % (self.pki / "ca.crt"),
                    "--cluster-signing-cert-file=%s" % (self.pki / "ca.crt"),
                    "--cluster-signing-key-file=%s" % (self.pki / "ca.key"),
                    "--use-service-account-credentials=true",
                    "--cluster-name=%s" % self.cluster,
                    "--controllers=*",
                ]
            self._spawn(name, argv, port=p[name])
            self._wait(name, lambda: self._insecure_ok("https://127.0.0.1:%d/healthz" % p[name]))
        elif name == "kwok":
            kc = self._kubeconfig_for("kwok", "kwok-controller")
            argv = [
                bins["kwok"],
                "--kubeconfig=%s" % kc,
                "--manage-all-nodes=false",
                "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
                "--server-address=127.0.0.1:%d" % p["kwok"],
                "--cidr=192.168.128.0/17",
                "--node-ip=127.0.0.1",
                "--node-lease-duration-seconds=40",
                "--config=%s" % charts.kwok_stages(self.state),
            ]
            self._spawn(name, argv, port=p["kwok"])
            self._wait(name, lambda: self._http_ok("http://127.0.0.1:%d/healthz" % p["kwok"]))
        elif name == "registry":
            reg = self.state / "registry.yml"
            reg.write_text(
                yaml.safe_dump(
                    {
                        "version": 0.1,
                        "log": {"level": "warn"},
                        "storage": {
                            "filesystem": {"rootdirectory": str(self.state / "registry")},
                            "delete": {"enabled": True},
                        },
                        "http": {"addr": self.registry_host},
                    }
                )
            )
            exe = charts.registry_binary()
            self._spawn(name, [exe, "serve", str(reg)], port=p["registry"])
            self._wait(name, lambda: self._http_ok("http://%s/v2/" % self.registry_host))
        elif name == "cluster-network":
            kc = self._kubeconfig_for("admin", "kubernetes-admin")
            self._spawn(
                name,
                [
                    sys.executable,
                    "-m",
                    "sandbox.clusternet",
                    "--socket",
                    str(self.network_socket),
                    "--webhook-port",
                    str(p["cluster-network"]),
                    "--kubeconfig",
                    str(kc),
                    "--pki",
                    str(self.pki),
                ],
                port=p["cluster-network"],
            )
            self._wait(name, lambda: self.network_socket.exists() and self._tcp_ok(p["cluster-network"]))
        elif name == "legacy-charts":
            root = charts.legacy_repository(self.state)
            self._spawn(
                name,
                [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(root), str(p[name])],
                port=p[name],
            )
            self._wait(name, lambda: self._http_ok(self.legacy_chart_repository + "/index.yaml"))
        elif name == "node-agent":
            self._spawn(
                name,
                [
                    sys.executable,
                    "-u",
                    "-m",
                    "sandbox.nodeagent",
                    "--kubeconfig",
                    str(self.state / "kubeconfig"),
                    "--pki-dir",
                    str(self.pki),
                    "--cluster",
                    self.cluster,
                    "--endpoint-url",
                    self.aws_url,
                    "--region",
                    self.region,
                ],
                env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"},
            )
            self._wait(name, lambda: "watching NodeClaims" in self._log_tail(name), timeout=30)
        elif name == "karpenter-pods":
            argv = [
                sys.executable,
                "-u",
                "-m",
                "sandbox.controller",
                "--state-dir",
                str(self.state),
                "--binary",
                bins["karpenter-controller"],
            ]
            for version in cfg.get("extra_karpenter_versions") or []:
                argv += ["--binary", "%s=%s" % (version, tools.ensure_karpenter(version, log=self.log))]
            self._spawn(name, argv)
            self._wait(name, lambda: "watching pods" in self._log_tail(name), timeout=30)
        else:
            raise SandboxError("unknown component %s" % name)

    # ---- public operations ------------------------------------------------
    def _check_karpenter_version(self):
        wanted = self.karpenter_version
        if wanted is None or wanted.lstrip("v") in [charts.chart_version()] + self.requested_extra:
            return
        known = charts.legacy_versions()
        if wanted.lstrip("v") not in known:
            raise SandboxError(
                "Karpenter %s: the sandbox serves %s (OCI) and %s (the old HTTP repository)"
                % (wanted, charts.chart_version(), ", ".join(known))
            )

    def up(self):
        t0 = time.time()
        self._check_karpenter_version()
        for version in self.requested_extra:
            tools.karpenter_group(version)  # fail fast, naming those there are
        self.state.mkdir(parents=True, exist_ok=True)
        charts.registry_binary()  # fail fast when the registry is not installed
        bins = tools.ensure_all(log=self.log)
        for version in self.requested_extra:
            tools.ensure_karpenter(version, log=self.log)
        cfg = self.config()
        if not cfg:
            from sandbox.emulator.seed import new_oidc_issuer

            profile = self.requested_profile or DEFAULT_PROFILE
            cfg = {
                "cluster": self.cluster,
                "region": self.region,
                "oidc_issuer": new_oidc_issuer(self.region),
                "port_base": self.port_base,
                "ports": self.ports,
                "profile": profile,
                "authentication_mode": self.requested_mode or default_authentication_mode(profile),
                "extra_karpenter_versions": self.requested_extra,
            }
            if self.external_aws_url:
                cfg["aws_url"] = self.external_aws_url
            self.save_config(cfg)
        elif cfg["cluster"] != self.cluster:
            raise SandboxError(
                "a sandbox for cluster %r already exists in %s; run `make sandbox-down` first"
                % (cfg["cluster"], self.state)
            )
        elif self.requested_profile and self.requested_profile != cfg.get("profile", DEFAULT_PROFILE):
            raise SandboxError(
                "the sandbox in %s was started with profile %s; run `make sandbox-down` first to "
                "start one with profile %s" % (self.state, cfg.get("profile", DEFAULT_PROFILE), self.requested_profile)
            )
        elif self.requested_mode and self.requested_mode != cfg.get("authentication_mode", "CONFIG_MAP"):
            raise SandboxError(
                "the sandbox in %s was started in authentication mode %s; run `make sandbox-down` "
                "first to start one in %s"
                % (self.state, cfg.get("authentication_mode", "CONFIG_MAP"), self.requested_mode)
            )
        elif self.requested_extra and self.requested_extra != cfg.get("extra_karpenter_versions", []):
            raise SandboxError(
                "the sandbox in %s serves Karpenter %s; run `make sandbox-down` first to start one "
                "that also serves %s"
                % (
                    self.state,
                    ", ".join([charts.chart_version()] + cfg.get("extra_karpenter_versions", [])),
                    ", ".join(self.requested_extra),
                )
            )
        pki.ensure_pki(self.pki)
        if self.external_aws_url:
            self._wait_external_aws()
        taken = [
            (n, self.ports[n]) for n in self.components if not self.alive(n) and not self._port_free(self.ports[n])
        ]
        if taken:
            raise SandboxError(
                "; ".join("port %d (for %s) is taken by another process" % (p, n) for n, p in taken)
                + "; free it or set SANDBOX_PORT_BASE"
            )
        started = []
        for name in self.components:
            if self.alive(name):
                continue
            self._start(name, bins, cfg)
            started.append(name)
        if "aws" in started or not (self.state / "seed.json").exists():
            self._seed_aws(cfg)
        self._seed_kube()
        for name in AGENTS:
            if not self.alive(name):
                self._start(name, bins, cfg)
                started.append(name)
        charts.publish(self, bins, versions=cfg.get("extra_karpenter_versions") or [], log=self.log)
        self._write_env(bins, cfg)
        self.wait_nodes_ready()
        took = time.time() - t0
        self.log(
            "sandbox %s up in %.1fs (started: %s)" % (self.cluster, took, ", ".join(started) or "nothing, all running")
        )
        return took

    def _wait_external_aws(self, timeout=10):
        """The emulator this sandbox shares must be serving before anything is seeded into it."""
        deadline = time.time() + timeout
        while True:
            try:
                if self._http_ok(self.aws_url + "/_sandbox/health"):
                    return
            except (OSError, urllib.error.URLError) as e:
                if time.time() > deadline:
                    raise SandboxError(
                        "no AWS emulator answers at %s (%s); start the sandbox that runs it first" % (self.aws_url, e)
                    ) from None
            time.sleep(0.2)

    def _seed_aws(self, cfg):
        from sandbox.emulator.seed import seed_cluster

        minor = tools.module_version("kube", "k8s.io/kubernetes").lstrip("v").split(".")[:2]
        seeded = seed_cluster(
            endpoint_url=self.aws_url,
            region=self.region,
            cluster_name=self.cluster,
            kubernetes_version=".".join(minor),
            apiserver_url=self.apiserver_url,
            ca_pem=(self.pki / "ca.crt").read_bytes(),
            oidc_issuer=cfg["oidc_issuer"],
            authentication_mode=cfg.get("authentication_mode", "CONFIG_MAP"),
            profile=cfg.get("profile", DEFAULT_PROFILE),
        )
        (self.state / "seed.json").write_text(json.dumps(seeded, indent=2, sort_keys=True))

    def kube(self):
        from kubernetes import config

        return config.new_client_from_config(str(self.state / "kubeconfig"))

    def _seed_kube(self):
        """aws-auth as the profile's cluster has it (EKS writes a managed node group's role there in
        CONFIG_MAP mode; in the API modes it makes the role an access entry instead; eksctl's
        iamIdentityMappings add theirs), the group's two nodes, and the RBAC bindings that stand for
        cluster-scoped access policies (sandbox/webhook.py)."""
        from kubernetes import client, utils
        from kubernetes.client.exceptions import ApiException

        self._kubeconfig_for("admin", "kubernetes-admin").replace(self.state / "kubeconfig")
        seeded = json.loads((self.state / "seed.json").read_text())
        api = client.CoreV1Api(self.kube())
        rbac = client.RbacAuthorizationV1Api(self.kube())
        for binding in webhook.policy_bindings():
            try:
                rbac.read_cluster_role_binding(binding["metadata"]["name"])
            except ApiException as e:
                if e.status != 404:
                    raise
                utils.create_from_dict(self.kube(), binding)
        from sandbox.emulator.seed import render_map_roles

        map_roles = render_map_roles(seeded["aws_auth_map_roles"])
        try:
            api.read_namespaced_config_map("aws-auth", "kube-system")
        except ApiException as e:
            if e.status != 404:
                raise
            if map_roles:
                api.create_namespaced_config_map(
                    "kube-system",
                    {"metadata": {"name": "aws-auth", "namespace": "kube-system"}, "data": {"mapRoles": map_roles}},
                )
        # EKS serves the issuer's discovery document and keys publicly (oidc.eks.<region>.amazonaws.com);
        # here the kube-apiserver serves them, to anyone, for the emulator's STS.
        rbac = client.RbacAuthorizationV1Api(self.kube())
        try:
            rbac.create_cluster_role_binding(
                {
                    "metadata": {"name": "service-account-issuer-discovery-public"},
                    "roleRef": {
                        "apiGroup": "rbac.authorization.k8s.io",
                        "kind": "ClusterRole",
                        "name": "system:service-account-issuer-discovery",
                    },
                    "subjects": [
                        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:unauthenticated"},
                        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:authenticated"},
                    ],
                }
            )
        except ApiException as e:
            if e.status != 409:
                raise
        existing = {n.metadata.name for n in api.list_node().items}
        for inst in seeded["node_instances"]:
            name = inst["private_dns_name"]
            if name in existing:
                continue
            api.create_node(node_manifest(self.cluster, inst, seeded["nodegroup_name"], seeded["node_labels"]))

    def wait_nodes_ready(self, timeout=30):
        from kubernetes import client

        api = client.CoreV1Api(self.kube())
        deadline = time.time() + timeout
        while time.time() < deadline:
            nodes = api.list_node().items
            ready = [
                n for n in nodes if any(c.type == "Ready" and c.status == "True" for c in (n.status.conditions or []))
            ]
            if nodes and len(ready) == len(nodes):
                return len(ready)
            time.sleep(0.3)
        raise SandboxError("nodes not Ready after %ds; see %s" % (timeout, self.logs / "kwok.log"))

    def _write_env(self, bins, cfg):
        bindirs = sorted({str(Path(b).parent) for b in bins.values()})
        helm_home = self.state / "helm"
        env = {
            "KUBECONFIG": str(self.state / "kubeconfig"),
            "K8S_AUTH_KUBECONFIG": str(self.state / "kubeconfig"),
            "AWS_ENDPOINT_URL": self.aws_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "HELM_CONFIG_HOME": str(helm_home / "config"),
            "HELM_CACHE_HOME": str(helm_home / "cache"),
            "HELM_DATA_HOME": str(helm_home / "data"),
            "SANDBOX_BIN_PATH": ":".join(bindirs),
        }
        lines = ["export %s=%s" % (k, _shq(v)) for k, v in sorted(env.items())]
        lines.append('export PATH="$SANDBOX_BIN_PATH:$PATH"')
        (self.state / "env").write_text("\n".join(lines) + "\n")
        seeded = json.loads((self.state / "seed.json").read_text())
        vars_ = {
            "cluster_name": self.cluster,
            "aws_region": self.region,
            "karpenter_version": (self.karpenter_version or charts.chart_version()).lstrip("v"),
            "karpenter_chart_registry": "oci://%s/karpenter" % self.registry_host,
            "karpenter_chart_repository": self.legacy_chart_repository,
            "karpenter_chart_plain_http": True,
            "sandbox_account_id": seeded["account_id"],
            "sandbox_node_role_arn": seeded["node_role_arn"],
            "sandbox_kubeconfig": str(self.state / "kubeconfig"),
            "sandbox_authentication_mode": seeded.get("authentication_mode", "CONFIG_MAP"),
            "sandbox_profile": seeded.get("profile", DEFAULT_PROFILE),
            # The Karpenter releases whose charts and controller the sandbox serves, oldest first.
            "sandbox_karpenter_versions": sorted(
                [charts.chart_version()] + (cfg.get("extra_karpenter_versions") or []),
                key=lambda v: tuple(int(p) for p in v.split(".")),
            ),
        }
        (self.state / "vars.yml").write_text("---\n" + yaml.safe_dump(vars_, sort_keys=True))

    def stop(self, name):
        """Stop one component (SIGTERM, then SIGKILL); whether it was running."""
        pid = self._pid(name)
        if not pid:
            return False
        for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(pid, sig)
            except ProcessLookupError:
                break
            deadline = time.time() + grace
            while time.time() < deadline and self.alive(name):
                time.sleep(0.05)
            if not self.alive(name):
                break
        (self.run / (name + ".pid")).unlink(missing_ok=True)
        return True

    def status(self):
        rows = []
        for name in self.components + AGENTS:
            pid = self._pid(name)
            rows.append(
                (name, "running" if pid else ("DEAD" if (self.run / (name + ".pid")).exists() else "stopped"), pid)
            )
        return rows

    def down(self):
        """Stop every component, dependants first (apiserver before etcd), then remove the state."""
        stopped = [name for name in list(reversed(AGENTS)) + list(reversed(self.components)) if self.stop(name)]
        import shutil

        shutil.rmtree(self.state, ignore_errors=True)
        return stopped


def components(external_aws_url=None):
    """The processes a sandbox runs itself: every one, or all but the emulator when it uses another's."""
    return [c for c in COMPONENTS if not (external_aws_url and c == "aws")]


def external_aws_url(state_dir, requested=None):
    """The emulator URL a sandbox uses instead of its own: the one kept in its sandbox.json (a sandbox keeps
    it for good), else ``requested``; None for a sandbox that runs its own. A running sandbox asked for
    another URL is refused, as is a URL that is not http(s)://host:port."""
    try:
        cfg = json.loads((Path(state_dir) / "sandbox.json").read_text())
    except (OSError, ValueError):
        cfg = None
    requested = requested.rstrip("/") if requested else None
    if requested and not re.match(r"^https?://[^/:]+:\d+$", requested):
        raise SandboxError("--aws-url must be http://host:port (an emulator's root), not %r" % requested)
    if cfg is not None:
        saved = cfg.get("aws_url")
        if requested and requested != saved:
            raise SandboxError(
                "the sandbox in %s uses %s; run `make sandbox-down` first to start one on %s"
                % (state_dir, "the AWS emulator at %s" % saved if saved else "an AWS emulator of its own", requested)
            )
        return saved
    return requested


def saved_port_base(state_dir):
    """The port base recorded in a sandbox's state directory (sandbox.json), or None when there is none."""
    try:
        cfg = json.loads((Path(state_dir) / "sandbox.json").read_text())
    except (OSError, ValueError):
        return None
    if "port_base" in cfg:
        return int(cfg["port_base"])
    ports = cfg.get("ports") or {}
    return int(ports["etcd"]) - 1 if "etcd" in ports else None  # written before port_base was recorded


def node_manifest(cluster, inst, nodegroup="ng-1", labels=None):
    """A Node as a managed node group's kubelet registers it, for kwok to run: EKS's labels, then the
    node group's own (``labels``, as the profile's tool set them)."""
    az = inst["availability_zone"]
    itype = inst.get("instance_type", "m5.large")
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": inst["private_dns_name"],
            "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {
                "kubernetes.io/hostname": inst["private_dns_name"],
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "node.kubernetes.io/instance-type": itype,
                "topology.kubernetes.io/region": az[:-1],
                "topology.kubernetes.io/zone": az,
                "eks.amazonaws.com/nodegroup": nodegroup,
                "eks.amazonaws.com/capacityType": "ON_DEMAND",
                "type": "kwok",
                **(labels or {}),
            },
        },
        "spec": {"providerID": "aws:///%s/%s" % (az, inst["instance_id"])},
        "status": {
            "capacity": {"cpu": "2", "memory": "7935Mi", "pods": "29", "ephemeral-storage": "20Gi"},
            "allocatable": {"cpu": "1930m", "memory": "7220Mi", "pods": "29", "ephemeral-storage": "18Gi"},
            "nodeInfo": {
                "architecture": "amd64",
                "operatingSystem": "linux",
                "kubeletVersion": tools.module_version("kube", "k8s.io/kubernetes"),
                "containerRuntimeVersion": "containerd://1.7.0",
                "osImage": "Amazon Linux 2023",
                "kernelVersion": "6.1.0",
                "machineID": "",
                "systemUUID": "",
                "bootID": "",
                "kubeProxyVersion": "",
            },
        },
    }


def _shq(v):
    return "'" + str(v).replace("'", "'\"'\"'") + "'"


def b64(data):
    return base64.b64encode(data).decode()

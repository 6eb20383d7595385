"""A sandbox per authentication mode, and playbook runs against it.

Each test module sets ``MODE``; its ``sb`` fixture starts a fresh sandbox in that mode (state under
``.build/auth/<mode>``, its own port range) and stops it after the module, so one runs at a time.
Playbooks run as the user runs them: ``ansible-playbook playbooks/karpenter.yml`` in a subprocess,
with the sandbox's environment, and without any kubeconfig when ``kubeconfig=False``.
"""

import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from sandbox.harness import Harness

REPO_ROOT = Path(__file__).resolve().parents[2]

PORT_BASES = {"CONFIG_MAP": 29200, "API_AND_CONFIG_MAP": 29300, "API": 29400}
RECAP = re.compile(r"ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")


class Run(object):
    def __init__(self, proc, seconds):
        self.rc = proc.returncode
        self.out = proc.stdout + proc.stderr
        self.seconds = seconds
        m = RECAP.search(self.out)
        counts = [int(x) for x in m.groups()] if m else [0, 0, 0, 1]
        self.ok, self.changed, self.failed = counts[0], counts[1], counts[3]

    def __repr__(self):
        # The first failure, not the tail: the tail is the recap and Helm's warnings.
        at = max(self.out.find("fatal:"), self.out.find("FAILED!"), 0) if self.rc else len(self.out)
        tail = self.out[max(at - 1500, 0) : at + 3000] if self.rc else self.out[-3000:]
        return "Run(rc=%d, changed=%d, failed=%d, %.0fs)\n%s" % (self.rc, self.changed, self.failed, self.seconds, tail)


class AuthSandbox(object):
    def __init__(self, mode):
        self.mode = mode
        self.state = REPO_ROOT / ".build" / "auth" / mode
        self.port_base = PORT_BASES[mode]
        self.tmp = REPO_ROOT / ".build" / "auth" / (mode + "-tmp")  # the playbook's temporary files

    # -- lifecycle ------------------------------------------------------------------------
    def _cli(self, *args):
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AWS_", "KUBECONFIG", "K8S_AUTH_", "HELM_", "SANDBOX_PORT_BASE"))
        }
        env["PYTHONPATH"] = str(REPO_ROOT)
        argv = [
            sys.executable,
            "-m",
            "sandbox",
            *args,
            "--state-dir",
            str(self.state),
            "--port-base",
            str(self.port_base),
        ]
        return subprocess.run(
            argv, cwd=str(REPO_ROOT), env=env, capture_output=True, text=True, timeout=600, check=False
        )

    def up(self):
        self._cli("down")
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp.mkdir(parents=True)
        for attempt in range(5):  # a port of the range can be busy for a moment (another process's probe)
            res = self._cli("up", "--authentication-mode", self.mode)
            if res.returncode == 0 or "is taken by another process" not in res.stderr:
                break
            time.sleep(2 + attempt)
        assert res.returncode == 0, res.stderr[-3000:]
        self.env = Harness(self.state).env()
        self.seed = json.loads((self.state / "seed.json").read_text())
        self.cluster = self.seed["cluster_name"]
        return self

    def down(self):
        self._cli("down")

    # -- AWS and Kubernetes -----------------------------------------------------------------
    def client(self, service, **creds):
        import boto3

        creds = creds or {
            "aws_access_key_id": self.env["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": self.env["AWS_SECRET_ACCESS_KEY"],
        }
        return boto3.client(
            service, endpoint_url=self.env["AWS_ENDPOINT_URL"], region_name=self.env["AWS_REGION"], **creds
        )

    def kube(self):
        from kubernetes import client, config

        return client.CoreV1Api(config.new_client_from_config(str(self.state / "kubeconfig")))

    def request(self, token, method, path, body=None):
        """(HTTP status, decoded body) of an API server request with a bearer token."""
        ctx = ssl.create_default_context(cafile=str(self.state / "pki" / "ca.crt"))
        req = urllib.request.Request(
            "https://127.0.0.1:%d%s" % (self.port_base + 43, path),
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=15) as r:
                return r.status, json.load(r)
        except urllib.error.HTTPError as e:
            return e.code, None

    def token(self, sts=None):
        from ansible_collections.jit.karpenter.plugins.module_utils._eks_token import get_token

        return get_token(sts or self.client("sts"), self.cluster)

    def instance_sts(self, role_arn):
        """(STS client of an instance session of ``role_arn``, the instance's private DNS name): what a
        node launched with that role has. The instance is new, so its Node does not exist yet."""
        ec2 = self.client("ec2")
        subnet = self.seed["subnet_ids"][0]
        inst = ec2.run_instances(
            ImageId="ami-12c6146b", MinCount=1, MaxCount=1, InstanceType="m5.large", SubnetId=subnet
        )["Instances"][0]
        creds = self.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=inst["InstanceId"])["Credentials"]
        sts = self.client(
            "sts",
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
        return sts, inst["PrivateDnsName"]

    def join(self, role_arn):
        """Try what a kubelet does when it joins, with credentials of ``role_arn``: authenticate, then
        register its Node. Returns (who-am-I status, user, Node create status)."""
        sts, dns = self.instance_sts(role_arn)
        token = self.token(sts)
        status, review = self.request(
            token,
            "POST",
            "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
        )
        user = review["status"]["userInfo"] if review else None
        created = self.request(
            token,
            "POST",
            "/api/v1/nodes",
            {"apiVersion": "v1", "kind": "Node", "metadata": {"name": dns, "labels": {"kubernetes.io/hostname": dns}}},
        )[0]
        if created == 201:
            self.kube().delete_node(dns)
        return status, user, created

    def webhook_log(self):
        return (self.state / "logs" / "webhook.log").read_text()

    # -- the playbook -----------------------------------------------------------------------
    def playbook(self, *extra, kubeconfig=True, check=False, name="karpenter.yml"):
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AWS_", "KUBECONFIG", "K8S_AUTH_", "HELM_", "ANSIBLE_"))
        }
        env.update(self.env)
        if not kubeconfig:
            del env["KUBECONFIG"], env["K8S_AUTH_KUBECONFIG"]
        env.update(
            {
                "PATH": self.env["SANDBOX_BIN_PATH"] + os.pathsep + os.environ["PATH"],
                "ANSIBLE_COLLECTIONS_PATH": str(REPO_ROOT / ".build" / "collections"),
                "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
                "ANSIBLE_FORCE_COLOR": "false",
                "PYTHONPATH": str(REPO_ROOT),
                "TMPDIR": str(self.tmp),
            }
        )
        argv = [
            sys.executable,
            "-m",
            "ansible.cli.playbook",
            str(REPO_ROOT / "playbooks" / name),
            "-e",
            "@%s" % (self.state / "vars.yml"),
            "-e",
            "karpenter_ca_cache_dir=%s" % (self.tmp / "eks-ca"),  # where EKS-token runs keep the cluster CA
        ]
        for e in extra:
            argv += ["-e", e]
        if check:
            argv += ["--check", "--diff"]
        t0 = time.time()
        proc = subprocess.run(
            argv, cwd=str(REPO_ROOT), env=env, capture_output=True, text=True, timeout=900, check=False
        )
        run = Run(proc, time.time() - t0)
        (self.tmp / "last-run.log").write_text(run.out)
        return run


@pytest.fixture(scope="module")
def sb(request):
    mode = request.module.MODE
    if not shutil.which("docker-registry") and not Path("/usr/bin/docker-registry").exists():
        pytest.skip("the sandbox needs Debian's docker-registry (make system-deps)")
    box = AuthSandbox(mode).up()
    yield box
    box.down()


NODE_ROLE = "KarpenterNodeRole-{cluster}"


def node_role_arn(sb):
    return "arn:aws:iam::%s:role/%s" % (sb.seed["account_id"], NODE_ROLE.format(cluster=sb.cluster))


def no_token_in(run):
    """Tokens never appear in output."""
    assert "k8s-aws-v1." not in run.out

"""EKS Pod Identity on the sandbox: the real Karpenter controller runs for a pod whose service account has a
Pod Identity association, with what EKS's webhook injects, and gets the associated role's credentials from
the sandbox's Pod Identity agent, which serves them only while the eks-pod-identity-agent add-on is installed.

The chart is installed with helm into a namespace of this module's own (one replica), with a role trusting
pods.eks.amazonaws.com on EKS's session tags (as playbooks/karpenter.yml writes it) and an association for
its service account. The tests run in file order on that one release.
"""

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from sandbox.harness import Harness

if not Harness().exists():
    pytest.skip("no sandbox: .sandbox/env is absent (start one with `make sandbox`)", allow_module_level=True)

import boto3  # noqa: E402
from kubernetes import client  # noqa: E402
from .sandbox_testlib import sandbox_tool  # noqa: E402

from sandbox import podidentity  # noqa: E402

RELEASE = "sbtest-pi-karpenter"


def _wait(what, check, timeout=180):
    deadline = time.time() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError("timed out after %ds waiting for %s" % (timeout, what))
        time.sleep(1)


def _environ(pid):
    raw = Path("/proc/%d/environ" % pid).read_bytes()
    return dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)


def _row(state, namespace):
    path = state / "karpenter" / "pods.json"
    rows = json.loads(path.read_text()) if path.exists() else []
    return next((r for r in rows if r["pod"].startswith(namespace + "/") and r["pid"] and r["ready"]), None)


def _agent(url, token=None):
    req = urllib.request.Request(url, headers={"Authorization": token} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def _listening(url):
    port = int(url.split(":")[2].split("/")[0])
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def release(sbenv, sbvars, state, kube, aws, namespace, tmp_path_factory):
    apps = client.AppsV1Api(kube)
    others = [
        d.metadata.namespace + "/" + d.metadata.name
        for d in apps.list_deployment_for_all_namespaces(label_selector="app.kubernetes.io/name=karpenter").items
    ]
    if others:
        pytest.skip(
            "Karpenter is installed in this sandbox already (%s): its controller would manage the same "
            "NodePools; run these tests on a sandbox without it" % ", ".join(others)
        )
    tmp = tmp_path_factory.mktemp("sbtest-pod-identity")
    helm = sandbox_tool(sbenv, "helm")
    env = dict(
        os.environ,
        HELM_CONFIG_HOME=str(tmp / "config"),
        HELM_CACHE_HOME=str(tmp / "cache"),
        HELM_DATA_HOME=str(tmp / "data"),
        KUBECONFIG=sbenv["KUBECONFIG"],
    )

    def run_helm(*args):
        res = subprocess.run([helm, *args], capture_output=True, text=True, env=env, timeout=400, check=False)
        assert res.returncode == 0, "helm %s: %s" % (" ".join(args), res.stdout + res.stderr)
        return res

    ext = client.ApiextensionsV1Api(kube)
    own_crds = "nodepools.karpenter.sh" not in {c.metadata.name for c in ext.list_custom_resource_definition().items}
    if own_crds:
        run_helm(
            "install",
            RELEASE + "-crd",
            sbvars["karpenter_chart_registry"] + "/karpenter-crd",
            "--version",
            sbvars["karpenter_version"],
            "--plain-http",
            "-n",
            namespace,
            "--wait",
        )
    eks, iam = aws("eks"), aws("iam")
    cluster = eks.describe_cluster(name=sbvars["cluster_name"])["cluster"]
    own_addon = "eks-pod-identity-agent" not in eks.list_addons(clusterName=cluster["name"])["addons"]
    if own_addon:
        eks.create_addon(clusterName=cluster["name"], addonName="eks-pod-identity-agent")
    # playbooks/karpenter.yml's trust policy: this cluster's association for this service account only.
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {
                    "StringEquals": {
                        "aws:RequestTag/eks-cluster-arn": cluster["arn"],
                        "aws:RequestTag/kubernetes-namespace": namespace,
                        "aws:RequestTag/kubernetes-service-account": "karpenter",
                    }
                },
            }
        ],
    }
    role = iam.create_role(RoleName=RELEASE + "-" + namespace[-8:], AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    association = eks.create_pod_identity_association(
        clusterName=cluster["name"], namespace=namespace, serviceAccount="karpenter", roleArn=role["Arn"]
    )["association"]
    values = tmp / "values.yaml"
    values.write_text(
        json.dumps(
            {
                "replicas": 1,
                "serviceAccount": {"name": "karpenter"},
                "settings": {"clusterName": cluster["name"], "clusterEndpoint": cluster["endpoint"]},
            }
        )
    )
    try:
        run_helm(
            "install",
            RELEASE,
            sbvars["karpenter_chart_registry"] + "/karpenter",
            "--version",
            sbvars["karpenter_version"],
            "--plain-http",
            "--skip-crds",
            "-n",
            namespace,
            "-f",
            str(values),
            "--wait",
            "--timeout",
            "5m",
        )
        yield {
            "namespace": namespace,
            "role": role,
            "state": state,
            "cluster": cluster,
            "eks": eks,
            "region": sbenv["AWS_REGION"],
            "aws_url": sbenv["AWS_ENDPOINT_URL"],
        }
    finally:
        subprocess.run(
            [helm, "uninstall", RELEASE, "-n", namespace, "--wait"],
            env=env,
            capture_output=True,
            timeout=300,
            check=False,
        )
        if own_crds:
            subprocess.run(
                [helm, "uninstall", RELEASE + "-crd", "-n", namespace, "--wait"],
                env=env,
                capture_output=True,
                timeout=300,
                check=False,
            )
        eks.delete_pod_identity_association(clusterName=cluster["name"], associationId=association["associationId"])
        if own_addon:
            eks.delete_addon(clusterName=cluster["name"], addonName="eks-pod-identity-agent")
        iam.delete_role(RoleName=role["RoleName"])


def test_the_controller_runs_with_what_the_pod_identity_webhook_injects(release):
    row = _wait(
        "a Ready controller process in %s" % release["namespace"], lambda: _row(release["state"], release["namespace"])
    )
    assert not row["emulated"]
    environ = _environ(row["pid"])
    assert environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"].endswith(podidentity.PATH)
    assert "AWS_ROLE_ARN" not in environ and "AWS_WEB_IDENTITY_TOKEN_FILE" not in environ
    token = Path(environ["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]).read_text()
    release.update(url=environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"], token=token, pid=row["pid"])


def test_the_agent_returns_the_associated_roles_credentials(release):
    status, creds = _agent(release["url"], release["token"])
    assert status == 200, creds
    sts = boto3.client(
        "sts",
        endpoint_url=release["aws_url"],
        region_name=release["region"],
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["Token"],
    )
    arn = sts.get_caller_identity()["Arn"]
    assert arn.startswith("arn:aws:sts::%s:assumed-role/%s/eks-" % (creds["AccountId"], release["role"]["RoleName"]))


def test_the_agent_refuses_a_missing_or_foreign_token(release, kube):
    assert _agent(release["url"])[0] == 400
    # A token for the API server (no pods.eks.amazonaws.com audience), of the same service account.
    token = (
        client.CoreV1Api(kube)
        .create_namespaced_service_account_token(
            "karpenter", release["namespace"], {"spec": {"expirationSeconds": 600}}
        )
        .status.token
    )
    status, body = _agent(release["url"], token)
    assert status == 400 and body["code"] == "InvalidTokenException", body


def test_without_the_add_on_nothing_serves_credentials(release):
    eks, name = release["eks"], release["cluster"]["name"]
    addon = eks.describe_addon(clusterName=name, addonName="eks-pod-identity-agent")["addon"]
    eks.delete_addon(clusterName=name, addonName="eks-pod-identity-agent")
    try:
        _wait("the agent to stop", lambda: not _listening(release["url"]), timeout=60)
    finally:
        eks.create_addon(clusterName=name, addonName="eks-pod-identity-agent", addonVersion=addon["addonVersion"])
    _wait("the agent to serve again", lambda: _listening(release["url"]), timeout=60)
    assert _agent(release["url"], release["token"])[0] == 200

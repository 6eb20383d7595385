"""The real Karpenter controller runs as the chart's pods: one process per pod, with the pod's
environment and service account, stopped with the pod, replaced with it, restarted by a Helm upgrade.

The chart is installed with helm (as playbooks/karpenter.yml does, without the playbook) into a
namespace of this module's own, with an IRSA role that trusts its service account. The tests run in
file order on that one release.
"""

import base64
import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from sandbox.harness import Harness

if not Harness().exists():
    pytest.skip("no sandbox: .sandbox/env is absent (start one with `make sandbox`)", allow_module_level=True)

from kubernetes import client  # noqa: E402
from .sandbox_testlib import sandbox_tool  # noqa: E402

from sandbox import controller  # noqa: E402

RELEASE = "sbtest-karpenter"
MARK = "SBTEST_MARK"


def _pods(kube, namespace):
    """{uid: pod} of the release's pods that are not terminating."""
    items = (
        client.CoreV1Api(kube).list_namespaced_pod(namespace, label_selector="app.kubernetes.io/name=karpenter").items
    )
    return {p.metadata.uid: p for p in items if not p.metadata.deletion_timestamp}


def _rows(state, namespace):
    """{uid: row} of the sandbox's pods.json for ``namespace``, rows with a process only."""
    path = state / "karpenter" / "pods.json"
    rows = json.loads(path.read_text()) if path.exists() else []
    return {r["uid"]: r for r in rows if r["pod"].startswith(namespace + "/") and r["pid"]}


def _environ(pid):
    raw = Path("/proc/%d/environ" % pid).read_bytes()
    return dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)


def _alive(pid):
    try:
        return Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait(what, check, timeout=120):
    deadline = time.time() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError("timed out after %ds waiting for %s" % (timeout, what))
        time.sleep(1)


def _claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


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
    tmp = tmp_path_factory.mktemp("sbtest-controller-pods")
    helm = sandbox_tool(sbenv, "helm")
    env = dict(
        os.environ,
        HELM_CONFIG_HOME=str(tmp / "config"),
        HELM_CACHE_HOME=str(tmp / "cache"),
        HELM_DATA_HOME=str(tmp / "data"),
        KUBECONFIG=sbenv["KUBECONFIG"],
    )

    def run_helm(*args):
        res = subprocess.run([helm, *args], capture_output=True, text=True, env=env, timeout=400)
        assert res.returncode == 0, "helm %s: %s" % (" ".join(args), res.stdout + res.stderr)
        return res

    # The CRDs, unless the cluster has them.
    ext = client.ApiextensionsV1Api(kube)
    crds = {c.metadata.name for c in ext.list_custom_resource_definition().items}
    own_crds = "nodepools.karpenter.sh" not in crds
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
    # An IRSA role that trusts the release's service account.
    iam = aws("iam")
    issuer = aws("eks").describe_cluster(name=sbvars["cluster_name"])["cluster"]["identity"]["oidc"]["issuer"]
    host = issuer[len("https://") :]
    provider_arn = "arn:aws:iam::%s:oidc-provider/%s" % (sbvars["sandbox_account_id"], host)
    own_provider = provider_arn not in [
        p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    ]
    if own_provider:
        iam.create_open_id_connect_provider(Url=issuer, ClientIDList=["sts.amazonaws.com"])
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        host + ":sub": "system:serviceaccount:%s:karpenter" % namespace,
                        host + ":aud": "sts.amazonaws.com",
                    }
                },
            }
        ],
    }
    role = iam.create_role(RoleName=RELEASE + "-" + namespace[-8:], AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    endpoint = aws("eks").describe_cluster(name=sbvars["cluster_name"])["cluster"]["endpoint"]
    values = tmp / "values.yaml"
    values.write_text(
        json.dumps(
            {
                "settings": {"clusterName": sbvars["cluster_name"], "clusterEndpoint": endpoint},
                "serviceAccount": {"name": "karpenter", "annotations": {"eks.amazonaws.com/role-arn": role["Arn"]}},
                "controller": {"env": [{"name": MARK, "value": "one"}]},
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
            "role": role["Arn"],
            "helm": run_helm,
            "values": values,
            "state": state,
            "chart": sbvars["karpenter_chart_registry"] + "/karpenter",
            "version": sbvars["karpenter_version"],
        }
    finally:
        subprocess.run(
            [helm, "uninstall", RELEASE, "-n", namespace, "--wait"], env=env, capture_output=True, timeout=300
        )
        if own_crds:
            subprocess.run(
                [helm, "uninstall", RELEASE + "-crd", "-n", namespace, "--wait"],
                env=env,
                capture_output=True,
                timeout=300,
            )
        iam.delete_role(RoleName=role["RoleName"])
        if own_provider:
            iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=provider_arn)


def _ready(pod):
    return {c.type: c.status for c in pod.status.conditions or []}.get("Ready") == "True"


def _processes(release, kube, count=2, mark=None, ready=False):
    """Wait until each of the release's ``count`` pods has a controller process (with MARK=``mark``; Ready)."""
    ns = release["namespace"]

    def check():
        pods, rows = _pods(kube, ns), _rows(release["state"], ns)
        if len(pods) != count or set(rows) != set(pods):
            return None
        if mark and any(_environ(r["pid"]).get(MARK) != mark for r in rows.values()):
            return None
        # The watcher records a process as ready once it has marked the pod Ready: wait for both.
        if ready and not (all(_ready(p) for p in pods.values()) and all(r["ready"] for r in rows.values())):
            return None
        return pods, rows

    return _wait(
        "%d controller processes%s%s in %s"
        % (count, " with %s=%s" % (MARK, mark) if mark else "", ", Ready" if ready else "", ns),
        check,
        timeout=180,
    )


def test_the_pods_are_ready_when_the_real_controllers_are(release, kube):
    # helm --wait returned once replicas - maxUnavailable (1 of 2) were Ready, as Helm does; now both.
    pods, rows = _processes(release, kube, ready=True)
    for uid in pods:
        row = rows[uid]
        assert row["ready"] and not row["emulated"]
        # The chart names its own release's image, and the sandbox runs that release's binary for it.
        assert (
            controller.image_version(
                controller.controller_container(kube.sanitize_for_serialization(pods[uid]))["image"]
            )
            == release["version"]
        )
        assert row["version"] == release["version"]
        health = row["ports"]["HEALTH_PROBE_PORT"]
        # The pod is Ready because the controller's own readiness endpoint answers.
        with urllib.request.urlopen("http://127.0.0.1:%d/readyz" % health, timeout=5) as r:
            assert r.status == 200
    # One process per pod, each on ports of its own.
    ports = [p for r in rows.values() for p in r["ports"].values()]
    assert len(set(ports)) == len(ports) == 2 * len(controller.PORT_ENV)
    # Leader election decides which one leads, in the release's namespace.
    lease = client.CoordinationV1Api(kube).read_namespaced_lease("karpenter-leader-election", release["namespace"])
    assert lease.spec.holder_identity


def test_each_process_has_its_pods_environment_and_service_account(release, kube):
    pods, rows = _processes(release, kube)
    ns = release["namespace"]
    binary = os.path.realpath(controller.tools.ensure_group("karpenter")["karpenter-controller"])
    for uid, pod in pods.items():
        pid = rows[uid]["pid"]
        assert os.path.realpath("/proc/%d/exe" % pid) == binary
        env = _environ(pid)
        (container,) = [c for c in pod.spec.containers if c.name == "controller"]
        declared = {e.name: e.value for e in container.env if e.value is not None}
        moved = set(controller.PORT_ENV)
        assert {k: v for k, v in declared.items() if k not in moved} == {k: env[k] for k in declared if k not in moved}
        assert env[MARK] == "one" and env["SYSTEM_NAMESPACE"] == ns
        assert env["CLUSTER_NAME"] == declared["CLUSTER_NAME"]
        assert int(env["MEMORY_LIMIT"]) > 0  # resourceFieldRef limits.memory, resolved as the kubelet does
        assert {k: int(env[k]) for k in moved} == rows[uid]["ports"]
        # IRSA as EKS's pod identity webhook injects it; no static keys.
        assert env["AWS_ROLE_ARN"] == release["role"]
        assert "AWS_ACCESS_KEY_ID" not in env and "AWS_SECRET_ACCESS_KEY" not in env
        # Both tokens are the pod's service account's, bound to this pod.
        kubeconfig = yaml.safe_load(Path(env["KUBECONFIG"]).read_text())
        for path, audience in (
            (kubeconfig["users"][0]["user"]["tokenFile"], None),
            (env["AWS_WEB_IDENTITY_TOKEN_FILE"], "sts.amazonaws.com"),
        ):
            claims = _claims(Path(path).read_text())
            assert claims["sub"] == "system:serviceaccount:%s:karpenter" % ns
            assert claims["kubernetes.io"]["pod"] == {"name": pod.metadata.name, "uid": uid}
            if audience:
                assert claims["aud"] == [audience]


def test_deleting_a_pod_stops_its_process_and_its_replacement_gets_a_new_one(release, kube):
    pods, rows = _processes(release, kube)
    ns = release["namespace"]
    victim = sorted(pods)[0]
    pid = rows[victim]["pid"]
    client.CoreV1Api(kube).delete_namespaced_pod(pods[victim].metadata.name, ns)
    _wait("pid %d to stop" % pid, lambda: not _alive(pid), timeout=60)
    after, new_rows = _processes(release, kube)
    assert victim not in after and victim not in new_rows
    (replacement,) = set(after) - set(pods)
    assert new_rows[replacement]["pid"] not in (pid, rows[sorted(pods)[1]]["pid"])
    assert _environ(new_rows[replacement]["pid"])[MARK] == "one"
    # The pod that was not deleted kept its process.
    kept = sorted(pods)[1]
    assert new_rows[kept]["pid"] == rows[kept]["pid"]
    _processes(release, kube, ready=True)


def test_helm_upgrade_restarts_the_controllers_with_the_new_value(release, kube):
    pods, rows = _processes(release, kube)
    old_pids = [r["pid"] for r in rows.values()]
    values = json.loads(release["values"].read_text())
    values["controller"]["env"][0]["value"] = "two"
    release["values"].write_text(json.dumps(values))
    release["helm"](
        "upgrade",
        RELEASE,
        release["chart"],
        "--version",
        release["version"],
        "--plain-http",
        "--skip-crds",
        "-n",
        release["namespace"],
        "-f",
        str(release["values"]),
        "--wait",
        "--timeout",
        "5m",
    )
    after, new_rows = _processes(release, kube, mark="two", ready=True)
    assert not set(after) & set(pods)  # new pods
    assert all(not _alive(pid) for pid in old_pids)
    assert all(r["ready"] for r in new_rows.values())
    # Helm recorded revision 2 as deployed: its --wait was satisfied by the new controllers' readiness.
    history = json.loads(release["helm"]("history", RELEASE, "-n", release["namespace"], "-o", "json").stdout)
    assert [(h["revision"], h["status"]) for h in history] == [(1, "superseded"), (2, "deployed")]


def test_a_pod_of_a_release_the_sandbox_does_not_build_is_not_run(release, kube):
    """The binary is chosen by the pod's image tag: a tag the sandbox builds no binary for gets no process."""
    ns = release["namespace"]
    upgrade = (
        "upgrade",
        RELEASE,
        release["chart"],
        "--version",
        release["version"],
        "--plain-http",
        "--skip-crds",
        "-n",
        ns,
        "--reuse-values",
        "--wait",
        "--timeout",
        "5m",
    )
    release["helm"](*upgrade, "--set", "controller.image.tag=0.99.0")

    def emulated():
        pods = _pods(kube, ns)
        path = release["state"] / "karpenter" / "pods.json"
        rows = {r["uid"]: r for r in json.loads(path.read_text()) if r["pod"].startswith(ns + "/")}
        if len(pods) != 2 or set(rows) != set(pods) or not all(_ready(p) for p in pods.values()):
            return None
        return rows

    rows = _wait("two pods of image tag 0.99.0, emulated and Ready", emulated, timeout=180)
    for row in rows.values():
        assert row["pid"] is None and row["version"] is None
        assert "Karpenter 0.99.0" in row["emulated"] and release["version"] in row["emulated"]
    # Back to the chart's own image: the release's binary runs again.
    release["helm"](*upgrade, "--set", "controller.image.tag=" + release["version"])
    _, rows = _processes(release, kube, ready=True)
    assert {r["version"] for r in rows.values()} == {release["version"]}


def test_uninstall_stops_every_process(release, kube):
    _, rows = _processes(release, kube)
    release["helm"]("uninstall", RELEASE, "-n", release["namespace"], "--wait")
    for row in rows.values():
        _wait("pid %d to stop" % row["pid"], lambda pid=row["pid"]: not _alive(pid), timeout=60)
    _wait(
        "the sandbox to list no process for the release",
        lambda: _rows(release["state"], release["namespace"]) == {},
        timeout=10,
    )
    assert _pods(kube, release["namespace"]) == {}

"""The sandbox registry serves the real Karpenter charts at the pinned version over OCI."""

import os
import subprocess
import tarfile

import pytest

from sandbox.harness import Harness

if not Harness().exists():
    pytest.skip("no sandbox: .sandbox/env is absent (start one with `make sandbox`)", allow_module_level=True)

import yaml  # noqa: E402
from .sandbox_testlib import sandbox_tool  # noqa: E402


@pytest.fixture(scope="module")
def pulled(sbenv, sbvars, tmp_path_factory):
    """helm pull of both charts into a directory of its own; {chart: .tgz path}."""
    tmp = tmp_path_factory.mktemp("sbtest-charts")
    helm = sandbox_tool(sbenv, "helm")
    env = dict(
        os.environ,
        HELM_CONFIG_HOME=str(tmp / "config"),
        HELM_CACHE_HOME=str(tmp / "cache"),
        HELM_DATA_HOME=str(tmp / "data"),
    )
    version = sbvars["karpenter_version"]
    out = {}
    for chart in ("karpenter-crd", "karpenter"):
        res = subprocess.run(
            [
                helm,
                "pull",
                "%s/%s" % (sbvars["karpenter_chart_registry"], chart),
                "--version",
                version,
                "--plain-http",
                "-d",
                str(tmp),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert res.returncode == 0, res.stderr
        out[chart] = tmp / ("%s-%s.tgz" % (chart, version))
        assert out[chart].is_file(), sorted(p.name for p in tmp.iterdir())
    return {"helm": helm, "env": env, "tgz": out, "version": version}


def _chart_yaml(tgz, chart):
    with tarfile.open(tgz) as t:
        return yaml.safe_load(t.extractfile("%s/Chart.yaml" % chart))


def test_both_charts_at_the_pinned_version(pulled):
    for chart, tgz in pulled["tgz"].items():
        meta = _chart_yaml(tgz, chart)
        assert meta["name"] == chart
        assert meta["version"] == pulled["version"]
        assert meta["appVersion"] == pulled["version"]


def _crd_docs(tgz, prefix):
    docs = []
    with tarfile.open(tgz) as t:
        for m in t.getmembers():
            if m.isfile() and m.name.startswith(prefix) and m.name.endswith(".yaml"):
                docs += [d for d in yaml.safe_load_all(t.extractfile(m)) if d]
    return docs


def test_karpenter_chart_ships_the_nodepool_crd(pulled):
    docs = _crd_docs(pulled["tgz"]["karpenter"], "karpenter/crds/")
    kinds = {d["spec"]["names"]["kind"]: d for d in docs if d.get("kind") == "CustomResourceDefinition"}
    assert {"NodePool", "NodeClaim", "EC2NodeClass"} <= set(kinds), sorted(kinds)
    nodepool = kinds["NodePool"]
    assert nodepool["metadata"]["name"] == "nodepools.karpenter.sh"
    assert [v["name"] for v in nodepool["spec"]["versions"] if v.get("served")] == ["v1"]


def test_crd_chart_templates_the_same_crds(pulled):
    res = subprocess.run(
        [pulled["helm"], "template", "sbtest", str(pulled["tgz"]["karpenter-crd"])],
        capture_output=True,
        text=True,
        env=pulled["env"],
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    rendered = [d for d in yaml.safe_load_all(res.stdout) if d]
    names = {d["metadata"]["name"] for d in rendered if d["kind"] == "CustomResourceDefinition"}
    shipped = {d["metadata"]["name"] for d in _crd_docs(pulled["tgz"]["karpenter"], "karpenter/crds/")}
    assert names == shipped
    assert "nodepools.karpenter.sh" in names


def test_karpenter_chart_renders(pulled, sbvars):
    res = subprocess.run(
        [
            pulled["helm"],
            "template",
            "karpenter",
            str(pulled["tgz"]["karpenter"]),
            "-n",
            "kube-system",
            "--set",
            "settings.clusterName=%s" % sbvars["cluster_name"],
            "--set",
            "settings.interruptionQueue=%s" % sbvars["cluster_name"],
        ],
        capture_output=True,
        text=True,
        env=pulled["env"],
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    docs = [d for d in yaml.safe_load_all(res.stdout) if d]
    [dep] = [d for d in docs if d["kind"] == "Deployment"]
    assert dep["metadata"]["name"] == "karpenter"
    [container] = dep["spec"]["template"]["spec"]["containers"]
    # As the published chart: the release's own image (the module's values.yaml names the previous release's,
    # as its Chart.yaml does, until packaging), without the published image's digest.
    assert container["image"] == "public.ecr.aws/karpenter/controller:%s" % sbvars["karpenter_version"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["CLUSTER_NAME"] == sbvars["cluster_name"]
    assert env["INTERRUPTION_QUEUE"] == sbvars["cluster_name"]

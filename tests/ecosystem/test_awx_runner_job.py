"""An AWX-style job: ``ansible-runner run <private_data_dir> -p karpenter.yml`` against the sandbox.

The private data directory is laid out the way AWX lays out a job's: ``project/`` with the playbook
and the collection installed from the built tarball into ``project/collections``, ``inventory/hosts``
(localhost, local connection), ``env/extravars`` (the sandbox's vars) and ``env/envvars`` carrying
the credentials as environment variables, the way AWX's AWS and kubeconfig credentials inject them.
The first job converges the sandbox; the second must change nothing. Skipped without a sandbox.
"""

import json
import secrets
import shutil
import subprocess
import sys

import pytest
import yaml

from ecolib import BIN, REPO_ROOT, clean_env, tool

# What an AWX credential would inject, taken from the sandbox's environment.
INJECTED = (
    "AWS_ACCESS_KEY_ID",
    "AWS_ENDPOINT_URL",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "K8S_AUTH_KUBECONFIG",
    "HELM_CACHE_HOME",
    "HELM_CONFIG_HOME",
    "HELM_DATA_HOME",
)


@pytest.fixture(scope="module")
def private_data_dir(built_collection, sandbox, tmp_path_factory):
    pdd = tmp_path_factory.mktemp("awx-job")
    project = pdd / "project"
    collections = project / "collections"
    project.mkdir()
    subprocess.run(
        [tool("ansible-galaxy"), "collection", "install", "--offline", "-p", str(collections), str(built_collection)],
        check=True,
        capture_output=True,
        text=True,
        env=clean_env({"HOME": str(pdd)}),
        cwd=str(pdd),
    )
    installed = collections / "ansible_collections" / "jit" / "karpenter"
    shutil.copy(installed / "playbooks" / "karpenter.yml", project / "karpenter.yml")

    (pdd / "inventory").mkdir()
    (pdd / "inventory" / "hosts").write_text(
        "localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable
    )

    env = pdd / "env"
    env.mkdir()
    shutil.copy(sandbox["vars"], env / "extravars")
    # A secret of this job's own, so that finding it in the output can only mean a leak (the AWS
    # emulator accepts any secret key).
    secret = "awx-" + secrets.token_hex(16)
    envvars = {name: sandbox["env"][name] for name in INJECTED}
    envvars.update(
        {
            "AWS_SECRET_ACCESS_KEY": secret,
            "PATH": "%s:%s" % (BIN, sandbox["env"]["PATH"]),  # ansible-playbook, then helm and kubectl
            "ANSIBLE_COLLECTIONS_PATH": str(collections),
        }
    )
    (env / "envvars").write_text(yaml.safe_dump(envvars))
    return pdd, secret


def _job(pdd, ident):
    """Run one job (verbosity 1, as an AWX job template may) and return its artifacts."""
    res = subprocess.run(
        [tool("ansible-runner"), "run", str(pdd), "-p", "karpenter.yml", "--ident", ident, "-v"],
        capture_output=True,
        text=True,
        timeout=900,
        env=clean_env({"PATH": "%s:/usr/bin:/bin" % BIN}),
    )
    art = pdd / "artifacts" / ident
    events = [json.loads(p.read_text()) for p in sorted((art / "job_events").glob("*.json"))]
    events.sort(key=lambda e: e["counter"])
    return {
        "returncode": res.returncode,
        "status": (art / "status").read_text().strip(),
        "rc": int((art / "rc").read_text()),
        "stdout": (art / "stdout").read_text(),
        "events_text": "\n".join(p.read_text() for p in (art / "job_events").glob("*.json")),
        "events": events,
        "runner_output": res.stdout + res.stderr,
    }


def _ok_tasks(events):
    return {
        (e["event_data"].get("task_action"), e["event_data"].get("task"))
        for e in events
        if e["event"] == "runner_on_ok"
    }


def _stats(events):
    stats = [e["event_data"] for e in events if e["event"] == "playbook_on_stats"]
    assert len(stats) == 1, [e["event"] for e in events][-5:]
    return stats[0]


def _assert_successful(job):
    tail = job["stdout"][-4000:] + job["runner_output"][-2000:]
    assert job["status"] == "successful" and job["rc"] == 0 and job["returncode"] == 0, tail
    failed = [e["event_data"].get("task") for e in job["events"] if e["event"] == "runner_on_failed"]
    assert not failed, failed
    stats = _stats(job["events"])
    assert not stats["failures"] and not stats["dark"], stats
    # Key tasks ran and reported ok: the preflight's cluster read, kube check and Helm read (the charts' installs run
    # only where a release differs from it), the node pool.
    ok = _ok_tasks(job["events"])
    for action, task in (
        ("jit.karpenter.karpenter_preflight_info", "Read from AWS what the checks need, cluster demo"),
        ("jit.karpenter.k8s_objects_info", "Check the Kubernetes credentials and read what the checks need"),
        ("jit.karpenter.helm_releases_info", "Look for Karpenter Helm releases already installed"),
        ("jit.karpenter.nodepool", "Node pools"),
    ):
        assert (action, task) in ok, (action, task, sorted(ok, key=str))
    return stats


def test_awx_job_converges_then_changes_nothing(private_data_dir):
    pdd, secret = private_data_dir
    first = _job(pdd, "converge")
    _assert_successful(first)
    second = _job(pdd, "rerun")
    stats = _assert_successful(second)
    assert stats["changed"] in ({}, {"localhost": 0}), stats
    assert stats["ok"].get("localhost", 0) > 0, stats
    # The credentials reached the modules (the preflight read the cluster from the AWS emulator)...
    read = [
        e["event_data"]["res"]
        for e in second["events"]
        if e["event"] == "runner_on_ok"
        and e["event_data"].get("task") == "Read from AWS what the checks need, cluster demo"
    ]
    assert read and read[0]["cluster"]["arn"].startswith("arn:aws:eks:us-east-1:123456789012:cluster/demo"), read
    # ...and the secret key shows up nowhere: not in the job's stdout, not in any event.
    for job in (first, second):
        assert secret not in job["stdout"]
        assert secret not in job["events_text"]


def test_awx_job_template_over_the_eks_clusters_inventory_source(built_collection, sandbox, tmp_path):
    """The job template "Karpenter - install or converge" as AWX runs it (awx/configure.yml): inventory from the
    source awx/inventory/fleet.eks_clusters.yml (the sandbox's region), the template's extra vars and its
    survey's default answers, and only what AWX's credentials inject - the AWS credential's keys (no region:
    each host's aws_region comes from the inventory) and the kubeconfig credential type's K8S_AUTH_KUBECONFIG.
    The sandbox is converged by the job above; this one must reach the cluster as host demo.<region> and change
    nothing."""
    env = sandbox["env"]
    region = env["AWS_REGION"]
    pdd = tmp_path / "awx-template"
    collections = pdd / "project" / "collections"
    (pdd / "project").mkdir(parents=True)
    subprocess.run(
        [tool("ansible-galaxy"), "collection", "install", "--offline", "-p", str(collections), str(built_collection)],
        check=True,
        capture_output=True,
        text=True,
        env=clean_env({"HOME": str(pdd)}),
        cwd=str(pdd),
    )
    shutil.copy(
        collections / "ansible_collections/jit/karpenter/playbooks/karpenter.yml", pdd / "project/karpenter.yml"
    )
    source = yaml.safe_load((REPO_ROOT / "awx/inventory/fleet.eks_clusters.yml").read_text())
    source["regions"] = [region]
    (pdd / "inventory").mkdir()
    (pdd / "inventory" / "fleet.eks_clusters.yml").write_text(yaml.safe_dump(source))
    configure = yaml.safe_load((REPO_ROOT / "awx/configure.yml").read_text())[0]
    template = [t for t in configure["tasks"] if "awx.awx.job_template" in t][0]["awx.awx.job_template"]
    survey = yaml.safe_load((REPO_ROOT / "awx/surveys/install.yml").read_text())
    extravars = dict(template["extra_vars"])
    extravars.update({q["variable"]: q["default"] for q in survey["spec"]})
    # The sandbox's chart registry stands in for public.ecr.aws: the project's group vars in a real AWX.
    sandbox_vars = yaml.safe_load(open(sandbox["vars"]).read())
    extravars.update({k: v for k, v in sandbox_vars.items() if k.startswith("karpenter_chart_")})
    (pdd / "env").mkdir()
    (pdd / "env" / "extravars").write_text(yaml.safe_dump(extravars))
    envvars = {
        "AWS_ACCESS_KEY_ID": env["AWS_ACCESS_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": "awx-" + secrets.token_hex(16),
        "AWS_ENDPOINT_URL": env["AWS_ENDPOINT_URL"],
        "K8S_AUTH_KUBECONFIG": env["KUBECONFIG"],
        "HELM_CACHE_HOME": env["HELM_CACHE_HOME"],
        "HELM_CONFIG_HOME": env["HELM_CONFIG_HOME"],
        "HELM_DATA_HOME": env["HELM_DATA_HOME"],
        "PATH": "%s:%s" % (BIN, env["PATH"]),
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true",
    }
    (pdd / "env" / "envvars").write_text(yaml.safe_dump(envvars))
    job = _job(pdd, "template")
    tail = job["stdout"][-4000:] + job["runner_output"][-2000:]
    assert job["status"] == "successful" and job["rc"] == 0, tail
    stats = _stats(job["events"])
    host = "%s.%s" % (sandbox_vars["cluster_name"], region)
    assert stats["ok"].get(host, 0) > 0 and not stats["failures"], stats
    assert stats["changed"] in ({}, {host: 0}), stats
    assert envvars["AWS_SECRET_ACCESS_KEY"] not in job["stdout"] + job["events_text"]

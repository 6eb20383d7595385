"""The real Karpenter charts, from the pinned karpenter-provider-aws Go module, served over OCI.

The module's ``charts/`` folder ships ``karpenter`` and ``karpenter-crd``. Two facts shape the
packaging:
- the ``karpenter`` chart's ``crds/`` entries are symlinks into ``pkg/apis/crds/``, which module
  zips drop, so they are restored from that folder of the same module;
- the tagged ``Chart.yaml`` carries the previous release's version, and ``values.yaml`` the previous
  release's controller image (the release sets both when it publishes), so the charts are packaged with
  ``--version``/``--app-version`` set to the release and the controller image tag set to it too (without
  the digest, which only the published image has), as the published chart names its own image.
The pinned release is always served; each further release the sandbox is asked for
(``tools.karpenter_groups``) from its own module the same way.
Packaged charts are cached beside the binaries; nothing is copied into the repository.
"""

import hashlib
import json
import re
import shutil
import subprocess
import tempfile
import urllib.request
from pathlib import Path

import yaml

from sandbox import tools
from sandbox.tools import SandboxError

KWOK_STAGES = [
    "kustomize/stage/node/fast/node-initialize.yaml",
    "kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
    "kustomize/stage/pod/fast/pod-ready.yaml",
    "kustomize/stage/pod/fast/pod-complete.yaml",
    "kustomize/stage/pod/fast/pod-delete.yaml",
]


def chart_version():
    return tools.karpenter_version().lstrip("v")


def registry_binary():
    exe = shutil.which("docker-registry") or shutil.which("registry")
    if not exe:
        raise SandboxError(
            "the OCI registry is not installed: `apt-get install docker-registry` (Debian) or `make deps` installs it"
        )
    return exe


def _module_dir(group, module):
    version = tools.module_version(group, module)
    res = subprocess.run(
        ["go", "mod", "download", "-json", "%s@%s" % (module, version)],
        cwd=tools.GO_DIR / group,
        env=tools._go_env(),
        capture_output=True,
        text=True,
    )
    if res.returncode != 0:
        raise SandboxError("downloading %s@%s failed: %s" % (module, version, res.stdout + res.stderr))
    return Path(json.loads(res.stdout)["Dir"])


# kwok plays the kubelet of every pod except the Karpenter chart's: the sandbox runs the real
# controller for those and reports their status itself (sandbox/controller.py).
SANDBOX_RUN_PODS = {"key": '.metadata.labels["app.kubernetes.io/name"]', "operator": "NotIn", "values": ["karpenter"]}
SANDBOX_RUN_STAGES = ("pod-ready", "pod-delete")


def kwok_stages(state_dir):
    """kwok's own 'fast' stages (from the pinned kwok module) as one config file; pod-ready and
    pod-delete leave the Karpenter chart's pods alone (``SANDBOX_RUN_PODS``)."""
    out = Path(state_dir) / "kwok-stages.yaml"
    if out.exists():
        return out
    mod = _module_dir("kwok", "sigs.k8s.io/kwok")
    docs = [yaml.safe_load((mod / rel).read_text()) for rel in KWOK_STAGES]
    out.write_text(yaml.safe_dump_all(exclude_sandbox_run_pods(docs), sort_keys=False))
    return out


def exclude_sandbox_run_pods(stages):
    """The kwok Stages with SANDBOX_RUN_PODS added to the selectors of SANDBOX_RUN_STAGES (both must exist)."""
    found = set()
    for stage in stages:
        name = stage["metadata"]["name"]
        if name in SANDBOX_RUN_STAGES:
            stage["spec"].setdefault("selector", {}).setdefault("matchExpressions", []).append(dict(SANDBOX_RUN_PODS))
            found.add(name)
    missing = sorted(set(SANDBOX_RUN_STAGES) - found)
    if missing:
        raise SandboxError("kwok's stages have no %s" % ", ".join(missing))
    return stages


# How the charts are packaged (part of the cache path: a change here packages them afresh).
PACKAGING = 2

_IMAGE_RE = re.compile(
    r"^(controller:\n(?:(?:[ #].*)?\n)*?  image:\n(?:(?:    .*)?\n)*?)    tag: .*\n((?:(?:    .*)?\n)*?)"
    r"    digest: .*\n",
    re.M,
)


def release_values(text, version):
    """The karpenter chart's values.yaml text with the controller image tag set to ``version`` and no digest,
    comments and everything else kept."""
    new, count = _IMAGE_RE.subn(
        lambda m: '%s    tag: %s\n%s    digest: ""\n' % (m.group(1), version, m.group(2)), text, count=1
    )
    if count != 1:
        raise SandboxError("the karpenter chart's values.yaml has no controller.image.tag and digest")
    return new


def packaged_charts(helm, version=None):
    """Package karpenter and karpenter-crd of ``version`` (default: the pinned one); return their .tgz paths
    (cached)."""
    version = (version or chart_version()).lstrip("v")
    out = tools.cache_root() / "charts" / version / ("packaging-%d" % PACKAGING)
    wanted = [out / ("%s-%s.tgz" % (name, version)) for name in ("karpenter-crd", "karpenter")]
    if all(p.exists() for p in wanted):
        return wanted
    mod = tools.karpenter_module_dir(version)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("karpenter-crd", "karpenter"):
            src = mod / "charts" / name
            dst = Path(tmp) / name
            shutil.copytree(src, dst)
            for p in [dst] + list(dst.rglob("*")):
                p.chmod(0o755 if p.is_dir() else 0o644)
            if name == "karpenter":
                values = dst / "values.yaml"
                values.write_text(release_values(values.read_text(), version))
                crds = dst / "crds"
                crds.mkdir(exist_ok=True)
                for f in sorted((mod / "pkg" / "apis" / "crds").glob("*.yaml")):
                    shutil.copy(f, crds / f.name)
                    (crds / f.name).chmod(0o644)
            res = subprocess.run(
                [helm, "package", str(dst), "--version", version, "--app-version", version, "-d", str(out)],
                capture_output=True,
                text=True,
            )
            if res.returncode != 0:
                raise SandboxError("helm package %s failed: %s" % (name, res.stderr))
    return wanted


# Karpenter before 0.17 was published to the HTTP Helm repository https://charts.karpenter.sh; the
# module's charts/ folder keeps that repository's index.yaml and packaged charts.
LEGACY_SERIES = "0.16."


def legacy_versions():
    """The 0.16.x chart versions the old HTTP repository holds."""
    index = yaml.safe_load((tools.karpenter_module_dir() / "charts" / "index.yaml").read_text())
    return sorted(e["version"] for e in index["entries"]["karpenter"] if e["version"].startswith(LEGACY_SERIES))


def legacy_repository(state_dir):
    """A directory to serve as the old HTTP Helm repository: index.yaml and the 0.16.x charts.

    Taken as published from the module's charts/ folder (index entries keep their relative URLs
    and digests); only the 0.16.x entries are kept.
    """
    out = Path(state_dir) / "legacy-charts"
    if (out / "index.yaml").exists():
        return out
    src = tools.karpenter_module_dir() / "charts"
    index = yaml.safe_load((src / "index.yaml").read_text())
    entries = [e for e in index["entries"]["karpenter"] if e["version"].startswith(LEGACY_SERIES)]
    if not entries:
        raise SandboxError("no karpenter %sx chart in %s/index.yaml" % (LEGACY_SERIES, src))
    out.mkdir(parents=True, exist_ok=True)
    for entry in entries:
        for url in entry["urls"]:
            shutil.copy(src / url, out / url)
            (out / url).chmod(0o644)
    index["entries"] = {"karpenter": entries}
    (out / "index.yaml").write_text(yaml.safe_dump(index, sort_keys=False))
    return out


def _tags(registry_host, repo):
    try:
        with urllib.request.urlopen("http://%s/v2/%s/tags/list" % (registry_host, repo), timeout=3) as r:
            return json.loads(r.read()).get("tags") or []
    except Exception:  # noqa: BLE001 (a missing repository answers HTTP 404)
        return []


def _chart_digest(registry_host, repo, version):
    """The digest of the chart layer the registry holds for ``repo:version``, or None."""
    if version not in _tags(registry_host, repo):
        return None
    req = urllib.request.Request(
        "http://%s/v2/%s/manifests/%s" % (registry_host, repo, version),
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=3) as r:
            layers = json.loads(r.read()).get("layers") or []
    except Exception:  # noqa: BLE001 (then push it again)
        return None
    return next(
        (layer["digest"] for layer in layers if layer.get("mediaType", "").endswith("chart.content.v1.tar+gzip")), None
    )


def _sha256(path):
    return "sha256:" + hashlib.sha256(Path(path).read_bytes()).hexdigest()


def publish(sandbox, bins, versions=(), log=print):
    """Push both charts of the pinned version and of each of ``versions`` to the sandbox registry unless they
    are there already."""
    helm = bins["helm"]
    env = None
    for version in [chart_version()] + [v.lstrip("v") for v in versions if v.lstrip("v") != chart_version()]:
        env = _push(sandbox, helm, version, env, log)


def _push(sandbox, helm, version, env, log):
    for tgz in packaged_charts(helm, version):
        name = tgz.name[: -len("-%s.tgz" % version)]
        # Pushed already, and the same package (a package made before a change of PACKAGING is pushed again).
        if _chart_digest(sandbox.registry_host, "karpenter/%s" % name, version) == _sha256(tgz):
            continue
        if env is None:
            import os

            home = Path(sandbox.state) / "helm"
            env = dict(
                os.environ,
                HELM_CONFIG_HOME=str(home / "config"),
                HELM_CACHE_HOME=str(home / "cache"),
                HELM_DATA_HOME=str(home / "data"),
            )
        res = subprocess.run(
            [helm, "push", str(tgz), "oci://%s/karpenter" % sandbox.registry_host, "--plain-http"],
            capture_output=True,
            text=True,
            env=env,
        )
        if res.returncode != 0:
            raise SandboxError("helm push %s failed: %s" % (tgz.name, res.stderr))
        log("pushed %s to oci://%s/karpenter" % (tgz.name, sandbox.registry_host))
    return env


def chart_values(tgz):
    """values.yaml of a packaged chart (used by tests)."""
    import tarfile

    with tarfile.open(tgz) as t:
        name = [m for m in t.getnames() if m.endswith("/values.yaml")][0]
        return yaml.safe_load(t.extractfile(name))

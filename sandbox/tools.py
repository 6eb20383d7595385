"""The sandbox's binaries: pinned in the go.mod files under sandbox/go/, built once, cached.

Each group (kube, kwok, helm, karpenter) is a Go module whose go.mod/go.sum pin every version.
Further Karpenter releases have a module each, ``sandbox/go/karpenter-<minor>/``, built only when asked
for (``ensure_karpenter``, ``python -m sandbox up --extra-karpenter-version``).
Binaries are built into ``<cache>/bin/<group>-<version>-<hash>/`` where the hash covers the
group's go.mod and go.sum and the Go version, so a pin change builds afresh and an unchanged
pin reuses the cache. ``<cache>`` is ``$JIT_KARPENTER_CACHE`` or ``~/.cache/jit-karpenter``.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
GO_DIR = HERE / "go"


class SandboxError(Exception):
    """A sandbox failure with a message that names its cause."""


def cache_root():
    env = os.environ.get("JIT_KARPENTER_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "jit-karpenter"


def module_version(group, module):
    """The version of ``module`` that sandbox/go/<group>/go.mod pins."""
    text = (GO_DIR / group / "go.mod").read_text()
    m = re.search(r"^\s*(?:require\s+)?%s\s+(v\S+)" % re.escape(module), text, re.M)
    if not m:
        raise SandboxError("sandbox/go/%s/go.mod does not pin %s" % (group, module))
    return m.group(1)


def _k8s_ldflags():
    version = module_version("kube", "k8s.io/kubernetes")
    major, minor = version.lstrip("v").split(".")[:2]
    flags = ["-s", "-w"]
    for pkg in ("k8s.io/client-go/pkg/version", "k8s.io/component-base/version"):
        flags += [
            "-X",
            "%s.gitVersion=%s" % (pkg, version),
            "-X",
            "%s.gitMajor=%s" % (pkg, major),
            "-X",
            "%s.gitMinor=%s" % (pkg, minor),
            "-X",
            "%s.gitTreeState=clean" % pkg,
            "-X",
            "%s.buildDate=1970-01-01T00:00:00Z" % pkg,
        ]
    return flags


# group -> (module whose version names the cache dir, {binary: package}, ldflags factory)
GROUPS = {
    "kube": (
        "k8s.io/kubernetes",
        {
            "kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver",
            "kube-controller-manager": "k8s.io/kubernetes/cmd/kube-controller-manager",
            "kube-scheduler": "k8s.io/kubernetes/cmd/kube-scheduler",
            "kubectl": "k8s.io/kubernetes/cmd/kubectl",
            "etcd": "go.etcd.io/etcd/server/v3",
        },
        _k8s_ldflags,
    ),
    "kwok": (
        "sigs.k8s.io/kwok",
        {"kwok": "sigs.k8s.io/kwok/cmd/kwok"},
        lambda: ["-s", "-w", "-X", "sigs.k8s.io/kwok/pkg/consts.Version=" + module_version("kwok", "sigs.k8s.io/kwok")],
    ),
    "helm": (
        "helm.sh/helm/v3",
        {"helm": "helm.sh/helm/v3/cmd/helm"},
        lambda: [
            "-s",
            "-w",
            "-X",
            "helm.sh/helm/v3/internal/version.version=" + module_version("helm", "helm.sh/helm/v3"),
        ],
    ),
    # The real AWS Karpenter controller; the sandbox runs it as a local process (sandbox/controller.py).
    "karpenter": (
        "github.com/aws/karpenter-provider-aws",
        {"karpenter-controller": "github.com/aws/karpenter-provider-aws/cmd/controller"},
        lambda: ["-s", "-w"],
    ),
}

KARPENTER_MODULE = "github.com/aws/karpenter-provider-aws"


def karpenter_version():
    return module_version("karpenter", KARPENTER_MODULE)


def karpenter_groups():
    """{version: group} of each Karpenter release the sandbox can build: the pinned one (group karpenter)
    and one per sandbox/go/karpenter-<minor>/ module."""
    groups = {}
    for d in sorted(GO_DIR.glob("karpenter*")):
        if (d / "go.mod").is_file():
            groups[module_version(d.name, KARPENTER_MODULE).lstrip("v")] = d.name
    return groups


def karpenter_group(version):
    """The group that builds Karpenter ``version`` (X.Y.Z); an error naming those there are."""
    groups = karpenter_groups()
    wanted = str(version).lstrip("v")
    if wanted not in groups:
        raise SandboxError(
            "the sandbox builds Karpenter %s, not %s (a module sandbox/go/karpenter-<minor>/ "
            "pins each release)" % (", ".join(sorted(groups, key=_version_key)), wanted)
        )
    return groups[wanted]


def _version_key(version):
    return tuple(int(p) for p in version.split("."))


def _spec(group):
    """GROUPS[group]; a sandbox/go/karpenter-<minor>/ module builds as group karpenter does."""
    if group in GROUPS:
        return GROUPS[group]
    if group.startswith("karpenter-") and (GO_DIR / group / "go.mod").is_file():
        return GROUPS["karpenter"]
    raise SandboxError("no Go module sandbox/go/%s" % group)


def ensure_karpenter(version, log=print):
    """The path of the controller binary of Karpenter ``version``, built (once, cached) if need be."""
    return ensure_group(karpenter_group(version), log=log)["karpenter-controller"]


def _go_env():
    env = dict(os.environ)
    # sandbox/go/karpenter asks for a newer Go patch release than may be installed;
    # the toolchain then comes through the module proxy like any other module.
    env.setdefault("GOTOOLCHAIN", "auto")
    env.setdefault("CGO_ENABLED", "0")
    env["GOFLAGS"] = "-mod=mod"
    return env


def require_go():
    go = shutil.which("go")
    if not go:
        raise SandboxError("Go is not installed (no `go` on PATH); the sandbox builds its binaries with it.")
    return go


def check_proxy():
    """Fail fast, naming the proxy, when the Go module proxy cannot be reached."""
    proxy = subprocess.run(["go", "env", "GOPROXY"], capture_output=True, text=True).stdout.strip()
    first = proxy.split(",")[0].split("|")[0]
    if first in ("", "off", "direct"):
        return
    try:
        urllib.request.urlopen(first.rstrip("/") + "/k8s.io/kubernetes/@v/list", timeout=15).read(64)
    except Exception as e:  # noqa: BLE001 - any failure means unreachable
        raise SandboxError(
            "The Go module proxy %s is unreachable (%s); the sandbox builds from it." % (first, e)
        ) from e


def group_dir(group):
    module, binaries, _ = _spec(group)
    h = hashlib.sha256()
    for name in ("go.mod", "go.sum"):
        h.update((GO_DIR / group / name).read_bytes())
    go_version = subprocess.run(["go", "env", "GOVERSION"], capture_output=True, text=True).stdout.strip()
    h.update(go_version.encode())
    return cache_root() / "bin" / ("%s-%s-%s" % (group, module_version(group, module), h.hexdigest()[:12]))


def _prebuilt(binary, version):
    """An envtest-style binary of the pinned version from KUBEBUILDER_ASSETS or PATH, if any."""
    candidates = []
    assets = os.environ.get("KUBEBUILDER_ASSETS")
    if assets:
        candidates.append(Path(assets) / binary)
    found = shutil.which(binary)
    if found:
        candidates.append(Path(found))
    for path in candidates:
        if not (path.is_file() and os.access(path, os.X_OK)):
            continue
        flag = ["--version"] if binary != "kubectl" else ["version", "--client"]
        try:
            out = subprocess.run([str(path)] + flag, capture_output=True, text=True, timeout=20).stdout
        except (OSError, subprocess.TimeoutExpired):
            continue
        if re.search(r"\b%s\b" % re.escape(version.lstrip("v")), out):
            return path
    return None


def ensure_group(group, log=print):
    """Return {binary: path} for ``group``, building it if the cache lacks it."""
    module, binaries, ldflags = _spec(group)
    version = module_version(group, module)
    if group == "kube":
        pre = {
            b: _prebuilt(b, version if b != "etcd" else module_version("kube", "go.etcd.io/etcd/server/v3"))
            for b in binaries
        }
        if all(pre.values()):
            return {b: str(p) for b, p in pre.items()}
    require_go()
    out = group_dir(group)
    paths = {b: out / b for b in binaries}
    if all(p.is_file() for p in paths.values()):
        return {b: str(p) for b, p in paths.items()}
    check_proxy()
    log("building %s %s (once; cached in %s)" % (group, version, out))
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    cmd = ["go", "build", "-trimpath", "-ldflags", " ".join(ldflags()), "-o", str(tmp) + "/"] + list(binaries.values())
    started = time.time()
    res = subprocess.run(cmd, cwd=GO_DIR / group, env=_go_env(), capture_output=True, text=True)
    if res.returncode != 0:
        raise SandboxError("building %s failed:\n%s" % (group, res.stderr[-4000:]))
    (tmp / "build.json").write_text(json.dumps({"seconds": round(time.time() - started, 1)}))
    # `go build` names a binary after its package's last path element.
    for binary, pkg in binaries.items():
        built = tmp / pkg.rstrip("/").split("/")[-1]
        if built.name == "v3":  # etcd's main package is go.etcd.io/etcd/server/v3
            built = tmp / "server"
        if built != tmp / binary:
            built.rename(tmp / binary)
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return {b: str(p) for b, p in paths.items()}


def karpenter_module_dir(version=None):
    """Download (through the module proxy) the karpenter-provider-aws module of ``version`` (default: the
    pinned one); return its dir."""
    require_go()
    group = karpenter_group(version) if version else "karpenter"
    version = module_version(group, KARPENTER_MODULE)
    res = subprocess.run(
        ["go", "mod", "download", "-json", "%s@%s" % (KARPENTER_MODULE, version)],
        cwd=GO_DIR / group,
        env=_go_env(),
        capture_output=True,
        text=True,
    )
    m = re.search(r'"Dir":\s*"([^"]+)"', res.stdout)
    if res.returncode != 0 or not m:
        raise SandboxError(
            "downloading %s@%s failed: %s" % (KARPENTER_MODULE, version, (res.stdout + res.stderr)[-2000:])
        )
    return Path(m.group(1))


def ensure_all(log=print):
    tools = {}
    for group in GROUPS:
        tools.update(ensure_group(group, log=log))
    return tools


if __name__ == "__main__":
    for name, path in sorted(ensure_all(log=lambda m: print(m, file=sys.stderr)).items()):
        print("%s=%s" % (name, path))

"""The built collection: what the tarball holds, that it installs, and that its playbook runs.

The last test runs ``ansible-playbook jit.karpenter.karpenter`` from the installed copy against the
sandbox (skipped without one): it converges, then a second run changes nothing.
"""

import ast
import json
import subprocess
import tarfile

import yaml

from ecolib import REPO_ROOT, recap, tool

# Test beds, local state and tool caches: never shipped.
FORBIDDEN = (
    "sandbox/",
    ".sandbox/",
    ".venv",
    ".build/",
    ".cache/",
    "molecule/",
    "benchmarks/",
    "tests/output/",
    "tests/emulator/",
    "tests/sandbox/",
    "tests/auth/",
    "tests/ecosystem/",
    ".ci/",
    ".git/",
    "Makefile",
    "requirements-dev.txt",
    "requirements-ecosystem.txt",
    "ansible.cfg",
    "pytest.ini",
)
FORBIDDEN_ANYWHERE = ("/.ansible/", "/.pytest_cache/", "/.ruff_cache/", "/__pycache__/", ".pyc", ".tar.gz")
REQUIRED = (
    "MANIFEST.json",
    "FILES.json",
    "README.md",
    "meta/runtime.yml",
    "requirements.txt",
    "playbooks/karpenter.yml",
    "plugins/modules/nodepool.py",
    "plugins/modules/iam_identity_mapping.py",
    "plugins/modules/iam_oidc_provider.py",
    "plugins/modules/eks_cluster_info.py",
    "plugins/filter/irsa_trust_policy.py",
    "plugins/filter/karpenter_compatibility.py",
    "plugins/doc_fragments/_attributes.py",
    "roles/cloudformation/files/karpenter-v1.yaml",
    "roles/preflight/meta/argument_specs.yml",
    "roles/helm/tasks/main.yml",
)


def _members(tarball):
    with tarfile.open(tarball) as tar:
        return {m.name.rstrip("/") + ("/" if m.isdir() else "") for m in tar.getmembers()}


def test_tarball_holds_the_collection_and_no_test_bed(built_collection):
    names = _members(built_collection)
    files = {n for n in names if not n.endswith("/")}
    missing = [r for r in REQUIRED if r not in files]
    assert not missing, "missing from the tarball: %s" % missing
    leaked = sorted(n for n in names if n.startswith(FORBIDDEN) or any(p in "/" + n for p in FORBIDDEN_ANYWHERE))
    assert not leaked, "test or local state in the tarball: %s" % leaked[:20]


def _imports_sandbox(source):
    """The lines of ``source`` that import the test bed: ``import sandbox...``, ``from sandbox... import``,
    or ``import_module("sandbox...")``."""

    def is_sandbox(name):
        return name == "sandbox" or name.startswith("sandbox.")

    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""] if node.level == 0 else []
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
            "import_module",
            "__import__",
        ):
            names = [a.value for a in node.args[:1] if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        else:
            continue
        if any(is_sandbox(n) for n in names):
            lines.append(node.lineno)
    return lines


def test_import_check_sees_every_form():
    assert _imports_sandbox("import os\nfrom sandboxed import x\nimport sandboxes\nfrom . import sandbox\n") == []
    found = _imports_sandbox(
        "import sandbox\nimport os, sandbox.cluster\nfrom sandbox import tools\nfrom sandbox.emulator import seed\n"
        "def f():\n    import importlib\n    importlib.import_module('sandbox.authn')\n"
    )
    assert sorted(found) == [1, 2, 3, 4, 7]


def test_no_shipped_file_imports_the_test_bed(built_collection):
    """The test bed (``sandbox``) is not in the tarball, so a shipped file that imports it cannot run."""
    offenders = {}
    checked = 0
    with tarfile.open(built_collection) as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.endswith(".py"):
                checked += 1
                lines = _imports_sandbox(tar.extractfile(member).read().decode("utf-8"))
                if lines:
                    offenders[member.name] = lines
    assert checked > 10, "only %d Python files in the tarball" % checked
    assert not offenders, "shipped files importing sandbox (file: lines): %s" % offenders


def test_manifest_matches_galaxy_yml(built_collection):
    galaxy = yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text())
    with tarfile.open(built_collection) as tar:
        manifest = json.load(tar.extractfile("MANIFEST.json"))
    info = manifest["collection_info"]
    assert (info["namespace"], info["name"], info["version"]) == (
        galaxy["namespace"],
        galaxy["name"],
        galaxy["version"],
    )
    assert info["dependencies"] == galaxy["dependencies"]


def test_installed_copy_is_the_only_jit_karpenter(installed_collection):
    work, env = installed_collection
    out = subprocess.run(
        [tool("ansible-galaxy"), "collection", "list", "--format", "json"],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=str(work),
    ).stdout
    found = {path: cols for path, cols in json.loads(out).items() if "jit.karpenter" in cols}
    assert list(found) == [str(work / "collections" / "ansible_collections")], found
    # The dependencies resolve too (from the ansible package or a collections path).
    everything = {name for cols in json.loads(out).values() for name in cols}
    assert {"amazon.aws", "kubernetes.core"} <= everything


def test_installed_docs_render(installed_collection):
    work, env = installed_collection
    for argv in (
        ["jit.karpenter.nodepool"],
        ["-t", "role", "jit.karpenter.helm"],
        ["-t", "filter", "jit.karpenter.irsa_trust_policy"],
    ):
        res = subprocess.run([tool("ansible-doc")] + argv, capture_output=True, text=True, env=env, cwd=str(work))
        assert res.returncode == 0 and "jit.karpenter" in res.stdout, (argv, res.stderr[-2000:])


def _playbook(work, env, sandbox):
    run_env = dict(env, **sandbox["env"])
    return subprocess.run(
        [tool("ansible-playbook"), "jit.karpenter.karpenter", "-e", "@" + sandbox["vars"]],
        capture_output=True,
        text=True,
        env=run_env,
        cwd=str(work),
        timeout=900,
    )


def test_installed_playbook_converges_and_is_idempotent(installed_collection, sandbox):
    work, env = installed_collection
    first = _playbook(work, env, sandbox)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    assert recap(first.stdout)["failed"] == 0
    second = _playbook(work, env, sandbox)
    assert second.returncode == 0, second.stdout[-4000:] + second.stderr[-2000:]
    counts = recap(second.stdout)
    assert counts["changed"] == 0 and counts["failed"] == 0, second.stdout[-4000:]

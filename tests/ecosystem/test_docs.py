"""Every module, filter and role documents itself, and the docsite lints and builds.

``ansible-doc`` runs on the repository's collection (through ``.build/collections``, `make link`).
The lists of plugins come from the tree, so a new plugin is checked without touching this file.
"""

import json
import subprocess

import pytest
from ansible.parsing.utils.yaml import from_yaml

from ecolib import REPO_ROOT, clean_env, tool

COLLECTIONS = REPO_ROOT / ".build" / "collections"
MODULES = sorted(p.stem for p in (REPO_ROOT / "plugins" / "modules").glob("[!_]*.py"))
FILTERS = sorted(p.stem for p in (REPO_ROOT / "plugins" / "filter").glob("[!_]*.py"))
ROLES = sorted(p.parent.parent.name for p in (REPO_ROOT / "roles").glob("*/meta/argument_specs.yml"))
INVENTORIES = sorted(p.stem for p in (REPO_ROOT / "plugins" / "inventory").glob("[!_]*.py"))
# The top-level role's cluster coordinates, as the playbooks and the eks_clusters inventory name them.
SHARED = {"karpenter": {"cluster_name", "aws_region"}}


def _doc(plugin_type, name):
    env = clean_env({"ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS)})
    res = subprocess.run(
        [tool("ansible-doc"), "-t", plugin_type, "--json", "jit.karpenter." + name],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(REPO_ROOT),
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert "WARNING" not in res.stderr and "ERROR" not in res.stderr, res.stderr[-3000:]
    return json.loads(res.stdout)["jit.karpenter." + name]


def test_the_tree_has_what_the_docs_promise():
    # The globs above found the plugins (so the parametrized tests below are not empty).
    assert {"eks_cluster_info", "iam_identity_mapping", "iam_oidc_provider", "nodepool"} <= set(MODULES)
    assert {"irsa_trust_policy", "karpenter_compatibility"} <= set(FILTERS)
    assert {"cloudformation", "helm", "irsa", "karpenter", "oidc", "preflight"} <= set(ROLES)
    assert {"eks_clusters"} <= set(INVENTORIES)


@pytest.mark.parametrize("name", MODULES)
def test_module_docs(name):
    data = _doc("module", name)
    doc = data["doc"]
    assert doc["short_description"] and doc["description"]
    assert doc["version_added"] == "0.1.0" and doc["version_added_collection"] == "jit.karpenter"
    assert {"check_mode", "diff_mode", "idempotent"} <= set(doc["attributes"]), doc.get("attributes")
    for attr, spec in doc["attributes"].items():
        assert spec.get("support") in ("full", "partial", "none", "N/A"), (attr, spec)
    for opt, spec in doc["options"].items():
        assert spec.get("description"), "option %s has no description" % opt
    assert data["examples"] and from_yaml(data["examples"]), "EXAMPLES missing or not YAML"
    assert data["return"], "RETURN missing"
    for key, spec in data["return"].items():
        assert spec.get("description") and spec.get("returned") and spec.get("type"), (key, spec)


@pytest.mark.parametrize("name", FILTERS)
def test_filter_docs(name):
    data = _doc("filter", name)
    doc = data["doc"]
    assert doc["short_description"] and doc["description"] and doc["options"]
    assert doc["version_added"] == "0.1.0"
    assert data["examples"] and from_yaml(data["examples"]) is not None
    assert data["return"] and "_value" in data["return"]


@pytest.mark.parametrize("name", ROLES)
def test_role_docs(name):
    data = _doc("role", name)
    main = data["entry_points"]["main"]
    assert main["short_description"] and main["description"]
    for opt, spec in (main.get("options") or {}).items():
        assert spec.get("description"), "role %s variable %s has no description" % (name, opt)
        assert opt.startswith(name + "_") or opt in SHARED.get(name, ()), (
            "role %s variable %s lacks the role prefix" % (name, opt)
        )


@pytest.mark.parametrize("name", INVENTORIES)
def test_inventory_docs(name):
    data = _doc("inventory", name)
    doc = data["doc"]
    assert doc["short_description"] and doc["description"]
    assert doc["version_added"] == "0.1.0"
    for opt, spec in doc["options"].items():
        assert spec.get("description"), "option %s has no description" % opt
    assert data["examples"] and from_yaml(data["examples"])["plugin"] == "jit.karpenter." + name


def test_the_redirect_is_documented():
    # meta/runtime.yml routes `provisioner` to `nodepool`; ansible-doc follows it.
    data = _doc("module", "provisioner")
    assert data["doc"]["module"] == "nodepool"


def test_docsite_lints_and_builds(tmp_path):
    """docs/sphinx/build.sh: antsibull-docs lint-collection-docs, then antsibull-docs + Sphinx with -W."""
    env = clean_env(
        {
            "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
            "PATH": "%s:%s" % (tool("python").rsplit("/", 1)[0], clean_env()["PATH"]),
        }
    )
    res = subprocess.run(
        ["bash", str(REPO_ROOT / "docs" / "sphinx" / "build.sh"), str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(REPO_ROOT),
        timeout=600,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    html = tmp_path / "html"
    pages = {p.relative_to(html).as_posix() for p in html.rglob("*.html")}
    expected = {"index.html", "guide.html"}
    expected |= {"collections/jit/karpenter/%s_module.html" % m for m in MODULES}
    expected |= {"collections/jit/karpenter/%s_filter.html" % f for f in FILTERS}
    expected |= {"collections/jit/karpenter/%s_role.html" % r for r in ROLES}
    assert expected <= pages, sorted(expected - pages)
    guide = (html / "guide.html").read_text()
    assert "Use on a real EKS cluster" in guide and "karpenter_nodepools" in guide

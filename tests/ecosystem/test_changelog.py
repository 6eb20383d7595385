"""The changelog: fragments lint, changelog.yaml is valid, and CHANGELOG.rst is what it generates."""

import shutil
import subprocess

import yaml

from ecolib import REPO_ROOT, clean_env, tool


def _run(*args, cwd):
    res = subprocess.run(
        [tool("antsibull-changelog")] + list(args), capture_output=True, text=True, cwd=str(cwd), env=clean_env()
    )
    assert res.returncode == 0, (args, res.stdout[-2000:], res.stderr[-2000:])
    return res.stdout


def test_fragments_and_changelog_yaml_lint():
    out = _run("lint", cwd=REPO_ROOT)
    assert out.strip() == "", out
    out = _run("lint-changelog-yaml", "changelogs/changelog.yaml", cwd=REPO_ROOT)
    assert out.strip() == "", out


def test_changelog_rst_is_generated_from_changelog_yaml(tmp_path):
    for name in ("galaxy.yml", "CHANGELOG.rst"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    shutil.copytree(REPO_ROOT / "changelogs", tmp_path / "changelogs")
    (tmp_path / "CHANGELOG.rst").write_text("stale\n")
    _run("generate", cwd=tmp_path)
    assert (tmp_path / "CHANGELOG.rst").read_text() == (REPO_ROOT / "CHANGELOG.rst").read_text(), (
        "CHANGELOG.rst is out of date: run `antsibull-changelog generate`"
    )


def test_every_plugin_and_role_is_in_a_release():
    changelog = yaml.safe_load((REPO_ROOT / "changelogs" / "changelog.yaml").read_text())
    released = {"module": set(), "filter": set(), "role": set()}
    for release in changelog["releases"].values():
        for kind, items in (release.get("plugins") or {}).items():
            released.setdefault(kind, set()).update(i["name"] for i in items)
        for item in release.get("modules") or []:
            released["module"].add(item["name"])
        for kind, items in (release.get("objects") or {}).items():
            released.setdefault(kind, set()).update(i["name"] for i in items)
    assert {p.stem for p in (REPO_ROOT / "plugins" / "modules").glob("[!_]*.py")} <= released["module"]
    for kind in ("filter", "lookup", "inventory"):
        assert {p.stem for p in (REPO_ROOT / "plugins" / kind).glob("[!_]*.py")} <= released.get(kind, set()), kind
    assert {p.name for p in (REPO_ROOT / "roles").iterdir() if (p / "tasks").is_dir()} <= released["role"]

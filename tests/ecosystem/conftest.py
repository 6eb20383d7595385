"""Fixtures for the ecosystem tests: the built collection, a fresh collections path, the sandbox."""

import subprocess

import pytest
import yaml

from ecolib import REPO_ROOT, SANDBOX_VARS, clean_env, running_sandbox, tool


@pytest.fixture(scope="session")
def sandbox():
    """The sandbox's environment (credentials, endpoints, PATH with helm) and its vars file."""
    return {"env": running_sandbox(), "vars": str(SANDBOX_VARS)}


@pytest.fixture(scope="session")
def built_collection(tmp_path_factory):
    """``ansible-galaxy collection build`` of the repository: the tarball's path."""
    out = tmp_path_factory.mktemp("build")
    subprocess.run(
        [tool("ansible-galaxy"), "collection", "build", "--output-path", str(out), str(REPO_ROOT)],
        check=True,
        capture_output=True,
        text=True,
        env=clean_env(),
        cwd=str(out),
    )
    meta = yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text())
    tarball = out / ("%s-%s-%s.tar.gz" % (meta["namespace"], meta["name"], meta["version"]))
    assert tarball.is_file(), sorted(p.name for p in out.iterdir())
    return tarball


@pytest.fixture(scope="session")
def installed_collection(built_collection, tmp_path_factory):
    """The tarball installed (offline) into a fresh collections path, with a blank ansible.cfg.

    Returns ``(workdir, env)``: run Ansible in ``workdir`` with ``env`` to use only the installed
    copy (plus the collections bundled with the ``ansible`` package).
    """
    work = tmp_path_factory.mktemp("installed")
    cols = work / "collections"
    cfg = work / "ansible.cfg"
    cfg.write_text("[defaults]\nretry_files_enabled = false\n")
    env = clean_env({"ANSIBLE_CONFIG": str(cfg), "ANSIBLE_COLLECTIONS_PATH": str(cols), "HOME": str(work)})
    subprocess.run(
        [tool("ansible-galaxy"), "collection", "install", "--offline", "-p", str(cols), str(built_collection)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=str(work),
    )
    return work, env

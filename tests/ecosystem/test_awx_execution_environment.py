"""The AWX execution environment: ``ansible-builder create`` on execution-environment.yml.

Building the image itself needs a container engine (podman or docker), which these tests do not
assume; they check the build context that ``ansible-builder create`` writes: a Containerfile, the
Python and collection requirements copied into it, the built collection tarball, and the step that
installs the pinned helm.
"""

import re
import shutil
import subprocess

import yaml

from ecolib import REPO_ROOT, clean_env, tool

EE_FILE = REPO_ROOT / "execution-environment.yml"


def _definition():
    return yaml.safe_load(EE_FILE.read_text())


def _galaxy_meta():
    return yaml.safe_load((REPO_ROOT / "galaxy.yml").read_text())


def _create(built_collection, workdir):
    """Lay out the files the definition names (as in the repository) and run ``ansible-builder create``."""
    shutil.copy(EE_FILE, workdir / EE_FILE.name)
    shutil.copy(REPO_ROOT / "requirements.txt", workdir / "requirements.txt")
    dist = workdir / ".build" / "dist"
    dist.mkdir(parents=True)
    shutil.copy(built_collection, dist / built_collection.name)
    context = workdir / "context"
    res = subprocess.run(
        [
            tool("ansible-builder"),
            "create",
            "-f",
            EE_FILE.name,
            "-c",
            str(context),
            "--output-filename",
            "Containerfile",
        ],
        capture_output=True,
        text=True,
        env=clean_env(),
        cwd=str(workdir),
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return context


def test_definition_names_the_collection_tarball_of_this_version():
    meta = _galaxy_meta()
    tarball = "%s-%s-%s.tar.gz" % (meta["namespace"], meta["name"], meta["version"])
    ee = _definition()
    assert ee["version"] == 3
    assert [f["src"] for f in ee["additional_build_files"]] == [".build/dist/" + tarball]
    collections = {c["name"]: c for c in ee["dependencies"]["galaxy"]["collections"]}
    assert collections["/build/dist/" + tarball]["type"] == "file"
    # The collection dependencies are galaxy.yml's, at least as new as meta/versions.yml's minima.
    versions = yaml.safe_load((REPO_ROOT / "meta" / "versions.yml").read_text())["minimum"]
    for name in meta["dependencies"]:
        assert name in collections, "%s missing from the execution environment" % name
        floor = tuple(int(x) for x in collections[name]["version"].lstrip(">=").split("."))
        assert floor >= tuple(int(x) for x in versions[name].split(".")), (name, collections[name])
    assert ee["dependencies"]["python"] == "requirements.txt"


def test_helm_is_the_sandbox_pin_and_at_least_the_minimum():
    steps = "\n".join(_definition()["additional_build_steps"]["append_final"])
    version = re.search(r"ARG HELM_VERSION=(\S+)", steps).group(1)
    gomod = (REPO_ROOT / "sandbox" / "go" / "helm" / "go.mod").read_text()
    assert re.search(r"helm\.sh/helm/v3 v%s\b" % re.escape(version), gomod), version
    minimum = yaml.safe_load((REPO_ROOT / "meta" / "versions.yml").read_text())["minimum"]["helm"]
    assert tuple(map(int, version.split("."))) >= tuple(map(int, minimum.split(".")))


def test_builder_create_writes_a_complete_context(built_collection, tmp_path):
    context = _create(built_collection, tmp_path)
    containerfile = (context / "Containerfile").read_text()
    build = context / "_build"
    # Python requirements: the repository's, unchanged.
    assert (build / "requirements.txt").read_text() == (REPO_ROOT / "requirements.txt").read_text()
    # Collection requirements: amazon.aws, kubernetes.core and this collection's tarball, copied in.
    galaxy = yaml.safe_load((build / "requirements.yml").read_text())
    names = [c["name"] for c in galaxy["collections"]]
    assert names[:2] == ["amazon.aws", "kubernetes.core"], names
    assert names[2] == "/build/dist/" + built_collection.name
    assert (build / "dist" / built_collection.name).read_bytes() == built_collection.read_bytes()
    # The galaxy stage installs them from /build, where the context's _build/ lands.
    assert "COPY _build /build" in containerfile
    assert re.search(r"ansible-galaxy collection install .*-r requirements\.yml", containerfile)
    assert "ansible-core==2.19.14 ansible-runner==2.4.3" in containerfile
    # The pinned helm: downloaded, checksum verified, installed, run; in the final image, as root.
    final = containerfile.split("FROM base AS final", 1)[1]
    helm = re.search(r"^RUN curl .*helm-v\$\{HELM_VERSION\}.*$", final, re.M)
    assert helm, final
    for part in ("sha256sum -c -", "install -m 0755", "/usr/local/bin/helm", "helm version"):
        assert part in helm.group(0), part
    assert final.index(helm.group(0)) < final.index("USER 1000")
    assert final.index("install-from-bindep") < final.index(helm.group(0))  # tar and gzip first
    assert "tar [platform:rpm]" in (build / "bindep.txt").read_text()

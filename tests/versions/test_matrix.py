"""The supported range, end to end: the oldest and the newest stack, each in a virtualenv of its own.

``make test-versions`` creates ``.venv-min`` (tests/versions/requirements-min.txt, Python 3.11, and
the collections of tests/versions/collections-min.yml) and ``.venv-newest``
(tests/versions/requirements-newest.txt, Python 3.13). For each: its ansible-core and collections
are the intended ones, the unit tests pass on it, and ``playbooks/karpenter.yml`` run with its
``ansible-playbook`` converges the sandbox and then changes nothing. A virtualenv that is absent is
skipped, saying why; the playbook runs are skipped without a sandbox.
"""

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from ecolib import REPO_ROOT, SANDBOX_VARS, clean_env, recap, running_sandbox

HERE = Path(__file__).resolve().parent
STACKS = {
    "min": {"venv": REPO_ROOT / ".venv-min", "python": (3, 11)},
    "newest": {"venv": REPO_ROOT / ".venv-newest", "python": (3, 13)},
}


def _pin(stack, package):
    text = (HERE / ("requirements-%s.txt" % stack)).read_text()
    return re.search(r"^%s==(\S+)" % re.escape(package), text, re.M).group(1)


@pytest.fixture(params=sorted(STACKS))
def stack(request):
    name = request.param
    venv = STACKS[name]["venv"]
    if not (venv / "bin" / "ansible-playbook").exists():
        pytest.skip("%s is not installed (`make test-versions` creates it; .venv-newest needs Python 3.13)" % venv.name)
    collections = [str(REPO_ROOT / ".build" / "collections")]
    if (venv / "collections").is_dir():
        collections.append(str(venv / "collections"))
    env = clean_env(
        {"ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"), "ANSIBLE_COLLECTIONS_PATH": ":".join(collections)}
    )
    return {"name": name, "bin": venv / "bin", "env": env, **STACKS[name]}


def _run(argv, env, timeout=900):
    return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=str(REPO_ROOT), timeout=timeout)


def test_stack_is_the_intended_one(stack):
    res = _run(
        [
            str(stack["bin"] / "python"),
            "-c",
            "import sys, ansible.release as r; print('%d.%d' % sys.version_info[:2], r.__version__)",
        ],
        stack["env"],
    )
    assert res.returncode == 0, res.stderr
    python, core = res.stdout.split()
    assert python == "%d.%d" % stack["python"]
    assert core == _pin(stack["name"], "ansible-core")
    res = _run([str(stack["bin"] / "ansible-galaxy"), "collection", "list", "--format", "json"], stack["env"])
    assert res.returncode == 0, res.stderr
    found = {}
    for path, cols in json.loads(res.stdout).items():
        for fqcn, info in cols.items():
            found.setdefault(fqcn, (info["version"], path))  # the first on the path wins
    assert found["jit.karpenter"][1] == str(REPO_ROOT / ".build" / "collections" / "ansible_collections")
    if stack["name"] == "min":
        want = yaml.safe_load((HERE / "collections-min.yml").read_text())
        for fqcn, spec in want.items():
            assert found[fqcn][0] == str(spec["version"]), (fqcn, found[fqcn])
        floor = yaml.safe_load((REPO_ROOT / "meta" / "versions.yml").read_text())["minimum"]
        assert found["amazon.aws"][0] == floor["amazon.aws"]
        assert _pin("min", "ansible-core").startswith(floor["ansible_core"].rsplit(".", 1)[0] + ".")
        for package in ("boto3", "botocore", "kubernetes"):
            assert _pin("min", package) == floor[package], package
    else:
        for fqcn in ("amazon.aws", "kubernetes.core"):
            assert fqcn in found, sorted(found)


def test_unit_tests_pass(stack):
    # The collections beside jit.karpenter import as Python packages too (pytest.ini puts
    # .build/collections on sys.path; ansible_collections is a namespace package).
    env = dict(stack["env"], PYTHONPATH=stack["env"]["ANSIBLE_COLLECTIONS_PATH"])
    res = _run(
        [str(stack["bin"] / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/unit/plugins"], env
    )
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    passed = re.search(r"(\d+) passed", res.stdout)
    assert passed and int(passed.group(1)) > 0, res.stdout[-2000:]


@pytest.fixture(scope="module")
def sandbox_env():
    return running_sandbox()


def _failure(res):
    """The failed tasks first (deprecation warnings can fill the tail), then the end of the output."""
    failed = [line[:3000] for line in res.stdout.splitlines() if line.startswith(("fatal:", "failed:"))]
    return "\n".join(failed) + "\n...\n" + res.stdout[-3000:] + res.stderr[-1000:]


def test_playbook_converges_then_changes_nothing(stack, sandbox_env):
    env = dict(stack["env"], **sandbox_env)
    argv = [str(stack["bin"] / "ansible-playbook"), "playbooks/karpenter.yml", "-e", "@" + str(SANDBOX_VARS)]
    first = _run(argv, env)
    assert first.returncode == 0, _failure(first)
    assert recap(first.stdout)["failed"] == 0
    second = _run(argv, env)
    assert second.returncode == 0, _failure(second)
    counts = recap(second.stdout)
    assert counts["changed"] == 0 and counts["failed"] == 0, second.stdout[-4000:]
    assert counts["ok"] > 0

"""meta/versions.yml states the minimum versions once; the files that repeat them agree with it."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
VERSIONS = yaml.safe_load((ROOT / "meta/versions.yml").read_text())
MINIMUM = VERSIONS["minimum"]


def test_requires_ansible():
    runtime = yaml.safe_load((ROOT / "meta/runtime.yml").read_text())
    assert runtime["requires_ansible"] == ">=" + MINIMUM["ansible_core"]


def test_collection_dependencies():
    deps = yaml.safe_load((ROOT / "galaxy.yml").read_text())["dependencies"]
    assert deps == {"amazon.aws": ">=" + MINIMUM["amazon.aws"], "kubernetes.core": ">=" + MINIMUM["kubernetes.core"]}


def test_python_requirements():
    reqs = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)>=([^,\s]+)", line)
        if m:
            reqs[m.group(1).lower()] = m.group(2)
    for name in ("boto3", "botocore", "kubernetes"):
        assert reqs[name] == MINIMUM[name], name

"""Sandboxes that share one AWS emulator (``up --aws-url``): which URL a sandbox uses, what it runs itself."""

import json

import pytest

from sandbox import cluster
from sandbox.tools import SandboxError


def test_a_new_sandbox_takes_the_url_asked_for_without_a_trailing_slash(tmp_path):
    assert cluster.external_aws_url(tmp_path, "http://127.0.0.1:30450/") == "http://127.0.0.1:30450"


def test_a_new_sandbox_asked_for_no_url_runs_its_own_emulator(tmp_path):
    assert cluster.external_aws_url(tmp_path) is None


@pytest.mark.parametrize("url", ["127.0.0.1:30450", "http://127.0.0.1", "http://127.0.0.1:30450/moto", "ftp://h:1"])
def test_a_url_that_is_not_an_emulators_root_is_refused(tmp_path, url):
    with pytest.raises(SandboxError, match="must be http://host:port"):
        cluster.external_aws_url(tmp_path, url)


def test_an_existing_sandbox_keeps_the_url_it_was_made_with(tmp_path):
    (tmp_path / "sandbox.json").write_text(json.dumps({"aws_url": "http://127.0.0.1:30450"}))
    assert cluster.external_aws_url(tmp_path) == "http://127.0.0.1:30450"
    assert cluster.external_aws_url(tmp_path, "http://127.0.0.1:30450") == "http://127.0.0.1:30450"
    with pytest.raises(SandboxError, match="uses the AWS emulator at http://127.0.0.1:30450"):
        cluster.external_aws_url(tmp_path, "http://127.0.0.1:31550")


def test_an_existing_sandbox_with_its_own_emulator_refuses_another(tmp_path):
    (tmp_path / "sandbox.json").write_text(json.dumps({"port_base": 30400}))
    assert cluster.external_aws_url(tmp_path) is None
    with pytest.raises(SandboxError, match="uses an AWS emulator of its own"):
        cluster.external_aws_url(tmp_path, "http://127.0.0.1:30450")


def test_a_sandbox_on_another_emulator_runs_everything_but_the_emulator():
    assert cluster.components() == cluster.COMPONENTS
    assert cluster.components("http://127.0.0.1:30450") == [c for c in cluster.COMPONENTS if c != "aws"]


def test_a_sandbox_on_another_emulator_reaches_aws_there_and_binds_no_emulator_port(tmp_path):
    sb = cluster.Sandbox(state_dir=tmp_path / "b", port_base=31600, aws_url="http://127.0.0.1:31550")
    assert sb.aws_url == "http://127.0.0.1:31550"
    assert "aws" not in sb.ports and "aws" not in sb.components
    own = cluster.Sandbox(state_dir=tmp_path / "a", port_base=31500)
    assert own.aws_url == "http://127.0.0.1:31550" and own.ports["aws"] == 31550 and "aws" in own.components

"""The running sandbox keeps the profile it was started with, and says so."""

import json

import pytest

from sandbox.harness import Harness

if not Harness().exists():
    pytest.skip("no sandbox: .sandbox/env is absent (start one with `make sandbox`)", allow_module_level=True)

from .sandbox_testlib import run_cli  # noqa: E402

from sandbox.emulator.profiles import PROFILES  # noqa: E402


def test_profile_is_recorded(state, seed, sbvars):
    config = json.loads((state / "sandbox.json").read_text())
    assert config["profile"] in PROFILES
    assert seed["profile"] == sbvars["sandbox_profile"] == config["profile"]
    assert seed["authentication_mode"] == config["authentication_mode"] == sbvars["sandbox_authentication_mode"]


def test_up_with_another_profile_is_refused_and_changes_nothing(state, seed, sbvars):
    """Like --authentication-mode: a running sandbox keeps its profile; `up --profile <other>` fails
    naming both, before it starts or writes anything."""
    config = json.loads((state / "sandbox.json").read_text())
    other = next(p for p in PROFILES if p != config["profile"])
    seed_before = (state / "seed.json").read_text()
    res = run_cli(
        "up", "--profile", other, state_dir=state, port_base=config["ports"]["etcd"] - 1, cluster=sbvars["cluster_name"]
    )
    assert res.returncode == 2, res.stdout + res.stderr
    assert ("was started with profile %s" % config["profile"]) in res.stderr
    assert ("profile %s" % other) in res.stderr
    assert json.loads((state / "sandbox.json").read_text()) == config
    assert (state / "seed.json").read_text() == seed_before


def test_unknown_profile_is_refused_by_name(state, sbvars):
    config = json.loads((state / "sandbox.json").read_text())
    res = run_cli(
        "up",
        "--profile",
        "kops",
        state_dir=state,
        port_base=config["ports"]["etcd"] - 1,
        cluster=sbvars["cluster_name"],
    )
    assert res.returncode == 2
    assert "--profile: invalid choice: 'kops'" in res.stderr

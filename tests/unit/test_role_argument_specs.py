"""Each role's defaults/main.yml repeats exactly the defaults of its meta/argument_specs.yml
(ansible-core validates arguments against the spec but does not apply its defaults)."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "meta" / "argument_specs.yml").exists())


class _Loader(yaml.SafeLoader):
    """Reads Ansible YAML: ``!unsafe`` strings are plain strings here."""


_Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def _spec(role):
    return yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]


def _defaults(role):
    path = ROOT / "roles" / role / "defaults" / "main.yml"
    return (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}


# The top-level role's cluster coordinates: the names the playbooks have always taken and the eks_clusters
# inventory sets per host.
SHARED = {"cluster_name", "aws_region"}


def test_every_role_has_an_argument_spec():
    assert set(ROLES) == {p.name for p in (ROOT / "roles").iterdir() if p.is_dir()}
    assert ROLES, "no roles found"


@pytest.mark.parametrize("role", ROLES)
def test_defaults_match_spec(role):
    options = _spec(role)["options"]
    defaults = _defaults(role)
    spec_defaults = {k: v["default"] for k, v in options.items() if "default" in v}
    assert defaults == spec_defaults, "roles/%s/defaults/main.yml differs from its argument spec" % role


@pytest.mark.parametrize("role", ROLES)
def test_variables_are_prefixed_with_the_role_name(role):
    for name in _spec(role)["options"]:
        if role == "karpenter" and name in SHARED:
            continue
        assert name.startswith(role + "_"), "%s: option %s lacks the prefix %s_" % (role, name, role)


@pytest.mark.parametrize("role", ROLES)
def test_task_variables_are_documented(role):
    """Every role-prefixed variable the tasks read is in the spec (internal ones start with __)."""
    options = set(_spec(role)["options"])
    used = set()
    for f in (ROOT / "roles" / role).rglob("*.yml"):
        if "meta" in f.parts:
            continue
        used |= set(re.findall(r"(?<![\w.])(%s_[a-z0-9_]+)" % re.escape(role), f.read_text()))
    set_facts = {
        "%s_%s" % (role, s)
        for s in (
            "outputs",
            "provider_arn",
            "issuer",
            "role_arn",
            "cluster",
            "account_id",
            "partition",
            "controller_role",
            "api_generation",
            "node_access_method",
            "discovery_result",
            "kept",
            "installed_version",
            "release_plan",
            "crds_to_adopt",
            "service_account_to_adopt",
            "existing_nodeclasses",
            "deployed_stack",
            "pod_identity_association",
            "crd_stored_versions",
            "helm_releases",
            "aws_auth",
            "oidc_provider",
        )
    }
    assert used - options - set_facts == set()


def test_karpenter_version_pins_agree():
    """The playbook's, the roles' and the sandbox's Karpenter versions are one version."""
    sandbox = re.search(r"karpenter-provider-aws (v\S+)", (ROOT / "sandbox/go/karpenter/go.mod").read_text()).group(1)
    playbook = _defaults("karpenter")["karpenter_version"]
    assert playbook == sandbox.lstrip("v")
    assert _defaults("helm")["helm_karpenter_version"] == playbook
    assert _defaults("preflight")["preflight_karpenter_version"] == playbook
    assert _defaults("cloudformation")["cloudformation_karpenter_version"] == playbook

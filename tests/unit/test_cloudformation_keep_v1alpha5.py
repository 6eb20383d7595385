"""The stack while a migration from Karpenter 0.16 runs: the v1 template with 0.16's instance profile and policy.

files/karpenter-v1-keep-v1alpha5.yaml is merged into the v1 template (role cloudformation,
cloudformation_keep_v1alpha5) as the role's vars/main.yml does it: both parsed, combined, dumped again.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from cfn_render import Context, load, render
from cfnlint.api import lint

from ansible_collections.jit.karpenter.plugins.module_utils._karpenter_versions import template_for_version

FILES = Path(__file__).resolve().parents[2] / "roles" / "cloudformation" / "files"
KEPT = load((FILES / "karpenter-v1-keep-v1alpha5.yaml").read_text())
LEGACY = load((FILES / "karpenter-v1alpha5.yaml").read_text())
V1 = load(template_for_version((FILES / "karpenter-v1.yaml").read_text(), "1.14.3"))


def merged():
    out = dict(V1)
    for section in ("Resources", "Outputs"):
        out[section] = dict(V1[section], **KEPT[section])
    return yaml.safe_dump(out, sort_keys=False)


def test_the_kept_resources_are_the_v1alpha5_templates_under_the_same_logical_ids():
    assert sorted(KEPT["Resources"]) == ["KarpenterControllerPolicy", "KarpenterNodeInstanceProfile"]
    for name, resource in KEPT["Resources"].items():
        assert resource == LEGACY["Resources"][name]
    # The node role they refer to is the v1 template's, under the same logical ID as in v1alpha5.
    assert "KarpenterNodeRole" in V1["Resources"] and "KarpenterNodeRole" in LEGACY["Resources"]
    assert not set(KEPT["Resources"]) & set(V1["Resources"])


def test_the_kept_outputs_are_named_as_in_v1alpha5():
    for name in ("InstanceProfileName", "ControllerPolicyArn"):
        assert KEPT["Outputs"][name]["Value"] == LEGACY["Outputs"][name]["Value"]
    assert not set(KEPT["Outputs"]) & set(V1["Outputs"])


def test_the_merged_template_lints_and_renders():
    text = merged()
    assert [str(m) for m in lint(text)] == []
    rendered = render(text, Context(cluster_name="demo"))
    profile = rendered["Resources"]["KarpenterNodeInstanceProfile"]["Properties"]
    assert profile["InstanceProfileName"] == "KarpenterNodeInstanceProfile-demo"
    assert profile["Roles"] == ["KarpenterNodeRole-demo"]
    assert (
        rendered["Resources"]["KarpenterControllerPolicy"]["Properties"]["ManagedPolicyName"]
        == "KarpenterControllerPolicy-demo"
    )
    # Everything of the v1 template is there as well.
    assert set(V1["Resources"]) < set(rendered["Resources"])

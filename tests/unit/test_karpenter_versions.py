"""One Karpenter version drives the IAM, rules and CRDs: checked against upstream's files of each version.

The facts in data/karpenter_upstream.yaml were read from aws/karpenter-provider-aws (each entry names
its file and commit): the getting-started cloudformation.yaml of each minor and the karpenter-crd
chart's templates. They are never derived from the code under test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from cfn_render import Context, render

from ansible_collections.jit.karpenter.plugins.filter.karpenter_release import karpenter_release
from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError
from ansible_collections.jit.karpenter.plugins.module_utils._karpenter_versions import (
    crd_takeover,
    crd_versions,
    crds,
    parse,
    plan_change,
    template_for_version,
    validate,
)

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = (ROOT / "roles/cloudformation/files/karpenter-v1.yaml").read_text()
UPSTREAM = yaml.safe_load((Path(__file__).parent / "data/karpenter_upstream.yaml").read_text())
# The patch releases checked for each minor: the first and the newest this collection knows.
VERSIONS = [
    ("1.9", "1.9.0"),
    ("1.9", "1.9.2"),
    ("1.10", "1.10.0"),
    ("1.10", "1.10.2"),
    ("1.11", "1.11.3"),
    ("1.12", "1.12.0"),
    ("1.12", "1.12.2"),
    ("1.13", "1.13.1"),
    ("1.14", "1.14.0"),
    ("1.14", "1.14.3"),
]


def _as_list(value):
    return [value] if isinstance(value, str) else list(value)


def _model(version):
    """Policies (Sid -> effect, actions, resources, condition) and rule detail-types of our template."""
    rendered = render(template_for_version(TEMPLATE, version), Context(cluster_name="c1"))
    policies, rules = {}, []
    for resource in rendered["Resources"].values():
        props = resource["Properties"]
        if resource["Type"] == "AWS::IAM::ManagedPolicy":
            statements = {}
            for s in props["PolicyDocument"]["Statement"]:
                statements[s["Sid"]] = {
                    "effect": s["Effect"],
                    "actions": sorted(_as_list(s["Action"])),
                    "resources": sorted(_as_list(s["Resource"])),
                }
                if "Condition" in s:
                    statements[s["Sid"]]["condition"] = s["Condition"]
            policies[props["ManagedPolicyName"].removesuffix("-c1")] = statements
        if resource["Type"] == "AWS::Events::Rule":
            rules.extend(props["EventPattern"]["detail-type"])
    return policies, sorted(rules), rendered


def test_upstream_facts_cover_every_supported_minor():
    assert sorted(UPSTREAM, key=lambda v: tuple(map(int, v.split(".")))) == [
        "1.9",
        "1.10",
        "1.11",
        "1.12",
        "1.13",
        "1.14",
    ]
    for facts in UPSTREAM.values():
        assert facts["source"].startswith("aws/karpenter-provider-aws@")


@pytest.mark.parametrize("minor,version", VERSIONS)
def test_iam_matches_upstream_statement_by_statement(minor, version):
    policies, _rules, _rendered = _model(version)
    expected = UPSTREAM[minor]["policies"]
    assert sorted(policies) == sorted(expected)
    for name, statements in expected.items():
        assert sorted(policies[name]) == sorted(statements), name
        for sid, statement in statements.items():
            assert policies[name][sid] == statement, f"{version} {name} {sid} ({UPSTREAM[minor]['source']})"


@pytest.mark.parametrize("minor,version", VERSIONS)
def test_rules_match_upstream(minor, version):
    _policies, rules, _rendered = _model(version)
    assert rules == UPSTREAM[minor]["rules"]


@pytest.mark.parametrize("minor,version", VERSIONS)
def test_crds_match_the_crd_chart(minor, version):
    assert sorted(crds(version)) == sorted(UPSTREAM[minor]["crds"])
    assert crd_versions(version) == UPSTREAM[minor]["crd_versions"]


@pytest.mark.parametrize("minor,version", VERSIONS)
def test_controller_policy_arns_output_lists_each_policy(minor, version):
    _policies, _rules, rendered = _model(version)
    joined = rendered["Outputs"]["ControllerPolicyArns"]["Value"].split(",")
    names = [arn.rsplit("/", 1)[1].removesuffix("-c1") for arn in joined]
    assert sorted(names) == sorted(UPSTREAM[minor]["policies"])


def test_newest_version_gets_the_template_without_markers_only():
    body = template_for_version(TEMPLATE, "1.14.3")
    assert "# feature:" not in body
    stripped = [line.split("  # feature:")[0].rstrip() for line in TEMPLATE.splitlines()]
    assert body.splitlines() == stripped


def test_unknown_marker_is_refused_by_name():
    with pytest.raises(KarpenterError, match="'teleport'"):
        template_for_version("a: 1  # feature: teleport\n", "1.14.3")


@pytest.mark.parametrize(
    "bad",
    [
        "1.14.3 --post-renderer=/x",
        "v1.14.3",
        "1.14",
        "1.14.3-rc.1",
        " 1.14.3",
        "1.14.3\n",
        "",
        None,
        "01.14.3",
        "latest",
    ],
)
def test_not_a_plain_version_is_refused_by_name(bad):
    with pytest.raises(KarpenterError) as err:
        validate(bad)
    assert repr(str(bad) if bad is not None else "") in err.value.msg
    assert "X.Y.Z" in err.value.msg


@pytest.mark.parametrize("version", ["1.8.4", "1.8.5", "1.0.0", "0.37.0", "1.15.0", "2.0.0", "0.17.0"])
def test_unsupported_versions_are_refused(version):
    with pytest.raises(KarpenterError, match=version.replace(".", r"\.")):
        validate(version)


def test_1_8_4_gets_upstream_reason():
    with pytest.raises(KarpenterError, match="not to use 1.8.4"):
        validate("1.8.4")


@pytest.mark.parametrize("version", ["0.16.0", "0.16.3", "1.9.0", "1.12.1", "1.14.3"])
def test_supported_versions_pass(version):
    assert validate(version) == parse(version)


def test_upgrade_across_1_12_warns_of_drift_and_lists_iam_by_statement():
    plan = plan_change("1.9.2", "1.14.3")
    assert plan["direction"] == "upgrade" and not plan["refusal"]
    assert len(plan["warnings"]) == 1 and "1.12" in plan["warnings"][0] and "drifted" in plan["warnings"][0]
    text = "\n".join(plan["iam_added"])
    for expected in (
        "ec2:DescribeInstanceStatus",
        "ec2:DescribePlacementGroups",
        "placement-group/*",
        "ZonalShiftPolicy",
        "CapacityReservationInterruptionRule",
    ):
        assert expected in text
    assert plan["crds_added"] == ["capacitybuffers.autoscaling.x-k8s.io"]
    assert plan["iam_removed"] == [] and plan["crds_removed"] == []


def test_upgrade_after_1_12_does_not_warn():
    plan = plan_change("1.12.0", "1.14.3")
    assert plan["warnings"] == []
    assert plan["iam_added"] == []


def test_downgrade_across_a_minor_is_refused_naming_both_versions():
    plan = plan_change("1.14.3", "1.13.1")
    assert plan["direction"] == "downgrade"
    assert "1.14.3" in plan["refusal"] and "1.13.1" in plan["refusal"]
    assert "capacitybuffers.autoscaling.x-k8s.io" in plan["refusal"]


def test_patch_downgrade_is_allowed():
    plan = plan_change("1.14.3", "1.14.0")
    assert plan["direction"] == "downgrade" and plan["refusal"] == ""


def test_same_version_changes_nothing():
    plan = plan_change("1.14.3", "1.14.3")
    assert plan["direction"] == "same"
    assert not (plan["iam_added"] or plan["crds_added"] or plan["warnings"] or plan["refusal"])


def test_fresh_install_lists_all_crds():
    plan = plan_change(None, "1.9.2")
    assert plan["direction"] == "install"
    assert len(plan["crds_added"]) == 4


def test_filter_reports_invalid_input_without_raising():
    result = karpenter_release("1.14.3 --post-renderer=/x")
    assert result == {"valid": False, "reason": result["reason"]}
    assert "'1.14.3 --post-renderer=/x'" in result["reason"]


def test_filter_gives_crds_and_plan():
    result = karpenter_release("1.14.3", installed="1.13.0")
    assert result["valid"] and result["direction"] == "upgrade"
    assert "capacitybuffers.autoscaling.x-k8s.io" in result["crds"]
    assert result["crds_added"] == ["capacitybuffers.autoscaling.x-k8s.io"]
    assert karpenter_release("0.16.3")["crds"] == []


# --- taking over CRDs --------------------------------------------------------------------------
# Helm adopts an existing object only if it has the label app.kubernetes.io/managed-by=Helm and the
# annotations meta.helm.sh/release-name and meta.helm.sh/release-namespace of the release (helm/helm
# pkg/action/validate.go checkOwnership; Karpenter's troubleshooting guide, "Helm Error When Installing
# the karpenter-crd Chart", lists the same three for ec2nodeclasses, nodepools, nodeclaims, nodeoverlays).


STORED = {"nodeoverlays.karpenter.sh": "v1alpha1", "capacitybuffers.autoscaling.x-k8s.io": "v1beta1"}


def _crd(name, group, labels=None, annotations=None, served=None, stored=None):
    served = served or (STORED.get(name, "v1"),)
    stored = stored or (STORED.get(name, "v1"),)
    return {
        "metadata": {"name": name, "labels": labels or {}, "annotations": annotations or {}},
        "spec": {"group": group, "versions": [{"name": v, "served": True} for v in served]},
        "status": {"storedVersions": list(stored)},
    }


HELM_OWNED = {"meta.helm.sh/release-name": "karpenter-crd", "meta.helm.sh/release-namespace": "kube-system"}


def test_guide_install_crds_are_adopted():
    # The getting-started guide installs the karpenter chart alone: Helm writes crds/ without metadata.
    existing = [
        _crd("nodepools.karpenter.sh", "karpenter.sh"),
        _crd("nodeclaims.karpenter.sh", "karpenter.sh"),
        _crd("nodeoverlays.karpenter.sh", "karpenter.sh"),
        _crd("ec2nodeclasses.karpenter.k8s.aws", "karpenter.k8s.aws"),
        _crd("certificates.cert-manager.io", "cert-manager.io"),
    ]
    result = crd_takeover(existing, "1.14.3", "karpenter-crd", "kube-system")
    assert sorted(result["adopt"]) == sorted(c["metadata"]["name"] for c in existing[:4])
    assert result["owned"] == [] and result["refusals"] == [] and result["other_generation"] == []


def test_crds_of_the_release_are_owned():
    existing = [_crd("nodepools.karpenter.sh", "karpenter.sh", {"app.kubernetes.io/managed-by": "Helm"}, HELM_OWNED)]
    result = crd_takeover(existing, "1.14.3", "karpenter-crd", "kube-system")
    assert result["owned"] == ["nodepools.karpenter.sh"] and result["adopt"] == []


def test_right_annotations_without_the_label_are_adopted():
    existing = [_crd("nodepools.karpenter.sh", "karpenter.sh", {}, HELM_OWNED)]
    assert crd_takeover(existing, "1.14.3", "karpenter-crd", "kube-system")["adopt"] == ["nodepools.karpenter.sh"]


@pytest.mark.parametrize(
    "annotations,named",
    [
        ({"meta.helm.sh/release-name": "karpenter-crd", "meta.helm.sh/release-namespace": "karpenter"}, "'karpenter'"),
        ({"meta.helm.sh/release-name": "my-crds", "meta.helm.sh/release-namespace": "kube-system"}, "'my-crds'"),
    ],
)
def test_crds_of_another_release_or_namespace_are_refused_by_name(annotations, named):
    existing = [_crd("nodepools.karpenter.sh", "karpenter.sh", {"app.kubernetes.io/managed-by": "Helm"}, annotations)]
    result = crd_takeover(existing, "1.14.3", "karpenter-crd", "kube-system")
    assert result["adopt"] == [] and result["owned"] == []
    assert len(result["refusals"]) == 1
    assert "nodepools.karpenter.sh" in result["refusals"][0] and named in result["refusals"][0]


def test_crds_another_tool_manages_are_refused():
    existing = [_crd("nodeclaims.karpenter.sh", "karpenter.sh", {"app.kubernetes.io/managed-by": "argocd"})]
    result = crd_takeover(existing, "1.14.3", "karpenter-crd", "kube-system")
    assert "nodeclaims.karpenter.sh" in result["refusals"][0] and "'argocd'" in result["refusals"][0]


@pytest.mark.parametrize("served,stored", [(("v1beta1", "v1"), ("v1beta1", "v1")), (("v1beta1",), ("v1beta1",))])
def test_crds_of_another_api_generation_are_refused(served, stored):
    # kubernetes-sigs/karpenter#2157: a CRD upgrade that drops a version still in storedVersions fails.
    existing = [_crd("nodepools.karpenter.sh", "karpenter.sh", served=served, stored=stored)]
    result = crd_takeover(existing, "1.14.3", "karpenter-crd", "kube-system")
    assert result["adopt"] == []
    assert "nodepools.karpenter.sh" in result["refusals"][0] and "v1beta1" in result["refusals"][0]


def test_crds_the_version_does_not_ship_are_left_alone():
    existing = [
        _crd("provisioners.karpenter.sh", "karpenter.sh", served=("v1alpha5",), stored=("v1alpha5",)),
        _crd("capacitybuffers.autoscaling.x-k8s.io", "autoscaling.x-k8s.io", served=("v1beta1",), stored=("v1beta1",)),
    ]
    result = crd_takeover(existing, "1.13.1", "karpenter-crd", "kube-system")
    assert result == {"adopt": [], "owned": [], "refusals": [], "other_generation": ["provisioners.karpenter.sh"]}


def test_alpha_overlay_crd_storing_v1alpha1_is_adopted():
    existing = [_crd("nodeoverlays.karpenter.sh", "karpenter.sh")]
    assert crd_takeover(existing, "1.9.2", "karpenter-crd", "kube-system")["adopt"] == ["nodeoverlays.karpenter.sh"]


def test_capacitybuffers_is_taken_over_from_1_14():
    existing = [
        _crd("capacitybuffers.autoscaling.x-k8s.io", "autoscaling.x-k8s.io", served=("v1beta1",), stored=("v1beta1",))
    ]
    assert crd_takeover(existing, "1.14.3", "karpenter-crd", "kube-system")["adopt"] == [
        "capacitybuffers.autoscaling.x-k8s.io"
    ]

"""Static checks of the role cloudformation's v1 template.

The expectations here are written out by hand from Karpenter's current getting-started template
and the collection's least-privilege goals; they are never read back from the template under test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cfn_render import Context, load, prerender, render
from cfnlint.api import lint
from parliament import analyze_policy_string, enhance_finding

TEMPLATE = Path(__file__).resolve().parents[2] / "roles" / "cloudformation" / "files" / "karpenter-v1.yaml"

# EKS allows 100 characters; names this long pushed the single upstream policy past the limit.
LONG_NAME = ("karpenter-size-check-" * 5)[:100]
MANAGED_POLICY_LIMIT = 6144
# The longest name the stack can deploy: KarpenterNodeRole-<name> within IAM's 64-character role names.
LONGEST_DEPLOYABLE = 46
# AWS name limits: IAM role 64, IAM managed policy 128, SQS queue 80.
NAME_LIMITS = {
    "AWS::IAM::Role": ("RoleName", 64),
    "AWS::IAM::ManagedPolicy": ("ManagedPolicyName", 128),
    "AWS::SQS::Queue": ("QueueName", 80),
}

READ_ONLY_PREFIXES = ("Describe", "Get", "List")
# Resource types RunInstances/CreateFleet only reference; they are neither created nor changed, and
# many (public images, shared subnets) carry no tags of ours. Upstream grants them without a condition.
REFERENCED_ONLY_TYPES = {
    "image",
    "snapshot",
    "security-group",
    "subnet",
    "capacity-reservation",
    "placement-group",
}

EXPECTED_POLICIES = {
    "NodeLifecyclePolicy": {
        "name": "KarpenterControllerNodeLifecyclePolicy",
        "statements": {
            "AllowScopedEC2InstanceAccessActions": {
                "ec2:RunInstances",
                "ec2:CreateFleet",
            },
            "AllowScopedEC2LaunchTemplateAccessActions": {
                "ec2:RunInstances",
                "ec2:CreateFleet",
            },
            "AllowScopedEC2InstanceActionsWithTags": {
                "ec2:RunInstances",
                "ec2:CreateFleet",
                "ec2:CreateLaunchTemplate",
            },
            "AllowScopedResourceCreationTagging": {"ec2:CreateTags"},
            "AllowScopedResourceTagging": {"ec2:CreateTags"},
            "AllowScopedDeletion": {
                "ec2:TerminateInstances",
                "ec2:DeleteLaunchTemplate",
            },
        },
    },
    "IAMIntegrationPolicy": {
        "name": "KarpenterControllerIAMIntegrationPolicy",
        "statements": {
            "AllowPassingInstanceRole": {"iam:PassRole"},
            "AllowScopedInstanceProfileCreationActions": {"iam:CreateInstanceProfile"},
            "AllowScopedInstanceProfileTagActions": {"iam:TagInstanceProfile"},
            "AllowScopedInstanceProfileActions": {
                "iam:AddRoleToInstanceProfile",
                "iam:RemoveRoleFromInstanceProfile",
                "iam:DeleteInstanceProfile",
            },
        },
    },
    "EKSIntegrationPolicy": {
        "name": "KarpenterControllerEKSIntegrationPolicy",
        "statements": {"AllowAPIServerEndpointDiscovery": {"eks:DescribeCluster"}},
    },
    "InterruptionPolicy": {
        "name": "KarpenterControllerInterruptionPolicy",
        "statements": {
            "AllowInterruptionQueueActions": {
                "sqs:DeleteMessage",
                "sqs:GetQueueUrl",
                "sqs:ReceiveMessage",
            }
        },
    },
    "ResourceDiscoveryPolicy": {
        "name": "KarpenterControllerResourceDiscoveryPolicy",
        "statements": {
            "AllowRegionalReadActions": {
                "ec2:DescribeCapacityReservations",
                "ec2:DescribeImages",
                "ec2:DescribeInstances",
                "ec2:DescribeInstanceStatus",
                "ec2:DescribeInstanceTypeOfferings",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplates",
                "ec2:DescribePlacementGroups",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSpotPriceHistory",
                "ec2:DescribeSubnets",
            },
            "AllowSSMReadActions": {"ssm:GetParameter"},
            "AllowPricingReadActions": {"pricing:GetProducts"},
            "AllowUnscopedInstanceProfileListAction": {"iam:ListInstanceProfiles"},
            "AllowInstanceProfileReadActions": {"iam:GetInstanceProfile"},
        },
    },
    "ZonalShiftPolicy": {
        "name": "KarpenterControllerZonalShiftPolicy",
        "statements": {"AllowZonalShiftStatusReadOnly": {"arc-zonal-shift:GetManagedResource"}},
    },
}

EXPECTED_RULES = {
    "ScheduledChangeRule": ("aws.health", "AWS Health Event"),
    "SpotInterruptionRule": ("aws.ec2", "EC2 Spot Instance Interruption Warning"),
    "RebalanceRule": ("aws.ec2", "EC2 Instance Rebalance Recommendation"),
    "InstanceStateChangeRule": ("aws.ec2", "EC2 Instance State-change Notification"),
    "CapacityReservationInterruptionRule": (
        "aws.ec2",
        "EC2 Capacity Reservation Instance Interruption Warning",
    ),
}

EXPECTED_OUTPUTS = {
    "ClusterName",
    "NodeRoleName",
    "NodeRoleArn",
    "NodeLifecyclePolicyArn",
    "IAMIntegrationPolicyArn",
    "EKSIntegrationPolicyArn",
    "InterruptionPolicyArn",
    "ResourceDiscoveryPolicyArn",
    "ZonalShiftPolicyArn",
    "ControllerPolicyArns",
    "InterruptionQueueName",
    "InterruptionQueueArn",
    "InterruptionQueueUrl",
}

# Parliament findings at or below this severity are tolerated; anything above fails the test.
TOLERATED_SEVERITIES = {"LOW", "INFO", "MUTE"}
# Findings above LOW that are accepted when they name only these actions: (policy, issue, actions) -> reason.
ACCEPTED_FINDINGS = {
    (
        "NodeLifecyclePolicy",
        "RESOURCE_MISMATCH",
        frozenset({"ec2:RunInstances", "ec2:CreateFleet"}),
    ): (
        "RunInstances and CreateFleet are authorised per resource type, and the policy grants the types in "
        "three statements with different conditions (referenced-only, launch templates we own, resources "
        "created with our tags). Parliament expects every type the action touches in each statement."
    ),
    ("ResourceDiscoveryPolicy", "RESOURCE_MISMATCH", frozenset({"ssm:GetParameter"})): (
        "Public parameters under /aws/service/ are AWS-owned and their ARN has an empty account field; "
        "parliament's pattern wants an account."
    ),
}

# A cluster name per partition, padded to the longest the name and ARNs can get.
CONTEXTS = {
    "aws": Context(cluster_name=LONG_NAME),
    "aws-us-gov": Context(cluster_name=LONG_NAME, partition="aws-us-gov", region="us-gov-west-1"),
    "aws-cn": Context(
        cluster_name=LONG_NAME,
        partition="aws-cn",
        region="cn-northwest-1",
        url_suffix="amazonaws.com.cn",
    ),
}


@pytest.fixture(scope="module")
def text() -> str:
    return TEMPLATE.read_text(encoding="utf-8")


@pytest.fixture(scope="module", params=sorted(CONTEXTS))
def ctx(request) -> Context:
    return CONTEXTS[request.param]


@pytest.fixture(scope="module")
def rendered(text, ctx) -> dict:
    return render(text, ctx)


def _policies(rendered: dict) -> dict:
    return {
        logical: resource["Properties"]
        for logical, resource in rendered["Resources"].items()
        if resource["Type"] == "AWS::IAM::ManagedPolicy"
    }


def _statements(rendered: dict):
    for logical, props in _policies(rendered).items():
        for statement in props["PolicyDocument"]["Statement"]:
            yield logical, statement


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _is_read_only(action: str) -> bool:
    return action.split(":", 1)[1].startswith(READ_ONLY_PREFIXES)


def _arn_type(arn: str) -> str:
    return arn.split(":", 5)[5].split("/", 1)[0]


def _cluster_owned(condition: dict, cluster: str) -> bool:
    """True when the condition requires the cluster's ownership tag on the resource or the request."""
    equals = condition.get("StringEquals", {})
    return any(
        equals.get(f"aws:{kind}/kubernetes.io/cluster/{cluster}") == "owned" for kind in ("ResourceTag", "RequestTag")
    )


# --- the template as a file ---------------------------------------------------------------------


def test_cfn_lint_passes_on_the_template_file(text):
    assert [str(match) for match in lint(text)] == []


def test_cfn_lint_passes_on_the_prerendered_template(text):
    # The body the role uploads for the longest deployable name. W1020 ("Fn::Sub isn't needed") is
    # expected there: a !Sub whose only variable was the cluster name is now a plain string.
    matches = lint(prerender(text, "n" * LONGEST_DEPLOYABLE))
    assert [str(match) for match in matches if match.rule.id != "W1020"] == []


@pytest.mark.parametrize(("length", "fits"), [(LONGEST_DEPLOYABLE, True), (LONGEST_DEPLOYABLE + 1, False)])
def test_resource_names_fit_aws_limits_up_to_the_longest_deployable_name(text, length, fits):
    template = render(text, Context(cluster_name="n" * length))
    too_long = [
        logical
        for logical, resource in template["Resources"].items()
        if resource["Type"] in NAME_LIMITS
        and len(resource["Properties"][NAME_LIMITS[resource["Type"]][0]]) > NAME_LIMITS[resource["Type"]][1]
    ]
    assert too_long == ([] if fits else ["KarpenterNodeRole"])


def test_only_cluster_name_is_substituted_in_mapping_keys(text):
    # CloudFormation never substitutes keys; the role resolves ${ClusterName} and nothing else.
    def keys(node):
        if isinstance(node, dict):
            for key, value in node.items():
                yield key
                yield from keys(value)
        elif isinstance(node, list):
            for item in node:
                yield from keys(item)

    placeholders = {key for key in keys(load(text)) if isinstance(key, str) and "${" in key}
    assert placeholders, "the tag-key conditions should name the cluster"
    for key in placeholders:
        assert key.replace("${ClusterName}", "").count("${") == 0, key


def test_prerendering_leaves_no_cluster_placeholder(text):
    assert "${ClusterName}" not in prerender(text, "demo")


def test_policy_documents_are_mappings_not_json_strings(text):
    template = load(text)
    for logical, resource in template["Resources"].items():
        document = resource.get("Properties", {}).get("PolicyDocument")
        if document is not None:
            assert isinstance(document, dict), logical


def test_cluster_name_parameter_matches_eks_rules(text):
    parameter = load(text)["Parameters"]["ClusterName"]
    assert parameter["MaxLength"] == LONGEST_DEPLOYABLE
    assert parameter["AllowedPattern"] == "^[0-9A-Za-z][A-Za-z0-9_-]*$"


# --- node role ----------------------------------------------------------------------------------


def test_node_role_trusts_ec2_with_the_four_worker_policies(rendered, ctx):
    role = rendered["Resources"]["KarpenterNodeRole"]["Properties"]
    assert role["RoleName"] == f"KarpenterNodeRole-{LONG_NAME}"
    assert role["Path"] == "/"
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": f"ec2.{ctx.url_suffix}"},
            "Action": "sts:AssumeRole",
        }
    ]
    assert sorted(role["ManagedPolicyArns"]) == sorted(
        f"arn:{ctx.partition}:iam::aws:policy/{name}"
        for name in (
            "AmazonEKS_CNI_Policy",
            "AmazonEKSWorkerNodePolicy",
            "AmazonEC2ContainerRegistryPullOnly",
            "AmazonSSMManagedInstanceCore",
        )
    )
    assert "Policies" not in role


def test_no_instance_profile_is_created(rendered):
    # Karpenter 1.x creates instance profiles itself from EC2NodeClass.spec.role.
    kinds = {resource["Type"] for resource in rendered["Resources"].values()}
    assert "AWS::IAM::InstanceProfile" not in kinds


# --- controller policies ------------------------------------------------------------------------


def test_controller_policies_are_the_upstream_split(rendered):
    policies = _policies(rendered)
    assert set(policies) == set(EXPECTED_POLICIES)
    for logical, expected in EXPECTED_POLICIES.items():
        props = policies[logical]
        assert props["ManagedPolicyName"] == f"{expected['name']}-{LONG_NAME}"
        statements = props["PolicyDocument"]["Statement"]
        assert [s["Sid"] for s in statements] == list(expected["statements"]), logical
        for statement in statements:
            assert set(_as_list(statement["Action"])) == expected["statements"][statement["Sid"]], statement["Sid"]
            assert statement["Effect"] == "Allow"


def test_controller_policies_stand_alone(rendered):
    # The controller role is created elsewhere; nothing in this stack attaches the policies.
    for props in _policies(rendered).values():
        assert not {"Roles", "Users", "Groups"} & set(props)


@pytest.mark.parametrize("logical", sorted(EXPECTED_POLICIES))
def test_policy_fits_the_managed_policy_limit(rendered, logical):
    document = _policies(rendered)[logical]["PolicyDocument"]
    size = len(json.dumps(document, separators=(",", ":")))
    assert size <= MANAGED_POLICY_LIMIT, f"{logical}: {size} characters"


def test_size_check_measures_the_long_name(rendered):
    # Guard the guard: the measured documents really carry the 100-character name.
    document = json.dumps(_policies(rendered)["NodeLifecyclePolicy"]["PolicyDocument"])
    assert document.count(LONG_NAME) >= 8


@pytest.mark.parametrize("logical", sorted(EXPECTED_POLICIES))
def test_parliament_finds_nothing_above_low(rendered, logical):
    policy = analyze_policy_string(json.dumps(_policies(rendered)[logical]["PolicyDocument"]))
    serious = []
    for finding in map(enhance_finding, policy.findings):
        if finding.severity in TOLERATED_SEVERITIES:
            continue
        actions = frozenset(item["action"] for item in finding.detail if isinstance(item, dict))
        accepted = any(
            (policy_name, issue) == (logical, finding.issue) and actions and actions <= allowed
            for policy_name, issue, allowed in ACCEPTED_FINDINGS
        )
        if not accepted:
            serious.append((finding.issue, finding.severity, finding.detail))
    assert serious == []


def test_every_mutating_ec2_statement_is_tag_conditioned(rendered):
    checked = 0
    for logical, statement in _statements(rendered):
        mutating = [a for a in _as_list(statement["Action"]) if a.startswith("ec2:") and not _is_read_only(a)]
        if not mutating:
            continue
        checked += 1
        resources = _as_list(statement["Resource"])
        if statement["Sid"] == "AllowScopedEC2InstanceAccessActions":
            # Accepted: referenced-only resource types, see REFERENCED_ONLY_TYPES.
            assert {_arn_type(arn) for arn in resources} == REFERENCED_ONLY_TYPES
            assert set(mutating) == {"ec2:RunInstances", "ec2:CreateFleet"}
            continue
        assert _cluster_owned(statement.get("Condition", {}), LONG_NAME), (
            logical,
            statement["Sid"],
        )
        assert statement["Condition"]["StringLike"] in (
            {"aws:ResourceTag/karpenter.sh/nodepool": "*"},
            {"aws:RequestTag/karpenter.sh/nodepool": "*"},
        ), statement["Sid"]
    assert checked == 6


def test_tagging_is_limited_to_creation_or_karpenter_keys(rendered):
    for _logical, statement in _statements(rendered):
        if "ec2:CreateTags" not in _as_list(statement["Action"]):
            continue
        condition = statement["Condition"]
        at_creation = condition["StringEquals"].get("ec2:CreateAction") == [
            "RunInstances",
            "CreateFleet",
            "CreateLaunchTemplate",
        ]
        karpenter_keys = condition.get("ForAllValues:StringEquals", {}).get("aws:TagKeys") == [
            "eks:eks-cluster-name",
            "karpenter.sh/nodeclaim",
            "Name",
        ]
        assert at_creation or karpenter_keys, statement["Sid"]


def test_no_wildcard_resource_on_mutating_actions(rendered):
    for logical, statement in _statements(rendered):
        if "*" in _as_list(statement["Resource"]):
            writes = [a for a in _as_list(statement["Action"]) if not _is_read_only(a)]
            assert writes == [], (logical, statement["Sid"])


def test_no_wildcard_actions(rendered):
    for _logical, statement in _statements(rendered):
        for action in _as_list(statement["Action"]):
            assert "*" not in action, statement["Sid"]


def test_pass_role_only_for_the_node_role_to_ec2(rendered, ctx):
    grants = [(logical, s) for logical, s in _statements(rendered) if "iam:PassRole" in _as_list(s["Action"])]
    assert len(grants) == 1
    logical, statement = grants[0]
    assert logical == "IAMIntegrationPolicy"
    assert statement["Action"] == "iam:PassRole"
    assert statement["Resource"] == f"arn:{ctx.partition}:iam::{ctx.account_id}:role/KarpenterNodeRole-{LONG_NAME}"
    assert statement["Condition"] == {
        "StringEquals": {"iam:PassedToService": ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"]}
    }


def test_instance_profile_actions_are_scoped_to_cluster_and_region(rendered, ctx):
    for _logical, statement in _statements(rendered):
        actions = _as_list(statement["Action"])
        if not any(a.endswith("InstanceProfile") and not _is_read_only(a) for a in actions):
            continue
        assert statement["Resource"] == f"arn:{ctx.partition}:iam::{ctx.account_id}:instance-profile/*"
        equals = statement["Condition"]["StringEquals"]
        assert _cluster_owned(statement["Condition"], LONG_NAME), statement["Sid"]
        assert ctx.region in equals.values(), statement["Sid"]


def test_reads_and_single_resources_are_scoped(rendered, ctx):
    statements = {s["Sid"]: s for _logical, s in _statements(rendered)}
    assert statements["AllowRegionalReadActions"]["Condition"] == {"StringEquals": {"aws:RequestedRegion": ctx.region}}
    assert statements["AllowAPIServerEndpointDiscovery"]["Resource"] == (
        f"arn:{ctx.partition}:eks:{ctx.region}:{ctx.account_id}:cluster/{LONG_NAME}"
    )
    assert statements["AllowInterruptionQueueActions"]["Resource"] == (
        f"arn:{ctx.partition}:sqs:{ctx.region}:{ctx.account_id}:{LONG_NAME}"
    )
    assert statements["AllowSSMReadActions"]["Resource"] == (
        f"arn:{ctx.partition}:ssm:{ctx.region}::parameter/aws/service/*"
    )
    assert statements["AllowZonalShiftStatusReadOnly"]["Condition"] == {
        "StringEquals": {
            "arc-zonal-shift:ResourceIdentifier": f"arn:{ctx.partition}:eks:{ctx.region}:{ctx.account_id}:cluster/{LONG_NAME}"
        }
    }


# --- interruption queue and rules ---------------------------------------------------------------


def test_interruption_queue_is_named_for_the_cluster(rendered):
    queue = rendered["Resources"]["KarpenterInterruptionQueue"]["Properties"]
    assert queue == {
        "QueueName": LONG_NAME,
        "MessageRetentionPeriod": 300,
        "SqsManagedSseEnabled": True,
    }


def test_queue_policy_allows_events_and_denies_plain_http(rendered, ctx):
    policy = rendered["Resources"]["KarpenterInterruptionQueuePolicy"]["Properties"]
    queue_arn = f"arn:{ctx.partition}:sqs:{ctx.region}:{ctx.account_id}:{LONG_NAME}"
    assert policy["Queues"] == [f"https://sqs.{ctx.region}.{ctx.url_suffix}/{ctx.account_id}/{LONG_NAME}"]
    allow, deny = policy["PolicyDocument"]["Statement"]
    assert allow == {
        "Sid": "AllowInterruptionEvents",
        "Effect": "Allow",
        "Principal": {"Service": ["events.amazonaws.com", "sqs.amazonaws.com"]},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
    }
    assert deny == {
        "Sid": "DenyHTTP",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "sqs:*",
        "Resource": queue_arn,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def test_event_rules_target_the_queue(rendered, ctx):
    queue_arn = f"arn:{ctx.partition}:sqs:{ctx.region}:{ctx.account_id}:{LONG_NAME}"
    rules = {
        logical: resource["Properties"]
        for logical, resource in rendered["Resources"].items()
        if resource["Type"] == "AWS::Events::Rule"
    }
    assert set(rules) == set(EXPECTED_RULES)
    for logical, (source, detail_type) in EXPECTED_RULES.items():
        assert rules[logical]["EventPattern"] == {
            "source": [source],
            "detail-type": [detail_type],
        }
        assert rules[logical]["Targets"] == [{"Id": "KarpenterInterruptionQueueTarget", "Arn": queue_arn}]


# --- outputs ------------------------------------------------------------------------------------


def test_outputs_give_later_roles_what_they_need(rendered, ctx):
    outputs = {key: value["Value"] for key, value in rendered["Outputs"].items()}
    assert set(outputs) == EXPECTED_OUTPUTS
    policy_arns = [
        f"arn:{ctx.partition}:iam::{ctx.account_id}:policy/{EXPECTED_POLICIES[logical]['name']}-{LONG_NAME}"
        for logical in (
            "NodeLifecyclePolicy",
            "IAMIntegrationPolicy",
            "EKSIntegrationPolicy",
            "InterruptionPolicy",
            "ResourceDiscoveryPolicy",
            "ZonalShiftPolicy",
        )
    ]
    assert outputs["ControllerPolicyArns"].split(",") == policy_arns
    assert outputs["NodeRoleName"] == f"KarpenterNodeRole-{LONG_NAME}"
    assert outputs["InterruptionQueueName"] == LONG_NAME
    exported = {key for key, value in rendered["Outputs"].items() if "Export" in value}
    assert {key for key in EXPECTED_OUTPUTS if key.endswith("PolicyArn")} | {"ControllerPolicyArns"} <= exported

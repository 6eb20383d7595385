"""Access entries, access policies, Pod Identity associations and add-ons (eks_extensions).

Every successful EKS response in these tests is checked against botocore's EKS model: the
raw JSON body may hold only the output shape's members, with their types and enum values,
and must hold the required ones.
"""

import datetime
import json
import re

import botocore.session
import pytest

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
EKS_MODEL = botocore.session.get_session().get_service_model("eks")
POLICY = "arn:aws:eks::aws:cluster-access-policy/"
TRUST_PODS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
        }
    ],
}
_JSON_TYPES = {
    "string": str,
    "boolean": bool,
    "integer": int,
    "long": int,
    "timestamp": (int, float),
    "list": list,
    "map": dict,
    "structure": dict,
}


def shape_errors(shape, value, where="$"):
    """Ways ``value`` (decoded JSON) breaks ``shape``; empty when it conforms."""
    expected = _JSON_TYPES.get(shape.type_name)
    if expected and (not isinstance(value, expected) or (shape.type_name != "boolean" and isinstance(value, bool))):
        return [f"{where}: {type(value).__name__} is not {shape.type_name}"]
    errors = []
    if shape.type_name == "string" and shape.enum and value not in shape.enum:
        errors.append(f"{where}: {value!r} not in {shape.enum}")
    elif shape.type_name == "structure":
        members = {
            name: member
            for name, member in shape.members.items()
            if member.serialization.get("location") in (None, "body")
        }
        errors += [f"{where}: unknown member {k}" for k in set(value) - set(members)]
        errors += [f"{where}: missing required {k}" for k in shape.required_members if k in members and k not in value]
        for name, member in members.items():
            if name in value:
                errors += shape_errors(member, value[name], f"{where}.{name}")
    elif shape.type_name == "list":
        for index, item in enumerate(value):
            errors += shape_errors(shape.member, item, f"{where}[{index}]")
    elif shape.type_name == "map":
        for key, item in value.items():
            errors += shape_errors(shape.value, item, f"{where}[{key!r}]")
    return errors


def test_shape_errors_catches_what_it_should():
    entry = EKS_MODEL.shape_for("AccessEntry")
    assert shape_errors(entry, {"type": "STANDARD", "kubernetesGroups": []}) == []
    assert shape_errors(entry, {"extra": 1}) == ["$: unknown member extra"]
    assert shape_errors(entry, {"kubernetesGroups": "x"})
    assert shape_errors(EKS_MODEL.shape_for("AccessScope"), {"type": "everything"}) == [
        "$.type: 'everything' not in ['cluster', 'namespace']"
    ]
    # clusterName and principalArn travel in the URI, so only body members count.
    assert shape_errors(EKS_MODEL.shape_for("AssociateAccessPolicyRequest"), {}) == [
        "$: missing required policyArn",
        "$: missing required accessScope",
    ]


@pytest.fixture
def eks(emulator):
    """An EKS client whose every successful response is validated against the model."""
    client = emulator.client("eks")
    checked = []

    def validate(http_response, model, **_):
        if http_response.status_code >= 300:
            return
        body = json.loads(http_response.content or b"{}")
        errors = shape_errors(model.output_shape, body) if model.output_shape else []
        assert errors == [], f"{model.name}: {errors}"
        checked.append(model.name)

    client.meta.events.register("after-call.eks", validate)
    client.checked = checked
    return client


@pytest.fixture
def api_cluster(bare_cluster, unique):
    # Without the creator's own entry, so that the tests see only the entries they make.
    return bare_cluster(
        "ae-" + unique,
        accessConfig={
            "authenticationMode": "API",
            "bootstrapClusterCreatorAdminPermissions": False,
        },
    )


@pytest.fixture
def role(emulator, unique):
    """Make an IAM role (with an optional path); returns its ARN."""

    def make(name, path="/"):
        return emulator.client("iam").create_role(
            RoleName=f"{name}-{unique}",
            Path=path,
            AssumeRolePolicyDocument=json.dumps(TRUST_PODS),
        )["Role"]["Arn"]

    return make


def _code(err):
    return err.value.response["Error"]["Code"]


# --- access entries --------------------------------------------------------------------


def test_access_entry_lifecycle(eks, api_cluster, role, unique):
    name = api_cluster["name"]
    role_arn = role("admins", path="/teams/platform/")  # access entries allow paths
    user_arn = f"arn:aws:iam::{ACCOUNT_ID}:user/alice-{unique}"

    created = eks.create_access_entry(
        clusterName=name,
        principalArn=role_arn,
        kubernetesGroups=["platform-admins"],
        tags={"team": "platform"},
    )["accessEntry"]
    assert created["type"] == "STANDARD"
    assert created["principalArn"] == role_arn
    assert created["kubernetesGroups"] == ["platform-admins"]
    assert created["username"] == (f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/admins-{unique}/{{{{SessionName}}}}")
    assert created["tags"] == {"team": "platform"}
    assert re.fullmatch(
        rf"arn:aws:eks:{REGION}:{ACCOUNT_ID}:access-entry/{name}/role/{ACCOUNT_ID}/"
        rf"admins-{unique}/[0-9a-f-]{{36}}",
        created["accessEntryArn"],
    )
    assert isinstance(created["createdAt"], datetime.datetime)

    user = eks.create_access_entry(clusterName=name, principalArn=user_arn, username="alice")["accessEntry"]
    assert user["username"] == "alice" and user["kubernetesGroups"] == []

    described = eks.describe_access_entry(clusterName=name, principalArn=role_arn)
    assert described["accessEntry"] == created
    assert sorted(eks.list_access_entries(clusterName=name)["accessEntries"]) == sorted([role_arn, user_arn])

    updated = eks.update_access_entry(clusterName=name, principalArn=role_arn, kubernetesGroups=["viewers"])[
        "accessEntry"
    ]
    assert updated["kubernetesGroups"] == ["viewers"]
    assert updated["username"] == created["username"]
    assert updated["modifiedAt"] >= created["modifiedAt"]

    eks.delete_access_entry(clusterName=name, principalArn=role_arn)
    assert eks.list_access_entries(clusterName=name)["accessEntries"] == [user_arn]
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.describe_access_entry(clusterName=name, principalArn=role_arn)
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.delete_access_entry(clusterName=name, principalArn=role_arn)
    assert {"CreateAccessEntry", "DescribeAccessEntry", "ListAccessEntries"} <= set(eks.checked)


@pytest.mark.parametrize(
    "entry_type, username, groups",
    [
        ("EC2_LINUX", "system:node:{{EC2PrivateDNSName}}", ["system:nodes"]),
        (
            "EC2_WINDOWS",
            "system:node:{{EC2PrivateDNSName}}",
            ["eks:kube-proxy-windows", "system:nodes"],
        ),
        (
            "FARGATE_LINUX",
            "system:node:{{SessionName}}",
            ["system:bootstrappers", "system:node-proxier", "system:nodes"],
        ),
        ("HYBRID_LINUX", "system:node:{{SessionName}}", ["system:nodes"]),
    ],
)
def test_node_entry_types_get_eks_identity(eks, api_cluster, role, entry_type, username, groups):
    name = api_cluster["name"]
    role_arn = role("node", path="/nodes/")
    entry = eks.create_access_entry(clusterName=name, principalArn=role_arn, type=entry_type)["accessEntry"]
    assert (entry["type"], entry["username"]) == (entry_type, username)
    assert sorted(entry["kubernetesGroups"]) == groups

    user_arn = f"arn:aws:iam::{ACCOUNT_ID}:user/someone"
    for kwargs in (
        {"principalArn": user_arn},  # node types take roles only
        {"principalArn": role("other"), "kubernetesGroups": ["extra"]},
        {"principalArn": role("third"), "username": "custom"},
    ):
        with pytest.raises(eks.exceptions.InvalidParameterException):
            eks.create_access_entry(clusterName=name, type=entry_type, **kwargs)
    with pytest.raises(eks.exceptions.InvalidParameterException):
        eks.update_access_entry(clusterName=name, principalArn=role_arn, kubernetesGroups=["x"])
    assert eks.list_access_entries(clusterName=name)["accessEntries"] == [role_arn]


def test_access_entry_rejects_bad_input(eks, api_cluster, role):
    name = api_cluster["name"]
    role_arn = role("dup")
    eks.create_access_entry(clusterName=name, principalArn=role_arn)
    with pytest.raises(eks.exceptions.ResourceInUseException):
        eks.create_access_entry(clusterName=name, principalArn=role_arn, type="EC2_LINUX")
    for kwargs in (
        {"principalArn": role("typed"), "type": "EC2"},
        {"principalArn": "arn:aws:iam::123456789012:policy/not-a-principal"},
        {"principalArn": "not-an-arn"},
        {"principalArn": role("reserved"), "username": "system:admin"},
    ):
        with pytest.raises(eks.exceptions.InvalidParameterException):
            eks.create_access_entry(clusterName=name, **kwargs)
    assert eks.list_access_entries(clusterName=name)["accessEntries"] == [role_arn]


def test_access_entries_need_an_existing_cluster(eks, unique):
    principal = f"arn:aws:iam::{ACCOUNT_ID}:role/r"
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.create_access_entry(clusterName="absent-" + unique, principalArn=principal)
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.list_access_entries(clusterName="absent-" + unique)


def test_authentication_mode_gates_access_entries(eks, bare_cluster, role, unique):
    name = bare_cluster("mode-" + unique)["name"]  # CONFIG_MAP by default
    role_arn = role("gate")
    with pytest.raises(eks.exceptions.InvalidRequestException) as err:
        eks.create_access_entry(clusterName=name, principalArn=role_arn)
    assert "CONFIG_MAP does not allow access entries" in str(err.value)
    with pytest.raises(eks.exceptions.InvalidRequestException):
        eks.list_access_entries(clusterName=name)

    eks.update_cluster_config(name=name, accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"})
    entry = eks.create_access_entry(clusterName=name, principalArn=role_arn, type="EC2_LINUX")["accessEntry"]
    assert entry["type"] == "EC2_LINUX"
    assert eks.list_access_entries(clusterName=name)["accessEntries"] == [role_arn]


def test_delete_cluster_removes_its_entries(eks, bare_cluster, role, unique):
    name = "gone-" + unique
    access = {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False}
    bare_cluster(name, accessConfig=access)
    eks.create_access_entry(clusterName=name, principalArn=role("kept"))
    eks.delete_cluster(name=name)
    bare_cluster(name, accessConfig=access)
    assert eks.list_access_entries(clusterName=name)["accessEntries"] == []


def test_list_access_entries_pages(eks, api_cluster, role):
    name = api_cluster["name"]
    arns = sorted(role(f"page{i}") for i in range(3))
    for arn in arns:
        eks.create_access_entry(clusterName=name, principalArn=arn)
    first = eks.list_access_entries(clusterName=name, maxResults=2)
    assert first["accessEntries"] == arns[:2] and first["nextToken"]
    pages = eks.get_paginator("list_access_entries").paginate(clusterName=name, PaginationConfig={"PageSize": 1})
    assert [arn for page in pages for arn in page["accessEntries"]] == arns


# --- access policies -------------------------------------------------------------------


def test_list_access_policies(eks):
    policies = eks.list_access_policies()["accessPolicies"]
    arns = {p["arn"] for p in policies}
    for name in ("ClusterAdmin", "Admin", "Edit", "View"):
        assert f"{POLICY}AmazonEKS{name}Policy" in arns
    assert all(p["arn"] == POLICY + p["name"] for p in policies)


def test_access_policy_association(eks, api_cluster, role):
    name = api_cluster["name"]
    principal = role("viewer")
    eks.create_access_entry(clusterName=name, principalArn=principal)
    view = POLICY + "AmazonEKSViewPolicy"

    result = eks.associate_access_policy(
        clusterName=name,
        principalArn=principal,
        policyArn=view,
        accessScope={"type": "namespace", "namespaces": ["team-a"]},
    )
    assert (result["clusterName"], result["principalArn"]) == (name, principal)
    first = result["associatedAccessPolicy"]
    assert first["accessScope"] == {"type": "namespace", "namespaces": ["team-a"]}

    again = eks.associate_access_policy(  # associating again replaces the scope
        clusterName=name,
        principalArn=principal,
        policyArn=view,
        accessScope={"type": "cluster"},
    )["associatedAccessPolicy"]
    assert again["accessScope"] == {"type": "cluster", "namespaces": []}
    assert again["associatedAt"] == first["associatedAt"]

    listed = eks.list_associated_access_policies(clusterName=name, principalArn=principal)
    assert [p["policyArn"] for p in listed["associatedAccessPolicies"]] == [view]
    assert eks.list_access_entries(clusterName=name, associatedPolicyArn=view)["accessEntries"] == [principal]
    assert (
        eks.list_access_entries(clusterName=name, associatedPolicyArn=POLICY + "AmazonEKSEditPolicy")["accessEntries"]
        == []
    )

    eks.disassociate_access_policy(clusterName=name, principalArn=principal, policyArn=view)
    assert (
        eks.list_associated_access_policies(clusterName=name, principalArn=principal)["associatedAccessPolicies"] == []
    )
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.disassociate_access_policy(clusterName=name, principalArn=principal, policyArn=view)
    assert {"AssociateAccessPolicy", "ListAssociatedAccessPolicies"} <= set(eks.checked)


def test_access_policy_rules(eks, api_cluster, role):
    name = api_cluster["name"]
    node = role("node")
    standard = role("standard")
    eks.create_access_entry(clusterName=name, principalArn=node, type="EC2_LINUX")
    eks.create_access_entry(clusterName=name, principalArn=standard)
    admin = POLICY + "AmazonEKSClusterAdminPolicy"
    cluster_scope = {"type": "cluster"}

    with pytest.raises(eks.exceptions.InvalidRequestException):  # STANDARD only
        eks.associate_access_policy(
            clusterName=name,
            principalArn=node,
            policyArn=admin,
            accessScope=cluster_scope,
        )
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.associate_access_policy(
            clusterName=name,
            principalArn=standard,
            policyArn=POLICY + "AmazonEKSNoSuchPolicy",
            accessScope=cluster_scope,
        )
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.associate_access_policy(
            clusterName=name,
            principalArn=role("no-entry"),
            policyArn=admin,
            accessScope=cluster_scope,
        )
    with pytest.raises(eks.exceptions.InvalidParameterException):
        eks.associate_access_policy(
            clusterName=name,
            principalArn=standard,
            policyArn=admin,
            accessScope={"type": "namespace"},
        )
    assert (
        eks.list_associated_access_policies(clusterName=name, principalArn=standard)["associatedAccessPolicies"] == []
    )


# --- Pod Identity associations ---------------------------------------------------------


def test_pod_identity_association_lifecycle(eks, api_cluster, role):
    name = api_cluster["name"]
    controller = role("karpenter")
    created = eks.create_pod_identity_association(
        clusterName=name,
        namespace="kube-system",
        serviceAccount="karpenter",
        roleArn=controller,
        tags={"app": "karpenter"},
    )["association"]
    association_id = created["associationId"]
    assert re.fullmatch(r"a-[a-z0-9]{17}", association_id)
    assert created["associationArn"] == (
        f"arn:aws:eks:{REGION}:{ACCOUNT_ID}:podidentityassociation/{name}/{association_id}"
    )
    assert (created["namespace"], created["serviceAccount"], created["roleArn"]) == (
        "kube-system",
        "karpenter",
        controller,
    )
    assert created["disableSessionTags"] is False

    eks.create_pod_identity_association(clusterName=name, namespace="apps", serviceAccount="web", roleArn=controller)
    described = eks.describe_pod_identity_association(clusterName=name, associationId=association_id)["association"]
    assert described == created

    listed = eks.list_pod_identity_associations(clusterName=name)["associations"]
    assert [(a["namespace"], a["serviceAccount"]) for a in listed] == [
        ("apps", "web"),
        ("kube-system", "karpenter"),
    ]
    only = eks.list_pod_identity_associations(clusterName=name, namespace="kube-system", serviceAccount="karpenter")[
        "associations"
    ]
    assert [a["associationId"] for a in only] == [association_id]
    assert eks.list_pod_identity_associations(clusterName=name, serviceAccount="nobody")["associations"] == []

    other = role("karpenter-next")
    updated = eks.update_pod_identity_association(clusterName=name, associationId=association_id, roleArn=other)[
        "association"
    ]
    assert updated["roleArn"] == other
    assert updated["createdAt"] == created["createdAt"]

    deleted = eks.delete_pod_identity_association(clusterName=name, associationId=association_id)["association"]
    assert deleted["associationId"] == association_id
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.describe_pod_identity_association(clusterName=name, associationId=association_id)
    assert {
        "CreatePodIdentityAssociation",
        "ListPodIdentityAssociations",
        "UpdatePodIdentityAssociation",
        "DeletePodIdentityAssociation",
    } <= set(eks.checked)


def test_pod_identity_association_rules(eks, api_cluster, role, unique):
    name = api_cluster["name"]
    controller = role("controller")
    eks.create_pod_identity_association(
        clusterName=name,
        namespace="kube-system",
        serviceAccount="karpenter",
        roleArn=controller,
    )
    with pytest.raises(eks.exceptions.ResourceInUseException):
        eks.create_pod_identity_association(
            clusterName=name,
            namespace="kube-system",
            serviceAccount="karpenter",
            roleArn=controller,
        )
    missing = f"arn:aws:iam::{ACCOUNT_ID}:role/missing-{unique}"
    with pytest.raises(eks.exceptions.InvalidParameterException):
        eks.create_pod_identity_association(clusterName=name, namespace="apps", serviceAccount="web", roleArn=missing)
    association_id = eks.list_pod_identity_associations(clusterName=name)["associations"][0]["associationId"]
    with pytest.raises(eks.exceptions.InvalidParameterException):
        eks.update_pod_identity_association(clusterName=name, associationId=association_id, roleArn=missing)
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.create_pod_identity_association(
            clusterName="absent-" + unique,
            namespace="apps",
            serviceAccount="web",
            roleArn=controller,
        )
    assert len(eks.list_pod_identity_associations(clusterName=name)["associations"]) == 1


# --- add-ons ---------------------------------------------------------------------------


def test_pod_identity_agent_addon(eks, api_cluster):
    name = api_cluster["name"]
    assert eks.list_addons(clusterName=name)["addons"] == []
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.describe_addon(clusterName=name, addonName="eks-pod-identity-agent")

    addon = eks.create_addon(clusterName=name, addonName="eks-pod-identity-agent")["addon"]
    assert (addon["addonName"], addon["clusterName"], addon["status"]) == (
        "eks-pod-identity-agent",
        name,
        "ACTIVE",
    )
    assert addon["addonArn"].startswith(f"arn:aws:eks:{REGION}:{ACCOUNT_ID}:addon/{name}/eks-pod-identity-agent/")
    assert eks.describe_addon(clusterName=name, addonName="eks-pod-identity-agent")["addon"] == addon
    assert eks.list_addons(clusterName=name)["addons"] == ["eks-pod-identity-agent"]
    with pytest.raises(eks.exceptions.ResourceInUseException):
        eks.create_addon(clusterName=name, addonName="eks-pod-identity-agent")
    with pytest.raises(eks.exceptions.InvalidParameterException):
        eks.create_addon(clusterName=name, addonName="no-such-addon")

    eks.delete_addon(clusterName=name, addonName="eks-pod-identity-agent")
    assert eks.list_addons(clusterName=name)["addons"] == []
    assert {"CreateAddon", "DescribeAddon", "ListAddons", "DeleteAddon"} <= set(eks.checked)


# --- the cluster creator ---------------------------------------------------------------

CREATOR = f"arn:aws:iam::{ACCOUNT_ID}:user/moto"  # the emulator's identity for the test credentials
ADMIN_POLICY = POLICY + "AmazonEKSClusterAdminPolicy"


@pytest.mark.parametrize("mode", ["API", "API_AND_CONFIG_MAP"])
def test_creator_gets_a_cluster_admin_entry_in_the_api_modes(eks, bare_cluster, unique, mode):
    """EKS: with bootstrapClusterCreatorAdminPermissions (the default) the creator's IAM principal gets
    a STANDARD entry with AmazonEKSClusterAdminPolicy on the whole cluster."""
    name = bare_cluster(f"cr-{mode[:3].lower()}-{unique}", accessConfig={"authenticationMode": mode})["name"]
    assert eks.list_access_entries(clusterName=name)["accessEntries"] == [CREATOR]
    entry = eks.describe_access_entry(clusterName=name, principalArn=CREATOR)["accessEntry"]
    assert (entry["type"], entry["username"], entry["kubernetesGroups"]) == ("STANDARD", CREATOR, [])
    policies = eks.list_associated_access_policies(clusterName=name, principalArn=CREATOR)
    assert [(p["policyArn"], p["accessScope"]) for p in policies["associatedAccessPolicies"]] == [
        (ADMIN_POLICY, {"type": "cluster", "namespaces": []})
    ]


def test_creator_entry_only_when_asked_and_in_the_api_modes(emulator, eks, bare_cluster, unique):
    off = bare_cluster(
        "cr-off-" + unique,
        accessConfig={"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False},
    )["name"]
    assert eks.list_access_entries(clusterName=off)["accessEntries"] == []
    # CONFIG_MAP: the creator is system:masters without any entry; the sandbox records who it is.
    legacy = bare_cluster("cr-cm-" + unique)["name"]
    status, view = emulator.admin("GET", f"/_sandbox/eks/clusters/{legacy}")
    assert status == 200 and view["cluster_creator_arn"] == CREATOR

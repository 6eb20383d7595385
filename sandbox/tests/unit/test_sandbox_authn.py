"""sandbox/authn.py: EKS's mapping of IAM identities to Kubernetes users (pure logic)."""

import pytest
import yaml

from sandbox import authn

ACCT = "111122223333"
NODE_ROLE = "arn:aws:iam::%s:role/KarpenterNodeRole-demo" % ACCT
NODE_CALLER = "arn:aws:sts::%s:assumed-role/KarpenterNodeRole-demo/i-0123456789abcdef0" % ACCT
DNS = "ip-10-0-1-23.ec2.internal"
NODE_USER = "system:node:{{EC2PrivateDNSName}}"


def aws_auth(roles=(), users=(), accounts=()):
    return {
        "mapRoles": yaml.safe_dump(list(roles)),
        "mapUsers": yaml.safe_dump(list(users)),
        "mapAccounts": yaml.safe_dump(list(accounts)),
    }


NODE_MAPPING = {"rolearn": NODE_ROLE, "username": NODE_USER, "groups": ["system:bootstrappers", "system:nodes"]}
EC2_ENTRY = {"principalArn": NODE_ROLE, "type": "EC2_LINUX", "kubernetesGroups": []}


def resolve(caller=NODE_CALLER, mode="CONFIG_MAP", **kw):
    kw.setdefault("private_dns_name", DNS)
    return authn.resolve(caller, authentication_mode=mode, **kw)


@pytest.mark.parametrize(
    "arn, kind, name, canonical",
    [
        (NODE_CALLER, "role", "KarpenterNodeRole-demo", NODE_ROLE),
        ("arn:aws:iam::%s:role/team/a/Admin" % ACCT, "role", "Admin", "arn:aws:iam::%s:role/team/a/Admin" % ACCT),
        ("arn:aws:iam::%s:user/ops/alice" % ACCT, "user", "alice", "arn:aws:iam::%s:user/ops/alice" % ACCT),
        ("arn:aws-cn:sts::%s:assumed-role/R/s" % ACCT, "role", "R", "arn:aws-cn:iam::%s:role/R" % ACCT),
    ],
)
def test_parse_arn_canonicalises_like_the_authenticator(arn, kind, name, canonical):
    p = authn.parse_arn(arn)
    assert (p.kind, p.name, p.canonical_arn) == (kind, name, canonical)


@pytest.mark.parametrize("arn", ["", "arn:aws:s3:::bucket", "arn:aws:sts::%s:assumed-role/OnlyRole" % ACCT, "role/x"])
def test_parse_arn_refuses_what_is_not_a_principal(arn):
    with pytest.raises(ValueError):
        authn.parse_arn(arn)


def test_config_map_node_mapping_renders_the_private_dns_name():
    d = resolve(aws_auth=aws_auth([NODE_MAPPING]))
    assert d.allowed and d.is_node and d.source == "aws_auth"
    assert d.username == "system:node:" + DNS
    assert d.groups == ["system:bootstrappers", "system:nodes"]


def test_rolearn_comparison_ignores_case():
    d = resolve(
        aws_auth=aws_auth([dict(NODE_MAPPING, rolearn=NODE_ROLE.upper().replace("ARN:AWS:IAM", "arn:aws:iam"))])
    )
    assert d.allowed


def test_rolearn_with_a_path_never_matches_and_says_why():
    with_path = "arn:aws:iam::%s:role/nodes/KarpenterNodeRole-demo" % ACCT
    d = resolve(aws_auth=aws_auth([dict(NODE_MAPPING, rolearn=with_path)]))
    assert not d.allowed
    assert "path" in d.reason and with_path in d.reason


def test_missing_configmap_and_missing_entry_are_denied():
    assert "does not exist" in resolve(aws_auth=None).reason
    d = resolve(aws_auth=aws_auth([dict(NODE_MAPPING, rolearn="arn:aws:iam::%s:role/Other" % ACCT)]))
    assert not d.allowed and "no entry" in d.reason


def test_mapping_without_groups_authenticates_but_is_not_a_node():
    d = resolve(aws_auth=aws_auth([dict(NODE_MAPPING, groups=[])]))
    assert d.allowed and not d.is_node


def test_bad_yaml_in_aws_auth_denies():
    d = resolve(aws_auth={"mapRoles": "- rolearn: [unclosed"})
    assert not d.allowed and "mapRoles" in d.reason


def test_ec2_private_dns_name_needs_an_instance_session():
    caller = "arn:aws:sts::%s:assumed-role/KarpenterNodeRole-demo/alice" % ACCT
    d = resolve(caller, aws_auth=aws_auth([NODE_MAPPING]))
    assert not d.allowed and "did not contain an instance id" in d.reason
    assert not resolve(aws_auth=aws_auth([NODE_MAPPING]), private_dns_name=None).allowed


def test_session_name_templates():
    caller = "arn:aws:sts::%s:assumed-role/Dev/alice@example.com" % ACCT
    entry = {
        "rolearn": "arn:aws:iam::%s:role/Dev" % ACCT,
        "username": "dev:{{SessionName}}:{{AccountID}}",
        "groups": ["dev"],
    }
    assert resolve(caller, aws_auth=aws_auth([entry])).username == "dev:alice-example.com:%s" % ACCT
    raw = dict(entry, username="{{SessionNameRaw}}")
    assert resolve(caller, aws_auth=aws_auth([raw])).username == "alice@example.com"
    keyed = resolve(caller, aws_auth=aws_auth([dict(entry, username="{{AccessKeyID}}")]), access_key_id="ASIAEXAMPLE")
    assert keyed.username == "ASIAEXAMPLE"


def test_map_users_and_map_accounts():
    user = "arn:aws:iam::%s:user/alice" % ACCT
    d = resolve(user, aws_auth=aws_auth(users=[{"userarn": user, "username": "alice", "groups": ["ops"]}]))
    assert (d.allowed, d.username, d.groups) == (True, "alice", ["ops"])
    d = resolve(user, aws_auth=aws_auth(accounts=[ACCT]))
    assert (d.allowed, d.username, d.groups) == (True, user, [])


def test_api_mode_ignores_aws_auth():
    d = resolve(mode="API", aws_auth=aws_auth([NODE_MAPPING]))
    assert not d.allowed and "ignores aws-auth" in d.reason


def test_ec2_linux_entry_makes_a_node_and_may_carry_a_path():
    entry = dict(EC2_ENTRY, principalArn="arn:aws:iam::%s:role/nodes/KarpenterNodeRole-demo" % ACCT)
    d = resolve(mode="API", access_entries=[entry])
    assert d.is_node and d.source == "access_entry"
    assert d.username == "system:node:" + DNS and d.groups == ["system:nodes"]


def test_standard_entry_for_a_node_role_does_not_make_a_node():
    entry = {"principalArn": NODE_ROLE, "type": "STANDARD", "kubernetesGroups": []}
    d = resolve(mode="API", access_entries=[entry])
    assert d.allowed and not d.is_node
    assert d.username == "arn:aws:sts::%s:assumed-role/KarpenterNodeRole-demo/i-0123456789abcdef0" % ACCT


def test_standard_entry_username_groups_and_policies():
    admin = "arn:aws:iam::%s:role/Admin" % ACCT
    policy = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    entry = {
        "principalArn": admin,
        "type": "STANDARD",
        "kubernetesGroups": ["ops"],
        "username": "admin",
        "accessPolicies": [{"policyArn": policy, "accessScope": {"type": "cluster"}}],
    }
    d = resolve("arn:aws:sts::%s:assumed-role/Admin/s" % ACCT, mode="API", access_entries=[entry])
    assert (d.username, d.groups, d.access_policies) == ("admin", ["ops"], [policy])


def test_access_entry_takes_precedence_over_aws_auth_in_api_and_config_map():
    standard = {"principalArn": NODE_ROLE, "type": "STANDARD", "kubernetesGroups": []}
    d = resolve(mode="API_AND_CONFIG_MAP", access_entries=[standard], aws_auth=aws_auth([NODE_MAPPING]))
    assert d.source == "access_entry" and not d.is_node
    d = resolve(mode="API_AND_CONFIG_MAP", access_entries=[], aws_auth=aws_auth([NODE_MAPPING]))
    assert d.source == "aws_auth" and d.is_node


def test_config_map_mode_ignores_access_entries():
    d = resolve(mode="CONFIG_MAP", access_entries=[EC2_ENTRY], aws_auth=aws_auth())
    assert not d.allowed


def test_cluster_creator_is_system_masters_only_in_config_map_mode():
    creator = "arn:aws:iam::%s:user/moto" % ACCT
    d = resolve(creator, cluster_creator_arn=creator, aws_auth=None)
    assert d.groups == ["system:masters"] and d.source == "cluster_creator"
    assert not resolve(creator, mode="API", cluster_creator_arn=creator).allowed


def test_unknown_mode_is_an_argument_error():
    with pytest.raises(ValueError, match="authentication_mode"):
        authn.resolve(NODE_CALLER, authentication_mode="OPEN")


# --------------------------------------------------------------------------- aws-iam-authenticator's own cases
# From github.com/kubernetes-sigs/aws-iam-authenticator: pkg/arn/arn_test.go, pkg/server/server_test.go,
# pkg/mapper/configmap/configmap_test.go and yaml_test.go (with its yaml/ fixtures).


# pkg/arn/arn_test.go arnTests (TestUserARN)
@pytest.mark.parametrize(
    "arn, canonical",
    [
        ("arn:aws:iam::123456789012:user/Alice", "arn:aws:iam::123456789012:user/Alice"),
        ("arn:aws:iam::123456789012:role/Users", "arn:aws:iam::123456789012:role/Users"),
        ("arn:aws:sts::123456789012:assumed-role/Admin/Session", "arn:aws:iam::123456789012:role/Admin"),
        ("arn:aws:sts::123456789012:federated-user/Bob", "arn:aws:sts::123456789012:federated-user/Bob"),
        ("arn:aws:iam::123456789012:root", "arn:aws:iam::123456789012:root"),
        (
            "arn:aws:sts::123456789012:assumed-role/Org/Team/Admin/Session",
            "arn:aws:iam::123456789012:role/Org/Team/Admin",
        ),
        ("arn:aws-iso:iam::123456789012:user/Chris", "arn:aws-iso:iam::123456789012:user/Chris"),
        ("arn:aws-iso-b:iam::123456789012:user/Chris", "arn:aws-iso-b:iam::123456789012:user/Chris"),
    ],
)
def test_canonicalize_as_upstream(arn, canonical):
    assert authn.parse_arn(arn).canonical_arn == canonical


@pytest.mark.parametrize(
    "arn",
    [
        "NOT AN ARN",  # arn_test.go
        "arn:aws-mars:iam::123456789012:user/Alice",  # checkPartition: not in pkg/endpoints PARTITIONS
        "arn:aws:s3:::bucket/key",  # "is not a valid service for identities"
        "arn:aws:sts::123456789012:assumed-role/Admin",  # "does not have a role"
    ],
)
def test_canonicalize_refuses_as_upstream(arn):
    with pytest.raises(ValueError):
        authn.parse_arn(arn)


def test_unknown_partition_never_authenticates():
    caller = "arn:aws-mars:sts::%s:assumed-role/KarpenterNodeRole-demo/i-0123456789abcdef0" % ACCT
    d = resolve(caller, aws_auth=aws_auth([dict(NODE_MAPPING, rolearn=NODE_ROLE.replace(":aws:", ":aws-mars:"))]))
    assert not d.allowed and "partition" in d.reason


def test_federated_user_maps_through_map_users():
    fed = "arn:aws:sts::123456789012:federated-user/Bob"
    d = resolve(fed, aws_auth=aws_auth(users=[{"userarn": fed, "username": "bob", "groups": ["dev"]}]))
    assert (d.allowed, d.username, d.groups) == (True, "bob", ["dev"])


# pkg/server/server_test.go TestRenderTemplate, identities and expectations as upstream.
class _Id:
    def __init__(self, account="", session=""):
        self.principal = authn.Principal(
            arn="", partition="aws", account=account, kind="role", name="r", session_name=session
        )


@pytest.mark.parametrize(
    "template, want, account, session, key",
    [
        ("a-{{AccountID}}-b", "a-123-b", "123", "", ""),
        ("a-{{AccessKeyID}}-b", "a-321-b", "", "", "321"),
        ("a-{{SessionName}}-b", "a-jdoe-b", "", "jdoe", ""),
        ("a-{{SessionName}}-b", "a-jdoe-example.com-b", "", "jdoe@example.com", ""),
        ("a-{{SessionNameRaw}}-b", "a-jdoe@example.com-b", "", "jdoe@example.com", ""),
        (
            "a-{{AccountID}}-{{SessionName}}-{{SessionNameRaw}}-b",
            "a-123-jdoe-example.com-jdoe@example.com-b",
            "123",
            "jdoe@example.com",
            "",
        ),
        # Not upstream cases, but upstream's code: strings.ReplaceAll of five exact placeholders only.
        ("a-{{Unknown}}-b", "a-{{Unknown}}-b", "123", "s", ""),
        ("a-{{ AccountID }}-b", "a-{{ AccountID }}-b", "123", "s", ""),
    ],
)
def test_render_template_as_upstream(template, want, account, session, key):
    assert authn.render_template(template, _Id(account, session).principal, access_key_id=key) == want


def test_ec2_private_dns_name_needs_an_instance_id_session_as_upstream():
    # TestRenderTemplate: session "i-aaaaa" is not an instance ID (8 or 17 characters), so it errs.
    with pytest.raises(ValueError, match="instance id"):
        authn.render_template("a-{{EC2PrivateDNSName}}-b", _Id(session="i-aaaaa").principal, "ip-172-31-27-14")
    # TestAuthenticateVerifierNodeMapping: session i-0c6f21bf1f24f9708 renders ip-172-31-27-14.
    ok = authn.render_template(
        "system:node:{{EC2PrivateDNSName}}", _Id(session="i-0c6f21bf1f24f9708").principal, "ip-172-31-27-14"
    )
    assert ok == "system:node:ip-172-31-27-14"


def test_templates_render_in_groups_too():
    # server.go renderTemplates renders every group with renderTemplate.
    caller = "arn:aws:sts::%s:assumed-role/Dev/alice@example.com" % ACCT
    entry = {"rolearn": "arn:aws:iam::%s:role/Dev" % ACCT, "username": "u", "groups": ["team:{{SessionName}}"]}
    assert resolve(caller, aws_auth=aws_auth([entry])).groups == ["team:alice-example.com"]


# TestAuthenticateVerifierNodeMapping: RoleARN ".../role/TestNodeRole" found under ".../role/testnoderole".
def test_node_mapping_as_upstream():
    caller = "arn:aws:sts::%s:assumed-role/TestNodeRole/i-0c6f21bf1f24f9708" % ACCT
    entry = {
        "rolearn": "arn:aws:iam::%s:role/testnoderole" % ACCT,
        "username": "system:node:{{EC2PrivateDNSName}}",
        "groups": ["system:nodes", "system:bootstrappers"],
    }
    d = resolve(caller, aws_auth=aws_auth([entry]), private_dns_name="ip-172-31-27-14")
    assert (d.username, d.groups) == ("system:node:ip-172-31-27-14", ["system:nodes", "system:bootstrappers"])


UPSTREAM_NODE = "arn:aws:iam::555555555555:role/devel-worker-nodes-NodeInstanceRole-74RF4UBDUKL6"
UPSTREAM_NODE_CALLER = (
    "arn:aws:sts::555555555555:assumed-role/devel-worker-nodes-NodeInstanceRole-74RF4UBDUKL6/i-0c6f21bf1f24f9708"
)
UPSTREAM_ADMIN = "arn:aws:iam::555555555555:user/admin"


# yaml_test.go TestConfigMap: aws-auth-crazy-case-keys.yaml and aws-auth-open-source-case-keys.yaml
@pytest.mark.parametrize(
    "role_key, user_key, name_key, groups_key",
    [
        ("rOlEaRn", "uSeRaRn", "UsErNaMe", "gRoUpS"),
        ("roleARN", "userARN", "username", "groups"),
    ],
)
def test_field_names_in_any_case(role_key, user_key, name_key, groups_key):
    data = {
        "mapRoles": "- %s: %s\n  %s: system:node:{{EC2PrivateDNSName}}\n  %s:\n    - system:bootstrappers\n"
        "    - system:nodes\n" % (role_key, UPSTREAM_NODE, name_key, groups_key),
        "mapUsers": "- %s: %s\n  %s: admin\n  %s:\n    - system:masters\n"
        % (user_key, UPSTREAM_ADMIN, name_key, groups_key),
        "mapAccounts": "- 555555555555\n",
    }
    node = resolve(UPSTREAM_NODE_CALLER, aws_auth=data)
    assert (node.username, node.groups) == ("system:node:" + DNS, ["system:bootstrappers", "system:nodes"])
    admin = resolve(UPSTREAM_ADMIN, aws_auth=data)
    assert (admin.username, admin.groups) == ("admin", ["system:masters"])
    assert resolve("arn:aws:iam::555555555555:user/other", aws_auth=data).source == "aws_auth"  # mapAccounts


def test_space_out_of_place_makes_one_group_as_upstream():
    # yaml_test.go aws-auth-space-out-of-place.yaml: groups ["system:bootstrappers - system:nodes"].
    data = {
        "mapRoles": "- rolearn: %s\n  username: system:node:{{EC2PrivateDNSName}}\n  groups:\n"
        "    - system:bootstrappers\n     - system:nodes\n" % UPSTREAM_NODE
    }
    d = resolve(UPSTREAM_NODE_CALLER, aws_auth=data)
    assert d.groups == ["system:bootstrappers - system:nodes"] and not d.is_node


# configmap_test.go TestBadParseMap, TestBadParseMapSingleQuote: "", '' and `` are no entries, no error.
@pytest.mark.parametrize("empty", ["", '""', "''", "``"])
def test_quoted_empty_keys_hold_nothing_and_are_no_error(empty):
    view = authn.load_aws_auth({"mapRoles": empty, "mapUsers": empty, "mapAccounts": empty})
    assert (view.roles, view.users, view.accounts, view.errors) == ({}, {}, set(), [])


def test_a_key_that_does_not_parse_keeps_the_others():
    # configmap.go startLoadConfigMap: "Only saving data that was good".
    data = aws_auth([NODE_MAPPING], accounts=[ACCT])
    data["mapUsers"] = "- userarn: [unclosed"
    d = resolve(aws_auth=data)
    assert d.allowed and d.is_node
    assert resolve("arn:aws:iam::%s:user/x" % ACCT, aws_auth=data).allowed  # mapAccounts kept
    assert authn.load_aws_auth(data).errors


def test_bad_map_roles_drops_only_the_roles():
    data = aws_auth(users=[{"userarn": UPSTREAM_ADMIN, "username": "admin", "groups": ["system:masters"]}])
    data["mapRoles"] = "- rolearn: [unclosed"
    assert not resolve(aws_auth=data).allowed
    assert resolve(UPSTREAM_ADMIN, aws_auth=data).username == "admin"


def test_last_duplicate_wins():
    # configmap.go saveMap: ms.roles[role.Key()] = role, Key() lower-cases the ARN; the later entry overwrites.
    first = dict(NODE_MAPPING, groups=["first"])
    last = dict(
        NODE_MAPPING, rolearn=NODE_ROLE.replace("KarpenterNodeRole", "karpenternoderole"), groups=["system:nodes"]
    )
    d = resolve(aws_auth=aws_auth([first, last]))
    assert d.groups == ["system:nodes"]
    d = resolve(aws_auth=aws_auth([last, first]))
    assert d.groups == ["first"]


def test_role_arn_under_map_users_maps_the_role():
    # mapper.go Map: RoleMapping(canonicalARN), then UserMapping(canonicalARN).
    d = resolve(aws_auth=aws_auth(users=[{"userarn": NODE_ROLE, "username": NODE_USER, "groups": ["system:nodes"]}]))
    assert d.allowed and d.is_node and "mapUsers" in d.reason


def test_groups_as_a_string_is_dropped_not_split():
    # json.Unmarshal into []string: a type error skips the field; the entry still maps, without groups.
    d = resolve(aws_auth={"mapRoles": "- rolearn: %s\n  username: u\n  groups: system:nodes\n" % NODE_ROLE})
    assert d.allowed and d.groups == [] and not d.is_node


def test_unquoted_account_ids_are_strings_as_written():
    # configmap.go: yaml.Unmarshal(mapAccounts, &[]string): each scalar's text, so 012345670123 is not octal.
    octal_looking = "012345670123"
    data = {"mapAccounts": "- %s\n" % octal_looking}
    assert authn.load_aws_auth(data).accounts == {octal_looking}
    assert resolve("arn:aws:iam::%s:user/alice" % octal_looking, aws_auth=data).allowed


def test_entries_without_an_arn_are_skipped_others_kept():
    # RoleMapping.Validate: "one of rolearn or SSO must be supplied"; the valid ones are saved.
    d = resolve(aws_auth={"mapRoles": "- username: nobody\n" + yaml.safe_dump([NODE_MAPPING])})
    assert d.is_node

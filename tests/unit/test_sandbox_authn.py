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
    return {"mapRoles": yaml.safe_dump(list(roles)), "mapUsers": yaml.safe_dump(list(users)),
            "mapAccounts": yaml.safe_dump(list(accounts))}


NODE_MAPPING = {"rolearn": NODE_ROLE, "username": NODE_USER, "groups": ["system:bootstrappers", "system:nodes"]}
EC2_ENTRY = {"principalArn": NODE_ROLE, "type": "EC2_LINUX", "kubernetesGroups": []}


def resolve(caller=NODE_CALLER, mode="CONFIG_MAP", **kw):
    kw.setdefault("private_dns_name", DNS)
    return authn.resolve(caller, authentication_mode=mode, **kw)


@pytest.mark.parametrize("arn, kind, name, canonical", [
    (NODE_CALLER, "role", "KarpenterNodeRole-demo", NODE_ROLE),
    ("arn:aws:iam::%s:role/team/a/Admin" % ACCT, "role", "Admin", "arn:aws:iam::%s:role/Admin" % ACCT),
    ("arn:aws:iam::%s:user/ops/alice" % ACCT, "user", "alice", "arn:aws:iam::%s:user/ops/alice" % ACCT),
    ("arn:aws-cn:sts::%s:assumed-role/R/s" % ACCT, "role", "R", "arn:aws-cn:iam::%s:role/R" % ACCT),
])
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
    d = resolve(aws_auth=aws_auth([dict(NODE_MAPPING, rolearn=NODE_ROLE.upper().replace("ARN:AWS:IAM", "arn:aws:iam"))]))
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
    assert not d.allowed and "EC2PrivateDNSName" in d.reason
    assert not resolve(aws_auth=aws_auth([NODE_MAPPING]), private_dns_name=None).allowed


def test_session_name_templates():
    caller = "arn:aws:sts::%s:assumed-role/Dev/alice@example.com" % ACCT
    entry = {"rolearn": "arn:aws:iam::%s:role/Dev" % ACCT, "username": "dev:{{SessionName}}:{{AccountID}}",
             "groups": ["dev"]}
    assert resolve(caller, aws_auth=aws_auth([entry])).username == "dev:alice-example.com:%s" % ACCT
    raw = dict(entry, username="{{SessionNameRaw}}")
    assert resolve(caller, aws_auth=aws_auth([raw])).username == "alice@example.com"
    assert not resolve(caller, aws_auth=aws_auth([dict(entry, username="{{AccessKeyID}}")])).allowed


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
    entry = {"principalArn": admin, "type": "STANDARD", "kubernetesGroups": ["ops"], "username": "admin",
             "accessPolicies": [{"policyArn": policy, "accessScope": {"type": "cluster"}}]}
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

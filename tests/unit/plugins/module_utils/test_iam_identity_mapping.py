# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from datetime import UTC

import pytest
import yaml
from ansible_collections.jit.karpenter.plugins.module_utils import _iam_identity_mapping as aws_auth
from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError

ACCOUNT = "111122223333"
NODE_ARN = f"arn:aws:iam::{ACCOUNT}:role/NodeRole"
KARPENTER_ARN = f"arn:aws:iam::{ACCOUNT}:role/KarpenterNodeRole-demo"
NODE_GROUPS = ["system:bootstrappers", "system:nodes"]
NODE_USER = "system:node:{{EC2PrivateDNSName}}"

NODE_ENTRY = (
    f"- rolearn: {NODE_ARN}\n"
    "  username: system:node:{{EC2PrivateDNSName}}\n"
    "  groups:\n"
    "  - system:bootstrappers\n"
    "  - system:nodes\n"
)
ADMIN_ENTRY = f"# admins, keep this comment\n- rolearn: arn:aws:iam::{ACCOUNT}:role/Admin\n  username: admin\n  groups: [system:masters]\n"
USERS = f"- userarn: arn:aws:iam::{ACCOUNT}:user/alice\n  username: alice   # odd spacing kept\n  groups:\n    - dev\n"
ACCOUNTS = "- '444455556666'\n- 777788889999\n"


def _data():
    return {"mapRoles": NODE_ENTRY + ADMIN_ENTRY, "mapUsers": USERS, "mapAccounts": ACCOUNTS, "other": "x: 1\n"}


def _node_identity(arn=KARPENTER_ARN):
    return aws_auth.identity(arn=arn, username=NODE_USER, groups=NODE_GROUPS)


def _roles(text):
    return yaml.safe_load(text) or []


# ----------------------------------------------------------------------------- ARNs


@pytest.mark.parametrize(
    ("arn", "key", "canonical"),
    [
        (KARPENTER_ARN, "mapRoles", KARPENTER_ARN),
        (f"arn:aws:iam::{ACCOUNT}:role/some/path/Name", "mapRoles", f"arn:aws:iam::{ACCOUNT}:role/Name"),
        (f"arn:aws-cn:iam::{ACCOUNT}:role/x/Name", "mapRoles", f"arn:aws-cn:iam::{ACCOUNT}:role/Name"),
        (f"arn:aws-us-gov:iam::{ACCOUNT}:user/alice", "mapUsers", f"arn:aws-us-gov:iam::{ACCOUNT}:user/alice"),
        (f"arn:aws:iam::{ACCOUNT}:user/team/alice", "mapUsers", f"arn:aws:iam::{ACCOUNT}:user/team/alice"),
    ],
)
def test_canonical_arn(arn, key, canonical):
    got_key, got, warnings = aws_auth.canonical_arn(arn)
    assert (got_key, got) == (key, canonical)
    assert bool(warnings) == (got != arn)


def test_path_strip_warns_naming_both_arns():
    _key, canonical, warnings = aws_auth.canonical_arn(f"arn:aws:iam::{ACCOUNT}:role/a/b/Name")
    assert len(warnings) == 1
    assert f"arn:aws:iam::{ACCOUNT}:role/a/b/Name" in warnings[0]
    assert canonical in warnings[0]


@pytest.mark.parametrize(
    ("arn", "fragment"),
    [
        ("not-an-arn", "is not an ARN"),
        (f"arn:azure:iam::{ACCOUNT}:role/x", "partition"),
        (f"arn:aws:s3::{ACCOUNT}:role/x", "not an IAM ARN"),
        (f"arn:aws:sts::{ACCOUNT}:assumed-role/x/session", "not an IAM ARN"),
        ("arn:aws:iam::1234:role/x", "account ID"),
        (f"arn:aws:iam::{ACCOUNT}:group/x", "neither a role nor a user"),
        (f"arn:aws:iam::{ACCOUNT}:role/", "neither a role nor a user"),
        (f"arn:aws:iam::{ACCOUNT}:role/bad name", "invalid role name"),
        (f"arn:aws:iam::{ACCOUNT}:role/" + "n" * 65, "invalid role name"),
    ],
)
def test_bad_arn_fails_naming_input(arn, fragment):
    with pytest.raises(KarpenterError) as err:
        aws_auth.canonical_arn(arn)
    assert fragment in err.value.msg
    assert repr(arn) in err.value.msg


def test_identity_validation():
    with pytest.raises(KarpenterError, match="exactly one"):
        aws_auth.identity()
    with pytest.raises(KarpenterError, match="exactly one"):
        aws_auth.identity(arn=KARPENTER_ARN, account=ACCOUNT)
    with pytest.raises(KarpenterError, match="12 digits"):
        aws_auth.identity(account="12345")
    with pytest.raises(KarpenterError, match="do not apply"):
        aws_auth.identity(account=ACCOUNT, groups=["x"])
    with pytest.raises(KarpenterError, match="control characters"):
        aws_auth.identity(arn=KARPENTER_ARN, username="a\nb")


# ----------------------------------------------------------------------------- merging


def test_add_appends_and_keeps_everything_else_byte_identical():
    data = _data()
    result = aws_auth.plan(data, _node_identity())
    assert result.changed
    assert result.changes == [{"action": "added", "arn": KARPENTER_ARN}]
    assert result.text.startswith(data["mapRoles"])
    new = result.data(data)
    for key in ("mapUsers", "mapAccounts", "other"):
        assert new[key] == data[key]
    assert _roles(new["mapRoles"])[-1] == {"rolearn": KARPENTER_ARN, "username": NODE_USER, "groups": NODE_GROUPS}
    assert result.mapping == {"rolearn": KARPENTER_ARN, "username": NODE_USER, "groups": NODE_GROUPS}


def test_second_apply_is_no_change_and_no_duplicate():
    data = aws_auth.plan(_data(), _node_identity()).data(_data())
    again = aws_auth.plan(data, _node_identity())
    assert not again.changed
    assert again.changes == []
    assert again.text is None
    assert [e["rolearn"] for e in _roles(data["mapRoles"])].count(KARPENTER_ARN) == 1


def test_groups_order_does_not_matter():
    data = aws_auth.plan(_data(), _node_identity()).data(_data())
    reordered = aws_auth.identity(arn=KARPENTER_ARN, username=NODE_USER, groups=list(reversed(NODE_GROUPS)))
    assert not aws_auth.plan(data, reordered).changed


def test_path_arn_matches_existing_entry_without_path():
    data = aws_auth.plan(_data(), _node_identity()).data(_data())
    with_path = _node_identity(f"arn:aws:iam::{ACCOUNT}:role/team/KarpenterNodeRole-demo")
    result = aws_auth.plan(data, with_path)
    assert not result.changed
    assert len(result.warnings) == 1


def test_existing_entry_with_path_is_fixed_in_place():
    data = _data()
    data["mapRoles"] += f"- rolearn: arn:aws:iam::{ACCOUNT}:role/p/KarpenterNodeRole-demo\n  groups: [system:nodes]\n"
    result = aws_auth.plan(data, _node_identity())
    assert result.changes == [{"action": "updated", "arn": KARPENTER_ARN}]
    roles = _roles(result.text)
    assert [r["rolearn"] for r in roles].count(KARPENTER_ARN) == 1
    assert len(roles) == 3


def test_update_in_place_touches_only_that_entry():
    data = _data()
    admin = aws_auth.identity(arn=f"arn:aws:iam::{ACCOUNT}:role/Admin", username="root", groups=["system:masters"])
    result = aws_auth.plan(data, admin)
    assert result.changes == [{"action": "updated", "arn": f"arn:aws:iam::{ACCOUNT}:role/Admin"}]
    assert result.text.startswith(NODE_ENTRY + "# admins, keep this comment\n")
    roles = _roles(result.text)
    assert roles[1] == {
        "rolearn": f"arn:aws:iam::{ACCOUNT}:role/Admin",
        "username": "root",
        "groups": ["system:masters"],
    }
    assert len(roles) == 2
    assert result.before_entries == [
        {"rolearn": f"arn:aws:iam::{ACCOUNT}:role/Admin", "username": "admin", "groups": ["system:masters"]}
    ]


def test_update_keeps_username_when_not_given():
    data = aws_auth.plan(_data(), _node_identity()).data(_data())
    bare = aws_auth.identity(arn=KARPENTER_ARN, groups=NODE_GROUPS)
    result = aws_auth.plan(data, bare)
    assert not result.changed
    assert result.mapping["username"] == NODE_USER


def test_duplicates_are_collapsed_to_first():
    dup = f"- rolearn: {KARPENTER_ARN}\n  groups: [a]\n"
    data = {"mapRoles": NODE_ENTRY + dup + ADMIN_ENTRY + dup}
    result = aws_auth.plan(data, _node_identity())
    assert [c["action"] for c in result.changes] == ["updated", "removed"]
    roles = _roles(result.text)
    assert [r["rolearn"] for r in roles] == [NODE_ARN, KARPENTER_ARN, f"arn:aws:iam::{ACCOUNT}:role/Admin"]
    assert any("duplicate" in w for w in result.warnings)
    assert ADMIN_ENTRY in result.text


def test_absent_removes_every_entry_for_the_arn():
    dup = f"- rolearn: {KARPENTER_ARN}\n  groups: [a]\n"
    data = {"mapRoles": NODE_ENTRY + dup + ADMIN_ENTRY + dup}
    result = aws_auth.plan(data, aws_auth.identity(arn=KARPENTER_ARN), "absent")
    assert result.changes == [{"action": "removed", "arn": KARPENTER_ARN}] * 2
    assert result.text == NODE_ENTRY + ADMIN_ENTRY
    assert result.mapping is None


def test_absent_of_missing_entry_is_no_change():
    result = aws_auth.plan(_data(), aws_auth.identity(arn=KARPENTER_ARN), "absent")
    assert not result.changed
    assert result.changes == []


def test_users_go_to_map_users_and_roles_are_untouched():
    data = _data()
    bob = aws_auth.identity(arn=f"arn:aws:iam::{ACCOUNT}:user/bob", username="bob", groups=["dev"])
    result = aws_auth.plan(data, bob)
    assert result.key == "mapUsers"
    assert result.text.startswith(USERS)
    new = result.data(data)
    assert new["mapRoles"] == data["mapRoles"]
    assert yaml.safe_load(new["mapUsers"])[-1] == {
        "userarn": f"arn:aws:iam::{ACCOUNT}:user/bob",
        "username": "bob",
        "groups": ["dev"],
    }


def test_accounts_add_match_and_remove():
    data = _data()
    added = aws_auth.plan(data, aws_auth.identity(account="123456789012"))
    assert added.text == ACCOUNTS + "- '123456789012'\n"
    assert added.mapping == "123456789012"
    # an unquoted (integer) account ID still matches
    assert not aws_auth.plan(data, aws_auth.identity(account="777788889999")).changed
    removed = aws_auth.plan(data, aws_auth.identity(account="444455556666"), "absent")
    assert removed.text == "- 777788889999\n"
    assert removed.data(data)["mapRoles"] == data["mapRoles"]


@pytest.mark.parametrize("missing", [None, "", "  \n", "[]", "# only a comment\n"])
def test_empty_or_missing_key(missing):
    data = {"mapUsers": USERS}
    if missing is not None:
        data["mapRoles"] = missing
    result = aws_auth.plan(data, _node_identity())
    assert result.changed
    assert _roles(result.text) == [{"rolearn": KARPENTER_ARN, "username": NODE_USER, "groups": NODE_GROUPS}]
    assert result.warnings == []
    if missing and missing.startswith("#"):
        assert result.text.startswith(missing)


def test_missing_config_map_data():
    result = aws_auth.plan(None, _node_identity())
    assert result.data(None) == {"mapRoles": aws_auth.render_entries([result.mapping], "mapRoles")}


def test_last_item_without_trailing_newline():
    data = {"mapRoles": NODE_ENTRY.rstrip("\n")}
    result = aws_auth.plan(data, _node_identity())
    assert result.text.startswith(data["mapRoles"] + "\n")
    assert len(_roles(result.text)) == 2


def test_indented_sequence_keeps_its_column():
    text = "".join("  " + line for line in NODE_ENTRY.splitlines(True))
    result = aws_auth.plan({"mapRoles": text}, _node_identity())
    assert result.text.startswith(text)
    assert result.text[len(text) :].startswith("  - rolearn: ")
    assert result.warnings == []


def test_flow_items_in_block_list_are_spliced():
    text = NODE_ENTRY + f"- {{rolearn: '{KARPENTER_ARN}', groups: [old]}}\n" + ADMIN_ENTRY
    result = aws_auth.plan({"mapRoles": text}, _node_identity())
    assert result.warnings == []
    assert result.text.startswith(NODE_ENTRY)
    assert result.text.endswith(ADMIN_ENTRY)


def test_flow_list_falls_back_to_full_render_with_warning():
    text = f"[{{rolearn: '{NODE_ARN}', groups: [system:nodes]}}]"
    result = aws_auth.plan({"mapRoles": text}, _node_identity())
    assert any("rendered again as a whole" in w for w in result.warnings)
    assert _roles(result.text) == [
        {"rolearn": NODE_ARN, "groups": ["system:nodes"]},
        {"rolearn": KARPENTER_ARN, "username": NODE_USER, "groups": NODE_GROUPS},
    ]


def test_removing_an_anchored_entry_falls_back_safely():
    text = (
        f"- &node {{rolearn: '{NODE_ARN}', groups: [system:nodes]}}\n"
        f"- {{rolearn: '{KARPENTER_ARN}', groups: [system:nodes]}}\n"
        "- *node\n"
    )
    result = aws_auth.plan({"mapRoles": text}, aws_auth.identity(arn=NODE_ARN), "absent", force=True)
    assert _roles(result.text) == [{"rolearn": KARPENTER_ARN, "groups": ["system:nodes"]}]
    assert any("rendered again as a whole" in w for w in result.warnings)


# ----------------------------------------------------------------------------- errors and guards


@pytest.mark.parametrize(
    ("key", "text", "fragment"),
    [
        ("mapRoles", "- rolearn: x\n  groups: [a\n", "does not parse as YAML"),
        ("mapUsers", "- userarn: a\n username: b: c\n", "does not parse as YAML"),
        ("mapRoles", "rolearn: x\n", "is not a YAML list"),
        ("mapRoles", "- just a string\n", "is not a mapping"),
        ("mapAccounts", "- {a: 1}\n", "is not an account ID"),
        ("mapAccounts", "- true\n", "is not an account ID"),
    ],
)
def test_unparseable_content_fails_naming_the_key(key, text, fragment):
    data = _data()
    data[key] = text
    with pytest.raises(KarpenterError) as err:
        aws_auth.plan(data, _node_identity())
    assert key in err.value.msg
    assert fragment in err.value.msg
    assert "nothing was written" in err.value.msg
    assert err.value.details == {"key": key}


def test_removing_last_node_mapping_needs_force():
    data = {"mapRoles": NODE_ENTRY + ADMIN_ENTRY}
    with pytest.raises(KarpenterError, match="without a node mapping"):
        aws_auth.plan(data, aws_auth.identity(arn=NODE_ARN), "absent")
    forced = aws_auth.plan(data, aws_auth.identity(arn=NODE_ARN), "absent", force=True)
    assert forced.text == ADMIN_ENTRY


def test_updating_node_role_out_of_nodes_group_needs_force():
    data = {"mapRoles": NODE_ENTRY}
    demoted = aws_auth.identity(arn=NODE_ARN, groups=["viewers"])
    with pytest.raises(KarpenterError, match="force"):
        aws_auth.plan(data, demoted, purge_groups=True)
    assert aws_auth.plan(data, demoted, force=True, purge_groups=True).changed
    # Without purge_groups the groups are only added to: the node mapping stays.
    kept = aws_auth.plan(data, demoted)
    assert _roles(kept.text)[0]["groups"] == [*NODE_GROUPS, "viewers"]


def test_node_guard_counts_other_node_entries_and_new_entry():
    two_nodes = {"mapRoles": NODE_ENTRY + f"- rolearn: {KARPENTER_ARN}\n  groups: [system:nodes]\n"}
    assert aws_auth.plan(two_nodes, aws_auth.identity(arn=NODE_ARN), "absent").changed
    with pytest.raises(KarpenterError):
        aws_auth.plan({}, aws_auth.identity(arn=f"arn:aws:iam::{ACCOUNT}:role/Admin", groups=["system:masters"]))
    assert aws_auth.plan({}, _node_identity()).changed
    # a node mapping in mapUsers counts too
    users = {"mapUsers": f"- userarn: arn:aws:iam::{ACCOUNT}:user/n\n  groups: [system:nodes]\n"}
    assert aws_auth.plan(users, aws_auth.identity(account="123456789012")).changed


def test_no_change_never_trips_the_guard():
    data = {"mapRoles": ADMIN_ENTRY}
    assert not aws_auth.plan(data, aws_auth.identity(arn=KARPENTER_ARN), "absent").changed


def test_has_node_mapping():
    assert aws_auth.has_node_mapping({"mapRoles": [{"groups": ["system:nodes"]}]})
    assert aws_auth.has_node_mapping({"mapUsers": [{"groups": ["a", "system:nodes"]}]})
    assert not aws_auth.has_node_mapping({"mapRoles": [{"groups": "system:nodes"}, {"username": "x"}]})
    assert not aws_auth.has_node_mapping({})


# ----------------------------------------------------------------------------- scale


def _big(n):
    return NODE_ENTRY + "".join(
        f"- rolearn: arn:aws:iam::{ACCOUNT}:role/R{i:05d}\n  username: u{i}   # note {i}\n  groups:\n    - g{i % 7}\n"
        for i in range(n)
    )


def test_5000_entries_add_keeps_untouched_bytes():
    text = _big(5000)
    result = aws_auth.plan({"mapRoles": text}, _node_identity())
    assert result.text.startswith(text)
    tail = result.text[len(text) :]
    assert yaml.safe_load(tail) == [{"rolearn": KARPENTER_ARN, "username": NODE_USER, "groups": NODE_GROUPS}]
    assert result.warnings == []


def test_5000_entries_update_and_remove_touch_one_span():
    text = _big(5000)
    target = f"arn:aws:iam::{ACCOUNT}:role/R02500"
    old_span = f"- rolearn: {target}\n  username: u2500   # note 2500\n  groups:\n    - g1\n"
    head, tail = text.split(old_span)
    updated = aws_auth.plan({"mapRoles": text}, aws_auth.identity(arn=target, username="v", groups=["g1"]))
    assert updated.text.startswith(head)
    assert updated.text.endswith(tail)
    assert updated.text[len(head) : -len(tail)] == f"- rolearn: {target}\n  username: v\n  groups:\n    - g1\n"
    removed = aws_auth.plan({"mapRoles": text}, aws_auth.identity(arn=target), "absent")
    assert removed.text == head + tail


# ----------------------------------------------------------------------------- rendering


def test_render_is_block_style_with_fixed_key_order():
    entry = {"groups": ["system:nodes"], "username": NODE_USER, "rolearn": KARPENTER_ARN}
    text = aws_auth.render_entries([entry], "mapRoles", indent=2)
    assert text == (f"  - rolearn: {KARPENTER_ARN}\n    username: {NODE_USER}\n    groups:\n      - system:nodes\n")
    assert aws_auth.render_entries(["012345670123"], "mapAccounts") == "- '012345670123'\n"


def test_backup_name_is_a_valid_config_map_name():
    from datetime import datetime

    name = aws_auth.backup_name("aws-auth", datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert name == "aws-auth-backup-20250102030405"


# ----------------------------------------------------------------------------- as EKS reads it
# Cases from aws-iam-authenticator (github.com/kubernetes-sigs/aws-iam-authenticator) and eksctl
# (github.com/eksctl-io/eksctl), cited per test. EKS's reading: pkg/mapper/configmap/configmap.go
# ParseMap (YAML to JSON, then Go's case-insensitive JSON field matching), pkg/config/mapper.go
# RoleMapping.Matches / UserMapping.Matches (strings.EqualFold), pkg/mapper/configmap/mapper.go Map.

# pkg/mapper/configmap/yaml/aws-auth-crazy-case-keys.yaml and aws-auth-open-source-case-keys.yaml
UPSTREAM_NODE = "arn:aws:iam::555555555555:role/devel-worker-nodes-NodeInstanceRole-74RF4UBDUKL6"
UPSTREAM_ADMIN = "arn:aws:iam::555555555555:user/admin"
CRAZY_CASE = {
    "mapRoles": (
        f"- rOlEaRn: {UPSTREAM_NODE}\n"
        "  UsErNaMe: system:node:{{EC2PrivateDNSName}}\n"
        "  gRoUpS:\n"
        "    - system:bootstrappers\n"
        "    - system:nodes\n"
    ),
    "mapUsers": f"- uSeRaRn: {UPSTREAM_ADMIN}\n  UsErNaMe: admin\n  gRoUpS:\n    - system:masters\n",
    "mapAccounts": "- 555555555555\n",
}
OPEN_SOURCE_CASE = {
    "mapRoles": f"- roleARN: {UPSTREAM_NODE}\n  username: system:node:{{{{EC2PrivateDNSName}}}}\n  groups:\n    - system:bootstrappers\n    - system:nodes\n",
    "mapUsers": f"- userARN: {UPSTREAM_ADMIN}\n  username: admin\n  groups:\n    - system:masters\n",
    "mapAccounts": "- 555555555555\n",
}


@pytest.mark.parametrize("data", [CRAZY_CASE, OPEN_SOURCE_CASE], ids=["crazy-case-keys", "open-source-case-keys"])
def test_field_names_in_any_case_are_the_same_entry(data):
    node = aws_auth.identity(arn=UPSTREAM_NODE, username=NODE_USER, groups=NODE_GROUPS)
    again = aws_auth.plan(data, node)
    assert not again.changed  # no duplicate appended
    gone = aws_auth.plan(data, aws_auth.identity(arn=UPSTREAM_NODE), "absent", force=True)
    assert gone.changed and _roles(gone.text) == []
    user = aws_auth.plan(data, aws_auth.identity(arn=UPSTREAM_ADMIN), "absent")
    assert user.changes == [{"action": "removed", "arn": UPSTREAM_ADMIN}]
    assert not aws_auth.plan(data, aws_auth.identity(account="555555555555")).changed


def test_updating_a_crazy_case_entry_writes_one_lower_case_entry():
    more = aws_auth.identity(arn=UPSTREAM_NODE, username=NODE_USER, groups=["eks:kube-proxy-windows"])
    result = aws_auth.plan(CRAZY_CASE, more)
    assert _roles(result.text) == [
        {"rolearn": UPSTREAM_NODE, "username": NODE_USER, "groups": [*NODE_GROUPS, "eks:kube-proxy-windows"]}
    ]


def test_last_spelling_of_a_field_wins_as_in_go_json():
    text = f"- rolearn: arn:aws:iam::{ACCOUNT}:role/Old\n  RoleArn: {NODE_ARN}\n  groups: [system:nodes]\n"
    result = aws_auth.plan({"mapRoles": text}, aws_auth.identity(arn=NODE_ARN), "absent", force=True)
    assert result.changed and _roles(result.text) == []


# pkg/config/mapper.go Matches: strings.EqualFold; Map lower-cases the caller's canonical ARN.
# pkg/server/server_test.go TestAuthenticateVerifierNodeMapping maps ".../role/TestNodeRole" under
# the key ".../role/testnoderole".
def test_arns_match_without_regard_to_case():
    text = f"- rolearn: arn:aws:iam::{ACCOUNT}:role/testnoderole\n  groups: [system:nodes]\n" + NODE_ENTRY
    upper = aws_auth.identity(arn=f"arn:aws:iam::{ACCOUNT}:role/TestNodeRole")
    result = aws_auth.plan({"mapRoles": text}, upper, "absent")
    assert result.changes == [{"action": "removed", "arn": f"arn:aws:iam::{ACCOUNT}:role/TestNodeRole"}]
    assert result.text == NODE_ENTRY
    present = aws_auth.identity(arn=f"arn:aws:iam::{ACCOUNT}:role/TestNodeRole", groups=["system:nodes"])
    assert not aws_auth.plan({"mapRoles": text}, present).changed


def test_user_arns_match_without_regard_to_case():
    # pkg/mapper/configmap/configmap_test.go TestLoadConfigMap: user ".../user/NIC".
    text = "- userarn: arn:aws:iam::012345678912:user/NIC\n  username: nic\n  groups: [system:master]\n"
    result = aws_auth.plan(
        {"mapUsers": text, "mapRoles": NODE_ENTRY},
        aws_auth.identity(arn="arn:aws:iam::012345678912:user/nic"),
        "absent",
    )
    assert result.changed and yaml.safe_load(result.text) in (None, [])


# pkg/mapper/configmap/configmap_test.go TestBadParseMap, TestBadParseMapSingleQuote: "", '' and ``
# are no entries.
@pytest.mark.parametrize("empty", ['""', "''", "``", "  ''\n"])
def test_quoted_empty_values_are_no_entries(empty):
    data = {"mapRoles": empty, "mapUsers": empty, "mapAccounts": empty}
    assert aws_auth.parse_data(data)["mapRoles"].entries == []
    result = aws_auth.plan(data, _node_identity())
    assert result.text == aws_auth.render_entries([_node_identity().entry], "mapRoles")
    assert not aws_auth.plan(data, aws_auth.identity(arn=KARPENTER_ARN), "absent").changed


# pkg/mapper/configmap/configmap_test.go: autoMappedAWSAccountsYAML; eksctl pkg/authconfigmap
# authconfigmap_test.go makeExpectedAccounts quotes accounts "for the yaml parser to recognize them
# as strings over numbers". Go's YAML reads an unquoted number into a string as written.
def test_unquoted_account_ids_match_as_written_not_as_octal():
    data = {"mapRoles": NODE_ENTRY, "mapAccounts": "- 012345670123\n- 555555555555\n"}
    assert aws_auth.parse_data(data)["mapAccounts"].entries == ["012345670123", "555555555555"]
    result = aws_auth.plan(data, aws_auth.identity(account="012345670123"), "absent")
    assert result.changed and result.text == "- 555555555555\n"
    assert not aws_auth.plan(data, aws_auth.identity(account="012345670123")).changed


# eksctl pkg/authconfigmap/authconfigmap.go AddNodeGroup: Windows node groups get
# eks:kube-proxy-windows before the node groups; a later run must not strip it.
def test_present_keeps_groups_it_was_not_asked_to_remove():
    windows = (
        f"- rolearn: {KARPENTER_ARN}\n  username: {NODE_USER}\n  groups:\n"
        "  - eks:kube-proxy-windows\n  - system:bootstrappers\n  - system:nodes\n"
    )
    result = aws_auth.plan({"mapRoles": windows}, _node_identity())
    assert not result.changed
    assert result.mapping["groups"] == ["eks:kube-proxy-windows", *NODE_GROUPS]
    partial = {"mapRoles": f"- rolearn: {KARPENTER_ARN}\n  username: {NODE_USER}\n  groups: [eks:kube-proxy-windows]\n"}
    added = aws_auth.plan(partial, _node_identity())
    assert _roles(added.text)[0]["groups"] == ["eks:kube-proxy-windows", *NODE_GROUPS]
    exact = aws_auth.plan({"mapRoles": windows}, _node_identity(), purge_groups=True)
    assert _roles(exact.text)[0]["groups"] == NODE_GROUPS


def test_present_without_username_or_groups_is_refused():
    with pytest.raises(KarpenterError, match="needs mapped_username or groups"):
        aws_auth.plan(_data(), aws_auth.identity(arn=KARPENTER_ARN))
    assert aws_auth.plan(_data(), aws_auth.identity(arn=KARPENTER_ARN), "absent") is not None


@pytest.mark.parametrize("tag", ["!foo", "!!python/object:os.system", "!Ref"])
def test_unknown_tag_is_an_error_naming_the_entry(tag):
    text = NODE_ENTRY + f"- rolearn: arn:aws:iam::{ACCOUNT}:role/Tagged\n  username: {tag} x\n"
    with pytest.raises(
        KarpenterError, match=r"mapRoles item 1 \(arn:aws:iam::111122223333:role/Tagged\) cannot be read"
    ):
        aws_auth.plan({"mapRoles": text}, _node_identity())


ANCHORED = (
    f"- &node\n  rolearn: {NODE_ARN}\n  username: {NODE_USER}\n  groups: &nodegroups\n    - system:bootstrappers\n    - system:nodes\n"
    f"- rolearn: {KARPENTER_ARN}\n  username: {NODE_USER}\n  groups: *nodegroups\n"
    f"- <<: *node\n  rolearn: arn:aws:iam::{ACCOUNT}:role/Merged\n"
)


def test_removing_an_anchor_others_use_re_renders_and_keeps_what_they_map():
    before = aws_auth.parse_key("mapRoles", ANCHORED)
    result = aws_auth.plan({"mapRoles": ANCHORED}, aws_auth.identity(arn=NODE_ARN), "absent")
    after = aws_auth.parse_key("mapRoles", result.text)
    assert [after.view(i) for i in range(len(after))] == [before.view(1), before.view(2)]
    assert "&" not in result.text and "*" not in result.text
    assert any("rendered again as a whole" in w for w in result.warnings)


def test_anchored_text_edited_in_place_when_it_still_reads_the_same():
    result = aws_auth.plan(
        {"mapRoles": ANCHORED}, aws_auth.identity(arn=f"arn:aws:iam::{ACCOUNT}:role/New", groups=["dev"])
    )
    assert result.text.startswith(ANCHORED)
    assert result.warnings == []


def test_nothing_is_written_when_no_text_reads_back_as_intended(monkeypatch):
    monkeypatch.setattr(aws_auth, "render_entries", lambda entries, key, indent=0: "- {rolearn: x\n")
    with pytest.raises(KarpenterError, match="reads back as intended"):
        aws_auth.plan({"mapRoles": ANCHORED}, aws_auth.identity(arn=NODE_ARN), "absent")


# pkg/mapper/configmap/mapper.go Map looks the canonical ARN up in mapRoles, then in mapUsers.
def test_role_arn_under_map_users_is_reported_by_present():
    data = {"mapRoles": NODE_ENTRY, "mapUsers": f"- userarn: {KARPENTER_ARN}\n  groups: [system:masters]\n"}
    result = aws_auth.plan(data, _node_identity())
    assert any("mapUsers item 0 also maps" in w for w in result.warnings)
    assert result.data(data)["mapUsers"] == data["mapUsers"]


def test_absent_removes_a_role_arn_listed_under_map_users_too():
    masters = f"- userarn: {KARPENTER_ARN.upper().replace('ARN:AWS:IAM', 'arn:aws:iam')}\n  groups: [system:masters]\n"
    data = {"mapRoles": NODE_ENTRY + f"- rolearn: {KARPENTER_ARN}\n  groups: [dev]\n", "mapUsers": USERS + masters}
    result = aws_auth.plan(data, aws_auth.identity(arn=KARPENTER_ARN), "absent")
    assert result.changes == [{"action": "removed", "arn": KARPENTER_ARN}] * 2
    new = result.data(data)
    assert new["mapRoles"] == NODE_ENTRY and new["mapUsers"] == USERS
    only_users = aws_auth.plan(
        {"mapRoles": NODE_ENTRY, "mapUsers": masters}, aws_auth.identity(arn=KARPENTER_ARN), "absent"
    )
    assert only_users.changed and only_users.data({})["mapUsers"] in ("", "[]\n")
    assert "mapRoles" not in only_users.data({})


# pkg/mapper/configmap/configmap_test.go TestParseMap: an sso entry (no rolearn) beside a node role.
PARSE_MAP_ROLES = """- rolearn: arn:aws:iam::123456789101:role/test-NodeInstanceRole-1VWRHZ3GKZ1T4
  username: system:node:{{EC2PrivateDNSName}}
  groups:
  - system:bootstrappers
  - system:nodes
- sso:
    permissionSetName: ViewOnlyAccess
    accountID: "012345678912"
    partition: aws-cn
  username: user1
  groups:
  - system:basic-users
"""


def test_entries_without_an_arn_are_kept_as_they_are():
    added = aws_auth.plan({"mapRoles": PARSE_MAP_ROLES}, _node_identity())
    assert added.text.startswith(PARSE_MAP_ROLES)
    node = "arn:aws:iam::123456789101:role/test-NodeInstanceRole-1VWRHZ3GKZ1T4"
    removed = aws_auth.plan({"mapRoles": added.text}, aws_auth.identity(arn=node), "absent")
    assert _roles(removed.text)[0]["sso"] == {
        "permissionSetName": "ViewOnlyAccess",
        "accountID": "012345678912",
        "partition": "aws-cn",
    }

# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from datetime import UTC

import pytest
import yaml
from ansible_collections.jit.karpenter.plugins.module_utils import aws_auth
from ansible_collections.jit.karpenter.plugins.module_utils.errors import KarpenterError

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
ADMIN_ENTRY = (
    f"# admins, keep this comment\n- rolearn: arn:aws:iam::{ACCOUNT}:role/Admin\n  username: admin\n  groups: [system:masters]\n"
)
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
    assert roles[1] == {"rolearn": f"arn:aws:iam::{ACCOUNT}:role/Admin", "username": "root", "groups": ["system:masters"]}
    assert len(roles) == 2
    assert result.before_entries == [{"rolearn": f"arn:aws:iam::{ACCOUNT}:role/Admin", "username": "admin", "groups": ["system:masters"]}]


def test_update_drops_username_when_not_given():
    data = aws_auth.plan(_data(), _node_identity()).data(_data())
    bare = aws_auth.identity(arn=KARPENTER_ARN, groups=NODE_GROUPS)
    result = aws_auth.plan(data, bare)
    assert result.changes[0]["action"] == "updated"
    assert "username" not in _roles(result.text)[-1]


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
    assert yaml.safe_load(new["mapUsers"])[-1] == {"userarn": f"arn:aws:iam::{ACCOUNT}:user/bob", "username": "bob", "groups": ["dev"]}


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
    assert result.text[len(text):].startswith("  - rolearn: ")
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
        aws_auth.plan(data, demoted)
    assert aws_auth.plan(data, demoted, force=True).changed


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
        f"- rolearn: arn:aws:iam::{ACCOUNT}:role/R{i:05d}\n  username: u{i}   # note {i}\n  groups:\n    - g{i % 7}\n" for i in range(n)
    )


def test_5000_entries_add_keeps_untouched_bytes():
    text = _big(5000)
    result = aws_auth.plan({"mapRoles": text}, _node_identity())
    assert result.text.startswith(text)
    tail = result.text[len(text):]
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
    assert updated.text[len(head):-len(tail)] == f"- rolearn: {target}\n  username: v\n  groups:\n    - g1\n"
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

# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Identity mappings in the ``aws-auth`` ConfigMap.

The ConfigMap's ``mapRoles``, ``mapUsers`` and ``mapAccounts`` keys each hold a
YAML list in a string. The pure part of this file parses those strings, merges
one identity by ARN (or account ID) and edits the stored text in place: only
the text of the touched entries changes, every other byte stays as it was.
When the text cannot be edited safely, the whole key is rendered again and a
warning says so.

Entries are read as aws-iam-authenticator reads them (``pkg/mapper/configmap``
``ParseMap``, ``pkg/config`` ``RoleMapping.Matches``): field names in any case
(``rolearn``, ``roleARN``, ``RoLeArN``; Go's JSON decoding), the last of two
spellings of a field winning; ARNs compared without regard to case; ``""``,
``''`` and a pair of backquotes meaning no entries (``isSkippable``); account
IDs as written, never as YAML numbers. Before anything is written, the whole
new text is parsed again and every entry that was not touched must read
exactly as before; otherwise the key is rendered again as a whole and checked
the same way, and if that fails too nothing is written.

The I/O part (bottom of the file) reads the ConfigMap, runs the pure merge and
writes with the object's ``resourceVersion``; a 409 Conflict means someone else
wrote in between, so it reads, merges and writes again.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import re
import time
from datetime import datetime, timezone

try:
    import yaml
except ImportError:  # reported by the module (AnsibleK8SModule checks for PyYAML)
    yaml = None
    HAS_YAML = False
else:
    HAS_YAML = True

from ansible_collections.jit.karpenter.plugins.module_utils._names import is_account_id, is_partition, parse_arn
from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError

# The Kubernetes side (_kube, urllib3) is imported by the functions that talk to the API server only: the merge and
# the plan above them are also the filter jit.karpenter.iam_identity_mapped's, which Ansible loads on the
# controller, in each task's process, where importing the Kubernetes client would cost more than the merge.

ROLES = "mapRoles"
USERS = "mapUsers"
ACCOUNTS = "mapAccounts"
KEYS = (ROLES, USERS, ACCOUNTS)
ARN_FIELD = {ROLES: "rolearn", USERS: "userarn"}
NODE_GROUP = "system:nodes"
# Fields of aws-iam-authenticator's RoleMapping / UserMapping, as Go's JSON decoding matches
# them: case-insensitively (pkg/mapper/configmap/yaml/aws-auth-crazy-case-keys.yaml).
_FIELDS = ("rolearn", "userarn", "username", "groups")
# pkg/mapper/configmap/configmap.go isSkippable: these values of a key hold no entries.
_SKIPPABLE = ("", "``", '""', "''")

_IAM_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
_IAM_PATH_PART = re.compile(r"^[\x21-\x2e\x30-\x7e]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# --------------------------------------------------------------------------- identities


class Identity:
    """What to look for and what to write: the ConfigMap key, the value entries are matched
    by (canonical ARN or account ID) and the entry to write for ``state=present``."""

    def __init__(self, key, match, entry, warnings=()):
        self.key = key
        self.match = match
        self.entry = entry
        self.warnings = list(warnings)

    @property
    def label(self):
        """The return-value form: ``{"arn": ...}`` or ``{"account": ...}``."""
        return {"account": self.match} if self.key == ACCOUNTS else {"arn": self.match}


def canonical_arn(arn):
    """Validate an IAM role or user ARN and return ``(key, canonical_arn, warnings)``.

    Role ARNs lose their IAM path (``role/some/path/Name`` -> ``role/Name``), because
    aws-auth compares role ARNs without it. User ARNs keep theirs.
    """
    if not isinstance(arn, str) or not arn:
        raise KarpenterError(f"arn must be a non-empty string, got {arn!r}")
    m = parse_arn(arn)
    if not m:
        raise KarpenterError(
            f"arn {arn!r} is not an ARN (expected arn:<partition>:iam::<account>:role/<name> or :user/<name>)"
        )
    if not is_partition(m.partition):
        raise KarpenterError(
            "arn {!r} has an unknown partition {!r} (expected aws, aws-cn, aws-us-gov, ...)".format(arn, m.partition)
        )
    if m.service != "iam" or m.region:
        raise KarpenterError(
            "arn {!r} is not an IAM ARN (expected arn:{}:iam::<account>:...; an sts assumed-role ARN must be given as its role ARN)".format(
                arn, m.partition
            )
        )
    if not is_account_id(m.account):
        raise KarpenterError("arn {!r} has an invalid account ID {!r} (expected 12 digits)".format(arn, m.account))
    kind, _sep, rest = m.resource.partition("/")
    if kind not in ("role", "user") or not rest:
        raise KarpenterError(f"arn {arn!r} names neither a role nor a user (expected role/<name> or user/<name>)")
    parts = rest.split("/")
    name, path = parts[-1], parts[:-1]
    if not _IAM_NAME.match(name) or (kind == "role" and len(name) > 64):
        raise KarpenterError(f"arn {arn!r} has an invalid {kind} name {name!r}")
    if any(not _IAM_PATH_PART.match(p) for p in path):
        raise KarpenterError(f"arn {arn!r} has an invalid IAM path")
    prefix = "arn:{}:iam::{}:".format(m.partition, m.account)
    warnings = []
    if kind == "role":
        canonical = prefix + "role/" + name
        if path:
            warnings.append(
                f"Removed the IAM path from role ARN {arn}: aws-auth matches role ARNs without a path, so the entry is written as {canonical}"
            )
        return ROLES, canonical, warnings
    return USERS, prefix + "user/" + rest, warnings


def _check_text(what, value):
    if not isinstance(value, str) or not value or _CONTROL.search(value):
        raise KarpenterError(f"{what} must be a non-empty string without control characters, got {value!r}")


def identity(arn=None, account=None, username=None, groups=None):
    """Build the :class:`Identity` for a role/user ARN or an account ID (exactly one)."""
    if (arn is None) == (account is None):
        raise KarpenterError("exactly one of arn and account is required")
    if account is not None:
        account = str(account)
        if not is_account_id(account):
            raise KarpenterError(f"account {account!r} is not an AWS account ID (expected 12 digits)")
        if username is not None or groups:
            raise KarpenterError("mapped_username and groups do not apply to an account mapping")
        return Identity(ACCOUNTS, account, account)
    key, canonical, warnings = canonical_arn(arn)
    entry = {ARN_FIELD[key]: canonical}
    if username is not None:
        _check_text("username", username)
        entry["username"] = username
    if groups:
        for group in groups:
            _check_text("each of groups", group)
        entry["groups"] = list(groups)
    return Identity(key, canonical, entry, warnings)


# --------------------------------------------------------------------------- parsing


def fold(entry):
    """``entry`` with the fields aws-iam-authenticator knows under their lower-case names.

    Go's JSON decoding matches field names case-insensitively and, when an entry spells a
    field twice, keeps the last (aws-iam-authenticator ``pkg/mapper/configmap/yaml_test.go``
    ``aws-auth-crazy-case-keys.yaml``, ``aws-auth-open-source-case-keys.yaml``). Other keys
    (``userid``, ``sso``, ...) are kept as they are.
    """
    out = {}
    for k, v in entry.items():
        name = k.lower() if isinstance(k, str) and k.lower() in _FIELDS else k
        out.pop(name, None)
        out[name] = v
    return out


def _match_key(value):
    """What an ARN is matched by: aws-iam-authenticator lower-cases the caller's canonical
    ARN and compares with ``strings.EqualFold`` (``pkg/config/mapper.go`` ``Matches``).
    A role ARN with a path is compared without it, as :func:`canonical_arn` writes it."""
    if not isinstance(value, str):
        return None
    if value.count("/") >= 2:
        try:
            value = canonical_arn(value)[1]
        except KarpenterError:
            pass
    return value.lower()


def view(entry, key):
    """How EKS reads one entry: for roles and users ``(arn, username, groups, other keys)``
    with the ARN lower-cased; for accounts the ID as written."""
    if key == ACCOUNTS:
        return str(entry)
    folded = fold(entry)
    groups = folded.get("groups")
    # A groups value that is not a list is dropped by Go's JSON decoding (an UnmarshalTypeError
    # for that field only): the entry maps with no groups.
    groups = tuple(str(g) for g in groups) if isinstance(groups, list) else ()
    username = folded.get("username")
    other = tuple(
        sorted((str(k), json.dumps(v, sort_keys=True, default=str)) for k, v in folded.items() if k not in _FIELDS)
    )
    return (_match_key(folded.get(ARN_FIELD[key])), None if username is None else str(username), groups, other)


def _same(a, b, key):
    """Two views equal but for the order of groups, which Kubernetes does not care about."""
    if key == ACCOUNTS:
        return a == b
    return a[:2] == b[:2] and sorted(a[2]) == sorted(b[2]) and a[3] == b[3]


class ParsedKey:
    """One parsed key: its text, YAML node tree and the Python value of each item."""

    def __init__(self, key, text, root, entries):
        self.key = key
        self.text = text
        self.root = root
        self.items = list(root.value) if root is not None else []
        self.entries = entries

    def __len__(self):
        return len(self.items)

    def entry(self, index):
        """The Python value of item ``index``."""
        return self.entries[index]

    def view(self, index):
        return view(self.entries[index], self.key)

    def match_value(self, index):
        """What item ``index`` is matched by: its account ID as written, or its ARN
        lower-cased (role ARNs without their path); None when it has no ARN."""
        if self.key == ACCOUNTS:
            return self.entries[index]
        return _match_key(fold(self.entries[index]).get(ARN_FIELD[self.key]))

    def maps_nodes(self, index):
        """True when item ``index`` lists ``system:nodes`` in its groups."""
        return NODE_GROUP in self.view(index)[2]


def _construct(node):
    return yaml.constructor.SafeConstructor().construct_document(node)


def _compose(text):
    loader = (getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader)(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def _label(node, key):
    """A name for an item in an error message: its ARN when one can be seen, else nothing."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value.lower() == ARN_FIELD.get(key):
                if isinstance(value_node, yaml.ScalarNode):
                    return f" ({value_node.value})"
    return ""


def skippable(text):
    """True when aws-iam-authenticator reads ``text`` as no entries."""
    return text is None or (isinstance(text, str) and text.strip() in _SKIPPABLE)


def parse_key(key, text):
    """Parse one key of the ConfigMap. Missing or empty text (also ``""``, ``''``) is an
    empty list.

    Raises :class:`KarpenterError` naming the key (and the item, with its ARN) when the
    text is not YAML, holds a tag that safe YAML does not know, or is not a list of the
    expected shape (mappings for mapRoles/mapUsers, scalars for mapAccounts).
    """
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise KarpenterError(f"aws-auth {key} is not a string; nothing was written", key=key)
    if skippable(text):
        return ParsedKey(key, text, None, [])
    try:
        root = _compose(text)
    except yaml.YAMLError as e:
        raise KarpenterError(f"aws-auth {key} does not parse as YAML; nothing was written: {e}", key=key) from e
    if root is not None and not isinstance(root, yaml.SequenceNode):
        try:
            found = _construct(root)
        except yaml.YAMLError as e:
            raise KarpenterError(f"aws-auth {key} does not parse as YAML; nothing was written: {e}", key=key) from e
        if found is not None:
            raise KarpenterError(
                f"aws-auth {key} is not a YAML list (found {type(found).__name__}); nothing was written", key=key
            )
        root = None
    items = list(root.value) if root is not None else []
    want = yaml.ScalarNode if key == ACCOUNTS else yaml.MappingNode
    entries = []
    for i, node in enumerate(items):
        try:
            value = _construct(node)
        except yaml.YAMLError as e:
            raise KarpenterError(
                "aws-auth {} item {}{} cannot be read: {}; nothing was written".format(
                    key, i, _label(node, key), str(e).replace("\n", " ")
                ),
                key=key,
            ) from e
        if not isinstance(node, want):
            raise KarpenterError(
                "aws-auth {} item {} is not {}: {!r}; nothing was written".format(
                    key, i, "an account ID" if key == ACCOUNTS else "a mapping", value
                ),
                key=key,
            )
        if key == ACCOUNTS:
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                raise KarpenterError(f"aws-auth {key} item {i} is not an account ID; nothing was written", key=key)
            # As written: Go's YAML reads an unquoted 012345670123 into a string as it stands,
            # where YAML 1.1 would make it an octal number.
            value = node.value
        entries.append(value)
    return ParsedKey(key, text, root, entries)


def parse_data(data):
    """Parse all three keys of a ConfigMap's ``data`` (a dict or None)."""
    data = data or {}
    return {key: parse_key(key, data.get(key)) for key in KEYS}


def has_node_mapping(entries_by_key):
    """True when some role or user entry puts its identity in the ``system:nodes`` group."""
    for key in (ROLES, USERS):
        for entry in entries_by_key.get(key) or []:
            if isinstance(entry, dict) and NODE_GROUP in view(entry, key)[2]:
                return True
    return False


# --------------------------------------------------------------------------- rendering


if HAS_YAML:

    class _Dumper(yaml.SafeDumper):
        """Block style with indented nested lists, as in the EKS documentation."""

        def increase_indent(self, flow=False, indentless=False):
            return super().increase_indent(flow, False)

        def ignore_aliases(self, data):
            # Entries read from text with anchors share objects; write each out in full.
            return True


def _ordered(entry, key):
    if key == ACCOUNTS or not isinstance(entry, dict):
        return entry
    first = [ARN_FIELD[key], "username", "groups"]
    out = {k: entry[k] for k in first if k in entry}
    out.update((k, v) for k, v in entry.items() if k not in out)
    return out


def render_entries(entries, key, indent=0):
    """Render list items as block-style YAML, the dash at column ``indent``."""
    if not entries:
        return ""
    text = yaml.dump(
        [_ordered(e, key) for e in entries],
        Dumper=_Dumper,
        default_flow_style=False,
        sort_keys=False,
        allow_unicode=True,
        width=2**31,
    )
    if indent:
        pad = " " * indent
        text = "".join(pad + line if line.strip() else line for line in text.splitlines(True))
    return text


# --------------------------------------------------------------------------- splicing


def _content_end(node):
    """Index just past the last character of a node's own content."""
    if isinstance(node, yaml.MappingNode) and not node.flow_style and node.value:
        return max(_content_end(node.value[-1][0]), _content_end(node.value[-1][1]))
    if isinstance(node, yaml.SequenceNode) and not node.flow_style and node.value:
        return _content_end(node.value[-1])
    return node.end_mark.index


def _item_span(text, node):
    """``(start, end, dash_column)`` of a block-sequence item: from the start of the line of
    its ``-`` to the end of the line holding its last character (newline included). None
    when the text around the item is not the plain ``<spaces>- <content>`` form."""
    i = node.start_mark.index - 1
    while i >= 0 and text[i] in " \t\r\n":
        i -= 1
    if i < 0 or text[i] != "-":
        return None
    line_start = text.rfind("\n", 0, i) + 1
    if text[line_start:i].strip(" "):
        return None
    end = _content_end(node)
    if end <= 0 or text[end - 1] != "\n":
        newline = text.find("\n", end)
        end = len(text) if newline < 0 else newline + 1
    return line_start, end, i - line_start


def splice(parsed, edits, appended):
    """Apply ``edits`` (``{index: new_entry_or_None}``; None removes) and append
    ``appended`` (a list of new entries) to the text of ``parsed``.

    Returns ``(text, window)``: the new text and the ``(start, end, first, last)`` region
    of it that replaced old items ``first..last`` (None when the whole text is new), or
    ``(None, None)`` when the text cannot be edited in place safely.
    """
    text, root = parsed.text, parsed.root
    if root is None:
        # Empty, or only comments: keep them and add the new items at column 0.
        if edits:
            return None, None
        if skippable(text):
            text = ""
        prefix = text if not text or text.endswith("\n") else text + "\n"
        return prefix + render_entries(appended, parsed.key), None
    if root.flow_style:
        if len(parsed):
            return None, None
        return render_entries(appended, parsed.key), None  # "[]": nothing to keep
    last = len(root.value) - 1
    wanted = sorted(set(edits) | ({last} if appended else set()))
    spans = []
    for index in wanted:
        span = _item_span(text, root.value[index])
        if span is None:
            return None, None
        spans.append((index, *span))
    pieces, cursor = [], 0
    for index, start, end, column in spans:
        if start < cursor:
            return None, None
        pieces.append(text[cursor:start])
        if index in edits:
            if edits[index] is not None:
                pieces.append(render_entries([edits[index]], parsed.key, column))
        else:
            pieces.append(text[start:end])
        cursor = end
        if appended and index == last:
            if not text[start:end].endswith("\n") and index not in edits:
                pieces.append("\n")
            pieces.append(render_entries(appended, parsed.key, column))
    pieces.append(text[cursor:])
    new_text = "".join(pieces)
    window = (spans[0][1], len(new_text) - (len(text) - cursor), spans[0][0], spans[-1][0])
    return new_text, window


# --------------------------------------------------------------------------- merging


class Plan:
    """The outcome of merging one identity into the ConfigMap data (no I/O)."""

    def __init__(self, key):
        self.key = key
        self.changed = False
        self.text = None
        self.changes = []
        self.warnings = []
        self.mapping = None
        self.before_entries = []
        self.after_entries = []
        self.other = {}  # another key's new text, for state=absent (see _also_matched)

    def data(self, data):
        """The full new ``data`` dict: ``data`` with only the touched keys replaced."""
        out = dict(data or {})
        if self.changed:
            if self.text is not None:
                out[self.key] = self.text
            out.update(self.other)
        return out


def _wanted(current, ident, purge_groups=False):
    """The entry ``present`` writes over ``current``: the asked username, and the groups
    already there plus the asked ones (only the asked ones with ``purge_groups``). Fields
    the module does not manage (``userid``, ...) are kept; field names are written in
    lower case."""
    if ident.key == ACCOUNTS:
        return current
    folded = fold(current)
    arn_field = ARN_FIELD[ident.key]
    out = {arn_field: ident.entry[arn_field]}
    username = ident.entry.get("username", folded.get("username"))
    if username is not None:
        out["username"] = username
    have = [str(g) for g in folded["groups"]] if isinstance(folded.get("groups"), list) else []
    if "groups" in ident.entry:
        asked = ident.entry["groups"]
        groups = list(asked) if purge_groups else have + [g for g in asked if g not in have]
    else:
        groups = have
    if groups or "groups" in folded:
        out["groups"] = groups
    out.update((k, v) for k, v in folded.items() if k not in _FIELDS)
    return out


def _still_maps_nodes(parsed, edits_by_key, appended_by_key):
    """Whether some role or user entry keeps the group system:nodes after the edits."""
    for key in (ROLES, USERS):
        target, edits = parsed[key], edits_by_key.get(key, {})
        for i in range(len(target)):
            if i not in edits and target.maps_nodes(i):
                return True
        written = [e for e in edits.values() if e is not None] + list(appended_by_key.get(key, ()))
        if has_node_mapping({key: written}):
            return True
    return False


def _also_matched(parsed, ident):
    """``(other key, indexes)`` of entries under the other key that EKS also matches for
    this ARN: aws-iam-authenticator looks the caller's canonical ARN up in mapRoles and then
    in mapUsers (``pkg/mapper/configmap/mapper.go`` ``Map``), so a role ARN listed under
    mapUsers maps the role too."""
    if ident.key == ACCOUNTS:
        return None, []
    other = USERS if ident.key == ROLES else ROLES
    return other, [i for i in range(len(parsed[other])) if parsed[other].match_value(i) == ident.match.lower()]


def _write_key(target, edits, appended, warnings):
    """The new text of one key, spliced when that reads back as intended, else rendered
    again as a whole and checked the same way; KarpenterError when neither does."""
    expected = _expected_views(target, edits, appended)
    text, _window = splice(target, edits, appended)
    if text is not None and not _reads_as(target.key, text, expected):
        text = None
    if text is None:
        new_entries = [edits.get(i, target.entry(i)) for i in range(len(target)) if edits.get(i, True) is not None]
        text = render_entries(new_entries + appended, target.key) or "[]\n"
        if not _reads_as(target.key, text, expected):
            raise KarpenterError(
                f"aws-auth {target.key} could not be written so that it reads back as intended (every other entry unchanged); "
                "nothing was written",
                key=target.key,
            )
        if len(target):
            warnings.append(
                f"aws-auth {target.key} could not be edited in place, so it was rendered again as a whole: "
                "comments, anchors and the formatting of the other entries were not kept"
            )
    return text


def plan(data, ident, state="present", force=False, purge_groups=False):
    """Merge ``ident`` into the ConfigMap ``data`` (dict or None) for ``state``.

    Pure: returns a :class:`Plan`; raises :class:`KarpenterError` on unparseable data,
    when the result would map no node (unless ``force``), or when no text could be
    produced that reads back as intended.
    """
    if state == "present" and ident.key != ACCOUNTS and "username" not in ident.entry and not ident.entry.get("groups"):
        # An entry with neither maps the identity to its own ARN with no groups.
        raise KarpenterError(f"state=present for {ident.match} needs mapped_username or groups; nothing was written")
    parsed = parse_data(data)
    target = parsed[ident.key]
    result = Plan(ident.key)
    result.warnings.extend(ident.warnings)
    match = ident.match if ident.key == ACCOUNTS else ident.match.lower()
    matches = [i for i in range(len(target)) if target.match_value(i) == match]
    edits, appended = {}, []
    if state == "present":
        if not matches:
            appended.append(ident.entry)
            result.changes.append(dict(action="added", **ident.label))
            result.mapping = ident.entry
        else:
            current = target.entry(matches[0])
            result.mapping = _wanted(current, ident, purge_groups)
            if not _same(view(result.mapping, ident.key), view(current, ident.key), ident.key):
                edits[matches[0]] = result.mapping
                result.changes.append(dict(action="updated", **ident.label))
            for dup in matches[1:]:
                edits[dup] = None
                result.changes.append(dict(action="removed", **ident.label))
            if len(matches) > 1:
                result.warnings.append(f"Removed {len(matches) - 1} duplicate {ident.key} entries for {ident.match}")
    else:
        for index in matches:
            edits[index] = None
            result.changes.append(dict(action="removed", **ident.label))
    other, also = _also_matched(parsed, ident)
    other_edits = {}
    if also and state == "absent":
        # EKS would still map the identity through these: absent removes them too.
        other_edits = {i: None for i in also}
        result.changes.extend(dict(action="removed", **ident.label) for _i in also)
        result.warnings.append(
            f"Removed {len(also)} {other} entries for {ident.match}: EKS looks every ARN up in both mapRoles and mapUsers"
        )
    elif also:
        result.warnings.extend(
            f"aws-auth {other} item {i} also maps {ident.match} (EKS looks every ARN up in mapRoles first, then mapUsers); "
            "it was left as it is"
            for i in also
        )
    result.before_entries = [target.entry(i) for i in matches] + [parsed[other].entry(i) for i in other_edits]
    result.after_entries = [result.mapping] if state == "present" else []
    if not edits and not appended and not other_edits:
        return result
    result.changed = True
    edits_by_key = {ident.key: edits}
    if other_edits:
        edits_by_key[other] = other_edits
    if not force and not _still_maps_nodes(parsed, edits_by_key, {ident.key: appended}):
        raise KarpenterError(
            "Refusing to write aws-auth without a node mapping: after this change no mapRoles or mapUsers entry "
            f"has the group {NODE_GROUP}, so nodes could no longer join. Nothing was written; "
            "set force=true to write anyway."
        )
    if edits or appended:
        result.text = _write_key(target, edits, appended, result.warnings)
    if other_edits:
        result.other[other] = _write_key(parsed[other], other_edits, [], result.warnings)
    return result


def _expected_views(target, edits, appended):
    """The views the new text must read as, in order: every untouched entry as it reads
    now, the edited ones as edited, the removed ones gone, the added ones at the end."""
    out = []
    for i in range(len(target)):
        if i in edits:
            if edits[i] is not None:
                out.append(view(edits[i], target.key))
        else:
            out.append(target.view(i))
    out.extend(view(e, target.key) if target.key != ACCOUNTS else str(e) for e in appended)
    return out


def _reads_as(key, text, expected):
    """Parse the whole new text as EKS would and compare every entry with ``expected``."""
    try:
        parsed = parse_key(key, text)
    except KarpenterError:
        return False
    return [parsed.view(i) for i in range(len(parsed))] == expected


# --------------------------------------------------------------------------- I/O


def backup_name(name, now=None):
    """``<name>-backup-<UTC timestamp>``, a valid ConfigMap name."""
    now = now or datetime.now(timezone.utc)  # noqa: UP017 (modules also run on Python < 3.11)
    return "{}-backup-{}".format(name, now.strftime("%Y%m%d%H%M%S"))


class _Run:
    def __init__(self):
        self.backup_name = None
        self.backup_created = False


def _read(core, namespace, name):
    from ansible_collections.jit.karpenter.plugins.module_utils._kube import ApiException, api_error, transient

    try:
        return core.read_namespaced_config_map(name, namespace)
    except ApiException as e:
        if getattr(e, "status", None) == 404:
            return None
        if transient(e):
            raise
        raise api_error(e, f"Reading ConfigMap {namespace}/{name}")


def _config_map(namespace, name, data, annotations=None):
    from kubernetes.client import V1ConfigMap, V1ObjectMeta

    return V1ConfigMap(metadata=V1ObjectMeta(name=name, namespace=namespace, annotations=annotations), data=data)


def _backup(core, namespace, name, cm, run, now):
    """Save ``cm``'s data as a new ConfigMap; on a later attempt, overwrite this run's own backup."""
    from ansible_collections.jit.karpenter.plugins.module_utils._kube import ApiException, api_error

    if run.backup_name is None:
        run.backup_name = backup_name(name, now)
    annotations = {
        "jit.karpenter/backup-of": name,
        "jit.karpenter/backup-of-resource-version": cm.metadata.resource_version,
    }
    for attempt in range(5):
        body = _config_map(namespace, run.backup_name, dict(cm.data or {}), annotations)
        try:
            if run.backup_created:
                core.replace_namespaced_config_map(run.backup_name, namespace, body)
            else:
                core.create_namespaced_config_map(namespace, body)
                run.backup_created = True
            return
        except ApiException as e:
            if getattr(e, "status", None) != 409 or run.backup_created:
                raise api_error(e, f"Saving backup ConfigMap {namespace}/{run.backup_name}")
            run.backup_name = f"{backup_name(name, now)}-{attempt + 2}"
    raise KarpenterError(f"Could not find a free backup ConfigMap name for {namespace}/{name}")


def _attempt(core, namespace, name, ident, state, force, backup, check_mode, run, now, purge_groups=False):
    from ansible_collections.jit.karpenter.plugins.module_utils._kube import ApiException, api_error, transient

    cm = _read(core, namespace, name)
    result = plan(cm.data if cm is not None else None, ident, state, force, purge_groups)
    if not result.changed:
        return result
    dry_run = "All" if check_mode else None
    kwargs = {"dry_run": dry_run} if dry_run else {}
    if cm is None:
        body = _config_map(namespace, name, result.data(None))
        try:
            core.create_namespaced_config_map(namespace, body, **kwargs)
        except ApiException as e:
            if e.status == 409 or transient(e):
                raise
            raise api_error(e, f"Creating ConfigMap {namespace}/{name}")
        return result
    if backup and not check_mode:
        _backup(core, namespace, name, cm, run, now)
    cm.data = result.data(cm.data)  # metadata.resourceVersion travels with the write
    try:
        core.replace_namespaced_config_map(name, namespace, cm, **kwargs)
    except ApiException as e:
        if e.status == 409 or transient(e):
            raise
        raise api_error(e, f"Writing ConfigMap {namespace}/{name}")
    return result


def ensure(
    core,
    ident,
    state="present",
    namespace="kube-system",
    name="aws-auth",
    force=False,
    backup=False,
    check_mode=False,
    attempts=12,
    sleep=time.sleep,
    now=None,
    purge_groups=False,
):
    """Bring ``namespace/name`` to hold (``present``) or not hold (``absent``) ``ident``.

    ``core`` is a ``kubernetes.client.CoreV1Api``. Every write carries the
    ``resourceVersion`` that was read; on 409 Conflict the ConfigMap is read and merged
    again, and on 429 or a 5xx the read, merge and write are sent again, with bounded backoff. Returns ``(changed, result)`` with ``result`` a dict
    (``identity_mapping``, ``changes``, ``warnings``, ``backup_name``, ``diff``, ``attempts``).
    In check mode the write is a server-side dry run.
    """
    from urllib3.exceptions import HTTPError

    from ansible_collections.jit.karpenter.plugins.module_utils._kube import (
        TRANSIENT_STATUSES,
        ApiException,
        api_error,
        with_retries,
    )

    run = _Run()
    try:
        result, used = with_retries(
            lambda: _attempt(core, namespace, name, ident, state, force, backup, check_mode, run, now, purge_groups),
            retry_on=(409,) + TRANSIENT_STATUSES,
            attempts=attempts,
            sleep=sleep,
        )
    except HTTPError as e:
        raise KarpenterError(f"Cannot reach the Kubernetes API for ConfigMap {namespace}/{name}: {e}") from e
    except ApiException as e:
        err = api_error(e, f"Writing ConfigMap {namespace}/{name}")
        if getattr(e, "status", None) == 409:
            err.msg += f"; it kept changing under us for {attempts} attempts"
        else:
            err.msg += f"; still failing after {attempts} attempts"
        raise err
    where = f"{namespace}/{name} {result.key}"
    out = {
        "identity_mapping": copy.deepcopy(result.mapping) if state == "present" else None,
        "changes": result.changes,
        "warnings": result.warnings,
        "backup_name": run.backup_name if run.backup_created else None,
        "attempts": used,
        "diff": {
            "before_header": where,
            "after_header": where,
            "before": render_entries(result.before_entries, result.key),
            "after": render_entries(result.after_entries, result.key),
        },
    }
    if out["identity_mapping"] is not None and result.key == ACCOUNTS:
        out["identity_mapping"] = {"account": str(out["identity_mapping"])}
    return result.changed, out


def ensure_present(core, ident, **kwargs):
    return ensure(core, ident, "present", **kwargs)


def ensure_absent(core, ident, **kwargs):
    return ensure(core, ident, "absent", **kwargs)


def run(clients, params, check_mode=False, region=None):
    """The ``iam_identity_mapping`` module's entry point (see ``_runner``): one identity in the ConfigMap."""
    from kubernetes.client import CoreV1Api

    absent = params["state"] == "absent"
    ident = identity(
        arn=params["arn"],
        account=params["account"],
        username=None if absent else params["mapped_username"],
        groups=None if absent else params["groups"],
    )
    changed, result = ensure(
        CoreV1Api(clients.kube()),
        ident,
        params["state"],
        namespace=params["namespace"],
        name=params["name"],
        force=params["force"],
        backup=params["backup"],
        check_mode=check_mode,
        purge_groups=params["purge_groups"],
    )
    result.pop("attempts")
    return dict(result, changed=changed)

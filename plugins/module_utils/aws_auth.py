# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Identity mappings in the ``aws-auth`` ConfigMap.

The ConfigMap's ``mapRoles``, ``mapUsers`` and ``mapAccounts`` keys each hold a
YAML list in a string. The pure part of this file parses those strings, merges
one identity by ARN (or account ID) and edits the stored text in place: only
the text of the touched entries changes, every other byte stays as it was.
When the text cannot be edited safely, the whole key is rendered again and a
warning says so.

The I/O part (bottom of the file) reads the ConfigMap, runs the pure merge and
writes with the object's ``resourceVersion``; a 409 Conflict means someone else
wrote in between, so it reads, merges and writes again.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re
import time
from datetime import datetime, timezone

try:
    import yaml
except ImportError:  # reported by the module through HAS_YAML
    yaml = None
    HAS_YAML = False
else:
    HAS_YAML = True

try:
    from urllib3.exceptions import HTTPError as _HTTPError
except ImportError:  # urllib3 comes with kubernetes; without it nothing here runs

    class _HTTPError(Exception):
        pass


from ansible_collections.jit.karpenter.plugins.module_utils.errors import KarpenterError
from ansible_collections.jit.karpenter.plugins.module_utils.kube import (
    ApiException,
    api_error,
    with_retries,
)

ROLES = "mapRoles"
USERS = "mapUsers"
ACCOUNTS = "mapAccounts"
KEYS = (ROLES, USERS, ACCOUNTS)
ARN_FIELD = {ROLES: "rolearn", USERS: "userarn"}
NODE_GROUP = "system:nodes"

_ARN = re.compile(r"^arn:(?P<partition>[^:]*):(?P<service>[^:]*):(?P<region>[^:]*):(?P<account>[^:]*):(?P<resource>.*)$")
_PARTITION = re.compile(r"^aws(-[a-z]+)*$")
_ACCOUNT = re.compile(r"^[0-9]{12}$")
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
    m = _ARN.match(arn)
    if not m:
        raise KarpenterError(f"arn {arn!r} is not an ARN (expected arn:<partition>:iam::<account>:role/<name> or :user/<name>)")
    if not _PARTITION.match(m.group("partition")):
        raise KarpenterError("arn {!r} has an unknown partition {!r} (expected aws, aws-cn, aws-us-gov, ...)".format(arn, m.group("partition")))
    if m.group("service") != "iam" or m.group("region"):
        raise KarpenterError(
            "arn {!r} is not an IAM ARN (expected arn:{}:iam::<account>:...; an sts assumed-role ARN must be given as its role ARN)".format(
                arn, m.group("partition")
            )
        )
    if not _ACCOUNT.match(m.group("account")):
        raise KarpenterError("arn {!r} has an invalid account ID {!r} (expected 12 digits)".format(arn, m.group("account")))
    kind, _sep, rest = m.group("resource").partition("/")
    if kind not in ("role", "user") or not rest:
        raise KarpenterError(f"arn {arn!r} names neither a role nor a user (expected role/<name> or user/<name>)")
    parts = rest.split("/")
    name, path = parts[-1], parts[:-1]
    if not _IAM_NAME.match(name) or (kind == "role" and len(name) > 64):
        raise KarpenterError(f"arn {arn!r} has an invalid {kind} name {name!r}")
    if any(not _IAM_PATH_PART.match(p) for p in path):
        raise KarpenterError(f"arn {arn!r} has an invalid IAM path")
    prefix = "arn:{}:iam::{}:".format(m.group("partition"), m.group("account"))
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
        if not _ACCOUNT.match(account):
            raise KarpenterError(f"account {account!r} is not an AWS account ID (expected 12 digits)")
        if username is not None or groups:
            raise KarpenterError("username and groups do not apply to an account mapping")
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


class ParsedKey:
    """One parsed key: its text and YAML node tree. Items are constructed to Python values
    only when needed, so that a large list costs little more than its parse."""

    def __init__(self, key, text, root):
        self.key = key
        self.text = text
        self.root = root
        self.items = list(root.value) if root is not None else []
        self._cache = {}

    def __len__(self):
        return len(self.items)

    def entry(self, index):
        """The Python value of item ``index``."""
        if index not in self._cache:
            self._cache[index] = _construct(self.items[index])
        return self._cache[index]

    @property
    def entries(self):
        """All items as Python values."""
        return [self.entry(i) for i in range(len(self.items))]

    def match_value(self, index):
        """What item ``index`` is matched by: its account ID as written, or its canonical
        ARN (the raw string when it is not a valid ARN); None when it has no ARN."""
        node = self.items[index]
        if self.key == ACCOUNTS:
            return node.value
        value = _scalar_value(node, ARN_FIELD[self.key])
        if value is None or value.count("/") < 2:
            return value
        try:
            return canonical_arn(value)[1]
        except KarpenterError:
            return value

    def maps_nodes(self, index):
        """True when item ``index`` lists ``system:nodes`` in its groups."""
        for key_node, value_node in self.items[index].value:
            if key_node.value == "groups" and isinstance(value_node, yaml.SequenceNode):
                return any(isinstance(g, yaml.ScalarNode) and g.value == NODE_GROUP for g in value_node.value)
        return False


def _scalar_value(mapping_node, key):
    for key_node, value_node in mapping_node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return value_node.value if isinstance(value_node, yaml.ScalarNode) else None
    return None


def _construct(node):
    return yaml.constructor.SafeConstructor().construct_document(node)


def _compose(text):
    loader = (getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader)(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def parse_key(key, text):
    """Parse one key of the ConfigMap. Missing or empty text is an empty list.

    Raises :class:`KarpenterError` naming the key when the text is not YAML or is not a
    list of the expected shape (mappings for mapRoles/mapUsers, scalars for mapAccounts).
    """
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise KarpenterError(f"aws-auth {key} is not a string; nothing was written", key=key)
    try:
        root = _compose(text)
        if root is not None and not isinstance(root, yaml.SequenceNode):
            found = _construct(root)
            if found is not None:
                raise KarpenterError(
                    f"aws-auth {key} is not a YAML list (found {type(found).__name__}); nothing was written", key=key
                )
            root = None
    except yaml.YAMLError as e:
        raise KarpenterError(f"aws-auth {key} does not parse as YAML; nothing was written: {e}", key=key) from e
    parsed = ParsedKey(key, text, root)
    want = yaml.ScalarNode if key == ACCOUNTS else yaml.MappingNode
    for i, node in enumerate(parsed.items):
        if not isinstance(node, want):
            raise KarpenterError(
                "aws-auth {} item {} is not {}: {!r}; nothing was written".format(
                    key, i, "an account ID" if key == ACCOUNTS else "a mapping", parsed.entry(i)
                ),
                key=key,
            )
    if key == ACCOUNTS:
        for i in range(len(parsed)):
            if not isinstance(parsed.entry(i), (str, int)) or isinstance(parsed.entry(i), bool):
                raise KarpenterError(f"aws-auth {key} item {i} is not an account ID; nothing was written", key=key)
    return parsed


def parse_data(data):
    """Parse all three keys of a ConfigMap's ``data`` (a dict or None)."""
    data = data or {}
    return {key: parse_key(key, data.get(key)) for key in KEYS}


def _normal(entry, key):
    """The comparable content of an entry (groups order does not matter)."""
    if key == ACCOUNTS:
        return str(entry)
    out = dict(entry)
    groups = out.pop("groups", None) or []
    out["groups"] = sorted(str(g) for g in groups) if isinstance(groups, list) else groups
    return out


def has_node_mapping(entries_by_key):
    """True when some role or user entry puts its identity in the ``system:nodes`` group."""
    for key in (ROLES, USERS):
        for entry in entries_by_key.get(key) or []:
            groups = entry.get("groups") if isinstance(entry, dict) else None
            if isinstance(groups, list) and NODE_GROUP in groups:
                return True
    return False


# --------------------------------------------------------------------------- rendering


if HAS_YAML:

    class _Dumper(yaml.SafeDumper):
        """Block style with indented nested lists, as in the EKS documentation."""

        def increase_indent(self, flow=False, indentless=False):
            return super().increase_indent(flow, False)


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

    def data(self, data):
        """The full new ``data`` dict: ``data`` with only the touched key replaced."""
        out = dict(data or {})
        if self.changed:
            out[self.key] = self.text
        return out


def _wanted(current, ident):
    if ident.key == ACCOUNTS:
        return ident.match if str(current) == ident.match else current
    wanted = dict(current)
    wanted.update(ident.entry)
    for optional in ("username", "groups"):
        if optional not in ident.entry:
            wanted.pop(optional, None)
    return wanted


def _still_maps_nodes(parsed, ident, edits, appended):
    for key in (ROLES, USERS):
        target = parsed[key]
        for i in range(len(target)):
            if key == ident.key and i in edits:
                continue
            if target.maps_nodes(i):
                return True
    if ident.key == ACCOUNTS:
        return False
    changed = [e for e in edits.values() if e is not None] + list(appended)
    return has_node_mapping({ident.key: changed})


def plan(data, ident, state="present", force=False):
    """Merge ``ident`` into the ConfigMap ``data`` (dict or None) for ``state``.

    Pure: returns a :class:`Plan`; raises :class:`KarpenterError` on unparseable data or
    when the result would map no node (unless ``force``).
    """
    parsed = parse_data(data)
    target = parsed[ident.key]
    result = Plan(ident.key)
    result.warnings.extend(ident.warnings)
    matches = [i for i in range(len(target)) if target.match_value(i) == ident.match]
    edits, appended = {}, []
    if state == "present":
        if not matches:
            appended.append(ident.entry)
            result.changes.append(dict(action="added", **ident.label))
            result.mapping = ident.entry
        else:
            current = target.entry(matches[0])
            result.mapping = _wanted(current, ident)
            if _normal(result.mapping, ident.key) != _normal(current, ident.key):
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
    result.before_entries = [target.entry(i) for i in matches]
    result.after_entries = [result.mapping] if state == "present" else []
    if not edits and not appended:
        return result
    result.changed = True
    if not force and not _still_maps_nodes(parsed, ident, edits, appended):
        raise KarpenterError(
            "Refusing to write aws-auth without a node mapping: after this change no mapRoles or mapUsers entry "
            f"has the group {NODE_GROUP}, so nodes could no longer join. Nothing was written; "
            "set force=true to write anyway."
        )
    text, window = splice(target, edits, appended)
    if text is not None and not _spliced_as_expected(text, window, target, edits, appended):
        text = None
    if text is None:
        new_entries = [edits.get(i, target.entry(i)) for i in range(len(target)) if edits.get(i, True) is not None]
        text = render_entries(new_entries + appended, ident.key) or "[]\n"
        if len(target):
            result.warnings.append(
                f"aws-auth {ident.key} could not be edited in place, so it was rendered again as a whole: "
                "comments and the formatting of the other entries were not kept"
            )
    result.text = text
    return result


def _spliced_as_expected(text, window, target, edits, appended):
    """Parse the edited region and check its items: their count, and the value of every
    replaced or added item. The text around the region is unchanged, whole items."""
    first, last = 0, len(target) - 1
    if window is not None:
        start, end, first, last = window
        text = text[start:end]
    try:
        root = _compose(text)
    except yaml.YAMLError:
        return False
    if root is not None and not isinstance(root, yaml.SequenceNode):
        return False
    items = root.value if root is not None else []
    expected, new_index = {}, 0
    for i in range(first, last + 1):
        if i in edits:
            if edits[i] is None:
                continue
            expected[new_index] = edits[i]
        new_index += 1
    for entry in appended:
        expected[new_index] = entry
        new_index += 1
    if len(items) != new_index:
        return False
    try:
        return all(_construct(items[i]) == entry for i, entry in expected.items())
    except yaml.YAMLError:
        return False


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
    try:
        return core.read_namespaced_config_map(name, namespace)
    except ApiException as e:
        if getattr(e, "status", None) == 404:
            return None
        raise api_error(e, f"Reading ConfigMap {namespace}/{name}")


def _config_map(namespace, name, data, annotations=None):
    from kubernetes.client import V1ConfigMap, V1ObjectMeta

    return V1ConfigMap(metadata=V1ObjectMeta(name=name, namespace=namespace, annotations=annotations), data=data)


def _backup(core, namespace, name, cm, run, now):
    """Save ``cm``'s data as a new ConfigMap; on a later attempt, overwrite this run's own backup."""
    if run.backup_name is None:
        run.backup_name = backup_name(name, now)
    annotations = {"jit.karpenter/backup-of": name, "jit.karpenter/backup-of-resource-version": cm.metadata.resource_version}
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


def _attempt(core, namespace, name, ident, state, force, backup, check_mode, run, now):
    cm = _read(core, namespace, name)
    result = plan(cm.data if cm is not None else None, ident, state, force)
    if not result.changed:
        return result
    dry_run = "All" if check_mode else None
    kwargs = {"dry_run": dry_run} if dry_run else {}
    if cm is None:
        body = _config_map(namespace, name, result.data(None))
        try:
            core.create_namespaced_config_map(namespace, body, **kwargs)
        except ApiException as e:
            if e.status == 409:
                raise
            raise api_error(e, f"Creating ConfigMap {namespace}/{name}")
        return result
    if backup and not check_mode:
        _backup(core, namespace, name, cm, run, now)
    cm.data = result.data(cm.data)  # metadata.resourceVersion travels with the write
    try:
        core.replace_namespaced_config_map(name, namespace, cm, **kwargs)
    except ApiException as e:
        if e.status == 409:
            raise
        raise api_error(e, f"Writing ConfigMap {namespace}/{name}")
    return result


def ensure(core, ident, state="present", namespace="kube-system", name="aws-auth", force=False, backup=False,
           check_mode=False, attempts=12, sleep=time.sleep, now=None):
    """Bring ``namespace/name`` to hold (``present``) or not hold (``absent``) ``ident``.

    ``core`` is a ``kubernetes.client.CoreV1Api``. Every write carries the
    ``resourceVersion`` that was read; on 409 Conflict the ConfigMap is read and merged
    again, with bounded backoff. Returns ``(changed, result)`` with ``result`` a dict
    (``mapping``, ``changes``, ``warnings``, ``backup_name``, ``diff``, ``attempts``).
    In check mode the write is a server-side dry run.
    """
    run = _Run()
    try:
        result, used = with_retries(
            lambda: _attempt(core, namespace, name, ident, state, force, backup, check_mode, run, now),
            retry_on=(409,),
            attempts=attempts,
            sleep=sleep,
        )
    except _HTTPError as e:
        raise KarpenterError(f"Cannot reach the Kubernetes API for ConfigMap {namespace}/{name}: {e}") from e
    except ApiException as e:
        err = api_error(e, f"Writing ConfigMap {namespace}/{name}")
        err.msg += f"; it kept changing under us for {attempts} attempts"
        raise err
    where = f"{namespace}/{name} {result.key}"
    out = {
        "mapping": copy.deepcopy(result.mapping) if state == "present" else None,
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
    if out["mapping"] is not None and result.key == ACCOUNTS:
        out["mapping"] = {"account": str(out["mapping"])}
    return result.changed, out


def ensure_present(core, ident, **kwargs):
    return ensure(core, ident, "present", **kwargs)


def ensure_absent(core, ident, **kwargs):
    return ensure(core, ident, "absent", **kwargs)

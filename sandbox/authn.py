"""How EKS maps an IAM identity to a Kubernetes user: access entries and aws-auth, with EKS's precedence.

Pure logic, shared by the sandbox's token webhook (kube-apiserver authentication) and its node agent
(whether an instance may register its Node). Input is what the cluster holds:

* ``caller_arn``: what STS ``GetCallerIdentity`` returns for the credentials, e.g.
  ``arn:aws:sts::111122223333:assumed-role/KarpenterNodeRole-demo/i-0abc`` for an instance profile.
* ``authentication_mode``: the cluster's ``accessConfig.authenticationMode``.
* ``aws_auth``: the ``data`` of ``kube-system/aws-auth`` (``mapRoles``, ``mapUsers``, ``mapAccounts``
  as YAML strings), or ``None`` when the ConfigMap does not exist.
* ``access_entries``: ``describe_access_entry()["accessEntry"]`` dictionaries; each may carry the
  ``list_associated_access_policies()["associatedAccessPolicies"]`` list under ``accessPolicies``.

Rules (aws-iam-authenticator and the EKS user guide; its files named where a rule comes from):

* The caller is canonicalised as ``pkg/arn`` ``Canonicalize`` does: an assumed-role ARN becomes
  ``arn:<p>:iam::<acct>:role/<name>``, IAM role, user and root ARNs and STS federated-user ARNs stay
  as they are; other services and partitions outside ``pkg/endpoints`` ``PARTITIONS`` are refused.
  STS ARNs carry no IAM path, so a role with a path canonicalises to its name only.
* aws-auth is read as ``pkg/mapper/configmap`` ``ParseMap`` reads it: each key on its own (a key that
  does not parse gives nothing, the others are kept); ``""``, ``''`` and a pair of backquotes are no
  entries; field names in any case, the last spelling winning (Go's JSON decoding); a ``groups`` that
  is not a list is dropped (the entry maps with no groups); entries without an ARN are skipped;
  ``mapAccounts`` items are strings as written (an unquoted ``012345670123`` is not octal). Of two
  entries for one ARN the last wins (``saveMap`` fills a map).
* The lower-cased canonical ARN is looked up in ``mapRoles``, then in ``mapUsers``, with
  ``strings.EqualFold`` (``pkg/mapper/configmap/mapper.go`` ``Map``), so a role ARN listed under
  ``mapUsers`` maps the role. A ``rolearn`` that includes a path never matches: EKS documents that
  the ARN "can't include a path". ``mapAccounts`` maps any principal of a listed account to its own
  ARN, with no groups.
* Access entries match by account and role name (or user ARN), so an entry's ``principalArn`` may
  carry a path. ``EC2_LINUX`` entries give ``system:node:{{EC2PrivateDNSName}}`` in group
  ``system:nodes``; ``STANDARD`` entries give their ``username`` (default: the assumed-role ARN with
  ``{{SessionName}}``) and ``kubernetesGroups``.
* Precedence: ``CONFIG_MAP`` reads aws-auth only; ``API`` reads access entries only;
  ``API_AND_CONFIG_MAP`` uses the principal's access entry when it has one, otherwise aws-auth.
* In ``CONFIG_MAP`` mode the cluster creator is ``system:masters`` without appearing anywhere; in the
  API modes the creator has an access entry like anyone else.
* Templates in the username and in each group (``pkg/server/server.go`` ``renderTemplates``):
  ``{{AccountID}}``, ``{{SessionName}}`` (``@`` replaced by ``-``), ``{{SessionNameRaw}}``,
  ``{{AccessKeyID}}`` and ``{{EC2PrivateDNSName}}`` (only for a session name that is an instance ID,
  ``i-`` and 8 or 17 word characters; it needs ``private_dns_name``). Anything else in braces stays
  as written.
"""

import re
from dataclasses import dataclass, field

import yaml

MODES = ("CONFIG_MAP", "API_AND_CONFIG_MAP", "API")
NODE_GROUPS = ("system:bootstrappers", "system:nodes")
PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc")
_ARN = re.compile(
    r"^arn:(?P<partition>[^:]*):(?P<service>[^:]*):(?P<region>[^:]*):(?P<account>[^:]*):(?P<resource>.+)$"
)
_INSTANCE_ID = re.compile(r"^i-(\w{8}|\w{17})$")  # pkg/server/server.go instanceIDPattern
_FIELDS = ("rolearn", "userarn", "username", "groups")
_SKIPPABLE = ("", "``", '""', "''")  # pkg/mapper/configmap/configmap.go isSkippable


@dataclass(frozen=True)
class Principal:
    """A caller, as aws-iam-authenticator sees it."""

    arn: str  # as returned by GetCallerIdentity
    partition: str
    account: str
    kind: str  # "role", "user", "root" or "federated-user"
    name: str  # role or user name, without path
    session_name: str = ""
    canonical: str = ""  # pkg/arn Canonicalize

    @property
    def canonical_arn(self):
        return self.canonical or self.arn


@dataclass
class Decision:
    allowed: bool
    reason: str
    username: str = ""
    groups: list = field(default_factory=list)
    source: str = ""  # "access_entry", "aws_auth", "cluster_creator" or "" when denied
    access_policies: list = field(default_factory=list)

    @property
    def is_node(self):
        return self.allowed and "system:nodes" in self.groups


def parse_arn(arn):
    """The principal behind ``arn``, canonicalised as aws-iam-authenticator's ``pkg/arn``
    ``Canonicalize`` does; ValueError for anything it refuses (other services, unknown
    partitions, an assumed-role ARN without a session)."""
    m = _ARN.match(arn or "")
    if not m or not m.group("account"):
        raise ValueError("not an IAM or STS principal ARN: %r" % arn)
    partition, account = m.group("partition"), m.group("account")
    if partition not in PARTITIONS:
        raise ValueError("arn %r does not have a recognized partition" % arn)
    parts = m.group("resource").split("/")
    common = {"arn": arn, "partition": partition, "account": account}
    if m.group("service") == "sts":
        if parts[0] == "federated-user":
            return Principal(kind="federated-user", name=parts[-1], canonical=arn, **common)
        if parts[0] == "assumed-role":
            if len(parts) < 3 or not all(parts[1:]):
                raise ValueError("assumed-role arn %r does not have a role" % arn)
            role = "/".join(parts[1:-1])
            return Principal(
                kind="role",
                name=parts[-2],
                session_name=parts[-1],
                canonical="arn:%s:iam::%s:role/%s" % (partition, account, role),
                **common,
            )
        raise ValueError("unrecognized resource %s for service sts: %r" % (m.group("resource"), arn))
    if m.group("service") == "iam":
        if parts[0] in ("role", "user") and len(parts) > 1 and parts[-1]:
            return Principal(kind=parts[0], name=parts[-1], canonical=arn, **common)
        if m.group("resource") == "root":
            return Principal(kind="root", name="root", canonical=arn, **common)
        raise ValueError("unrecognized resource %s for service iam: %r" % (m.group("resource"), arn))
    raise ValueError("service %s in arn %s is not a valid service for identities" % (m.group("service"), arn))


def _role_has_path(arn):
    m = _ARN.match(arn or "")
    return bool(m) and m.group("resource").startswith("role/") and m.group("resource").count("/") > 1


def render_template(template, principal, private_dns_name=None, access_key_id=""):
    """pkg/server/server.go ``renderTemplate``: plain replacement of the five known
    placeholders, written exactly ``{{Name}}``; anything else stays as it is.
    ``{{EC2PrivateDNSName}}`` needs a session name that is an instance ID (ValueError)."""
    if "{{EC2PrivateDNSName}}" in template:
        if not _INSTANCE_ID.match(principal.session_name):
            raise ValueError("SessionName did not contain an instance id (session %r)" % principal.session_name)
        if not private_dns_name:
            raise ValueError("the private DNS name of instance %s is not known" % principal.session_name)
        template = template.replace("{{EC2PrivateDNSName}}", private_dns_name)
    template = template.replace("{{AccountID}}", principal.account)
    template = template.replace("{{SessionName}}", principal.session_name.replace("@", "-"))
    template = template.replace("{{SessionNameRaw}}", principal.session_name)
    return template.replace("{{AccessKeyID}}", access_key_id or "")


@dataclass
class AwsAuth:
    """What aws-iam-authenticator keeps of the ConfigMap (``ParseMap`` then ``saveMap``)."""

    roles: dict = field(default_factory=dict)  # lower-cased rolearn -> entry; the last one wins
    users: dict = field(default_factory=dict)  # userarn -> entry; the last one wins
    accounts: set = field(default_factory=set)
    errors: list = field(default_factory=list)


def _fold(entry):
    """Go's JSON decoding: field names match case-insensitively, the last spelling wins."""
    out = {}
    for k, v in entry.items():
        name = k.lower() if isinstance(k, str) and k.lower() in _FIELDS else k
        out[name] = v
    return out


def _mappings(key, raw, arn_field, errors):
    """The valid entries of mapRoles or mapUsers, each folded, with ``groups`` a list of strings."""
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError as e:
        errors.append("aws-auth %s is not valid YAML: %s" % (key, e))
        return []
    if value is None:
        return []
    if not isinstance(value, list):
        errors.append("aws-auth %s is not a list" % key)
        return []
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            errors.append("aws-auth %s item %d is not a mapping" % (key, i))
            continue
        entry = _fold(item)
        groups = entry.get("groups")
        if groups is not None and not (isinstance(groups, list) and all(isinstance(g, str) for g in groups)):
            # json.Unmarshal: a type error skips that field only (the entry keeps no groups).
            errors.append("aws-auth %s item %d: groups is not a list of strings" % (key, i))
            groups = None
        entry["groups"] = list(groups or [])
        for name in (arn_field, "username"):
            if name in entry and not isinstance(entry[name], str):
                errors.append("aws-auth %s item %d: %s is not a string" % (key, i, name))
                entry.pop(name)
        if not entry.get(arn_field):  # RoleMapping.Validate / UserMapping.Validate (sso entries aside)
            errors.append("aws-auth %s item %d: value for %s must be supplied" % (key, i, arn_field))
            continue
        out.append(entry)
    return out


def _accounts(raw, errors):
    """mapAccounts as Go's YAML reads it into []string: each scalar as written."""
    try:
        node = yaml.compose(raw, Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        errors.append("aws-auth mapAccounts is not valid YAML: %s" % e)
        return set()
    if node is None:
        return set()
    if not isinstance(node, yaml.SequenceNode) or not all(isinstance(n, yaml.ScalarNode) for n in node.value):
        errors.append("aws-auth mapAccounts is not a list of account IDs")
        return set()
    return {n.value for n in node.value}


def load_aws_auth(data):
    """The :class:`AwsAuth` view of the ConfigMap's data. A key that does not parse gives
    nothing and an error; the other keys are kept, as ``ParseMap`` does ("Only saving data
    that was good")."""
    view = AwsAuth()
    for key, arn_field in (("mapRoles", "rolearn"), ("mapUsers", "userarn")):
        raw = (data or {}).get(key)
        if raw is None or raw.strip() in _SKIPPABLE:
            continue
        for entry in _mappings(key, raw, arn_field, view.errors):
            if key == "mapRoles":
                view.roles[entry["rolearn"].lower()] = entry
            else:
                view.users[entry["userarn"]] = entry
    raw = (data or {}).get("mapAccounts")
    if raw is not None and raw.strip() not in _SKIPPABLE:
        view.accounts = _accounts(raw, view.errors)
    return view


def _from_aws_auth(principal, aws_auth, private_dns_name, access_key_id=""):
    if aws_auth is None:
        return Decision(False, "the aws-auth ConfigMap does not exist")
    view = load_aws_auth(aws_auth)
    bad = ("; aws-auth errors: %s" % "; ".join(view.errors)) if view.errors else ""
    canonical = principal.canonical_arn.lower()
    # pkg/mapper/configmap/mapper.go Map: mapRoles first, then mapUsers, both by the lower-cased
    # canonical ARN with strings.EqualFold, whatever kind of principal it is.
    for where, entries, arn_field in (
        ("aws-auth mapRoles", view.roles, "rolearn"),
        ("aws-auth mapUsers", view.users, "userarn"),
    ):
        found = [e for e in entries.values() if e[arn_field].lower() == canonical]
        if found:
            return _mapped(found[-1], principal, private_dns_name, "aws_auth", where, access_key_id)
    if principal.account in view.accounts:
        return Decision(
            True,
            "aws-auth mapAccounts lists %s" % principal.account,
            username=principal.canonical_arn,
            groups=[],
            source="aws_auth",
        )
    if principal.kind == "role":
        with_path = [
            r["rolearn"]
            for r in view.roles.values()
            if _role_has_path(r["rolearn"])
            and r["rolearn"].split("/")[-1].lower() == principal.name.lower()
            and r["rolearn"].split(":")[4] == principal.account
        ]
        if with_path:
            return Decision(
                False,
                "aws-auth maps %s with an IAM path; aws-iam-authenticator compares %s, "
                "so the entry never matches (map the role without its path)%s"
                % (with_path[0], principal.canonical_arn, bad),
            )
    return Decision(False, "aws-auth has no entry for %s%s" % (principal.canonical_arn, bad))


def _mapped(entry, principal, private_dns_name, source, where, access_key_id=""):
    template = entry.get("username") or principal.canonical_arn
    try:
        username = render_template(str(template), principal, private_dns_name, access_key_id)
        groups = [render_template(g, principal, private_dns_name, access_key_id) for g in entry.get("groups") or []]
    except ValueError as e:
        return Decision(False, "%s entry for %s: %s" % (where, principal.canonical_arn, e))
    return Decision(
        True, "%s maps %s" % (where, principal.canonical_arn), username=username, groups=groups, source=source
    )


def _entry_matches(entry, principal):
    try:
        target = parse_arn(entry.get("principalArn", ""))
    except ValueError:
        return False
    return (target.kind, target.account, target.name.lower()) == (
        principal.kind,
        principal.account,
        principal.name.lower(),
    )


def _from_access_entry(entry, principal, private_dns_name, access_key_id=""):
    kind = entry.get("type", "STANDARD")
    policies = [p.get("policyArn") for p in entry.get("accessPolicies", []) if p.get("policyArn")]
    where = "access entry %s (%s)" % (entry.get("principalArn"), kind)
    if kind == "EC2_LINUX":
        template, groups = "system:node:{{EC2PrivateDNSName}}", ["system:nodes"]
    elif kind == "STANDARD":
        default = (
            principal.arn
            if principal.kind != "role"
            else "arn:%s:sts::%s:assumed-role/%s/{{SessionName}}"
            % (principal.partition, principal.account, principal.name)
        )
        template, groups = entry.get("username") or default, list(entry.get("kubernetesGroups") or [])
    else:
        return Decision(False, "%s: type %s is not served by this cluster's authenticator" % (where, kind))
    try:
        username = render_template(template, principal, private_dns_name, access_key_id)
    except ValueError as e:
        return Decision(False, "%s: %s" % (where, e))
    return Decision(
        True,
        "%s maps %s" % (where, principal.canonical_arn),
        username=username,
        groups=groups,
        source="access_entry",
        access_policies=policies,
    )


def resolve(
    caller_arn,
    *,
    authentication_mode,
    aws_auth=None,
    access_entries=(),
    cluster_creator_arn=None,
    private_dns_name=None,
    access_key_id="",
):
    """Decide who ``caller_arn`` is in the cluster. Never raises for cluster data; ValueError for bad arguments."""
    if authentication_mode not in MODES:
        raise ValueError("authentication_mode must be one of %s, got %r" % (", ".join(MODES), authentication_mode))
    try:
        principal = parse_arn(caller_arn)
    except ValueError as e:
        return Decision(False, str(e))

    if authentication_mode == "CONFIG_MAP" and cluster_creator_arn:
        try:
            creator = parse_arn(cluster_creator_arn)
        except ValueError:
            creator = None
        if creator and creator.canonical_arn.lower() == principal.canonical_arn.lower():
            return Decision(
                True,
                "%s created the cluster" % principal.canonical_arn,
                username="kubernetes-admin",
                groups=["system:masters"],
                source="cluster_creator",
            )

    if authentication_mode != "CONFIG_MAP":
        for entry in access_entries or ():
            if _entry_matches(entry, principal):
                return _from_access_entry(entry, principal, private_dns_name, access_key_id)
        if authentication_mode == "API":
            return Decision(
                False, "no access entry for %s (authentication mode API ignores aws-auth)" % principal.canonical_arn
            )
    return _from_aws_auth(principal, aws_auth, private_dns_name, access_key_id)

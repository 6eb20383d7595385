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

Rules (aws-iam-authenticator and the EKS user guide):

* The caller is canonicalised: an assumed-role ARN becomes ``arn:<p>:iam::<acct>:role/<name>``. STS
  ARNs carry no IAM path, so a role with a path canonicalises to its name only.
* aws-auth ``rolearn`` values are compared with that canonical ARN, case-insensitively. A ``rolearn``
  that includes a path never matches: EKS documents that the ARN "can't include a path".
  ``userarn`` is compared with the caller's ARN; ``mapAccounts`` maps any principal of a listed
  account to its own ARN, with no groups.
* Access entries match by account and role name (or user ARN), so an entry's ``principalArn`` may
  carry a path. ``EC2_LINUX`` entries give ``system:node:{{EC2PrivateDNSName}}`` in group
  ``system:nodes``; ``STANDARD`` entries give their ``username`` (default: the assumed-role ARN with
  ``{{SessionName}}``) and ``kubernetesGroups``.
* Precedence: ``CONFIG_MAP`` reads aws-auth only; ``API`` reads access entries only;
  ``API_AND_CONFIG_MAP`` uses the principal's access entry when it has one, otherwise aws-auth.
* In ``CONFIG_MAP`` mode the cluster creator is ``system:masters`` without appearing anywhere; in the
  API modes the creator has an access entry like anyone else.
* Username templates: ``{{AccountID}}``, ``{{SessionName}}`` (``@`` replaced by ``-``),
  ``{{SessionNameRaw}}``, ``{{EC2PrivateDNSName}}`` (only for an instance session, i.e. a session name
  ``i-...``; it needs ``private_dns_name``), ``{{AccessKeyID}}`` (not known here: refused).
"""

import re
from dataclasses import dataclass, field

import yaml

MODES = ("CONFIG_MAP", "API_AND_CONFIG_MAP", "API")
NODE_GROUPS = ("system:bootstrappers", "system:nodes")
_ARN = re.compile(r"^arn:(?P<partition>[^:]+):(?P<service>iam|sts)::(?P<account>\d{12}):(?P<resource>.+)$")
_TEMPLATE = re.compile(r"\{\{\s*([A-Za-z0-9]+)\s*\}\}")


@dataclass(frozen=True)
class Principal:
    """A caller, as aws-iam-authenticator sees it."""

    arn: str  # as returned by GetCallerIdentity
    partition: str
    account: str
    kind: str  # "role", "user" or "root"
    name: str  # role or user name, without path
    session_name: str = ""

    @property
    def canonical_arn(self):
        if self.kind == "role":
            return "arn:%s:iam::%s:role/%s" % (self.partition, self.account, self.name)
        return self.arn


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
    """The principal behind ``arn`` (an STS caller ARN or an IAM role/user ARN); ValueError if it is none."""
    m = _ARN.match(arn or "")
    if not m:
        raise ValueError("not an IAM or STS principal ARN: %r" % arn)
    resource = m.group("resource")
    common = {"arn": arn, "partition": m.group("partition"), "account": m.group("account")}
    if m.group("service") == "sts" and resource.startswith("assumed-role/"):
        parts = resource.split("/")
        if len(parts) != 3 or not all(parts[1:]):
            raise ValueError("malformed assumed-role ARN: %r" % arn)
        return Principal(kind="role", name=parts[1], session_name=parts[2], **common)
    if m.group("service") == "iam" and resource.startswith("role/"):
        return Principal(kind="role", name=resource.split("/")[-1], **common)
    if m.group("service") == "iam" and resource.startswith("user/"):
        return Principal(kind="user", name=resource.split("/")[-1], **common)
    if resource == "root":
        return Principal(kind="root", name="root", **common)
    raise ValueError("unsupported principal ARN: %r" % arn)


def _role_has_path(arn):
    m = _ARN.match(arn or "")
    return bool(m) and m.group("resource").startswith("role/") and m.group("resource").count("/") > 1


def render_username(template, principal, private_dns_name=None):
    """Fill aws-iam-authenticator's templates; ValueError when one cannot be filled."""

    def fill(m):
        name = m.group(1)
        if name == "AccountID":
            return principal.account
        if name == "SessionName":
            return principal.session_name.replace("@", "-")
        if name == "SessionNameRaw":
            return principal.session_name
        if name == "EC2PrivateDNSName":
            if not principal.session_name.startswith("i-"):
                raise ValueError("{{EC2PrivateDNSName}} needs an EC2 instance session, got session %r"
                                 % principal.session_name)
            if not private_dns_name:
                raise ValueError("the private DNS name of instance %s is not known" % principal.session_name)
            return private_dns_name
        raise ValueError("unsupported username template {{%s}}" % name)

    return _TEMPLATE.sub(fill, template)


def load_aws_auth(data):
    """(mapRoles, mapUsers, mapAccounts) lists from the ConfigMap's data; ValueError on bad YAML."""
    out = []
    for key in ("mapRoles", "mapUsers", "mapAccounts"):
        raw = (data or {}).get(key) or ""
        try:
            value = yaml.safe_load(raw) if raw.strip() else []
        except yaml.YAMLError as e:
            raise ValueError("aws-auth %s is not valid YAML: %s" % (key, e)) from e
        if not isinstance(value, list):
            raise ValueError("aws-auth %s is not a list" % key)
        out.append(value)
    return tuple(out)


def _from_aws_auth(principal, aws_auth, private_dns_name):
    if aws_auth is None:
        return Decision(False, "the aws-auth ConfigMap does not exist")
    try:
        roles, users, accounts = load_aws_auth(aws_auth)
    except ValueError as e:
        # aws-iam-authenticator keeps its last good view; with none, nobody maps.
        return Decision(False, str(e))
    if principal.kind == "role":
        canonical = principal.canonical_arn.lower()
        with_path = []
        for entry in roles:
            rolearn = str((entry or {}).get("rolearn", ""))
            if rolearn.lower() == canonical:
                return _mapped(entry, principal, private_dns_name, "aws_auth", "aws-auth mapRoles")
            if _role_has_path(rolearn) and rolearn.split("/")[-1].lower() == principal.name.lower() \
                    and rolearn.split(":")[4] == principal.account:
                with_path.append(rolearn)
        if with_path:
            return Decision(False, "aws-auth maps %s with an IAM path; aws-iam-authenticator compares %s, "
                                   "so the entry never matches (map the role without its path)"
                            % (with_path[0], principal.canonical_arn))
    else:
        for entry in users:
            if str((entry or {}).get("userarn", "")).lower() == principal.arn.lower():
                return _mapped(entry, principal, private_dns_name, "aws_auth", "aws-auth mapUsers")
    if principal.account in [str(a) for a in accounts]:
        return Decision(True, "aws-auth mapAccounts lists %s" % principal.account, username=principal.canonical_arn,
                        groups=[], source="aws_auth")
    return Decision(False, "aws-auth has no entry for %s" % principal.canonical_arn)


def _mapped(entry, principal, private_dns_name, source, where):
    template = entry.get("username") or principal.canonical_arn
    try:
        username = render_username(str(template), principal, private_dns_name)
    except ValueError as e:
        return Decision(False, "%s entry for %s: %s" % (where, principal.canonical_arn, e))
    groups = [str(g) for g in (entry.get("groups") or [])]
    return Decision(True, "%s maps %s" % (where, principal.canonical_arn), username=username, groups=groups,
                    source=source)


def _entry_matches(entry, principal):
    try:
        target = parse_arn(entry.get("principalArn", ""))
    except ValueError:
        return False
    return (target.kind, target.account, target.name.lower()) == (principal.kind, principal.account,
                                                                   principal.name.lower())


def _from_access_entry(entry, principal, private_dns_name):
    kind = entry.get("type", "STANDARD")
    policies = [p.get("policyArn") for p in entry.get("accessPolicies", []) if p.get("policyArn")]
    where = "access entry %s (%s)" % (entry.get("principalArn"), kind)
    if kind == "EC2_LINUX":
        template, groups = "system:node:{{EC2PrivateDNSName}}", ["system:nodes"]
    elif kind == "STANDARD":
        default = principal.arn if principal.kind != "role" else "arn:%s:sts::%s:assumed-role/%s/{{SessionName}}" % (
            principal.partition, principal.account, principal.name)
        template, groups = entry.get("username") or default, list(entry.get("kubernetesGroups") or [])
    else:
        return Decision(False, "%s: type %s is not served by this cluster's authenticator" % (where, kind))
    try:
        username = render_username(template, principal, private_dns_name)
    except ValueError as e:
        return Decision(False, "%s: %s" % (where, e))
    return Decision(True, "%s maps %s" % (where, principal.canonical_arn), username=username, groups=groups,
                    source="access_entry", access_policies=policies)


def resolve(caller_arn, *, authentication_mode, aws_auth=None, access_entries=(), cluster_creator_arn=None,
            private_dns_name=None):
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
            return Decision(True, "%s created the cluster" % principal.canonical_arn, username="kubernetes-admin",
                            groups=["system:masters"], source="cluster_creator")

    if authentication_mode != "CONFIG_MAP":
        for entry in access_entries or ():
            if _entry_matches(entry, principal):
                return _from_access_entry(entry, principal, private_dns_name)
        if authentication_mode == "API":
            return Decision(False, "no access entry for %s (authentication mode API ignores aws-auth)"
                            % principal.canonical_arn)
    return _from_aws_auth(principal, aws_auth, private_dns_name)

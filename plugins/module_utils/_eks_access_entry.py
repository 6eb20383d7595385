# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""EKS access entries: validation, normalisation and the plan of changes (pure), then the AWS calls.

Validation happens before any call, so a rejected input writes nothing. The rules are the
documented reasons why nodes fail to join a cluster through access entries.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

try:
    import botocore
except ImportError:  # handled by AnsibleAWSModule
    pass

from ansible_collections.jit.karpenter.plugins.module_utils._names import is_partition, parse_arn, parse_iam_arn
from ansible_collections.jit.karpenter.plugins.module_utils._aws import MISSING, plan_tags
from ansible_collections.jit.karpenter.plugins.module_utils._aws import aws_call as _call
from ansible_collections.jit.karpenter.plugins.module_utils._eks import apply_tags, describe_cluster
from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError

TYPES = ("STANDARD", "EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX", "HYBRID_LINUX", "HYPERPOD_LINUX", "EC2")
# Types whose entries the API refuses Kubernetes groups, a username or access policies for.
NODE_TYPES = ("EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX", "HYBRID_LINUX", "HYPERPOD_LINUX")
# The groups EKS gives nodes itself; in a STANDARD entry they mark a node role put in the wrong type.
NODE_GROUPS = ("system:nodes", "system:bootstrappers")
SCOPE_TYPES = ("cluster", "namespace")
# The principals an access entry names: IAM roles and users, and STS's session principals.
_PRINCIPAL_KINDS = ("role", "user", "assumed-role", "federated-user")
_PRINCIPAL_SERVICES = ("iam", "sts")
_POLICY_NAME_RE = re.compile(r"^[A-Za-z0-9_+=,.@-]+$")


def _principal(arn):
    return parse_iam_arn(arn, kinds=_PRINCIPAL_KINDS, services=_PRINCIPAL_SERVICES)


def _is_access_policy_arn(value):
    """``arn:<partition>:eks::aws:cluster-access-policy/<name>``: AWS owns the policies, so the account is ``aws``."""
    arn = parse_arn(value)
    if arn is None or not is_partition(arn.partition) or arn.service != "eks" or arn.region or arn.account != "aws":
        return False
    kind, sep, name = arn.resource.partition("/")
    return kind == "cluster-access-policy" and bool(sep) and bool(_POLICY_NAME_RE.match(name))


# ---------------------------------------------------------------- validation


def validate(params):
    """Reject inputs EKS would refuse, or accept but that leave nodes unable to join.

    Raises :class:`KarpenterError` naming the option; returns the desired entry (normalised).
    """
    principal = params.get("principal_arn") or ""
    parsed = _principal(principal)
    if parsed is None:
        raise KarpenterError(
            "principal_arn '{0}' is not an IAM role or user ARN (arn:<partition>:iam::<account>:role/<name>)".format(
                principal
            ),
            principal_arn=principal,
        )
    entry_type = params.get("type") or "STANDARD"
    if entry_type not in TYPES:
        raise KarpenterError("type '{0}' is not one of {1}".format(entry_type, ", ".join(TYPES)), type=entry_type)
    groups = params.get("kubernetes_groups")
    username = params.get("username")
    policies = params.get("access_policies")

    if entry_type in NODE_TYPES or entry_type == "EC2":
        if parsed.kind != "role":
            raise KarpenterError(
                "principal_arn '{0}' is not an IAM role: entries of type {1} are for nodes and accept only roles; "
                "use type STANDARD for users".format(principal, entry_type),
                principal_arn=principal,
            )
        if groups:
            raise KarpenterError(
                "kubernetes_groups cannot be set on an access entry of type {0}: EKS gives nodes their groups "
                "(system:nodes) itself and refuses the entry. Remove kubernetes_groups, or use type STANDARD for a "
                "principal that is not a node".format(entry_type),
                kubernetes_groups=groups,
            )
        if username:
            raise KarpenterError(
                "username cannot be set on an access entry of type {0}: nodes get the username "
                "system:node:{{{{EC2PrivateDNSName}}}} from EKS. Remove username, or use type STANDARD for a principal "
                "that is not a node".format(entry_type),
                username=username,
            )
    if entry_type in NODE_TYPES and policies:
        raise KarpenterError(
            "access_policies cannot be associated with an access entry of type {0}: EKS refuses access policies on "
            "node entries, whose permissions come from the node authorizer".format(entry_type),
            access_policies=policies,
        )
    if entry_type == "STANDARD":
        node_groups = sorted(set(groups or []) & set(NODE_GROUPS))
        if params.get("node_role") or node_groups:
            why = (
                "node_role is true"
                if params.get("node_role")
                else "kubernetes_groups contain {0}".format(", ".join(node_groups))
            )
            raise KarpenterError(
                "principal_arn '{0}' looks like a node role ({1}), but type is STANDARD: nodes whose role has a "
                "STANDARD entry cannot join the cluster, and EKS refuses the groups system:nodes and "
                "system:bootstrappers in one ('kubernetes group name system:bootstrappers is invalid'). "
                "Use type EC2_LINUX (EC2_WINDOWS for Windows nodes) without kubernetes_groups".format(principal, why),
                principal_arn=principal,
                type=entry_type,
            )
        system_groups = sorted(g for g in (groups or []) if g.startswith("system:"))
        if system_groups:
            raise KarpenterError(
                "kubernetes_groups {0}: EKS refuses group names that start with 'system:' in an access entry; "
                "grant such permissions with access_policies or RBAC bindings to a group of your own".format(
                    ", ".join(system_groups)
                ),
                kubernetes_groups=groups,
            )
    return {
        "principal_arn": principal,
        "type": entry_type,
        "kubernetes_groups": sorted(set(groups)) if groups is not None else None,
        "username": username or None,
        "access_policies": normalize_policies(policies) if policies is not None else None,
        "tags": dict(params["tags"]) if params.get("tags") is not None else None,
    }


def normalize_policies(policies):
    """Validate ``[{policy_arn, access_scope: {type, namespaces}}]``; sorted by ARN, namespaces sorted."""
    result = {}
    for index, item in enumerate(policies or []):
        arn = (item or {}).get("policy_arn") or ""
        if not _is_access_policy_arn(arn):
            raise KarpenterError(
                "access_policies[{0}].policy_arn '{1}' is not an EKS access policy ARN "
                "(arn:aws:eks::aws:cluster-access-policy/<name>)".format(index, arn),
                access_policies=policies,
            )
        if arn in result:
            raise KarpenterError(
                "access_policies lists {0} twice; an entry has one scope per policy".format(arn),
                access_policies=policies,
            )
        scope = item.get("access_scope") or {}
        scope_type = scope.get("type") or "cluster"
        namespaces = scope.get("namespaces") or []
        if scope_type not in SCOPE_TYPES:
            raise KarpenterError(
                "access_policies[{0}].access_scope.type '{1}' is not one of cluster, namespace".format(
                    index, scope_type
                ),
                access_policies=policies,
            )
        if scope_type == "namespace" and not namespaces:
            raise KarpenterError(
                "access_policies[{0}].access_scope has type namespace but no namespaces: "
                "name the namespaces the policy applies in".format(index),
                access_policies=policies,
            )
        if scope_type == "cluster" and namespaces:
            raise KarpenterError(
                "access_policies[{0}].access_scope has type cluster and namespaces {1}: a cluster scope covers "
                "every namespace; use type namespace to limit it".format(index, ", ".join(namespaces)),
                access_policies=policies,
            )
        result[arn] = {"policy_arn": arn, "access_scope": {"type": scope_type, "namespaces": sorted(set(namespaces))}}
    return [result[arn] for arn in sorted(result)]


# ------------------------------------------------------------- state and plan


def normalize_entry(entry, policies):
    """The module's view of DescribeAccessEntry's ``accessEntry`` and ListAssociatedAccessPolicies."""
    return {
        "cluster_name": entry.get("clusterName"),
        "principal_arn": entry.get("principalArn"),
        "access_entry_arn": entry.get("accessEntryArn"),
        "type": entry.get("type") or "STANDARD",
        "username": entry.get("username"),
        "kubernetes_groups": sorted(entry.get("kubernetesGroups") or []),
        "tags": dict(entry.get("tags") or {}),
        "access_policies": normalize_policies(
            [
                {
                    "policy_arn": p.get("policyArn"),
                    "access_scope": {
                        "type": (p.get("accessScope") or {}).get("type") or "cluster",
                        "namespaces": (p.get("accessScope") or {}).get("namespaces") or [],
                    },
                }
                for p in policies or []
            ]
        ),
    }


def plan(current, desired, purge_tags=True):
    """What to change. ``current`` is the normalised entry or ``None``.

    Options the user left out (``None`` in ``desired``) are not compared.
    """
    result = {
        "create": current is None,
        "update": {},
        "associate": [],
        "disassociate": [],
        "tag": {},
        "untag": [],
    }
    have_policies = {} if current is None else {p["policy_arn"]: p for p in current["access_policies"]}
    if current is None:
        result["associate"] = list(desired["access_policies"] or [])
        return result
    if current["type"] != desired["type"]:
        raise KarpenterError(
            "type: the access entry for '{0}' has type {1}, not {2}, and EKS cannot change the type of an "
            "entry. Delete it first (state: absent) and create it again".format(
                desired["principal_arn"], current["type"], desired["type"]
            ),
            principal_arn=desired["principal_arn"],
            type=desired["type"],
        )
    if desired["kubernetes_groups"] is not None and desired["kubernetes_groups"] != current["kubernetes_groups"]:
        result["update"]["kubernetes_groups"] = desired["kubernetes_groups"]
    if desired["username"] is not None and desired["username"] != current["username"]:
        result["update"]["username"] = desired["username"]
    if desired["access_policies"] is not None:
        wanted = {p["policy_arn"]: p for p in desired["access_policies"]}
        result["associate"] = [p for arn, p in sorted(wanted.items()) if have_policies.get(arn) != p]
        result["disassociate"] = sorted(set(have_policies) - set(wanted))
    result["tag"], result["untag"] = plan_tags(current["tags"], desired["tags"], purge_tags)
    return result


def plan_is_empty(changes):
    return not (
        changes["create"]
        or changes["update"]
        or changes["associate"]
        or changes["disassociate"]
        or changes["tag"]
        or changes["untag"]
    )


def predict(cluster_name, current, desired, changes):
    """The entry as it will be after ``changes`` (check mode and diff)."""
    if current is None:
        after = {
            "cluster_name": cluster_name,
            "principal_arn": desired["principal_arn"],
            "access_entry_arn": None,
            "type": desired["type"],
            "username": desired["username"],
            "kubernetes_groups": desired["kubernetes_groups"] or [],
            "tags": dict(desired["tags"] or {}),
            "access_policies": list(desired["access_policies"] or []),
        }
        return after
    after = dict(current)
    after.update(changes["update"])
    policies = {p["policy_arn"]: p for p in current["access_policies"]}
    for arn in changes["disassociate"]:
        policies.pop(arn, None)
    for p in changes["associate"]:
        policies[p["policy_arn"]] = p
    after["access_policies"] = [policies[arn] for arn in sorted(policies)]
    tags = dict(current["tags"])
    tags.update(changes["tag"])
    for key in changes["untag"]:
        tags.pop(key, None)
    after["tags"] = tags
    return after


# ------------------------------------------------------------------------- AWS


def get_entry(eks, cluster_name, principal_arn, region=None):
    """The normalised entry with its associated policies, or ``None``."""
    action = "Reading the access entry of '{0}' in cluster '{1}'".format(principal_arn, cluster_name)
    found = _call(
        action,
        eks.describe_access_entry,
        missing=("ResourceNotFoundException",),
        clusterName=cluster_name,
        principalArn=principal_arn,
    )
    if found is MISSING:
        # The same code means "no such cluster"; DescribeCluster tells the two apart and names the region.
        describe_cluster(eks, cluster_name, region)
        return None
    entry = found["accessEntry"]
    policies = []
    kwargs = {"clusterName": cluster_name, "principalArn": principal_arn}
    while True:
        page = _call(
            "Listing the access policies of '{0}' in cluster '{1}'".format(principal_arn, cluster_name),
            eks.list_associated_access_policies,
            **kwargs,
        )
        policies.extend(page.get("associatedAccessPolicies") or [])
        if not page.get("nextToken"):
            break
        kwargs["nextToken"] = page["nextToken"]
    return normalize_entry(entry, policies)


def _scope(policy):
    scope = {"type": policy["access_scope"]["type"]}
    if scope["type"] == "namespace":
        scope["namespaces"] = policy["access_scope"]["namespaces"]
    return scope


def apply(eks, cluster_name, desired, changes, current):
    """Make the calls of ``changes``; returns the ARN of the entry."""
    principal = desired["principal_arn"]
    where = "'{0}' in cluster '{1}'".format(principal, cluster_name)
    if changes["create"]:
        kwargs = {"clusterName": cluster_name, "principalArn": principal, "type": desired["type"]}
        if desired["kubernetes_groups"]:
            kwargs["kubernetesGroups"] = desired["kubernetes_groups"]
        if desired["username"]:
            kwargs["username"] = desired["username"]
        if desired["tags"]:
            kwargs["tags"] = desired["tags"]
        entry = _call("Creating the access entry of " + where, eks.create_access_entry, **kwargs)["accessEntry"]
        arn = entry.get("accessEntryArn")
    else:
        arn = current["access_entry_arn"]
        if changes["update"]:
            kwargs = {"clusterName": cluster_name, "principalArn": principal}
            if "kubernetes_groups" in changes["update"]:
                kwargs["kubernetesGroups"] = changes["update"]["kubernetes_groups"]
            if "username" in changes["update"]:
                kwargs["username"] = changes["update"]["username"]
            _call("Updating the access entry of " + where, eks.update_access_entry, **kwargs)
        apply_tags(eks, arn, changes["tag"], changes["untag"], "the access entry of " + where)
    for arn_ in changes["disassociate"]:
        _call(
            "Disassociating {0} from {1}".format(arn_, where),
            eks.disassociate_access_policy,
            clusterName=cluster_name,
            principalArn=principal,
            policyArn=arn_,
        )
    for policy in changes["associate"]:
        _call(
            "Associating {0} with {1}".format(policy["policy_arn"], where),
            eks.associate_access_policy,
            clusterName=cluster_name,
            principalArn=principal,
            policyArn=policy["policy_arn"],
            accessScope=_scope(policy),
        )
    return arn


def ensure_present(eks, cluster_name, params, check_mode=False, region=None):
    """Returns ``(changed, {"before", "after"})``; validation runs before any call."""
    desired = validate(params)
    current = get_entry(eks, cluster_name, desired["principal_arn"], region)
    changes = plan(current, desired, purge_tags=params.get("purge_tags", True))
    if plan_is_empty(changes):
        return False, {"before": current, "after": current}
    if check_mode:
        return True, {"before": current, "after": predict(cluster_name, current, desired, changes)}
    apply(eks, cluster_name, desired, changes, current)
    return True, {"before": current, "after": get_entry(eks, cluster_name, desired["principal_arn"], region)}


def ensure_absent(eks, cluster_name, principal_arn, check_mode=False, region=None):
    """Delete the entry (EKS removes its policy associations with it)."""
    current = get_entry(eks, cluster_name, principal_arn, region)
    if current is None:
        return False, {"before": None, "after": None}
    if not check_mode:
        _call(
            "Deleting the access entry of '{0}' in cluster '{1}'".format(principal_arn, cluster_name),
            eks.delete_access_entry,
            missing=("ResourceNotFoundException",),  # gone already: that is success
            clusterName=cluster_name,
            principalArn=principal_arn,
        )
    return True, {"before": current, "after": None}


def require_api(operation_names, botocore_version=None):
    """Fail with a clear message when the installed botocore predates access entries (December 2023)."""
    if "CreateAccessEntry" not in operation_names or "AssociateAccessPolicy" not in operation_names:
        raise KarpenterError(
            "The installed botocore{0} has no EKS access entry API; upgrade boto3 and botocore".format(
                " " + botocore_version if botocore_version else ""
            ),
            botocore_version=botocore_version,
        )


def run(clients, params, check_mode=False, region=None):
    """Everything the module does; returns the result (with ``diff``, which the module keeps on request)."""
    eks = clients.aws("eks")
    require_api(eks.meta.service_model.operation_names, getattr(botocore, "__version__", None))
    cluster_name = params["cluster_name"]
    if params.get("state") == "absent":
        principal = params.get("principal_arn") or ""
        if _principal(principal) is None:
            raise KarpenterError(
                "principal_arn '{0}' is not an IAM role or user ARN".format(principal), principal_arn=principal
            )
        changed, state = ensure_absent(eks, cluster_name, principal, check_mode=check_mode, region=region)
    else:
        changed, state = ensure_present(eks, cluster_name, params, check_mode=check_mode, region=region)
    return {
        "changed": changed,
        "access_entry": state["after"],
        "diff": {"before": state["before"] or {}, "after": state["after"] or {}},
    }

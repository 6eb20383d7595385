"""EKS operations moto 5.2.5 lacks, added to its EKS service at runtime.

Shaped after botocore's EKS service model; the rules are the ones EKS enforces.

* Access entries (Create/Describe/List/Update/DeleteAccessEntry) and access policies
  (ListAccessPolicies, Associate/DisassociateAccessPolicy, ListAssociatedAccessPolicies).
  Allowed only when the cluster's authentication mode is ``API`` or
  ``API_AND_CONFIG_MAP``; one entry per principal; node types take IAM roles only and get
  EKS's username and groups; access policies attach to ``STANDARD`` entries only.
* Pod Identity associations (Create/Describe/List/Update/DeletePodIdentityAssociation): one
  per namespace and service account; the role must exist in IAM.
* Add-ons (Create/Describe/List/DeleteAddon): stored and reported ``ACTIVE``.
* The cluster creator's access entry (``STANDARD``, ``AmazonEKSClusterAdminPolicy``), made at
  CreateCluster in the API modes when ``bootstrapClusterCreatorAdminPermissions`` is true.

Everything is stored on the cluster object, so DeleteCluster removes it too.
"""

import re

# Types an access entry can have, and what EKS sets for the node types.
ACCESS_ENTRY_TYPES = (
    "STANDARD",
    "EC2_LINUX",
    "EC2_WINDOWS",
    "FARGATE_LINUX",
    "HYBRID_LINUX",
)
NODE_IDENTITIES = {
    "EC2_LINUX": ("system:node:{{EC2PrivateDNSName}}", ["system:nodes"]),
    "EC2_WINDOWS": (
        "system:node:{{EC2PrivateDNSName}}",
        ["system:nodes", "eks:kube-proxy-windows"],
    ),
    "FARGATE_LINUX": (
        "system:node:{{SessionName}}",
        ["system:bootstrappers", "system:nodes", "system:node-proxier"],
    ),
    "HYBRID_LINUX": ("system:node:{{SessionName}}", ["system:nodes"]),
}
ACCESS_POLICY_NAMES = (
    "AmazonEKSAdminPolicy",
    "AmazonEKSAdminViewPolicy",
    "AmazonEKSAutoNodePolicy",
    "AmazonEKSBlockStorageClusterPolicy",
    "AmazonEKSClusterAdminPolicy",
    "AmazonEKSComputeClusterPolicy",
    "AmazonEKSEditPolicy",
    "AmazonEKSHybridPolicy",
    "AmazonEKSLoadBalancingClusterPolicy",
    "AmazonEKSNetworkingClusterPolicy",
    "AmazonEKSViewPolicy",
)
# Add-on name -> the version CreateAddon installs when none is given.
ADDON_DEFAULT_VERSIONS = {
    "aws-ebs-csi-driver": "v1.45.0-eksbuild.2",
    "aws-efs-csi-driver": "v2.1.9-eksbuild.1",
    "coredns": "v1.12.2-eksbuild.4",
    "eks-node-monitoring-agent": "v1.4.0-eksbuild.2",
    "eks-pod-identity-agent": "v1.3.8-eksbuild.2",
    "kube-proxy": "v1.33.0-eksbuild.2",
    "metrics-server": "v0.8.0-eksbuild.1",
    "snapshot-controller": "v8.2.0-eksbuild.1",
    "vpc-cni": "v1.19.6-eksbuild.7",
}
_RESERVED_USERNAME_PREFIXES = ("system:", "eks:", "aws:", "amazon:", "iam:")
_PRINCIPAL_RE = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):iam::(?P<account>\d{12}):"
    r"(?P<kind>role|user)/(?:[\w+=,.@/-]*/)?(?P<name>[\w+=,.@-]+)$"
)
_DEFAULT_MAX_RESULTS = 100

URL_PATHS = (
    "{0}/access-policies$",
    "{0}/clusters/(?P<name>[^/]+)/access-entries$",
    # A principal ARN holds slashes once the path is decoded; its sub-routes match here too.
    "{0}/clusters/(?P<name>[^/]+)/access-entries/(?P<principalArn>.+)$",
    "{0}/clusters/(?P<name>[^/]+)/pod-identity-associations$",
    "{0}/clusters/(?P<name>[^/]+)/pod-identity-associations/(?P<associationId>[^/]+)$",
    "{0}/clusters/(?P<name>[^/]+)/addons$",
    "{0}/clusters/(?P<name>[^/]+)/addons/(?P<addonName>[^/]+)$",
)


def access_policy_arn(partition, name):
    return f"arn:{partition}:eks::aws:cluster-access-policy/{name}"


def apply():
    """Register the routes and response handlers (called once from ``patches.apply``)."""
    from moto.eks import urls
    from moto.eks.responses import EKSResponse

    for path in URL_PATHS:
        urls.url_paths.setdefault(path, urls.response.dispatch)
    for name, handler in _HANDLERS.items():
        setattr(EKSResponse, name, handler)


# --- helpers ---------------------------------------------------------------------------


def _exceptions():
    from moto.eks import exceptions

    return exceptions


def _now():
    from moto.core.utils import utcnow

    return utcnow()


def _invalid_parameter(message):
    return _exceptions().InvalidParameterException(message=message)


def _not_found(message, **kwargs):
    return _exceptions().ResourceNotFoundException(message=message, **kwargs)


def _store(cluster, key):
    """Per-cluster dict of extension resources (created on first use)."""
    return cluster.__dict__.setdefault("_sandbox_" + key, {})


def _cluster(response):
    from moto.eks.exceptions import ResourceNotFoundException

    name = response._get_param("name")
    cluster = response.eks_backend.clusters.get(name)
    if cluster is None:
        raise ResourceNotFoundException(clusterName=name, message=f"No cluster found for name: {name}.")
    return cluster


def _access_cluster(response):
    """The cluster, once its authentication mode allows access entries."""
    from moto.eks.exceptions import InvalidRequestException

    cluster = _cluster(response)
    mode = cluster.access_config["authenticationMode"]
    if mode not in ("API", "API_AND_CONFIG_MAP"):
        raise InvalidRequestException(
            message=f"The cluster's authentication mode {mode} does not allow access "
            "entries. The authentication mode must be set to one of "
            "[API, API_AND_CONFIG_MAP] to perform this operation."
        )
    return cluster


def _page(response, items):
    """(page, nextToken) of ``items`` following maxResults/nextToken."""
    max_results = response._get_int_param("maxResults", _DEFAULT_MAX_RESULTS)
    if not 1 <= max_results <= 100:
        raise _invalid_parameter("maxResults must be between 1 and 100")
    token = response._get_param("nextToken")
    start = 0
    if token:
        if not token.isdigit() or int(token) > len(items):
            raise _invalid_parameter("The nextToken is invalid")
        start = int(token)
    end = start + max_results
    return items[start:end], (str(end) if end < len(items) else None)


def _without_none(value):
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None and not k.startswith("_")}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


def _result(body):
    """An ActionResult of ``body`` without None members or private (``_``) keys."""
    from moto.core.responses import ActionResult

    return ActionResult(_without_none(body))


def _parse_principal(arn):
    match = _PRINCIPAL_RE.match(arn or "")
    if not match:
        raise _invalid_parameter(
            f"The specified principalArn is invalid: {arn}. It must be the ARN of an IAM user or role."
        )
    return match


def _check_username(username):
    if username is not None and (not username or username.startswith(_RESERVED_USERNAME_PREFIXES)):
        raise _invalid_parameter("username can't be empty or start with " + ", ".join(_RESERVED_USERNAME_PREFIXES))


# --- access entries --------------------------------------------------------------------


def _entry(cluster, principal_arn):
    entry = _store(cluster, "access_entries").get(principal_arn)
    if entry is None:
        raise _not_found(
            f"The specified access entry resource is not found: {principal_arn}",
            clusterName=cluster.name,
        )
    return entry


def create_access_entry(self):
    from moto.eks.exceptions import ResourceInUseException

    cluster = _access_cluster(self)
    principal_arn = self._get_param("principalArn")
    entry_type = self._get_param("type") or "STANDARD"
    groups = self._get_param("kubernetesGroups")
    username = self._get_param("username")
    if entry_type not in ACCESS_ENTRY_TYPES:
        raise _invalid_parameter(f"The type {entry_type} is invalid. Valid types: " + ", ".join(ACCESS_ENTRY_TYPES))
    principal = _parse_principal(principal_arn)
    if entry_type in NODE_IDENTITIES:
        if principal["kind"] != "role":
            raise _invalid_parameter(f"Access entries of type {entry_type} accept only IAM roles")
        if groups or username is not None:
            raise _invalid_parameter(f"kubernetesGroups and username can't be set for type {entry_type}; EKS sets them")
        username, groups = NODE_IDENTITIES[entry_type]
    else:
        _check_username(username)
        if username is None:
            username = (
                principal_arn
                if principal["kind"] == "user"
                else f"arn:{principal['partition']}:sts::{principal['account']}:"
                f"assumed-role/{principal['name']}/{{{{SessionName}}}}"
            )
    entries = _store(cluster, "access_entries")
    if principal_arn in entries:
        raise ResourceInUseException(
            clusterName=cluster.name,
            message=f"The specified access entry resource is already in use on this cluster: {principal_arn}",
        )
    from moto.moto_api._internal import mock_random

    now = _now()
    region = self.eks_backend.region_name
    entries[principal_arn] = {
        "clusterName": cluster.name,
        "principalArn": principal_arn,
        "kubernetesGroups": sorted(set(groups or [])),
        "accessEntryArn": f"arn:{principal['partition']}:eks:{region}:"
        f"{self.eks_backend.account_id}:access-entry/{cluster.name}/{principal['kind']}/"
        f"{principal['account']}/{principal['name']}/{mock_random.uuid4()}",
        "createdAt": now,
        "modifiedAt": now,
        "tags": self._get_param("tags") or {},
        "username": username,
        "type": entry_type,
        "_policies": {},
    }
    return _result({"accessEntry": entries[principal_arn]})


def principal_of_caller(caller_arn):
    """The IAM principal ARN behind a ``GetCallerIdentity`` ARN (EKS records this for the creator)."""
    match = re.match(
        r"^arn:(?P<p>[^:]+):(?:sts|iam)::(?P<a>\d{12}):(?P<kind>assumed-role|role|user)/(?P<rest>.+)$",
        caller_arn or "",
    )
    if not match:
        return None
    if match["kind"] == "assumed-role":
        return f"arn:{match['p']}:iam::{match['a']}:role/{match['rest'].split('/')[0]}"
    return f"arn:{match['p']}:iam::{match['a']}:{match['kind']}/{match['rest']}"


def bootstrap_creator(cluster, principal_arn, region, account_id):
    """The access entry EKS creates for the cluster creator (``bootstrapClusterCreatorAdminPermissions``).

    A ``STANDARD`` entry with ``AmazonEKSClusterAdminPolicy`` on the whole cluster, in the API modes.
    """
    from moto.moto_api._internal import mock_random

    principal = _parse_principal(principal_arn)
    now = _now()
    policy = access_policy_arn(principal["partition"], "AmazonEKSClusterAdminPolicy")
    entry = {
        "clusterName": cluster.name,
        "principalArn": principal_arn,
        "kubernetesGroups": [],
        "accessEntryArn": f"arn:{principal['partition']}:eks:{region}:{account_id}:access-entry/"
        f"{cluster.name}/{principal['kind']}/{principal['account']}/{principal['name']}/{mock_random.uuid4()}",
        "createdAt": now,
        "modifiedAt": now,
        "tags": {},
        "username": principal_arn
        if principal["kind"] == "user"
        else f"arn:{principal['partition']}:sts::{principal['account']}:"
        f"assumed-role/{principal['name']}/{{{{SessionName}}}}",
        "type": "STANDARD",
        "_policies": {
            policy: {
                "policyArn": policy,
                "accessScope": {"type": "cluster", "namespaces": []},
                "associatedAt": now,
                "modifiedAt": now,
            }
        },
    }
    _store(cluster, "access_entries")[principal_arn] = entry
    return entry


def describe_access_entry(self):
    cluster = _access_cluster(self)
    entry = _entry(cluster, self._get_param("principalArn"))
    return _result({"accessEntry": entry})


def list_access_entries(self):
    cluster = _access_cluster(self)
    policy_arn = self._get_param("associatedPolicyArn")
    arns = [
        arn
        for arn, entry in _store(cluster, "access_entries").items()
        if policy_arn is None or policy_arn in entry["_policies"]
    ]
    page, token = _page(self, sorted(arns))
    return _result({"accessEntries": page, "nextToken": token})


def update_access_entry(self):
    cluster = _access_cluster(self)
    entry = _entry(cluster, self._get_param("principalArn"))
    groups = self._get_param("kubernetesGroups")
    username = self._get_param("username")
    if entry["type"] in NODE_IDENTITIES and (groups is not None or username is not None):
        raise _invalid_parameter(f"kubernetesGroups and username can't be set for type {entry['type']}")
    _check_username(username)
    if groups is not None:
        entry["kubernetesGroups"] = sorted(set(groups))
    if username is not None:
        entry["username"] = username
    entry["modifiedAt"] = _now()
    return _result({"accessEntry": entry})


def delete_access_entry(self):
    cluster = _access_cluster(self)
    principal_arn = self._get_param("principalArn")
    _entry(cluster, principal_arn)
    del _store(cluster, "access_entries")[principal_arn]
    return _result({})


def list_access_policies(self):
    from moto.utilities.utils import get_partition

    partition = get_partition(self.region)
    policies = [{"name": name, "arn": access_policy_arn(partition, name)} for name in ACCESS_POLICY_NAMES]
    page, token = _page(self, policies)
    return _result({"accessPolicies": page, "nextToken": token})


def _policy_arn_or_error(response, policy_arn):
    from moto.utilities.utils import get_partition

    partition = get_partition(response.region)
    known = {access_policy_arn(partition, name) for name in ACCESS_POLICY_NAMES}
    if policy_arn not in known:
        raise _not_found(f"The specified access policy is not found: {policy_arn}")
    return policy_arn


def associate_access_policy(self):
    from moto.eks.exceptions import InvalidRequestException

    cluster = _access_cluster(self)
    principal_arn = self._get_param("principalArn")
    entry = _entry(cluster, principal_arn)
    policy_arn = _policy_arn_or_error(self, self._get_param("policyArn"))
    scope = self._get_param("accessScope") or {}
    scope_type = scope.get("type")
    namespaces = scope.get("namespaces") or []
    if scope_type not in ("cluster", "namespace"):
        raise _invalid_parameter("accessScope.type must be cluster or namespace")
    if scope_type == "namespace" and not namespaces:
        raise _invalid_parameter("accessScope.namespaces is required for type namespace")
    if scope_type == "cluster" and namespaces:
        raise _invalid_parameter("accessScope.namespaces must be empty for type cluster")
    if entry["type"] != "STANDARD":
        raise InvalidRequestException(
            message=f"Access policies can only be associated with access entries of "
            f"type STANDARD; {principal_arn} is {entry['type']}"
        )
    now = _now()
    previous = entry["_policies"].get(policy_arn)
    association = {
        "policyArn": policy_arn,
        "accessScope": {"type": scope_type, "namespaces": sorted(set(namespaces))},
        "associatedAt": previous["associatedAt"] if previous else now,
        "modifiedAt": now,
    }
    entry["_policies"][policy_arn] = association
    return _result(
        {
            "clusterName": cluster.name,
            "principalArn": principal_arn,
            "associatedAccessPolicy": association,
        }
    )


def disassociate_access_policy(self):
    cluster = _access_cluster(self)
    principal_arn = self._get_param("principalArn")
    entry = _entry(cluster, principal_arn)
    policy_arn = self._get_param("policyArn")
    if entry["_policies"].pop(policy_arn, None) is None:
        raise _not_found(
            f"The access policy {policy_arn} is not associated with {principal_arn}",
            clusterName=cluster.name,
        )
    return _result({})


def list_associated_access_policies(self):
    cluster = _access_cluster(self)
    principal_arn = self._get_param("principalArn")
    entry = _entry(cluster, principal_arn)
    page, token = _page(self, [entry["_policies"][k] for k in sorted(entry["_policies"])])
    return _result(
        {
            "clusterName": cluster.name,
            "principalArn": principal_arn,
            "associatedAccessPolicies": page,
            "nextToken": token,
        }
    )


# --- Pod Identity associations ---------------------------------------------------------


def _check_role_exists(response, role_arn, member="roleArn"):
    from moto.iam.models import iam_backends
    from moto.utilities.utils import get_partition

    if not role_arn:
        return
    backend = iam_backends[response.eks_backend.account_id][get_partition(response.region)]
    try:
        backend.get_role_by_arn(role_arn)
    except Exception:  # moto raises IAMNotFoundException
        raise _invalid_parameter(f"{member} {role_arn} is not valid: the role does not exist") from None


def _association(cluster, association_id):
    association = _store(cluster, "pod_identity_associations").get(association_id)
    if association is None:
        raise _not_found(
            f"The specified pod identity association is not found: {association_id}",
            clusterName=cluster.name,
        )
    return association


def create_pod_identity_association(self):
    from moto.eks.exceptions import ResourceInUseException
    from moto.moto_api._internal import mock_random
    from moto.utilities.utils import get_partition

    cluster = _cluster(self)
    namespace = self._get_param("namespace")
    service_account = self._get_param("serviceAccount")
    role_arn = self._get_param("roleArn")
    target_role_arn = self._get_param("targetRoleArn")
    if not namespace or not service_account:
        raise _invalid_parameter("namespace and serviceAccount are required")
    _check_role_exists(self, role_arn)
    _check_role_exists(self, target_role_arn, "targetRoleArn")
    associations = _store(cluster, "pod_identity_associations")
    for existing in associations.values():
        if (existing["namespace"], existing["serviceAccount"]) == (
            namespace,
            service_account,
        ):
            raise ResourceInUseException(
                clusterName=cluster.name,
                message="Association already exists: " + existing["associationArn"],
            )
    association_id = "a-" + "".join(mock_random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(17))
    now = _now()
    associations[association_id] = {
        "clusterName": cluster.name,
        "namespace": namespace,
        "serviceAccount": service_account,
        "roleArn": role_arn,
        "associationArn": f"arn:{get_partition(self.region)}:eks:{self.region}:"
        f"{self.eks_backend.account_id}:podidentityassociation/{cluster.name}/"
        f"{association_id}",
        "associationId": association_id,
        "tags": self._get_param("tags") or {},
        "createdAt": now,
        "modifiedAt": now,
        "disableSessionTags": bool(self._get_param("disableSessionTags")),
        "targetRoleArn": target_role_arn,
        "policy": self._get_param("policy"),
    }
    if target_role_arn:
        associations[association_id]["externalId"] = str(mock_random.uuid4())
    return _result({"association": associations[association_id]})


def describe_pod_identity_association(self):
    cluster = _cluster(self)
    association = _association(cluster, self._get_param("associationId"))
    return _result({"association": association})


def list_pod_identity_associations(self):
    cluster = _cluster(self)
    namespace = self._get_param("namespace")
    service_account = self._get_param("serviceAccount")
    summaries = [
        {
            key: association[key]
            for key in (
                "clusterName",
                "namespace",
                "serviceAccount",
                "associationArn",
                "associationId",
            )
        }
        for association in _store(cluster, "pod_identity_associations").values()
        if namespace in (None, association["namespace"]) and service_account in (None, association["serviceAccount"])
    ]
    summaries.sort(key=lambda s: (s["namespace"], s["serviceAccount"]))
    page, token = _page(self, summaries)
    return _result({"associations": page, "nextToken": token})


def update_pod_identity_association(self):
    from moto.moto_api._internal import mock_random

    cluster = _cluster(self)
    association = _association(cluster, self._get_param("associationId"))
    role_arn = self._get_param("roleArn")
    target_role_arn = self._get_param("targetRoleArn")
    disable_session_tags = self._get_param("disableSessionTags")
    policy = self._get_param("policy")
    _check_role_exists(self, role_arn)
    _check_role_exists(self, target_role_arn, "targetRoleArn")
    if role_arn:
        association["roleArn"] = role_arn
    if target_role_arn is not None:
        association["targetRoleArn"] = target_role_arn or None
        association["externalId"] = str(mock_random.uuid4()) if target_role_arn else None
    if disable_session_tags is not None:
        association["disableSessionTags"] = bool(disable_session_tags)
    if policy is not None:
        association["policy"] = policy or None
    association["modifiedAt"] = _now()
    return _result({"association": association})


def delete_pod_identity_association(self):
    cluster = _cluster(self)
    association_id = self._get_param("associationId")
    association = _association(cluster, association_id)
    del _store(cluster, "pod_identity_associations")[association_id]
    return _result({"association": association})


# --- add-ons ---------------------------------------------------------------------------


def _addon(cluster, name):
    addon = _store(cluster, "addons").get(name)
    if addon is None:
        raise _not_found(
            f"No addon: {name} found in cluster: {cluster.name}",
            clusterName=cluster.name,
            addonName=name,
        )
    return addon


def create_addon(self):
    from moto.eks.exceptions import ResourceInUseException
    from moto.moto_api._internal import mock_random
    from moto.utilities.utils import get_partition

    cluster = _cluster(self)
    name = self._get_param("addonName")
    if name not in ADDON_DEFAULT_VERSIONS:
        raise _invalid_parameter(f"Addon {name} specified is not supported")
    addons = _store(cluster, "addons")
    if name in addons:
        raise ResourceInUseException(
            clusterName=cluster.name,
            addonName=name,
            message=f"Addon already exists: {name}",
        )
    role_arn = self._get_param("serviceAccountRoleArn")
    _check_role_exists(self, role_arn, "serviceAccountRoleArn")
    now = _now()
    addons[name] = {
        "addonName": name,
        "clusterName": cluster.name,
        "status": "ACTIVE",
        "addonVersion": self._get_param("addonVersion") or ADDON_DEFAULT_VERSIONS[name],
        "health": {"issues": []},
        "addonArn": f"arn:{get_partition(self.region)}:eks:{self.region}:"
        f"{self.eks_backend.account_id}:addon/{cluster.name}/{name}/{mock_random.uuid4()}",
        "createdAt": now,
        "modifiedAt": now,
        "serviceAccountRoleArn": role_arn,
        "tags": self._get_param("tags") or {},
        "configurationValues": self._get_param("configurationValues"),
    }
    return _result({"addon": addons[name]})


def describe_addon(self):
    cluster = _cluster(self)
    return _result({"addon": _addon(cluster, self._get_param("addonName"))})


def list_addons(self):
    cluster = _cluster(self)
    page, token = _page(self, sorted(_store(cluster, "addons")))
    return _result({"addons": page, "nextToken": token})


def delete_addon(self):
    cluster = _cluster(self)
    name = self._get_param("addonName")
    addon = dict(_addon(cluster, name), status="DELETING")
    del _store(cluster, "addons")[name]
    return _result({"addon": addon})


_HANDLERS = {
    handler.__name__: handler
    for handler in (
        create_access_entry,
        describe_access_entry,
        list_access_entries,
        update_access_entry,
        delete_access_entry,
        list_access_policies,
        associate_access_policy,
        disassociate_access_policy,
        list_associated_access_policies,
        create_pod_identity_association,
        describe_pod_identity_association,
        list_pod_identity_associations,
        update_pod_identity_association,
        delete_pod_identity_association,
        create_addon,
        describe_addon,
        list_addons,
        delete_addon,
    )
}

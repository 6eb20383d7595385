# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic for the ``nodepool`` module: build, compare and merge Karpenter objects.

Nothing here talks to a cluster. :func:`build_v1` turns the module's snake_case
parameters into a ``karpenter.sh/v1`` NodePool and a ``karpenter.k8s.aws/v1``
EC2NodeClass. :func:`spec_matches` decides whether an object read from the cluster
already carries what was asked for (server-side defaults tolerated), and
:func:`merge_managed` produces the body of a replace that changes only the fields
this module owns.

Each API generation is described by one entry of :data:`APIS` (resource
coordinates, owned fields, server defaults) and one builder in :data:`BUILDERS`,
so another generation can be added next to ``v1`` without touching the I/O code.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re
from decimal import Decimal, InvalidOperation

from ansible_collections.jit.karpenter.plugins.module_utils.errors import KarpenterError

FIELD_MANAGER = "jit.karpenter"
NODEPOOL_LABEL = "karpenter.sh/nodepool"
PROVISIONER_LABEL = "karpenter.sh/provisioner-name"

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt", "Gte", "Lte")
NUMERIC_OPERATORS = ("Gt", "Lt", "Gte", "Lte")
CONSOLIDATION_POLICIES = ("WhenEmpty", "WhenEmptyOrUnderutilized", "Balanced")
BUDGET_REASONS = ("Underutilized", "Empty", "Drifted", "Unhealthy")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
AMI_FAMILIES = (
    "AL2",
    "AL2023",
    "Bottlerocket",
    "Custom",
    "Windows2019",
    "Windows2022",
    "Windows2025",
)
VOLUME_TYPES = ("standard", "io1", "io2", "gp2", "sc1", "st1", "gp3")
DEFAULT_AMI_SELECTOR_TERMS = [{"alias": "al2023@latest"}]
DISCOVERY_TAG = "karpenter.sh/discovery"

# Tag keys Karpenter sets itself; EC2NodeClass.spec.tags may not use them.
RESTRICTED_TAG_KEYS = (
    "eks:eks-cluster-name",
    "karpenter.sh/nodepool",
    "karpenter.sh/nodeclaim",
    "karpenter.k8s.aws/ec2nodeclass",
)
RESTRICTED_TAG_PREFIX = "kubernetes.io/cluster"

# Same grammar as the CRD's pattern for spec.limits values (a Kubernetes quantity).
_QUANTITY = re.compile(
    r"^(?P<num>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?P<suffix>[KMGTPE]i|[numkMGTPE]|[eE][+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))?$"
)
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": -9,
    "u": -6,
    "m": -3,
    "k": 3,
    "M": 6,
    "G": 9,
    "T": 12,
    "P": 15,
    "E": 18,
}
# A resource name: an optional DNS-subdomain prefix and a name (cpu, memory, nvidia.com/gpu).
_RESOURCE_NAME = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
_DURATION = re.compile(r"^([0-9]+(s|m|h))+$")
_BUDGET_DURATION = re.compile(r"^((([0-9]+(h|m))|([0-9]+h[0-9]+m))(0s)?)$")
_BUDGET_NODES = re.compile(r"^((100|[0-9]{1,2})%|[0-9]+)$")
_VOLUME_SIZE = re.compile(r"^[0-9]+(Gi|G|Ti|T)$")

APIS = {
    "v1": {
        "nodepool": {
            "group": "karpenter.sh",
            "version": "v1",
            "plural": "nodepools",
            "kind": "NodePool",
        },
        "nodeclass": {
            "group": "karpenter.k8s.aws",
            "version": "v1",
            "plural": "ec2nodeclasses",
            "kind": "EC2NodeClass",
        },
        "nodeclaim": {
            "group": "karpenter.sh",
            "version": "v1",
            "plural": "nodeclaims",
            "kind": "NodeClaim",
        },
        "node_label": NODEPOOL_LABEL,
    },
    # Karpenter before 0.32 (the walkthrough's v0.16): Provisioner and AWSNodeTemplate.
    # Nodes carry the provisioner's name as a label; there are no NodeClaims.
    "v1alpha5": {
        "nodepool": {
            "group": "karpenter.sh",
            "version": "v1alpha5",
            "plural": "provisioners",
            "kind": "Provisioner",
        },
        "nodeclass": {
            "group": "karpenter.k8s.aws",
            "version": "v1alpha1",
            "plural": "awsnodetemplates",
            "kind": "AWSNodeTemplate",
        },
        "node_label": PROVISIONER_LABEL,
    },
}
API_CHOICES = ("auto",) + tuple(APIS)

# Spec fields this module owns, as paths under ``spec``. Fields outside these
# (for example EC2NodeClass ``kubelet`` or ``userData``) are left as they are.
OWNED_FIELDS = {
    "NodePool": (
        ("limits",),
        ("weight",),
        ("disruption",),
        ("template", "metadata", "labels"),
        ("template", "metadata", "annotations"),
        ("template", "spec", "nodeClassRef"),
        ("template", "spec", "requirements"),
        ("template", "spec", "expireAfter"),
        ("template", "spec", "terminationGracePeriod"),
        ("template", "spec", "taints"),
        ("template", "spec", "startupTaints"),
    ),
    "EC2NodeClass": (
        ("role",),
        ("instanceProfile",),
        ("subnetSelectorTerms",),
        ("securityGroupSelectorTerms",),
        ("amiSelectorTerms",),
        ("amiFamily",),
        ("tags",),
        ("blockDeviceMappings",),
        ("metadataOptions",),
    ),
    "Provisioner": (
        ("limits",),
        ("weight",),
        ("labels",),
        ("requirements",),
        ("taints",),
        ("startupTaints",),
        ("ttlSecondsAfterEmpty",),
        ("ttlSecondsUntilExpired",),
        ("consolidation",),
        ("providerRef",),
    ),
    "AWSNodeTemplate": (
        ("instanceProfile",),
        ("subnetSelector",),
        ("securityGroupSelector",),
        ("amiSelector",),
        ("amiFamily",),
        ("tags",),
        ("blockDeviceMappings",),
        ("metadataOptions",),
    ),
}


# ---------------------------------------------------------------------------
# Small helpers


def _drop_none(value):
    """Recursively drop ``None`` values and empty containers left by them."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = _drop_none(v)
            if v is None or v == {} or v == []:
                continue
            out[k] = v
        return out
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def _get(obj, path):
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return None
        obj = obj[key]
    return obj


def _set(obj, path, value):
    for key in path[:-1]:
        obj = obj.setdefault(key, {})
    obj[path[-1]] = value


def _delete(obj, path):
    parents = []
    for key in path[:-1]:
        if not isinstance(obj, dict) or key not in obj:
            return
        parents.append((obj, key))
        obj = obj[key]
    if isinstance(obj, dict):
        obj.pop(path[-1], None)
    # Remove parents emptied by the deletion (e.g. template.metadata).
    for parent, key in reversed(parents):
        if parent[key] == {}:
            del parent[key]
        else:
            break


def _string_map(value, where):
    """Check a map of strings (labels, annotations, tags); numbers become strings."""
    if value is None:
        return None
    out = {}
    for k, v in value.items():
        if isinstance(v, bool) or v is None or isinstance(v, (dict, list)):
            raise KarpenterError(f"{where}.{k}: value {v!r} must be a string (quote it in YAML)")
        out[str(k)] = v if isinstance(v, str) else str(v)
    return out


def _duration(value, where, allow_never=False):
    if value is None:
        return None
    value = str(value)
    if allow_never and value == "Never":
        return value
    if not _DURATION.match(value):
        hint = f" (needs a unit, for example '{value}s')" if value.isdigit() else ""
        raise KarpenterError(
            "{}: {!r} is not a duration such as '30s', '5m' or '720h'{}{}".format(
                where, value, hint, " or 'Never'" if allow_never and not hint else ""
            )
        )
    return value


# ---------------------------------------------------------------------------
# Quantities (spec.limits)


def parse_quantity(value):
    """Return the numeric value of a Kubernetes quantity as a ``Decimal``.

    Raises ``ValueError`` (``TypeError`` for a wrong type) for anything that is not a quantity.
    """
    if isinstance(value, bool):
        raise TypeError(value)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        value = repr(value)
    if not isinstance(value, str):
        raise TypeError(value)
    match = _QUANTITY.match(value.strip())
    if not match:
        raise ValueError(value)
    try:
        number = Decimal(match.group("num"))
    except InvalidOperation:
        raise ValueError(value)
    suffix = match.group("suffix") or ""
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number.scaleb(_DECIMAL[suffix])
    if suffix:
        return number.scaleb(int(Decimal(suffix[1:])))
    return number


def build_limits(limits):
    """Validate ``limits`` (resource name -> quantity) and return ``spec.limits``.

    Integers stay integers (``cpu: 1000``); anything else is sent as a string
    (``memory: 1000Gi``).
    """
    if not limits:
        return None
    out = {}
    for name, value in limits.items():
        name = str(name)
        if isinstance(value, dict):
            hint = ""
            if name == "resources":
                hint = (
                    "; 'limits.resources' is the v1alpha5 Provisioner layout, in v1 put the"
                    " resources directly under limits (limits: {cpu: 1000, memory: 1000Gi})"
                )
            raise KarpenterError(f"limits.{name}: expected a quantity, got a mapping{hint}")
        if not _RESOURCE_NAME.match(name):
            raise KarpenterError(f"limits: {name!r} is not a resource name (such as cpu, memory or nvidia.com/gpu)")
        try:
            parse_quantity(value)
        except (TypeError, ValueError):
            raise KarpenterError(
                f"limits.{name}: {value!r} is not a Kubernetes quantity (for example 1000, 500m or 1000Gi)"
            )
        if isinstance(value, int) and not isinstance(value, bool):
            out[name] = value
        elif isinstance(value, float):
            out[name] = repr(value)
        else:
            out[name] = value.strip()
    return out


# ---------------------------------------------------------------------------
# NodePool pieces


def build_requirements(requirements):
    out = []
    for index, req in enumerate(requirements or []):
        where = f"requirements[{index}]"
        key = req.get("key")
        operator = req.get("operator")
        values = [str(v) for v in (req.get("values") or [])]
        min_values = req.get("min_values")
        if not key:
            raise KarpenterError(f"{where}: 'key' is required")
        if key == "karpenter.sh/provisioner-name":
            raise KarpenterError(
                f"{where}: 'karpenter.sh/provisioner-name' is the v1alpha5 label; v1 uses {NODEPOOL_LABEL!r}"
            )
        if operator not in OPERATORS:
            raise KarpenterError(
                "{} ({}): operator {!r} is not one of {}".format(where, key, operator, ", ".join(OPERATORS))
            )
        if operator == "In" and not values:
            raise KarpenterError(f"{where} ({key}): operator In needs at least one value")
        if operator in ("Exists", "DoesNotExist") and values:
            raise KarpenterError(f"{where} ({key}): operator {operator} takes no values")
        if operator in NUMERIC_OPERATORS and (len(values) != 1 or not values[0].isdigit()):
            raise KarpenterError(
                f"{where} ({key}): operator {operator} needs exactly one non-negative integer value, got {values!r}"
            )
        if min_values is not None:
            if not 1 <= min_values <= 50:
                raise KarpenterError(f"{where} ({key}): min_values must be between 1 and 50")
            if operator == "In" and len(values) < min_values:
                raise KarpenterError(
                    f"{where} ({key}): min_values is {min_values} but only {len(values)} value(s) are listed"
                )
        item = {"key": key, "operator": operator}
        if values:
            item["values"] = values
        if min_values is not None:
            item["minValues"] = min_values
        out.append(item)
    return out


def build_taints(taints, where):
    if not taints:
        return None
    out = []
    for index, taint in enumerate(taints):
        here = f"{where}[{index}]"
        if not taint.get("key"):
            raise KarpenterError(f"{here}: 'key' is required")
        if taint.get("effect") not in TAINT_EFFECTS:
            raise KarpenterError(
                "{} ({}): effect {!r} is not one of {}".format(
                    here,
                    taint.get("key"),
                    taint.get("effect"),
                    ", ".join(TAINT_EFFECTS),
                )
            )
        item = {"key": taint["key"], "effect": taint["effect"]}
        if taint.get("value") not in (None, ""):
            item["value"] = str(taint["value"])
        out.append(item)
    return out


def build_disruption(disruption):
    if not disruption:
        return None
    out = {}
    policy = disruption.get("consolidation_policy")
    if policy is not None:
        if policy not in CONSOLIDATION_POLICIES:
            raise KarpenterError(
                "disruption.consolidation_policy: {!r} is not one of {}".format(
                    policy, ", ".join(CONSOLIDATION_POLICIES)
                )
            )
        out["consolidationPolicy"] = policy
    after = _duration(
        disruption.get("consolidate_after"),
        "disruption.consolidate_after",
        allow_never=True,
    )
    if after is not None:
        out["consolidateAfter"] = after
    budgets = disruption.get("budgets")
    if budgets is not None:
        out["budgets"] = []
        for index, budget in enumerate(budgets):
            where = f"disruption.budgets[{index}]"
            nodes = str(budget.get("nodes") if budget.get("nodes") is not None else "10%")
            if not _BUDGET_NODES.match(nodes):
                raise KarpenterError(f"{where}.nodes: {nodes!r} is not a node count or a percentage such as '10%'")
            item = {"nodes": nodes}
            schedule = budget.get("schedule")
            duration = budget.get("duration")
            if (schedule is None) != (duration is None):
                raise KarpenterError(f"{where}: 'schedule' and 'duration' must be given together")
            if schedule is not None:
                item["schedule"] = schedule
            if duration is not None:
                if not _BUDGET_DURATION.match(str(duration)):
                    raise KarpenterError(
                        f"{where}.duration: {duration!r} is not a duration in hours and minutes such as '10m' or '1h30m'"
                    )
                item["duration"] = str(duration)
            reasons = budget.get("reasons")
            if reasons:
                bad = [r for r in reasons if r not in BUDGET_REASONS]
                if bad:
                    raise KarpenterError("{}.reasons: {!r} not in {}".format(where, bad, ", ".join(BUDGET_REASONS)))
                item["reasons"] = list(reasons)
            out["budgets"].append(item)
    return out or None


# ---------------------------------------------------------------------------
# EC2NodeClass pieces


def build_selector_terms(terms, field, cluster_name):
    """Selector terms as given, or the discovery-tag default for ``cluster_name``."""
    if terms:
        out = []
        for index, term in enumerate(terms):
            term = _drop_none(term)
            if not term:
                raise KarpenterError(f"nodeclass.{field}[{index}]: give at least one of id, name or tags")
            if "tags" in term:
                term["tags"] = _string_map(term["tags"], f"nodeclass.{field}[{index}].tags")
            out.append(term)
        return out
    if not cluster_name:
        raise KarpenterError(
            f"cluster_name is required to select subnets and security groups by the tag {DISCOVERY_TAG!r}"
            f" (or give nodeclass.{field})"
        )
    return [{"tags": {DISCOVERY_TAG: cluster_name}}]


def build_ami_selector_terms(terms, ami_family):
    if not terms:
        return copy.deepcopy(DEFAULT_AMI_SELECTOR_TERMS)
    out = []
    for index, term in enumerate(terms):
        term = _drop_none(term)
        if "ssm_parameter" in term:
            term["ssmParameter"] = term.pop("ssm_parameter")
        if not term:
            raise KarpenterError(
                f"nodeclass.ami_selector_terms[{index}]: give one of alias, id, name, ssm_parameter or tags"
            )
        if "tags" in term:
            term["tags"] = _string_map(term["tags"], f"nodeclass.ami_selector_terms[{index}].tags")
        out.append(term)
    aliases = [t for t in out if "alias" in t]
    if aliases and len(out) != 1:
        raise KarpenterError("nodeclass.ami_selector_terms: an 'alias' term must be the only term")
    if not aliases and not ami_family:
        raise KarpenterError("nodeclass.ami_family is required when nodeclass.ami_selector_terms has no alias")
    return out


def build_tags(tags, restricted=RESTRICTED_TAG_KEYS):
    """The node class's tags, refusing the keys Karpenter sets itself (``restricted`` for the API in use)."""
    tags = _string_map(tags, "nodeclass.tags")
    if not tags:
        return None
    for key in tags:
        if not key:
            raise KarpenterError("nodeclass.tags: empty tag keys are not allowed")
        if key in restricted or key.startswith(RESTRICTED_TAG_PREFIX):
            raise KarpenterError(
                f"nodeclass.tags: the tag key {key!r} is restricted, Karpenter sets it itself",
                restricted_tag_keys=list(restricted) + [RESTRICTED_TAG_PREFIX + "/*"],
            )
    return tags


_EBS_FIELDS = (
    ("volume_size", "volumeSize"),
    ("volume_type", "volumeType"),
    ("iops", "iops"),
    ("throughput", "throughput"),
    ("encrypted", "encrypted"),
    ("kms_key_id", "kmsKeyID"),
    ("delete_on_termination", "deleteOnTermination"),
    ("snapshot_id", "snapshotID"),
)


def build_block_device_mappings(mappings):
    if not mappings:
        return None
    out = []
    roots = 0
    for index, mapping in enumerate(mappings):
        where = f"nodeclass.block_device_mappings[{index}]"
        item = {}
        if mapping.get("device_name"):
            item["deviceName"] = mapping["device_name"]
        if mapping.get("root_volume") is not None:
            item["rootVolume"] = mapping["root_volume"]
            roots += 1 if mapping["root_volume"] else 0
        ebs_in = mapping.get("ebs") or {}
        ebs = {}
        for option, field in _EBS_FIELDS:
            if ebs_in.get(option) is not None:
                ebs[field] = ebs_in[option]
        if "volumeSize" in ebs:
            ebs["volumeSize"] = str(ebs["volumeSize"])
            if not _VOLUME_SIZE.match(ebs["volumeSize"]):
                raise KarpenterError(
                    "{}.ebs.volume_size: {!r} is not a size such as '20Gi'".format(where, ebs["volumeSize"])
                )
        if "volumeType" in ebs and ebs["volumeType"] not in VOLUME_TYPES:
            raise KarpenterError(
                "{}.ebs.volume_type: {!r} is not one of {}".format(where, ebs["volumeType"], ", ".join(VOLUME_TYPES))
            )
        if ebs and "volumeSize" not in ebs and "snapshotID" not in ebs:
            raise KarpenterError(f"{where}.ebs: give volume_size or snapshot_id")
        if ebs:
            item["ebs"] = ebs
        out.append(item)
    if roots > 1:
        raise KarpenterError("nodeclass.block_device_mappings: only one mapping may set root_volume")
    return out


_METADATA_FIELDS = (
    ("http_endpoint", "httpEndpoint"),
    ("http_protocol_ipv6", "httpProtocolIPv6"),
    ("http_put_response_hop_limit", "httpPutResponseHopLimit"),
    ("http_tokens", "httpTokens"),
)


def build_metadata_options(options):
    if not options:
        return None
    out = {}
    for option, field in _METADATA_FIELDS:
        if options.get(option) is not None:
            out[field] = options[option]
    hop = out.get("httpPutResponseHopLimit")
    if hop is not None and not 1 <= hop <= 64:
        raise KarpenterError("nodeclass.metadata_options.http_put_response_hop_limit must be between 1 and 64")
    return out or None


# ---------------------------------------------------------------------------
# Manifests


def nodeclass_name(params):
    nodeclass = params.get("nodeclass") or {}
    return nodeclass.get("name") or params["name"]


def build_v1(params):
    """Return ``(nodepool, nodeclass)`` manifests for ``karpenter.sh/v1``.

    ``nodeclass`` is ``None`` when ``nodeclass.manage`` is false: the NodePool
    then only references an existing EC2NodeClass.
    """
    api = APIS["v1"]
    name = params["name"]
    nodeclass_params = params.get("nodeclass") or {}
    class_name = nodeclass_name(params)

    weight = params.get("weight")
    if weight is not None and not 1 <= weight <= 100:
        raise KarpenterError(f"weight: {weight} is not between 1 and 100")

    template_metadata = _drop_none(
        {
            "labels": _string_map(params.get("labels"), "labels"),
            "annotations": _string_map(params.get("annotations"), "annotations"),
        }
    )
    template_spec = {
        "nodeClassRef": {
            "group": api["nodeclass"]["group"],
            "kind": api["nodeclass"]["kind"],
            "name": class_name,
        },
        "requirements": build_requirements(params.get("requirements")),
    }
    optional = {
        "expireAfter": _duration(params.get("expire_after"), "expire_after", allow_never=True),
        "terminationGracePeriod": _duration(params.get("termination_grace_period"), "termination_grace_period"),
        "taints": build_taints(params.get("taints"), "taints"),
        "startupTaints": build_taints(params.get("startup_taints"), "startup_taints"),
    }
    template_spec.update(_drop_none(optional))
    template = {"spec": template_spec}
    if template_metadata:
        template["metadata"] = template_metadata
    spec = {"template": template}
    spec.update(
        _drop_none(
            {
                "limits": build_limits(params.get("limits")),
                "weight": weight,
                "disruption": build_disruption(params.get("disruption")),
            }
        )
    )
    nodepool = {
        "apiVersion": "{group}/{version}".format(**api["nodepool"]),
        "kind": api["nodepool"]["kind"],
        "metadata": {"name": name},
        "spec": spec,
    }

    if not nodeclass_params.get("manage", True):
        return nodepool, None

    role = nodeclass_params.get("role")
    profile = nodeclass_params.get("instance_profile")
    if bool(role) == bool(profile):
        raise KarpenterError(
            "nodeclass.role (the node IAM role name) or nodeclass.instance_profile, exactly one, is required"
            " when nodeclass.manage is true"
        )
    cluster_name = params.get("cluster_name")
    class_spec = {
        "role" if role else "instanceProfile": role or profile,
        "subnetSelectorTerms": build_selector_terms(
            nodeclass_params.get("subnet_selector_terms"),
            "subnet_selector_terms",
            cluster_name,
        ),
        "securityGroupSelectorTerms": build_selector_terms(
            nodeclass_params.get("security_group_selector_terms"),
            "security_group_selector_terms",
            cluster_name,
        ),
        "amiSelectorTerms": build_ami_selector_terms(
            nodeclass_params.get("ami_selector_terms"),
            nodeclass_params.get("ami_family"),
        ),
    }
    class_spec.update(
        _drop_none(
            {
                "amiFamily": nodeclass_params.get("ami_family"),
                "tags": build_tags(nodeclass_params.get("tags")),
                "blockDeviceMappings": build_block_device_mappings(nodeclass_params.get("block_device_mappings")),
                "metadataOptions": build_metadata_options(nodeclass_params.get("metadata_options")),
            }
        )
    )
    nodeclass = {
        "apiVersion": "{group}/{version}".format(**api["nodeclass"]),
        "kind": api["nodeclass"]["kind"],
        "metadata": {"name": class_name},
        "spec": class_spec,
    }
    return nodepool, nodeclass


# ---------------------------------------------------------------------------
# v1alpha5: Provisioner (karpenter.sh/v1alpha5) and AWSNodeTemplate (karpenter.k8s.aws/v1alpha1)

# v1alpha5 knows In, NotIn, Exists, DoesNotExist, Gt and Lt.
V1ALPHA5_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")
# AMI families Karpenter 0.16 knows (and this module's options allow).
V1ALPHA5_AMI_FAMILIES = ("AL2", "Bottlerocket", "Custom")
# Tag keys Karpenter 0.16 sets itself.
V1ALPHA5_RESTRICTED_TAG_KEYS = (PROVISIONER_LABEL,)
_DURATION_PART = re.compile(r"([0-9]+)(s|m|h)")
_SECONDS = {"s": 1, "m": 60, "h": 3600}


def duration_seconds(value, where):
    """Seconds in a duration such as ``30s``, ``5m`` or ``1h30m`` (v1alpha5 counts in seconds)."""
    value = _duration(value, where)
    return sum(int(n) * _SECONDS[unit] for n, unit in _DURATION_PART.findall(value))


def _not_in_v1alpha5(option, hint=""):
    return KarpenterError(
        f"{option}: not available with api v1alpha5 (Provisioner/AWSNodeTemplate, Karpenter before 0.32){hint}"
    )


def _v1alpha5_selector(terms, field, option, cluster_name, allowed=("id", "tags")):
    """One v1alpha5 selector map from v1-style selector terms.

    v1alpha5 selectors are a single map of tags (ANDed), or ``aws-ids`` with a
    comma-separated list of IDs. So either exactly one term of tags, or terms that each
    give only an ``id``.
    """
    if not terms:
        if cluster_name is None:
            return None
        if not cluster_name:
            raise KarpenterError(
                f"cluster_name is required to select subnets and security groups by the tag {DISCOVERY_TAG!r}"
                f" (or give nodeclass.{option})"
            )
        return {DISCOVERY_TAG: cluster_name}
    terms = [_drop_none(term) for term in terms]
    for index, term in enumerate(terms):
        extra = sorted(set(term) - set(allowed))
        if extra:
            raise _not_in_v1alpha5(
                f"nodeclass.{option}[{index}].{extra[0]}",
                f"; {field} selects by tags or by id",
            )
        if not term:
            raise KarpenterError(f"nodeclass.{option}[{index}]: give id or tags")
    if all(set(term) == {"id"} for term in terms):
        return {"aws-ids": ",".join(term["id"] for term in terms)}
    if len(terms) == 1 and set(terms[0]) == {"tags"}:
        return _string_map(terms[0]["tags"], f"nodeclass.{option}[0].tags")
    raise KarpenterError(
        f"nodeclass.{option}: with api v1alpha5 give either one term of tags or terms of ids only"
        f" ({field} is a single map)"
    )


def _v1alpha5_requirements(requirements):
    for index, req in enumerate(requirements or []):
        where = "requirements[{}] ({})".format(index, req.get("key"))
        if req.get("min_values") is not None:
            raise _not_in_v1alpha5(f"{where}: min_values")
        if req.get("operator") in ("Gte", "Lte"):
            raise _not_in_v1alpha5(
                "{}: operator {}".format(where, req["operator"]),
                "; operators: " + ", ".join(V1ALPHA5_OPERATORS),
            )
        if req.get("key") == NODEPOOL_LABEL:
            raise KarpenterError(
                f"{where}: {NODEPOOL_LABEL!r} is the v1 label; v1alpha5 uses {PROVISIONER_LABEL!r}"
            )
    checked = []
    for req in requirements or []:
        # build_requirements rejects the v1alpha5 label for v1; here it is the right one.
        if req.get("key") == PROVISIONER_LABEL:
            checked.append(dict(req, key=NODEPOOL_LABEL))
        else:
            checked.append(req)
    out = build_requirements(checked)
    for item in out:
        if item["key"] == NODEPOOL_LABEL:
            item["key"] = PROVISIONER_LABEL
    return out


def _v1alpha5_disruption(disruption):
    """``(ttlSecondsAfterEmpty, consolidation)`` for the v1 disruption options."""
    if not disruption:
        return None, None
    if disruption.get("budgets") is not None:
        raise _not_in_v1alpha5("disruption.budgets")
    policy = disruption.get("consolidation_policy")
    after = disruption.get("consolidate_after")
    if policy == "WhenEmpty":
        if after is None or str(after) == "Never":
            raise KarpenterError(
                "disruption.consolidate_after: with api v1alpha5 and consolidation_policy WhenEmpty give a"
                " duration such as '30s' (it becomes ttlSecondsAfterEmpty)"
            )
        return duration_seconds(after, "disruption.consolidate_after"), None
    if policy == "WhenEmptyOrUnderutilized":
        if after is not None:
            raise _not_in_v1alpha5(
                "disruption.consolidate_after with consolidation_policy WhenEmptyOrUnderutilized",
                "; consolidation (consolidation.enabled) acts at once",
            )
        return None, {"enabled": True}
    if policy is not None:
        raise _not_in_v1alpha5(
            f"disruption.consolidation_policy {policy}",
            "; use WhenEmpty (ttlSecondsAfterEmpty) or WhenEmptyOrUnderutilized (consolidation.enabled)",
        )
    if after is not None:
        raise KarpenterError(
            "disruption.consolidate_after: with api v1alpha5 give consolidation_policy WhenEmpty too"
            " (together they become ttlSecondsAfterEmpty)"
        )
    return None, None


def build_v1alpha5(params):
    """Return ``(provisioner, awsnodetemplate)`` manifests for ``karpenter.sh/v1alpha5``.

    The same options as :func:`build_v1`, mapped to the old fields: ``limits`` to
    ``limits.resources``, ``labels`` to ``labels``, ``disruption`` (WhenEmpty with
    ``consolidate_after``) to ``ttlSecondsAfterEmpty`` or (WhenEmptyOrUnderutilized) to
    ``consolidation.enabled``, ``expire_after`` to ``ttlSecondsUntilExpired``, the node
    class to ``providerRef``. Options v1alpha5 has no field for are rejected by name.
    """
    api = APIS["v1alpha5"]
    name = params["name"]
    nodeclass_params = params.get("nodeclass") or {}
    class_name = nodeclass_name(params)

    for option in ("annotations", "termination_grace_period"):
        if params.get(option):
            raise _not_in_v1alpha5(option)
    weight = params.get("weight")
    if weight is not None and not 1 <= weight <= 100:
        raise KarpenterError(f"weight: {weight} is not between 1 and 100")
    limits = params.get("limits")
    if limits and set(limits) == {"resources"} and isinstance(limits["resources"], dict):
        limits = limits["resources"]  # the v1alpha5 layout, as written in Provisioner manifests
    limits = build_limits(limits)
    ttl_empty, consolidation = _v1alpha5_disruption(params.get("disruption"))
    expire = params.get("expire_after")
    ttl_expired = None
    if expire is not None and str(expire) != "Never":
        ttl_expired = duration_seconds(expire, "expire_after")

    spec = {
        "requirements": _v1alpha5_requirements(params.get("requirements")),
        "providerRef": {
            "apiVersion": "{group}/{version}".format(**api["nodeclass"]),
            "kind": api["nodeclass"]["kind"],
            "name": class_name,
        },
    }
    spec.update(
        _drop_none(
            {
                "labels": _string_map(params.get("labels"), "labels"),
                "limits": {"resources": limits} if limits else None,
                "weight": weight,
                "ttlSecondsAfterEmpty": ttl_empty,
                "ttlSecondsUntilExpired": ttl_expired,
                "consolidation": consolidation,
                "taints": build_taints(params.get("taints"), "taints"),
                "startupTaints": build_taints(params.get("startup_taints"), "startup_taints"),
            }
        )
    )
    provisioner = {
        "apiVersion": "{group}/{version}".format(**api["nodepool"]),
        "kind": api["nodepool"]["kind"],
        "metadata": {"name": name},
        "spec": spec,
    }

    if not nodeclass_params.get("manage", True):
        return provisioner, None

    if nodeclass_params.get("role"):
        raise _not_in_v1alpha5(
            "nodeclass.role",
            "; AWSNodeTemplate takes an instance profile (nodeclass.instance_profile), or Karpenter uses"
            " the chart's aws.defaultInstanceProfile",
        )
    for index, mapping in enumerate(nodeclass_params.get("block_device_mappings") or []):
        if mapping.get("root_volume") is not None:
            raise _not_in_v1alpha5(f"nodeclass.block_device_mappings[{index}].root_volume")
    ami_family = nodeclass_params.get("ami_family")
    if ami_family is not None and ami_family not in V1ALPHA5_AMI_FAMILIES:
        raise _not_in_v1alpha5(
            f"nodeclass.ami_family {ami_family}", "; families: " + ", ".join(V1ALPHA5_AMI_FAMILIES)
        )
    cluster_name = params.get("cluster_name") or ""
    class_spec = _drop_none(
        {
            "instanceProfile": nodeclass_params.get("instance_profile"),
            "subnetSelector": _v1alpha5_selector(
                nodeclass_params.get("subnet_selector_terms"),
                "subnetSelector",
                "subnet_selector_terms",
                cluster_name,
            ),
            "securityGroupSelector": _v1alpha5_selector(
                nodeclass_params.get("security_group_selector_terms"),
                "securityGroupSelector",
                "security_group_selector_terms",
                cluster_name,
            ),
            "amiSelector": _v1alpha5_selector(
                nodeclass_params.get("ami_selector_terms"),
                "amiSelector",
                "ami_selector_terms",
                None,
            ),
            "amiFamily": ami_family,
            "tags": build_tags(nodeclass_params.get("tags"), V1ALPHA5_RESTRICTED_TAG_KEYS),
            "blockDeviceMappings": build_block_device_mappings(nodeclass_params.get("block_device_mappings")),
            "metadataOptions": build_metadata_options(nodeclass_params.get("metadata_options")),
        }
    )
    nodeclass = {
        "apiVersion": "{group}/{version}".format(**api["nodeclass"]),
        "kind": api["nodeclass"]["kind"],
        "metadata": {"name": class_name},
        "spec": class_spec,
    }
    return provisioner, nodeclass


BUILDERS = {"v1": build_v1, "v1alpha5": build_v1alpha5}


def choose_api(requested, served):
    """The API generation to write: ``requested``, or with ``auto`` the one the cluster serves.

    ``served`` is the set of ``(group, version, plural)`` the cluster serves for Karpenter's
    node pool kinds. ``auto`` picks v1 when NodePools are served, else v1alpha5 when
    Provisioners are, else v1 (whose error then says to install the CRDs).
    """
    if requested not in API_CHOICES:
        raise KarpenterError("api: {!r} is not one of {}".format(requested, ", ".join(API_CHOICES)))
    if requested != "auto":
        return requested
    for api in ("v1", "v1alpha5"):
        res = APIS[api]["nodepool"]
        if (res["group"], res["version"], res["plural"]) in served:
            return api
    return "v1"


# ---------------------------------------------------------------------------
# Comparison with what the server holds

_METADATA_DEFAULTS = {
    "httpEndpoint": "enabled",
    "httpProtocolIPv6": "disabled",
    "httpPutResponseHopLimit": 1,
    "httpTokens": "required",
}


# Karpenter 0.16's defaulting webhook (AWS) adds these requirements to a Provisioner that constrains
# neither key, by requirement or by label.
V1ALPHA5_DEFAULT_REQUIREMENTS = (("karpenter.sh/capacity-type", "on-demand"), ("kubernetes.io/arch", "amd64"))


def with_server_defaults(kind, spec):
    """Return a copy of ``spec`` with the defaults the server applies filled in.

    v1: the CRDs' defaults. v1alpha5: the requirements Karpenter's defaulting webhook adds.
    """
    spec = copy.deepcopy(spec or {})
    if kind == "NodePool":
        disruption = spec.setdefault("disruption", {})
        disruption.setdefault("consolidateAfter", "0s")
        disruption.setdefault("consolidationPolicy", "WhenEmptyOrUnderutilized")
        budgets = disruption.setdefault("budgets", [{"nodes": "10%"}])
        for budget in budgets:
            budget.setdefault("nodes", "10%")
        template_spec = spec.setdefault("template", {}).setdefault("spec", {})
        template_spec.setdefault("expireAfter", "720h")
    elif kind == "EC2NodeClass":
        options = spec.setdefault("metadataOptions", {})
        for key, value in _METADATA_DEFAULTS.items():
            options.setdefault(key, value)
    elif kind == "Provisioner":
        requirements = spec.get("requirements") or []
        labels = spec.get("labels") or {}
        for key, value in V1ALPHA5_DEFAULT_REQUIREMENTS:
            if key not in labels and not any(r.get("key") == key for r in requirements):
                requirements.append({"key": key, "operator": "In", "values": [value]})
        spec["requirements"] = requirements
    return spec


def _normalise(path, value):
    """Comparable form of one owned field: empty means absent, quantities by value."""
    if value in (None, {}, []):
        return None
    if path == ("requirements",):
        # v1alpha5: the webhook appends its defaults in no fixed order; requirements are ANDed.
        return sorted(value, key=lambda r: (r.get("key", ""), r.get("operator", ""), r.get("values") or []))
    if path == ("limits",) and isinstance(value, dict):
        if isinstance(value.get("resources"), dict):  # v1alpha5: limits.resources
            return {"resources": _normalise(path, value["resources"])}
        out = {}
        for k, v in value.items():
            try:
                out[k] = parse_quantity(v)
            except (TypeError, ValueError):
                out[k] = v
        return out
    return value


def owned_view(kind, spec):
    """The owned fields of ``spec`` (defaults applied), as ``{path: value}``."""
    full = with_server_defaults(kind, spec)
    return {path: _normalise(path, _get(full, path)) for path in OWNED_FIELDS[kind]}


def differences(kind, desired_spec, actual_spec):
    """Owned field paths (dotted) whose desired and actual values differ."""
    want = owned_view(kind, desired_spec)
    have = owned_view(kind, actual_spec)
    return [".".join(path) for path in OWNED_FIELDS[kind] if want[path] != have[path]]


def spec_matches(kind, desired_spec, actual_spec):
    """True when ``actual_spec`` already carries every owned field as desired."""
    return not differences(kind, desired_spec, actual_spec)


def merge_managed(actual, desired):
    """Body for a replace: ``actual`` with the owned fields taken from ``desired``.

    Keeps ``metadata`` (``resourceVersion`` included, for optimistic concurrency)
    and fields owned by others; drops ``status`` and ``managedFields``.
    """
    kind = desired["kind"]
    body = copy.deepcopy(actual)
    body.pop("status", None)
    body.get("metadata", {}).pop("managedFields", None)
    spec = body.setdefault("spec", {})
    for path in OWNED_FIELDS[kind]:
        _delete(spec, path)
        value = _get(desired.get("spec"), path)
        if value not in (None, {}, []) or (value == [] and path[-1] == "requirements"):
            _set(spec, path, copy.deepcopy(value))
    body["apiVersion"] = desired["apiVersion"]
    body["kind"] = kind
    return body

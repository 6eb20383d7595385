# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Karpenter v1: the module's snake_case parameters to a ``karpenter.sh/v1`` NodePool and a
``karpenter.k8s.aws/v1`` EC2NodeClass (:func:`build_v1`), option by option as
``fields.OPTIONS`` maps them. The pieces (limits, requirements, taints, tags, volumes, metadata
options) check their input and are shared with the v1alpha5 builder and the converter.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError
from ansible_collections.jit.karpenter.plugins.module_utils._nodepool.common import (
    manifest,
    drop_none,
    check_duration,
    parse_quantity,
    string_map,
)
from ansible_collections.jit.karpenter.plugins.module_utils._nodepool.fields import (
    AMI_TERM_FIELDS,
    APIS,
    BUDGET_REASONS,
    CONSOLIDATION_POLICIES,
    DEFAULT_AMI_SELECTOR_TERMS,
    DISCOVERY_TAG,
    EBS_FIELDS,
    METADATA_FIELDS,
    NODEPOOL_LABEL,
    NUMERIC_OPERATORS,
    OPERATORS,
    RESTRICTED_TAG_KEYS,
    RESTRICTED_TAG_PREFIX,
    TAINT_EFFECTS,
    VOLUME_TYPES,
)

# A resource name: an optional DNS-subdomain prefix and a name (cpu, memory, nvidia.com/gpu).
_RESOURCE_NAME = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
_BUDGET_DURATION = re.compile(r"^((([0-9]+(h|m))|([0-9]+h[0-9]+m))(0s)?)$")
_BUDGET_NODES = re.compile(r"^((100|[0-9]{1,2})%|[0-9]+)$")
_VOLUME_SIZE = re.compile(r"^[0-9]+(Gi|G|Ti|T)$")


# ---------------------------------------------------------------------------
# Quantities (spec.limits)


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
    after = check_duration(
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
            term = drop_none(term)
            if not term:
                raise KarpenterError(f"nodeclass.{field}[{index}]: give at least one of id, name or tags")
            if "tags" in term:
                term["tags"] = string_map(term["tags"], f"nodeclass.{field}[{index}].tags")
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
        term = drop_none(term)
        term = {field: term[option] for option, field in AMI_TERM_FIELDS if option in term}
        if not term:
            raise KarpenterError(
                f"nodeclass.ami_selector_terms[{index}]: give one of alias, id, name, ssm_parameter or tags"
            )
        if "tags" in term:
            term["tags"] = string_map(term["tags"], f"nodeclass.ami_selector_terms[{index}].tags")
        out.append(term)
    aliases = [t for t in out if "alias" in t]
    if aliases and len(out) != 1:
        raise KarpenterError("nodeclass.ami_selector_terms: an 'alias' term must be the only term")
    if not aliases and not ami_family:
        raise KarpenterError("nodeclass.ami_family is required when nodeclass.ami_selector_terms has no alias")
    return out


def build_tags(tags, restricted=RESTRICTED_TAG_KEYS):
    """The node class's tags, refusing the keys Karpenter sets itself (``restricted`` for the API in use)."""
    tags = string_map(tags, "nodeclass.tags")
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
        for option, field in EBS_FIELDS:
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


def build_metadata_options(options):
    if not options:
        return None
    out = {}
    for option, field in METADATA_FIELDS:
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

    template_metadata = drop_none(
        {
            "labels": string_map(params.get("labels"), "labels"),
            "annotations": string_map(params.get("annotations"), "annotations"),
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
        "expireAfter": check_duration(params.get("expire_after"), "expire_after", allow_never=True),
        "terminationGracePeriod": check_duration(params.get("termination_grace_period"), "termination_grace_period"),
        "taints": build_taints(params.get("taints"), "taints"),
        "startupTaints": build_taints(params.get("startup_taints"), "startup_taints"),
    }
    template_spec.update(drop_none(optional))
    template = {"spec": template_spec}
    if template_metadata:
        template["metadata"] = template_metadata
    spec = {"template": template}
    spec.update(
        drop_none(
            {
                "limits": build_limits(params.get("limits")),
                "weight": weight,
                "disruption": build_disruption(params.get("disruption")),
            }
        )
    )
    nodepool = manifest(api["nodepool"], name, spec)

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
        drop_none(
            {
                "amiFamily": nodeclass_params.get("ami_family"),
                "tags": build_tags(nodeclass_params.get("tags")),
                "blockDeviceMappings": build_block_device_mappings(nodeclass_params.get("block_device_mappings")),
                "metadataOptions": build_metadata_options(nodeclass_params.get("metadata_options")),
            }
        )
    )
    nodeclass = manifest(api["nodeclass"], class_name, class_spec)
    return nodepool, nodeclass

# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Karpenter 0.16 objects to Karpenter 1.x, in process and without AWS calls.

:func:`convert_provisioner` turns a live ``karpenter.sh/v1alpha5`` Provisioner, with its inline
``spec.provider`` or the ``karpenter.k8s.aws/v1alpha1`` AWSNodeTemplate its ``spec.providerRef``
names, into a ``karpenter.sh/v1`` NodePool and a ``karpenter.k8s.aws/v1`` EC2NodeClass.

Fields that are only renamed come from the field table (``fields.OPTIONS``); the others are
converted here, following Karpenter's own migration guides (v1beta1 Migration, v1 Migration) and
its converter (``karpenter-convert``). Every field that has no 1.x equivalent is refused before
anything is built, all of them in one :class:`KarpenterError`. Mappings that are accepted but not
exact come back as human-readable notes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import itertools

from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError
from ansible_collections.jit.karpenter.plugins.module_utils._nodepool.common import (
    manifest,
    get_path,
    seconds_duration,
    set_path,
    string_map,
)
from ansible_collections.jit.karpenter.plugins.module_utils._nodepool.fields import (
    APIS,
    NODEPOOL_LABEL,
    PROVISIONER_LABEL,
    REJECTED,
    RESTRICTED_TAG_KEYS,
    RESTRICTED_TAG_PREFIX,
    children,
)
from ansible_collections.jit.karpenter.plugins.module_utils._nodepool.v1 import (
    build_limits,
    build_requirements,
    build_taints,
)
from ansible_collections.jit.karpenter.plugins.module_utils._nodepool.compare import V1ALPHA5_DEFAULT_REQUIREMENTS

# Annotations Karpenter 1.x no longer reads, and the one that replaces them (v1beta1 Migration,
# "Annotations, Labels, and Status Conditions"; removed for good in v1).
DO_NOT_DISRUPT = "karpenter.sh/do-not-disrupt"
RENAMED_ANNOTATIONS = {
    "karpenter.sh/do-not-evict": DO_NOT_DISRUPT,  # on pods
    "karpenter.sh/do-not-consolidate": DO_NOT_DISRUPT,  # on nodes
}
# Well-known labels that 1.x dropped (v1beta1 Migration: karpenter.k8s.aws/instance-pods).
DROPPED_LABELS = ("karpenter.k8s.aws/instance-pods",)
# amiFamily to the 1.x alias of its EKS-optimised AMI (v1 Migration: AMISelectorTerms are required;
# an alias stands for the family). Ubuntu is no longer a family; Custom needs its own AMI selector.
AMI_ALIASES = {
    "AL2": "al2@latest",
    "AL2023": "al2023@latest",
    "Bottlerocket": "bottlerocket@latest",
    "Windows2019": "windows2019@latest",
    "Windows2022": "windows2022@latest",
}
# The amiFamily Karpenter 0.16 used when none was given (karpenter-convert sets it the same way).
DEFAULT_AMI_FAMILY = "AL2"
# Kubelet settings of a Provisioner that the 1.x EC2NodeClass kept (spec.kubelet).
KUBELET_FIELDS = (
    "clusterDNS",
    "maxPods",
    "podsPerCore",
    "systemReserved",
    "kubeReserved",
    "evictionHard",
    "evictionSoft",
    "evictionSoftGracePeriod",
    "evictionMaxPodGracePeriod",
    "imageGCHighThresholdPercent",
    "imageGCLowThresholdPercent",
    "cpuCFSQuota",
)
# 0.16's metadata options when unset; 1.x lowers the hop limit to 1 (v1 Migration, "Defaults changed").
V1ALPHA5_HOP_LIMIT = 2
_IDS = ("aws-ids", "aws::ids")


def _spec_field(path):
    return path[len("spec.") :] if isinstance(path, str) and path.startswith("spec.") else None


def _renames(parent):
    """``{v1alpha5 field: v1 path}`` of the rows under ``parent`` whose value is only renamed."""
    out = {}
    for row in children(parent):
        old, new = _spec_field(row.v1alpha5), _spec_field(row.v1)
        if old and new:
            out[old] = new
    return out


# Provisioner fields only renamed, from the field table (requirements, labels, taints, ...).
POOL_RENAMES = _renames("")
# Fields the module does not manage but a Provisioner may carry.
POOL_RENAMES["annotations"] = "template.metadata.annotations"
_EBS = {row.v1alpha5: row.v1 for row in children("nodeclass.block_device_mappings.ebs")}
_METADATA = {row.v1alpha5: row.v1 for row in children("nodeclass.metadata_options")}
_MAPPING = {row.v1alpha5: row.v1 for row in children("nodeclass.block_device_mappings") if row.v1alpha5 != REJECTED}


def renamed_annotations(annotations):
    """``annotations`` with the 0.x ``karpenter.sh/do-not-evict`` (pods) and ``do-not-consolidate``
    (nodes) replaced by ``karpenter.sh/do-not-disrupt``, which 1.x reads instead.

    An existing ``do-not-disrupt`` wins. Returns a new dict; ``None`` stays ``None``.
    """
    if annotations is None:
        return None
    out = dict(annotations)
    for old, new in RENAMED_ANNOTATIONS.items():
        if old in out:
            value = out.pop(old)
            out.setdefault(new, value)
    return out


class _Problems:
    """Fields without a 1.x equivalent, collected so that one error names them all."""

    def __init__(self):
        self.items = []

    def add(self, where, reason):
        self.items.append((where, reason))

    def unknown(self, obj, known, where):
        for key in sorted(set(obj or {}) - set(known)):
            self.add(f"{where}.{key}", "not a field Karpenter 1.x has an equivalent for")

    def raise_if_any(self, name):
        if self.items:
            raise KarpenterError(
                "Provisioner {} cannot be converted to Karpenter 1.x; these fields have no 1.x equivalent: {}".format(
                    name, "; ".join(f"{where} ({reason})" for where, reason in self.items)
                ),
                rejected_fields=[where for where, reason in self.items],
            )


# ---------------------------------------------------------------------------
# Selectors: a v1alpha5 map to 1.x selector terms


def _split(value):
    return [part.strip() for part in str(value).split(",") if part.strip()]


def _tag_terms(tags):
    """Terms for a map of tags; a comma-separated value lists alternatives (v1alpha5 ORs them)."""
    keys = sorted(tags)
    choices = [_split(tags[key]) or [""] for key in keys]
    return [{"tags": dict(zip(keys, combo))} for combo in itertools.product(*choices)]


def _selector_terms(selector, where, problems, notes):
    """``subnetSelector``/``securityGroupSelector`` to ``...SelectorTerms``."""
    if not selector:
        problems.add(where, "required, and 1.x has no default")
        return None
    selector = string_map(selector, where)
    ids = [key for key in selector if key in _IDS]
    others = [key for key in selector if key not in _IDS]
    bad = [key for key in others if key.startswith("aws::")]
    for key in bad:
        problems.add(f"{where}.{key}", "not a selector key of Karpenter 0.16")
    if ids and others:
        problems.add(where, "aws-ids together with tags; in 1.x an id term takes no other field")
        return None
    if ids:
        return [{"id": one} for key in ids for one in _split(selector[key])]
    terms = _tag_terms(selector)
    if len(terms) > 1:
        notes.append(f"{where}: comma-separated tag values became {len(terms)} terms (ORed, as before)")
    return terms


def _ami_terms(selector, where, problems, notes):
    """``amiSelector`` to ``amiSelectorTerms``: ids, or names and owners, and tags."""
    selector = string_map(selector, where)
    ids = [key for key in selector if key in _IDS]
    names = _split(selector.pop("aws::name", ""))
    owners = _split(selector.pop("aws::owners", ""))
    tags = {key: value for key, value in selector.items() if key not in _IDS}
    for key in [key for key in tags if key.startswith("aws::")]:
        problems.add(f"{where}.{key}", "not a selector key of Karpenter 0.16")
        tags.pop(key)
    if ids:
        if names or owners or tags:
            problems.add(where, "aws::ids together with other keys; in 1.x an id term takes no other field")
            return None
        return [{"id": one} for key in ids for one in _split(selector[key])]
    terms = _tag_terms(tags) if tags else [{}]
    if names:
        terms = [dict(term, name=name) for term in terms for name in names]
    if owners:
        terms = [dict(term, owner=owner) for term in terms for owner in owners]
    if terms == [{}] or all(set(term) == {"owner"} for term in terms):
        problems.add(where, "aws::owners alone selects no AMI in 1.x; add aws::name or tags")
        return None
    if len(terms) > 1:
        notes.append(f"{where}: {len(terms)} AMI selector terms (each name, owner and tag value alternative)")
    if tags:
        notes.append(f"{where}: tags select AMIs as before; 1.x no longer reads requirements from AMI tags")
    return terms


# ---------------------------------------------------------------------------
# The node class


def _nodeclass(provider, where, role, problems, notes):
    """The EC2NodeClass spec for an inline provider or an AWSNodeTemplate spec (``where`` names it)."""
    provider = dict(provider or {})
    # A RawExtension provider may name its own type.
    provider.pop("apiVersion", None)
    provider.pop("kind", None)
    known = (
        "amiFamily",
        "amiSelector",
        "subnetSelector",
        "securityGroupSelector",
        "instanceProfile",
        "tags",
        "metadataOptions",
        "blockDeviceMappings",
        "userData",
        "context",
        "detailedMonitoring",
    )
    if "launchTemplate" in provider:
        problems.add(f"{where}.launchTemplate", "1.x removed unmanaged launch templates")
    problems.unknown({k: v for k, v in provider.items() if k != "launchTemplate"}, known, where)
    spec = {}
    if role:
        spec["role"] = role
        if provider.get("instanceProfile"):
            notes.append(
                f"{where}.instanceProfile {provider['instanceProfile']!r}: replaced by role {role!r}"
                " (Karpenter 1.x creates the instance profile)"
            )
        else:
            notes.append(
                f"{where}: no instanceProfile (Karpenter 0.16 used the chart's"
                f" aws.defaultInstanceProfile); role {role!r}"
            )
    spec["subnetSelectorTerms"] = _selector_terms(
        provider.get("subnetSelector"), f"{where}.subnetSelector", problems, notes
    )
    spec["securityGroupSelectorTerms"] = _selector_terms(
        provider.get("securityGroupSelector"), f"{where}.securityGroupSelector", problems, notes
    )
    family = provider.get("amiFamily")
    if provider.get("amiSelector"):
        spec["amiSelectorTerms"] = _ami_terms(provider["amiSelector"], f"{where}.amiSelector", problems, notes)
        spec["amiFamily"] = family or DEFAULT_AMI_FAMILY
        if not family:
            notes.append(f"{where}.amiFamily: unset, so {DEFAULT_AMI_FAMILY} (the 0.16 default) is written")
    elif (family or DEFAULT_AMI_FAMILY) in AMI_ALIASES:
        alias = AMI_ALIASES[family or DEFAULT_AMI_FAMILY]
        spec["amiSelectorTerms"] = [{"alias": alias}]
        notes.append(
            f"{where}.amiFamily {family or 'unset (' + DEFAULT_AMI_FAMILY + ')'}: amiSelectorTerms"
            f" alias {alias}, the newest EKS-optimised AMI as before"
        )
    elif family == "Custom":
        problems.add(f"{where}.amiFamily", "Custom without amiSelector; 1.x needs amiSelectorTerms")
    else:
        problems.add(f"{where}.amiFamily", f"{family} is not an AMI family of Karpenter 1.x")
    tags = string_map(provider.get("tags"), f"{where}.tags")
    for key in sorted(tags or {}):
        if key in RESTRICTED_TAG_KEYS or key.startswith(RESTRICTED_TAG_PREFIX):
            problems.add(f"{where}.tags.{key}", "Karpenter 1.x sets this tag itself")
    if tags:
        spec["tags"] = tags
    options = dict(provider.get("metadataOptions") or {})
    problems.unknown(options, _METADATA, f"{where}.metadataOptions")
    options = {_METADATA[key]: value for key, value in options.items() if key in _METADATA}
    if "httpPutResponseHopLimit" not in options:
        options["httpPutResponseHopLimit"] = V1ALPHA5_HOP_LIMIT
        notes.append(
            f"{where}.metadataOptions.httpPutResponseHopLimit: {V1ALPHA5_HOP_LIMIT}, the 0.16 default,"
            " written out (1.x defaults to 1, which keeps pods off the instance metadata)"
        )
    spec["metadataOptions"] = options
    mappings = []
    for index, mapping in enumerate(provider.get("blockDeviceMappings") or []):
        here = f"{where}.blockDeviceMappings[{index}]"
        problems.unknown(mapping, _MAPPING, here)
        problems.unknown(mapping.get("ebs"), _EBS, f"{here}.ebs")
        item = {_MAPPING[key]: copy.deepcopy(value) for key, value in mapping.items() if key in _MAPPING}
        if "ebs" in item:
            item["ebs"] = {_EBS[key]: value for key, value in item["ebs"].items() if key in _EBS}
        mappings.append(item)
    if mappings:
        spec["blockDeviceMappings"] = mappings
    for field in ("userData", "context", "detailedMonitoring"):
        if provider.get(field) is not None:
            spec[field] = provider[field]
    return spec


# ---------------------------------------------------------------------------
# The node pool


def _restricted_label(key):
    """Why a NodePool may not use label ``key`` in its requirements or labels (the v1 CRD's rules), or None."""
    domain = str(key).split("/", 1)[0] if "/" in str(key) else ""
    if key in (NODEPOOL_LABEL, PROVISIONER_LABEL, "kubernetes.io/hostname"):
        return "a label Karpenter 1.x restricts in a NodePool"
    if domain.endswith("karpenter.sh") and key != "karpenter.sh/capacity-type":
        return "the label domain karpenter.sh is restricted in Karpenter 1.x"
    return None


def _requirements(requirements, labels, problems, notes):
    for key in sorted(labels or {}):
        reason = _restricted_label(key)
        if reason:
            problems.add(f"spec.labels.{key}", reason)
    out = []
    for index, req in enumerate(requirements or []):
        key = req.get("key")
        reason = "Karpenter 1.x dropped this label" if key in DROPPED_LABELS else _restricted_label(key)
        if reason:
            problems.add(f"spec.requirements[{index}] ({key})", reason)
            continue
        problems.unknown(req, ("key", "operator", "values"), f"spec.requirements[{index}]")
        out.append({"key": key, "operator": req.get("operator"), "values": req.get("values")})
    for key, value in V1ALPHA5_DEFAULT_REQUIREMENTS:
        if key not in (labels or {}) and not any(req["key"] == key for req in out):
            out.append({"key": key, "operator": "In", "values": [value]})
            notes.append(
                f"spec.requirements: {key} In [{value}] added, the default Karpenter 0.16's webhook"
                " applied and 1.x no longer does"
            )
    return out


def _disruption(spec, problems, notes):
    """``(disruption, expireAfter)`` from the TTLs and ``consolidation``."""
    problems.unknown(spec.get("consolidation"), ("enabled",), "spec.consolidation")
    consolidate = (spec.get("consolidation") or {}).get("enabled")
    after_empty = spec.get("ttlSecondsAfterEmpty")
    if consolidate and after_empty is not None:
        problems.add("spec.ttlSecondsAfterEmpty", "set together with consolidation.enabled, which 0.16 refused")
    if consolidate:
        disruption = {"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "0s"}
    elif after_empty is not None:
        disruption = {"consolidationPolicy": "WhenEmpty", "consolidateAfter": seconds_duration(after_empty)}
    else:
        disruption = {"consolidationPolicy": "WhenEmpty", "consolidateAfter": "Never"}
        notes.append(
            "spec: neither ttlSecondsAfterEmpty nor consolidation, so disruption.consolidateAfter is"
            " Never (1.x would otherwise consolidate)"
        )
    until_expired = spec.get("ttlSecondsUntilExpired")
    if until_expired is None:
        notes.append("spec.ttlSecondsUntilExpired: unset, so expireAfter is Never (1.x defaults to 720h)")
        return disruption, "Never"
    return disruption, seconds_duration(until_expired)


def _kubelet(kubelet, problems, notes):
    kubelet = dict(kubelet or {})
    runtime = kubelet.pop("containerRuntime", None)
    if runtime not in (None, "containerd"):
        problems.add("spec.kubeletConfiguration.containerRuntime", f"{runtime}; 1.x runs containerd only")
    elif runtime:
        notes.append("spec.kubeletConfiguration.containerRuntime: containerd is the only runtime in 1.x, dropped")
    problems.unknown(kubelet, KUBELET_FIELDS, "spec.kubeletConfiguration")
    if kubelet:
        notes.append(
            "spec.kubeletConfiguration: moved to the EC2NodeClass (spec.kubelet), shared by every NodePool that uses it"
        )
    return {key: copy.deepcopy(value) for key, value in kubelet.items() if key in KUBELET_FIELDS} or None


def convert_provisioner(provisioner, nodetemplate=None, role=None):
    """Return ``(nodepool, nodeclass, notes)`` for a Karpenter 0.16 ``provisioner``.

    ``nodetemplate`` is the AWSNodeTemplate its ``spec.providerRef`` names (``None`` for an inline
    ``spec.provider``). ``role`` is the name of the nodes' IAM role, which 1.x takes instead of an
    instance profile; the caller resolves it (for example from the instance profile). The
    EC2NodeClass takes the AWSNodeTemplate's name, or the Provisioner's for an inline provider.
    """
    v1alpha5, v1 = APIS["v1alpha5"], APIS["v1"]
    expected = "{group}/{version}".format(**v1alpha5["nodepool"])
    if provisioner.get("kind") != "Provisioner" or provisioner.get("apiVersion") != expected:
        raise KarpenterError(
            f"expected a Provisioner ({expected}), got {provisioner.get('kind')} {provisioner.get('apiVersion')}"
        )
    name = provisioner["metadata"]["name"]
    spec = provisioner.get("spec") or {}
    problems, notes = _Problems(), []

    known = set(POOL_RENAMES) | {
        "limits",
        "ttlSecondsAfterEmpty",
        "ttlSecondsUntilExpired",
        "consolidation",
        "kubeletConfiguration",
        "provider",
        "providerRef",
    }
    problems.unknown(spec, known, "spec")
    if spec.get("provider") and spec.get("providerRef"):
        problems.add("spec.provider", "given together with spec.providerRef")
    if spec.get("providerRef"):
        class_name = spec["providerRef"].get("name")
        expected = "{group}/{version}".format(**v1alpha5["nodeclass"])
        if (
            nodetemplate is None
            or nodetemplate.get("kind") != "AWSNodeTemplate"
            or nodetemplate.get("apiVersion") != expected
            or nodetemplate["metadata"]["name"] != class_name
        ):
            raise KarpenterError(
                f"Provisioner {name}: spec.providerRef names AWSNodeTemplate {class_name};"
                " pass that object to convert it"
            )
        provider, where = (nodetemplate.get("spec") or {}), f"AWSNodeTemplate {class_name}: spec"
    elif spec.get("provider"):
        class_name, provider, where = name, spec["provider"], "spec.provider"
        notes.append(f"spec.provider: inline, so the EC2NodeClass is named after the Provisioner ({name})")
    else:
        raise KarpenterError(f"Provisioner {name}: neither spec.provider nor spec.providerRef")

    limits = spec.get("limits")
    if limits is not None:
        problems.unknown(limits, ("resources",), "spec.limits")
    requirements = _requirements(spec.get("requirements"), spec.get("labels"), problems, notes)
    disruption, expire_after = _disruption(spec, problems, notes)
    kubelet = _kubelet(spec.get("kubeletConfiguration"), problems, notes)
    class_spec = _nodeclass(provider, where, role, problems, notes)
    problems.raise_if_any(name)
    if not role:
        raise KarpenterError(
            f"Provisioner {name}: the name of the nodes' IAM role is required;"
            " Karpenter 1.x takes a role instead of an instance profile"
        )

    pool_spec = {"template": {"spec": {}}}
    for old, new in POOL_RENAMES.items():
        if spec.get(old) not in (None, {}, []):
            set_path(pool_spec, new.split("."), copy.deepcopy(spec[old]))
    annotations = get_path(pool_spec, ("template", "metadata", "annotations"))
    if annotations:
        renamed = renamed_annotations(annotations)
        if renamed != annotations:
            notes.append(
                f"spec.annotations: {', '.join(sorted(set(annotations) & set(RENAMED_ANNOTATIONS)))}"
                f" became {DO_NOT_DISRUPT}"
            )
        set_path(pool_spec, ("template", "metadata", "annotations"), renamed)
    template = pool_spec["template"]["spec"]
    template["requirements"] = build_requirements(requirements)
    for field in ("taints", "startupTaints"):
        if field in template:
            template[field] = build_taints(template[field], f"spec.{field}")
    template["nodeClassRef"] = {"group": v1["nodeclass"]["group"], "kind": v1["nodeclass"]["kind"], "name": class_name}
    template["expireAfter"] = expire_after
    pool_spec["disruption"] = disruption
    resources = build_limits((limits or {}).get("resources"))
    if resources:
        pool_spec["limits"] = resources
    nodepool = manifest(v1["nodepool"], name, pool_spec)
    if kubelet:
        class_spec["kubelet"] = kubelet
    nodeclass = manifest(v1["nodeclass"], class_name, class_spec)
    return nodepool, nodeclass, notes

# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Karpenter before 0.32 (v1alpha5): the module's parameters to a ``karpenter.sh/v1alpha5``
Provisioner and a ``karpenter.k8s.aws/v1alpha1`` AWSNodeTemplate (:func:`build_v1alpha5`).

The same options as :func:`v1.build_v1`; ``fields.OPTIONS`` says where each one goes, which are
converted and which are rejected by name.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError
from ansible_collections.jit.karpenter.plugins.module_utils._nodepool.common import (
    manifest,
    drop_none,
    duration_seconds,
    string_map,
)
from ansible_collections.jit.karpenter.plugins.module_utils._nodepool.fields import (
    APIS,
    DISCOVERY_TAG,
    NODEPOOL_LABEL,
    PROVISIONER_LABEL,
    REJECTED,
    children,
)
from ansible_collections.jit.karpenter.plugins.module_utils._nodepool.v1 import (
    build_block_device_mappings,
    build_limits,
    build_metadata_options,
    build_requirements,
    build_tags,
    build_taints,
    nodeclass_name,
)


# v1alpha5 knows In, NotIn, Exists, DoesNotExist, Gt and Lt.
V1ALPHA5_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")
# AMI families Karpenter 0.16 knows (and this module's options allow).
V1ALPHA5_AMI_FAMILIES = ("AL2", "Bottlerocket", "Custom")
# Tag keys Karpenter 0.16 sets itself.
V1ALPHA5_RESTRICTED_TAG_KEYS = (PROVISIONER_LABEL,)


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
    terms = [drop_none(term) for term in terms]
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
        return string_map(terms[0]["tags"], f"nodeclass.{option}[0].tags")
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
            raise KarpenterError(f"{where}: {NODEPOOL_LABEL!r} is the v1 label; v1alpha5 uses {PROVISIONER_LABEL!r}")
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

    for row in children(""):
        if row.v1alpha5 == REJECTED and params.get(row.leaf):
            raise _not_in_v1alpha5(row.leaf)
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
        drop_none(
            {
                "labels": string_map(params.get("labels"), "labels"),
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
    provisioner = manifest(api["nodepool"], name, spec)

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
        raise _not_in_v1alpha5(f"nodeclass.ami_family {ami_family}", "; families: " + ", ".join(V1ALPHA5_AMI_FAMILIES))
    cluster_name = params.get("cluster_name") or ""
    class_spec = drop_none(
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
    nodeclass = manifest(api["nodeclass"], class_name, class_spec)
    return provisioner, nodeclass

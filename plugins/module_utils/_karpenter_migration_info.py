# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of a migration from Karpenter 0.16 (v1alpha5) to 1.x, for ``karpenter_migration_info``.

:func:`build_plan` is pure: from the live Provisioners, AWSNodeTemplates, nodes and instances it
returns the NodePools and EC2NodeClasses that replace them (converted in process by
``_nodepool.convert``), the nodes to replace, in batches of at most ``max_unavailable``, and the
instances behind them. Every field without a 1.x equivalent, in every Provisioner, is refused in one
error, by name. :func:`read_cluster` does the reads (Kubernetes, EC2, IAM); nothing here writes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json

from ansible_collections.jit.karpenter.plugins.module_utils._nodepool.convert import convert_provisioner
from ansible_collections.jit.karpenter.plugins.module_utils._nodepool.fields import PROVISIONER_LABEL
from ansible_collections.jit.karpenter.plugins.module_utils._aws import MISSING
from ansible_collections.jit.karpenter.plugins.module_utils._aws import aws_call as _call
from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError
from ansible_collections.jit.karpenter.plugins.module_utils._kube import api_error
from ansible_collections.jit.karpenter.plugins.module_utils._karpenter_teardown import (
    KarpenterObjects,
    LEGACY_KINDS,
    LEGACY_PROVISIONER_TAG,
    instance_id,
    live_instances,
    tag_map,
)

PROVISIONERS, _MACHINES, NODE_TEMPLATES = LEGACY_KINDS
# The migration stops 0.16 launching by setting a Provisioner's limits to zero; its own limits go into
# this annotation first (JSON, ``null`` for none), so that a re-run converts them, not the zeros.
LIMITS_ANNOTATION = "jit.karpenter/limits-before-migration"
# The limits that stop a Provisioner launching: no instance type fits into zero CPU and memory.
STOPPED_LIMITS = {"resources": {"cpu": "0", "memory": "0"}}


def _name(obj):
    return obj["metadata"]["name"]


def _instance_profile(provisioner, nodetemplate, default_profile):
    """The instance profile a Provisioner's nodes get: its provider's, else the chart's default."""
    spec = provisioner.get("spec") or {}
    provider = (nodetemplate or {}).get("spec") if spec.get("providerRef") else spec.get("provider")
    return (provider or {}).get("instanceProfile") or default_profile or None


def profiles_needed(provisioners, nodetemplates, default_profile):
    """The instance profiles whose roles the conversion needs (``build_plan``'s ``roles``)."""
    templates = {_name(t): t for t in nodetemplates}
    found = set()
    for p in provisioners:
        ref = ((p.get("spec") or {}).get("providerRef") or {}).get("name")
        profile = _instance_profile(p, templates.get(ref), default_profile)
        if profile:
            found.add(profile)
    return sorted(found)


# Karpenter 1.x refuses AL2 aliases on Kubernetes 1.33 and later, for which EKS publishes no AL2 AMIs;
# an EC2NodeClass converted from AL2 (0.16's default family) moves to AL2023 there.
AL2_LAST = (1, 32)
AL2023_ALIAS = "al2023@latest"


def _minor(version):
    try:
        return tuple(int(p) for p in str(version).lstrip("v").split(".")[:2])
    except ValueError:
        raise KarpenterError("kubernetes_version must be MAJOR.MINOR, got {0}".format(version))


def retarget_al2(nodeclass, kubernetes_version=None, ami_alias=None):
    """Point an EC2NodeClass converted from AL2 at ``ami_alias``, or at AL2023 on Kubernetes 1.33 and later.

    Returns ``(problem, note)``, either may be None. A class with userData is not moved on its own: that
    userData was written for AL2's bootstrap, and AL2023 reads nodeadm's.
    """
    spec = nodeclass["spec"]
    terms = spec.get("amiSelectorTerms") or []
    if not any(str(t.get("alias", "")).startswith("al2@") for t in terms):
        return None, None
    name = _name(nodeclass)
    if ami_alias:
        spec["amiSelectorTerms"] = [{"alias": ami_alias}]
        return None, "EC2NodeClass {0}: amiSelectorTerms alias {1} (ami_alias) instead of AL2".format(name, ami_alias)
    if not kubernetes_version or _minor(kubernetes_version) <= AL2_LAST:
        return None, None
    if spec.get("userData"):
        return (
            "EC2NodeClass {0}: AMI family AL2 has no AMIs for Kubernetes {1} (1.33 and later) and its userData is"
            " written for AL2; give ami_alias (for example {2}) and userData for it".format(
                name, kubernetes_version, AL2023_ALIAS
            )
        ), None
    spec["amiSelectorTerms"] = [{"alias": AL2023_ALIAS}]
    return None, (
        "EC2NodeClass {0}: amiSelectorTerms alias {1}: AL2 has no AMIs for Kubernetes {2} (1.33 and later),"
        " and the class has no userData".format(name, AL2023_ALIAS, kubernetes_version)
    )


def original(provisioner):
    """The Provisioner as it was before the migration stopped it: the limits from LIMITS_ANNOTATION."""
    saved = ((provisioner.get("metadata") or {}).get("annotations") or {}).get(LIMITS_ANNOTATION)
    if saved is None:
        return provisioner
    try:
        limits = json.loads(saved)
    except ValueError:
        raise KarpenterError(
            "Provisioner {0}: annotation {1} is not JSON: {2}".format(_name(provisioner), LIMITS_ANNOTATION, saved)
        )
    restored = copy.deepcopy(provisioner)
    restored.setdefault("spec", {}).pop("limits", None)
    if limits is not None:
        restored["spec"]["limits"] = limits
    return restored


def build_plan(
    provisioners,
    nodetemplates,
    nodes,
    instances,
    roles,
    default_profile=None,
    max_unavailable=1,
    kubernetes_version=None,
    ami_alias=None,
):
    """Return the migration plan; raise one :class:`KarpenterError` naming every field that cannot move.

    ``nodes`` are the cluster's nodes as dicts (``metadata`` with ``name``, ``labels``,
    ``creationTimestamp``; ``spec.providerID``), ``instances`` the 0.16 instances as
    ``{id: {"state": ..., "provisioner": ...}}``, ``roles`` maps instance profile names to role names.
    """
    if int(max_unavailable) < 1:
        raise KarpenterError("max_unavailable must be 1 or more, got {0}".format(max_unavailable))
    templates = {_name(t): t for t in nodetemplates}
    problems, notes, nodepools, nodeclasses, stops = [], [], [], {}, []
    for live in sorted(provisioners, key=_name):
        provisioner = original(live)
        name = _name(provisioner)
        stopped = (
            LIMITS_ANNOTATION in ((live.get("metadata") or {}).get("annotations") or {})
            and (live.get("spec") or {}).get("limits") == STOPPED_LIMITS
        )
        stops.append(
            {
                "name": name,
                "stopped": stopped,
                "limits_json": json.dumps((provisioner.get("spec") or {}).get("limits"), sort_keys=True),
            }
        )
        ref = ((provisioner.get("spec") or {}).get("providerRef") or {}).get("name")
        template = templates.get(ref) if ref else None
        if ref and template is None:
            problems.append(
                "Provisioner {0}: spec.providerRef names AWSNodeTemplate {1}, which does not exist".format(name, ref)
            )
            continue
        profile = _instance_profile(provisioner, template, default_profile)
        role = roles.get(profile) if profile else None
        if not role:
            problems.append(
                "Provisioner {0}: {1}".format(
                    name,
                    "instance profile {0} has no role".format(profile)
                    if profile
                    else "no instance profile (spec.provider.instanceProfile, or the chart's aws.defaultInstanceProfile)",
                )
            )
            continue
        try:
            nodepool, nodeclass, converted_notes = convert_provisioner(provisioner, template, role)
        except KarpenterError as err:
            problems.append(str(err))
            continue
        nodepools.append(nodepool)
        notes.extend("Provisioner {0}: {1}".format(name, n) for n in converted_notes)
        problem, note = retarget_al2(nodeclass, kubernetes_version, ami_alias)
        if problem:
            problems.append(problem)
        if note:
            notes.append("Provisioner {0}: {1}".format(name, note))
        class_name = _name(nodeclass)
        if class_name in nodeclasses and nodeclasses[class_name] != nodeclass:
            problems.append("AWSNodeTemplate {0}: converts differently for two Provisioners".format(class_name))
        nodeclasses[class_name] = nodeclass
    if problems:
        raise KarpenterError("Cannot migrate to Karpenter 1.x, nothing was changed: " + "; ".join(problems))

    old = [n for n in nodes if PROVISIONER_LABEL in ((n.get("metadata") or {}).get("labels") or {})]
    old.sort(key=lambda n: (n["metadata"].get("creationTimestamp") or "", _name(n)))
    size = int(max_unavailable)
    planned, with_nodes = [], set()
    for index, node in enumerate(old):
        ident = instance_id((node.get("spec") or {}).get("providerID"))
        with_nodes.add(ident)
        planned.append(
            {
                "name": _name(node),
                "provisioner": node["metadata"]["labels"][PROVISIONER_LABEL],
                "instance_id": ident,
                "batch": index // size + 1,
            }
        )
    return {
        "nodepools": nodepools,
        "provisioners": stops,
        "ec2nodeclasses": [nodeclasses[k] for k in sorted(nodeclasses)],
        "notes": notes,
        "nodes": planned,
        "batches": (len(planned) + size - 1) // size,
        "instances": [dict(id=i, node=i in with_nodes, **instances[i]) for i in sorted(instances)],
        "instance_profiles": sorted(roles),
    }


# ------------------------------------------------------------------------- reads


class LegacyObjects(KarpenterObjects):
    """Karpenter's custom objects, and 0.16's nodes with their labels and age."""

    def legacy_nodes(self):
        from kubernetes.client.exceptions import ApiException

        try:
            items = self.core.list_node(label_selector=PROVISIONER_LABEL).items
        except ApiException as e:
            raise api_error(e, "Listing Karpenter 0.16's nodes")
        return [
            {
                "metadata": {
                    "name": n.metadata.name,
                    "labels": dict(n.metadata.labels or {}),
                    "creationTimestamp": n.metadata.creation_timestamp.isoformat()
                    if n.metadata.creation_timestamp
                    else None,
                },
                "spec": {"providerID": n.spec.provider_id},
            }
            for n in items
        ]


def legacy_instances(ec2, cluster):
    """0.16's live instances of ``cluster``: ``{id: {"state": ..., "provisioner": ...}}``."""
    found = live_instances(ec2, cluster, keys=(LEGACY_PROVISIONER_TAG,))
    return {
        ident: {
            "state": (inst.get("State") or {}).get("Name"),
            "provisioner": tag_map(inst.get("Tags")).get(LEGACY_PROVISIONER_TAG),
        }
        for ident, inst in found.items()
    }


def profile_roles(iam, names):
    """``{instance profile: its first role's name}``; a profile that does not exist is left out."""
    roles = {}
    for name in names:
        found = _call(
            "Reading instance profile {0} (iam:GetInstanceProfile)".format(name),
            iam.get_instance_profile,
            missing=("NoSuchEntity",),
            InstanceProfileName=name,
        )
        if found is MISSING:
            continue
        profile = found["InstanceProfile"]
        if profile.get("Roles"):
            roles[name] = profile["Roles"][0]["RoleName"]
    return roles


def read_cluster(
    objects, ec2, iam, cluster, default_profile=None, max_unavailable=1, kubernetes_version=None, ami_alias=None
):
    """Read what the plan needs and return :func:`build_plan`'s plan."""
    provisioners = objects.list(PROVISIONERS)
    nodetemplates = objects.list(NODE_TEMPLATES)
    nodes = objects.legacy_nodes()
    instances = legacy_instances(ec2, cluster)
    roles = profile_roles(iam, profiles_needed(provisioners, nodetemplates, default_profile))
    return build_plan(
        provisioners,
        nodetemplates,
        nodes,
        instances,
        roles,
        default_profile,
        max_unavailable,
        kubernetes_version=kubernetes_version,
        ami_alias=ami_alias,
    )


def run(clients, params, check_mode=False, region=None):
    """The ``karpenter_migration_info`` module's entry point (see ``_runner``): read-only."""
    plan = read_cluster(
        LegacyObjects(clients.kube()),
        clients.aws("ec2"),
        clients.aws("iam"),
        params["cluster_name"],
        default_profile=params["default_instance_profile"],
        max_unavailable=params["max_unavailable"],
        kubernetes_version=params["kubernetes_version"],
        ami_alias=params["ami_alias"],
    )
    return dict(changed=False, **plan)

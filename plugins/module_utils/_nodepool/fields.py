# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one table of the ``nodepool`` module's options and the Karpenter fields they set.

:data:`OPTIONS` has one row per option (suboptions named with dots, such as
``nodeclass.block_device_mappings.ebs.volume_size``). A row gives the option's argument
spec and, for each API generation, where its value goes:

* a path (``spec.template.spec.requirements``): the value goes there, renamed to camelCase
  but otherwise unchanged. Paths of top-level options start at the object (``spec.`` or
  ``metadata.``), of the NodePool for plain options and of the node class for those under
  ``nodeclass``; paths of suboptions are relative to their parent's value;
* :class:`Converted`: the value is converted; the row names the fields it sets and how;
* :data:`REJECTED`: the generation has no field for it, and the builder refuses it by name;
* ``None``: the option sets no field (``state``, ``wait``, ...).

The argument spec (:func:`argument_spec`), the fields the module owns (:data:`OWNED_FIELDS`)
and the snake_case to camelCase names of the nested options are derived from the table; a
unit test checks the table against the module's DOCUMENTATION.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import namedtuple

from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError

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
METADATA_ENDPOINT_STATES = ("enabled", "disabled")
METADATA_TOKENS = ("required", "optional")
STATES = ("present", "absent")
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
# The table

REJECTED = "rejected"


class Converted(namedtuple("Converted", "fields how")):
    """An option whose value is converted: the ``fields`` (paths) it sets, and ``how``."""

    __slots__ = ()


class Option(namedtuple("Option", "name v1 v1alpha5 spec")):
    """One row: option ``name`` (dotted for suboptions), where it goes in each generation
    (a path, :class:`Converted`, :data:`REJECTED` or ``None``) and its argument ``spec``
    (without ``options``, which come from the rows under it)."""

    __slots__ = ()

    @property
    def leaf(self):
        return self.name.rsplit(".", 1)[-1]

    @property
    def parent(self):
        return self.name.rpartition(".")[0]


def _row(name, v1=None, v1alpha5=None, **spec):
    spec.setdefault("type", "str")
    return Option(name, v1, v1alpha5, spec)


def _taint_rows(option):
    return (
        _row(f"{option}.key", "key", "key", required=True, no_log=False),
        _row(f"{option}.value", "value", "value"),
        _row(f"{option}.effect", "effect", "effect", required=True, choices=list(TAINT_EFFECTS)),
    )


def _selector_rows(option, keys):
    """Suboptions of a selector term list; v1alpha5 has one map, so ``id`` and ``tags`` are converted."""
    v1alpha5 = Converted(("aws-ids",), "terms of ids only become a comma-separated aws-ids")
    rows = []
    for key in keys:
        key, field = key if isinstance(key, tuple) else (key, key)  # (option, v1 field) where they differ
        if key == "id":
            rows.append(_row(f"{option}.id", "id", v1alpha5))
        elif key == "tags":
            rows.append(
                _row(f"{option}.tags", "tags", Converted((), "one term of tags becomes the selector map"), type="dict")
            )
        else:
            rows.append(_row(f"{option}.{key}", field, REJECTED))
    return tuple(rows)


_SELECTOR = "a single map: one term of tags becomes the map, terms of ids only become aws-ids"


def _selector_terms(option, v1_path, v1alpha5_path, keys, note=_SELECTOR):
    """A selector term list (v1) and its suboptions; v1alpha5 has a single map in ``v1alpha5_path`` instead."""
    row = _row(option, v1_path, Converted((v1alpha5_path,), note), type="list", elements="dict")
    return (row,) + _selector_rows(option, keys)


# Row order: within each object, the order of OWNED_FIELDS (and so of changed_fields).
OPTIONS = (
    _row("api", choices=list(API_CHOICES), default="auto"),
    _row("name", "metadata.name", "metadata.name", required=True),
    _row("state", choices=list(STATES), default="present"),
    # Only the default subnet and security group selectors use it.
    _row("cluster_name"),
    _row(
        "limits",
        "spec.limits",
        Converted(("spec.limits",), "the same quantities, under limits.resources"),
        type="dict",
    ),
    _row("weight", "spec.weight", "spec.weight", type="int"),
    _row(
        "disruption",
        "spec.disruption",
        Converted(
            ("spec.ttlSecondsAfterEmpty", "spec.consolidation"),
            "WhenEmpty with consolidate_after becomes ttlSecondsAfterEmpty (seconds);"
            " WhenEmptyOrUnderutilized without a delay becomes consolidation.enabled=true",
        ),
        type="dict",
    ),
    _row(
        "disruption.consolidation_policy",
        "consolidationPolicy",
        Converted((), "see disruption"),
        choices=list(CONSOLIDATION_POLICIES),
    ),
    _row("disruption.consolidate_after", "consolidateAfter", Converted((), "see disruption")),
    _row("disruption.budgets", "budgets", REJECTED, type="list", elements="dict"),
    _row("disruption.budgets.nodes", "nodes", REJECTED, default="10%"),
    _row("disruption.budgets.schedule", "schedule", REJECTED),
    _row("disruption.budgets.duration", "duration", REJECTED),
    _row("disruption.budgets.reasons", "reasons", REJECTED, type="list", elements="str", choices=list(BUDGET_REASONS)),
    _row("labels", "spec.template.metadata.labels", "spec.labels", type="dict"),
    _row("annotations", "spec.template.metadata.annotations", REJECTED, type="dict"),
    _row(
        "nodeclass",
        "spec.template.spec.nodeClassRef",
        Converted(("spec.providerRef",), "apiVersion, kind and name of the AWSNodeTemplate"),
        type="dict",
        default={},
        apply_defaults=True,
    ),
    _row(
        "requirements", "spec.template.spec.requirements", "spec.requirements", type="list", elements="dict", default=[]
    ),
    _row("requirements.key", "key", "key", required=True, no_log=False),
    _row("requirements.operator", "operator", "operator", required=True, choices=list(OPERATORS)),
    _row("requirements.values", "values", "values", type="list", elements="str"),
    _row("requirements.min_values", "minValues", REJECTED, type="int", aliases=["minValues"]),
    _row(
        "expire_after",
        "spec.template.spec.expireAfter",
        Converted(("spec.ttlSecondsUntilExpired",), "in seconds; Never leaves it unset"),
    ),
    _row("termination_grace_period", "spec.template.spec.terminationGracePeriod", REJECTED),
    _row("taints", "spec.template.spec.taints", "spec.taints", type="list", elements="dict"),
    *_taint_rows("taints"),
    _row("startup_taints", "spec.template.spec.startupTaints", "spec.startupTaints", type="list", elements="dict"),
    *_taint_rows("startup_taints"),
    # The node class: paths start at the EC2NodeClass (v1alpha5: the AWSNodeTemplate).
    _row("nodeclass.name", "metadata.name", "metadata.name"),
    _row("nodeclass.manage", type="bool", default=True),
    _row("nodeclass.role", "spec.role", REJECTED),
    _row("nodeclass.instance_profile", "spec.instanceProfile", "spec.instanceProfile"),
    *_selector_terms(
        "nodeclass.subnet_selector_terms", "spec.subnetSelectorTerms", "spec.subnetSelector", ("id", "tags")
    ),
    *_selector_terms(
        "nodeclass.security_group_selector_terms",
        "spec.securityGroupSelectorTerms",
        "spec.securityGroupSelector",
        ("id", "name", "tags"),
    ),
    *_selector_terms(
        "nodeclass.ami_selector_terms",
        "spec.amiSelectorTerms",
        "spec.amiSelector",
        ("alias", "id", "name", "owner", ("ssm_parameter", "ssmParameter"), "tags"),
        note=_SELECTOR + "; no default",
    ),
    _row("nodeclass.ami_family", "spec.amiFamily", "spec.amiFamily", choices=list(AMI_FAMILIES)),
    _row("nodeclass.tags", "spec.tags", "spec.tags", type="dict"),
    _row(
        "nodeclass.block_device_mappings",
        "spec.blockDeviceMappings",
        "spec.blockDeviceMappings",
        type="list",
        elements="dict",
    ),
    _row("nodeclass.block_device_mappings.device_name", "deviceName", "deviceName"),
    _row("nodeclass.block_device_mappings.root_volume", "rootVolume", REJECTED, type="bool"),
    _row("nodeclass.block_device_mappings.ebs", "ebs", "ebs", type="dict"),
    _row("nodeclass.block_device_mappings.ebs.volume_size", "volumeSize", "volumeSize"),
    _row("nodeclass.block_device_mappings.ebs.volume_type", "volumeType", "volumeType", choices=list(VOLUME_TYPES)),
    _row("nodeclass.block_device_mappings.ebs.iops", "iops", "iops", type="int"),
    _row("nodeclass.block_device_mappings.ebs.throughput", "throughput", "throughput", type="int"),
    _row("nodeclass.block_device_mappings.ebs.encrypted", "encrypted", "encrypted", type="bool"),
    _row("nodeclass.block_device_mappings.ebs.kms_key_id", "kmsKeyID", "kmsKeyID", no_log=False),
    _row(
        "nodeclass.block_device_mappings.ebs.delete_on_termination",
        "deleteOnTermination",
        "deleteOnTermination",
        type="bool",
    ),
    _row("nodeclass.block_device_mappings.ebs.snapshot_id", "snapshotID", "snapshotID"),
    _row("nodeclass.metadata_options", "spec.metadataOptions", "spec.metadataOptions", type="dict"),
    _row(
        "nodeclass.metadata_options.http_endpoint",
        "httpEndpoint",
        "httpEndpoint",
        choices=list(METADATA_ENDPOINT_STATES),
    ),
    _row(
        "nodeclass.metadata_options.http_protocol_ipv6",
        "httpProtocolIPv6",
        "httpProtocolIPv6",
        choices=list(METADATA_ENDPOINT_STATES),
    ),
    _row(
        "nodeclass.metadata_options.http_put_response_hop_limit",
        "httpPutResponseHopLimit",
        "httpPutResponseHopLimit",
        type="int",
    ),
    _row("nodeclass.metadata_options.http_tokens", "httpTokens", "httpTokens", choices=list(METADATA_TOKENS)),
    _row("wait", type="bool", default=False),
    _row("wait_timeout", type="int", default=300),
)
OPTION = {row.name: row for row in OPTIONS}


# ---------------------------------------------------------------------------
# Derived from the table


def children(parent):
    """The rows directly under option ``parent``, in table order."""
    return tuple(row for row in OPTIONS if row.parent == parent)


def renames(parent, api="v1"):
    """``(option, field)`` for the suboptions of ``parent`` that map to a field of the same value."""
    out = []
    for row in children(parent):
        field = getattr(row, api)
        if isinstance(field, str) and field != REJECTED:
            out.append((row.leaf, field))
    return tuple(out)


def _owned(api, nodeclass):
    """Owned spec paths of one object: its top-level rows' fields under ``spec``."""
    out = []
    # The row ``nodeclass`` itself is the pool's reference to the node class.
    for row in children("nodeclass" if nodeclass else ""):
        field = getattr(row, api)
        paths = field.fields if isinstance(field, Converted) else (field,)
        for path in paths:
            if isinstance(path, str) and path.startswith("spec."):
                out.append(tuple(path.split(".")[1:]))
    return tuple(out)


# Spec fields this module owns, as paths under ``spec``. Fields outside these
# (for example EC2NodeClass ``kubelet`` or ``userData``) are left as they are.
OWNED_FIELDS = {
    "NodePool": _owned("v1", nodeclass=False),
    "EC2NodeClass": _owned("v1", nodeclass=True),
    "Provisioner": _owned("v1alpha5", nodeclass=False),
    "AWSNodeTemplate": _owned("v1alpha5", nodeclass=True),
}

EBS_FIELDS = renames("nodeclass.block_device_mappings.ebs")
METADATA_FIELDS = renames("nodeclass.metadata_options")
AMI_TERM_FIELDS = renames("nodeclass.ami_selector_terms")


def argument_spec(parent=""):
    """The module's argument spec (without the Kubernetes connection options), from the table."""
    spec = {}
    for row in children(parent):
        entry = dict(row.spec)
        if "default" in entry and isinstance(entry["default"], (dict, list)):
            entry["default"] = type(entry["default"])(entry["default"])
        options = argument_spec(row.name)
        if options:
            entry["options"] = options
        spec[row.leaf] = entry
    return spec

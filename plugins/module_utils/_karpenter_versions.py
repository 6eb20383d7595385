# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each Karpenter 1.x release asks of an installer, as data, in one place.

``karpenter_version`` drives everything the collection installs: the controller policies and the
EventBridge rules of the CloudFormation template (:func:`template_for_version` drops what a release
does not have yet), the CRDs of the ``karpenter-crd`` chart, and the preflight's refusals and warnings
(:func:`validate`, :func:`plan_change`). Each entry names its source in Karpenter's repository
(aws/karpenter-provider-aws): the getting-started ``cloudformation.yaml`` of that version
(``website/content/en/v<minor>/getting-started/getting-started-with-karpenter/``), the CRD chart's
``charts/karpenter-crd/templates/`` at the release tag, or the upgrade guide.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError

# A chart version as Helm pulls it from an OCI registry: three plain numbers, no "v", no suffix.
# Anything else (spaces, flags, a pre-release tag) is refused: the value reaches a helm command line.
_VERSION_RE = re.compile(r"(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})")

# The 1.x minors this collection installs: the two LTS lines (1.9, 1.14; SUPPORT.md) and every minor
# between them, whose templates the FEATURES below describe. 0.16.x is the walkthrough's legacy mode.
OLDEST_SUPPORTED = (1, 9, 0)
NEWEST_SUPPORTED_MINOR = (1, 14)
LEGACY_MINOR = (0, 16)

# Releases upstream says not to use, with the reason.
REFUSED = {
    "1.8.4": "Karpenter's upgrade guide says not to use 1.8.4 (a topology spread regression, "
    "kubernetes-sigs/karpenter#2785); use 1.8.5 or later",
}

# Upgrading across one of these marks every node drifted, so Karpenter replaces them all.
DRIFT_ALL = {
    (1, 12, 0): "Karpenter 1.12 changes the CA bundle it writes to nodes, so the upgrade marks every "
    "existing node drifted and Karpenter replaces them all, within the NodePools' disruption budgets "
    "(aws/karpenter-provider-aws#9083, upgrade guide 1.12)",
}

# Statements, actions, resources, rules and policies by the release that brought them. ``marker`` is
# the name the CloudFormation template gives the lines that implement it ("# feature: <marker>").
# ``kind``: policy (a whole managed policy), statement, action (added to a statement), resource (added
# to a statement), rule (an EventBridge rule).
FEATURES = (
    {
        "marker": "capacity_reservation_rule",
        "since": (1, 10, 0),
        "kind": "rule",
        "name": "CapacityReservationInterruptionRule",
        "what": "EventBridge rule for 'EC2 Capacity Reservation Instance Interruption Warning'",
        "source": "website/content/en/v1.10/getting-started/getting-started-with-karpenter/cloudformation.yaml",
    },
    {
        "marker": "placement_groups",
        "since": (1, 11, 0),
        "kind": "resource",
        "name": "NodeLifecyclePolicy/AllowScopedEC2InstanceAccessActions",
        "what": "ec2:RunInstances and ec2:CreateFleet on placement-group/*",
        "source": "website/content/en/v1.11/getting-started/getting-started-with-karpenter/cloudformation.yaml",
    },
    {
        "marker": "placement_groups",
        "since": (1, 11, 0),
        "kind": "action",
        "name": "ResourceDiscoveryPolicy/AllowRegionalReadActions",
        "what": "ec2:DescribePlacementGroups",
        "source": "website/content/en/v1.11/getting-started/getting-started-with-karpenter/cloudformation.yaml",
    },
    {
        "marker": "instance_status",
        "since": (1, 12, 0),
        "kind": "action",
        "name": "ResourceDiscoveryPolicy/AllowRegionalReadActions",
        "what": "ec2:DescribeInstanceStatus",
        "source": "website/content/en/v1.12/getting-started/getting-started-with-karpenter/cloudformation.yaml",
    },
    {
        "marker": "zonal_shift",
        "since": (1, 12, 0),
        "kind": "policy",
        "name": "ZonalShiftPolicy",
        "what": "KarpenterControllerZonalShiftPolicy-<cluster>: arc-zonal-shift:GetManagedResource on this cluster",
        "source": "website/content/en/v1.12/getting-started/getting-started-with-karpenter/cloudformation.yaml",
    },
)

# What the oldest supported release (1.9) already has and older 1.x releases lack; kept for the
# record and for the preflight's message on versions before 1.9.
BEFORE_OLDEST = (
    ((1, 3, 0), "ec2:DescribeCapacityReservations and capacity-reservation/* on RunInstances/CreateFleet"),
    ((1, 7, 0), "iam:ListInstanceProfiles (AllowUnscopedInstanceProfileListAction)"),
    ((1, 9, 0), "the controller policy split into five managed policies"),
)

# The CRDs of the karpenter-crd chart (charts/karpenter-crd/templates/ at each release tag), with the one
# API version each serves and stores in 1.9 to 1.14 (NodeOverlay is alpha, CapacityBuffer beta).
CRDS = (
    ("ec2nodeclasses.karpenter.k8s.aws", (1, 0, 0), "v1"),
    ("nodeclaims.karpenter.sh", (1, 0, 0), "v1"),
    ("nodepools.karpenter.sh", (1, 0, 0), "v1"),
    ("nodeoverlays.karpenter.sh", (1, 7, 0), "v1alpha1"),
    ("capacitybuffers.autoscaling.x-k8s.io", (1, 14, 0), "v1beta1"),
)

# Karpenter's API groups: a CRD of these groups that the target release does not ship is another
# generation's (v1alpha5/v1beta1: provisioners, machines, awsnodetemplates).
KARPENTER_GROUPS = ("karpenter.sh", "karpenter.k8s.aws")

_MARKER_RE = re.compile(r"\s+# feature: ([a-z_]+)\s*$")


def parse(version):
    """``(major, minor, patch)`` of a plain ``X.Y.Z`` version; a KarpenterError naming anything else."""
    text = str(version) if version is not None else ""
    match = _VERSION_RE.fullmatch(text)
    if not match:
        raise KarpenterError(
            "karpenter_version {0!r} is not a plain version X.Y.Z (for example 1.14.3, without 'v', "
            "spaces or anything after it)".format(text)
        )
    return tuple(int(p) for p in match.groups())


def _str(version_tuple):
    return ".".join(str(p) for p in version_tuple)


def supported_range():
    """Human-readable list of what :func:`validate` accepts."""
    return "{0}.x (legacy mode), {1} to {2}.x".format(
        _str(LEGACY_MINOR), _str(OLDEST_SUPPORTED), _str(NEWEST_SUPPORTED_MINOR)
    )


def validate(version):
    """Refuse, by name, a version that is not plain or not supported; return its tuple."""
    parsed = parse(version)
    if _str(parsed) in REFUSED:
        raise KarpenterError("karpenter_version {0}: {1}".format(version, REFUSED[_str(parsed)]))
    if parsed[:2] == LEGACY_MINOR:
        return parsed
    if parsed < OLDEST_SUPPORTED or parsed[:2] > NEWEST_SUPPORTED_MINOR:
        raise KarpenterError(
            "karpenter_version {0} is not supported; this collection installs {1} (the IAM, rules and CRDs "
            "of each are known to it)".format(version, supported_range())
        )
    return parsed


def features(version):
    """The FEATURES entries a release has."""
    parsed = parse(version)
    return [f for f in FEATURES if parsed >= f["since"]]


def crds(version):
    """Names of the CRDs the karpenter-crd chart of ``version`` installs."""
    return list(crd_versions(version))


def crd_versions(version):
    """CRD name -> the API version it serves and stores, for the karpenter-crd chart of ``version``."""
    parsed = parse(version)
    return dict((name, api) for name, since, api in CRDS if parsed >= since)


def template_for_version(text, version):
    """The 1.x CloudFormation template text for ``version``.

    A line ending in ``# feature: <marker>`` belongs to that feature, and so do the lines after it that
    are indented more deeply (a whole resource, output or list item). For a release without the
    feature they are left out. The markers themselves are removed, and every other line is kept as it
    is, so the newest release gets the template exactly as it was before markers existed.
    """
    present = set(f["marker"] for f in features(version))
    known = set(f["marker"] for f in FEATURES)
    out = []
    dropping_indent = None
    for line in text.splitlines(True):
        indent = len(line) - len(line.lstrip(" "))
        if dropping_indent is not None:
            if not line.strip() or indent > dropping_indent:
                continue
            dropping_indent = None
        match = _MARKER_RE.search(line)
        if match:
            marker = match.group(1)
            if marker not in known:
                raise KarpenterError("the template marks lines with an unknown feature '{0}'".format(marker))
            if marker not in present:
                dropping_indent = indent
                continue
            line = _MARKER_RE.sub("", line.rstrip("\n")) + ("\n" if line.endswith("\n") else "")
        out.append(line)
    return "".join(out)


def plan_change(installed, target):
    """What moving the installed release ``installed`` to ``target`` does, before anything is written.

    Returns a dict: ``refusal`` (a message, or empty), ``warnings``, ``direction`` (install, same,
    upgrade, downgrade), ``iam_added``/``iam_removed`` (FEATURES entries as text, statement by statement),
    ``crds_added``/``crds_removed``.
    """
    new = validate(target)
    result = {
        "direction": "install",
        "refusal": "",
        "warnings": [],
        "iam_added": [],
        "iam_removed": [],
        "crds_added": crds(target) if new[:2] != LEGACY_MINOR else [],
        "crds_removed": [],
    }
    if not installed:
        return result
    try:
        old = parse(str(installed).lstrip("v"))
    except KarpenterError:
        raise KarpenterError(
            "the installed Karpenter release reports version {0!r}, which is not X.Y.Z; "
            "this collection cannot tell what upgrading it changes".format(installed)
        )
    installed = _str(old)
    if old[:2] == LEGACY_MINOR or new[:2] == LEGACY_MINOR:
        result["crds_added"] = []
        result["direction"] = "same" if old == new else ("upgrade" if new > old else "downgrade")
        return result
    old_features = set(id(f) for f in FEATURES if old >= f["since"])
    new_features = set(id(f) for f in FEATURES if new >= f["since"])

    def describe(f):
        return "{0} {1}: {2} (since {3})".format(f["kind"], f["name"], f["what"], _str(f["since"]))

    result["iam_added"] = [describe(f) for f in FEATURES if id(f) in new_features - old_features]
    result["iam_removed"] = [describe(f) for f in FEATURES if id(f) in old_features - new_features]
    old_crds, new_crds = crds(installed), crds(target)
    result["crds_added"] = [c for c in new_crds if c not in old_crds]
    result["crds_removed"] = [c for c in old_crds if c not in new_crds]
    if new == old:
        result["direction"] = "same"
    elif new > old:
        result["direction"] = "upgrade"
        for since, why in sorted(DRIFT_ALL.items()):
            if old < since <= new:
                result["warnings"].append(
                    "Upgrading Karpenter {0} to {1} crosses {2}: {3}.".format(installed, target, _str(since), why)
                )
    else:
        result["direction"] = "downgrade"
        # Every minor release changes the CRD schemas (new fields that objects may already store) and
        # may change IAM; Karpenter documents upgrades only. Patch releases of one minor share both.
        if new[:2] != old[:2]:
            changes = result["crds_removed"] + result["iam_removed"]
            result["refusal"] = (
                "Karpenter {0} is installed; going back to {1} crosses a change of its CRDs{2}, which "
                "Karpenter does not support undoing in place (objects may already hold fields the older "
                "CRDs do not know). Keep karpenter_version at {3}.x or later.".format(
                    installed,
                    target,
                    " and IAM ({0})".format("; ".join(changes)) if changes else "",
                    _str(old[:2]),
                )
            )
    return result


# Helm's ownership metadata: a resource Helm finds in the cluster joins a release only if it carries
# these (helm/helm pkg/action/validate.go, existingResourceConflict; Karpenter's troubleshooting guide,
# "Helm Error When Installing the karpenter-crd Chart").
HELM_MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
HELM_RELEASE_NAME = "meta.helm.sh/release-name"
HELM_RELEASE_NAMESPACE = "meta.helm.sh/release-namespace"


def crd_takeover(existing, version, release_name, namespace):
    """Which of the cluster's CRDs the CRD chart of ``version`` can take over, before anything is written.

    ``existing`` is a list of CustomResourceDefinition objects as the API server returns them. Returns a
    dict: ``adopt`` (names that need Helm's ownership metadata for ``release_name`` in ``namespace``),
    ``owned`` (names the release already owns), ``refusals`` (one message per CRD that cannot be taken
    over, naming it and why) and ``other_generation`` (Karpenter CRDs the release does not ship, such as
    ``provisioners.karpenter.sh``, which it leaves alone).
    """
    target = crd_versions(version)
    result = {"adopt": [], "owned": [], "refusals": [], "other_generation": []}
    for crd in existing or []:
        metadata = crd.get("metadata") or {}
        spec = crd.get("spec") or {}
        name = metadata.get("name", "")
        group = spec.get("group", "")
        if name not in target:
            if group in KARPENTER_GROUPS:
                result["other_generation"].append(name)
            continue
        served = [v.get("name") for v in spec.get("versions") or [] if v.get("served")]
        stored = list((crd.get("status") or {}).get("storedVersions") or [])
        # The chart's CRD serves and stores one version; the API server refuses to drop a version that
        # status.storedVersions still lists (kubernetes-sigs/karpenter#2157).
        if any(v != target[name] for v in stored):
            result["refusals"].append(
                "CRD {0} is of another API generation (serves {1}, stores {2}); Karpenter {3}'s CRD serves and "
                "stores only {4}, and the API server refuses to drop a stored version. Migrate first (for "
                "karpenter.sh and karpenter.k8s.aws, https://karpenter.sh/docs/upgrading/v1-migration/): every "
                "object rewritten as {4} and status.storedVersions set to [{4}].".format(
                    name, served, stored, version, target[name]
                )
            )
            continue
        annotations = metadata.get("annotations") or {}
        labels = metadata.get("labels") or {}
        owner = annotations.get(HELM_RELEASE_NAME)
        owner_namespace = annotations.get(HELM_RELEASE_NAMESPACE)
        managed_by = labels.get(HELM_MANAGED_BY_LABEL)
        if owner is None and owner_namespace is None:
            if managed_by not in (None, "Helm"):
                result["refusals"].append(
                    "CRD {0} is managed by {1!r} (label {2}); taking it into the Helm release {3} would "
                    "have two tools fight over it. Hand it over first (remove the label).".format(
                        name, managed_by, HELM_MANAGED_BY_LABEL, release_name
                    )
                )
            else:
                result["adopt"].append(name)
        elif owner == release_name and owner_namespace == namespace:
            (result["owned"] if managed_by == "Helm" else result["adopt"]).append(name)
        else:
            result["refusals"].append(
                "CRD {0} belongs to the Helm release {1!r} in namespace {2!r}, not to {3!r} in {4!r}; "
                "Helm would refuse to install the CRD chart over it. If that release is a karpenter-crd "
                "release, install into its namespace (karpenter_namespace={2}); otherwise move the CRD's "
                "{5} and {6} annotations by hand. Do not uninstall that release to make way: uninstalling "
                "a chart that owns CRDs deletes them, and with them every NodePool and NodeClaim.".format(
                    name, owner, owner_namespace, release_name, namespace, HELM_RELEASE_NAME, HELM_RELEASE_NAMESPACE
                )
            )
    return result

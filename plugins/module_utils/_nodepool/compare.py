# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Comparison with what the server holds: :func:`spec_matches` decides whether an object read
from the cluster already carries the owned fields (``fields.OWNED_FIELDS``) as asked for,
server-side defaults tolerated, and :func:`merge_managed` produces the body of a replace that
changes only those fields.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.jit.karpenter.plugins.module_utils._nodepool.common import (
    delete_path,
    get_path,
    parse_quantity,
    set_path,
)
from ansible_collections.jit.karpenter.plugins.module_utils._nodepool.fields import OWNED_FIELDS


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
    return {path: _normalise(path, get_path(full, path)) for path in OWNED_FIELDS[kind]}


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
        delete_path(spec, path)
        value = get_path(desired.get("spec"), path)
        if value not in (None, {}, []) or (value == [] and path[-1] == "requirements"):
            set_path(spec, path, copy.deepcopy(value))
    body["apiVersion"] = desired["apiVersion"]
    body["kind"] = kind
    return body

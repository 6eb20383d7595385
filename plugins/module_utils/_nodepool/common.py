# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small helpers shared by the builders, the comparison and the converter: paths into
nested dicts, string maps, durations and Kubernetes quantities."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from decimal import Decimal, InvalidOperation

from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError

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
_DURATION = re.compile(r"^([0-9]+(s|m|h))+$")
_DURATION_PART = re.compile(r"([0-9]+)(s|m|h)")
_SECONDS = {"s": 1, "m": 60, "h": 3600}


def drop_none(value):
    """Recursively drop ``None`` values and empty containers left by them."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = drop_none(v)
            if v is None or v == {} or v == []:
                continue
            out[k] = v
        return out
    if isinstance(value, list):
        return [drop_none(v) for v in value]
    return value


def manifest(api, name, spec):
    """A Kubernetes object of ``api`` (an ``APIS`` entry: group, version, kind) named ``name``."""
    return {
        "apiVersion": "{group}/{version}".format(**api),
        "kind": api["kind"],
        "metadata": {"name": name},
        "spec": spec,
    }


def get_path(obj, path):
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return None
        obj = obj[key]
    return obj


def set_path(obj, path, value):
    for key in path[:-1]:
        obj = obj.setdefault(key, {})
    obj[path[-1]] = value


def delete_path(obj, path):
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


def string_map(value, where):
    """Check a map of strings (labels, annotations, tags); numbers become strings."""
    if value is None:
        return None
    out = {}
    for k, v in value.items():
        if isinstance(v, bool) or v is None or isinstance(v, (dict, list)):
            raise KarpenterError(f"{where}.{k}: value {v!r} must be a string (quote it in YAML)")
        out[str(k)] = v if isinstance(v, str) else str(v)
    return out


def check_duration(value, where, allow_never=False):
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


def duration_seconds(value, where):
    """Seconds in a duration such as ``30s``, ``5m`` or ``1h30m`` (v1alpha5 counts in seconds)."""
    value = check_duration(value, where)
    return sum(int(n) * _SECONDS[unit] for n, unit in _DURATION_PART.findall(value))


def seconds_duration(seconds):
    """The duration string for a number of seconds: ``30`` is ``30s``, ``2592000`` is ``720h``."""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    text = "".join(f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (secs, "s")) if n)
    return text or "0s"

# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which Karpenter versions support which Kubernetes versions (Karpenter's compatibility matrix)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Kubernetes minor -> the oldest Karpenter release that supports it (upgrading/compatibility.md).
MIN_KARPENTER = {
    "1.23": "0.16.0",
    "1.24": "0.21.0",
    "1.25": "0.25.0",
    "1.26": "0.28.0",
    "1.27": "0.28.0",
    "1.28": "0.31.0",
    "1.29": "0.34.0",
    "1.30": "0.37.0",
    "1.31": "1.0.5",
    "1.32": "1.2.0",
    "1.33": "1.5.0",
    "1.34": "1.6.0",
    "1.35": "1.9.0",
    "1.36": "1.13.0",
}

# Karpenter minor -> the newest Kubernetes minor it supports, where the matrix caps it.
MAX_KUBERNETES = {
    "0.16": "1.23",
}


def _tuple(version):
    parts = str(version).lstrip("v").split("-", maxsplit=1)[0].split(".")
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError("'{0}' is not a version number".format(version))


def api_generation(karpenter_version):
    """'v1alpha5' for the Provisioner era (before 0.32), else 'v1'."""
    return "v1alpha5" if _tuple(karpenter_version) < (0, 32) else "v1"


def check(kubernetes_version, karpenter_version):
    """Return ``(supported, reason)`` for running ``karpenter_version`` on ``kubernetes_version``."""
    kube = ".".join(str(p) for p in _tuple(kubernetes_version)[:2])
    karp = _tuple(karpenter_version)
    if kube not in MIN_KARPENTER:
        newest = max(MIN_KARPENTER, key=_tuple)
        if _tuple(kube) > _tuple(newest):
            return False, (
                "Kubernetes {0} is newer than any version this collection knows Karpenter's support for "
                "(newest known: {1}); check Karpenter's compatibility matrix".format(kube, newest)
            )
        return False, "Kubernetes {0} is older than any Karpenter release this collection installs supports".format(
            kube
        )
    minimum = MIN_KARPENTER[kube]
    if karp < _tuple(minimum):
        return False, "Karpenter {0} does not support Kubernetes {1}; it needs Karpenter {2} or later".format(
            karpenter_version, kube, minimum
        )
    cap = MAX_KUBERNETES.get("{0}.{1}".format(karp[0], karp[1]))
    if cap and _tuple(kube) > _tuple(cap):
        return False, "Karpenter {0} supports Kubernetes up to {1}, not {2}".format(karpenter_version, cap, kube)
    return True, "Karpenter {0} supports Kubernetes {1}".format(karpenter_version, kube)

# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the ``eks_cluster_info`` module: its entry point over ``_eks``'s reads."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.jit.karpenter.plugins.module_utils._eks import read_cluster


def run(clients, params, check_mode=False, region=None):
    """The ``eks_cluster_info`` module's entry point (see ``_runner``): read-only."""
    cluster = read_cluster(clients.aws("eks"), params["name"], region, include_addons=params["include_addons"])
    return {"changed": False, "cluster": cluster}

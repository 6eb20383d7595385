# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the ``nodeclass_discovery_info`` module: its entry point over ``_discovery``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.jit.karpenter.plugins.module_utils._discovery import discover
from ansible_collections.jit.karpenter.plugins.module_utils._eks import read_cluster


def run(clients, params, check_mode=False, region=None):
    """The ``nodeclass_discovery_info`` module's entry point (see ``_runner``): read-only."""
    eks = clients.aws("eks")
    cluster = read_cluster(eks, params["cluster_name"], region)
    result = discover(eks, clients.aws("ec2"), clients.aws("ssm"), cluster, params["nodeclasses"], params["discovery"])
    return {"changed": False, "discovery": result}

# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the ``ec2_discovery_tags`` module: its entry point over ``_discovery``'s tag plans."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.jit.karpenter.plugins.module_utils._discovery import ensure_tags_absent, ensure_tags_present


def run(clients, params, check_mode=False, region=None):
    """The ``ec2_discovery_tags`` module's entry point (see ``_runner``)."""
    ec2 = clients.aws("ec2")
    if params["state"] == "present":
        changed, out = ensure_tags_present(ec2, params["cluster_name"], params["resource_ids"], check_mode=check_mode)
    else:
        changed, out = ensure_tags_absent(ec2, params["cluster_name"], check_mode=check_mode)
    return {"changed": changed, "tags": out["state"], "diff": {"before": out["before"], "after": out["after"]}}

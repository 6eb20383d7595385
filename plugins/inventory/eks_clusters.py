# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: eks_clusters
version_added: 0.1.0
short_description: EKS clusters of one or more regions and accounts, as inventory hosts
description:
  - Lists the Amazon EKS clusters of the given regions (C(ListClusters), then C(DescribeCluster) for each) and adds
    each one as a host, so that C(jit.karpenter.karpenter) runs on any inventory pattern, one cluster per host, with
    C(forks) for parallelism and per-cluster settings in group or host variables.
  - Each host carries the variables the playbook reads, C(cluster_name) and C(aws_region), and
    C(aws_account_id), C(eks_endpoint) and the whole cluster description as C(eks_cluster).
  - Other accounts are reached through O(assume_role_arns), one role per account; without it, through the usual
    boto3 credential chain (or the single O(assume_role_arn)).
  - Filters keep the clusters whose name, tags, Kubernetes version, authentication mode and status match. Groups are
    made from the same fields and from the tags, besides those of O(keyed_groups) and O(groups).
  - Uses a YAML configuration file whose name ends with C(eks_clusters.yml) or C(eks_clusters.yaml).
author:
  - jit.karpenter maintainers (@jit-karpenter)
options:
  plugin:
    description: The name of this plugin; it makes the file an C(eks_clusters) inventory source.
    required: true
    choices: [jit.karpenter.eks_clusters]
    type: str
  regions:
    description:
      - The regions to list clusters in. Empty lists every region that EC2's C(DescribeRegions) returns.
    type: list
    elements: str
    default: []
  assume_role_arns:
    description:
      - IAM roles to assume, one per account, to list that account's clusters. Each role needs
        C(eks:ListClusters) and C(eks:DescribeCluster).
      - Empty lists the clusters of the account the credentials (or O(assume_role_arn)) belong to.
      - The host variable C(aws_assume_role_arn) names the role a cluster was found through.
    type: list
    elements: str
    default: []
  name_patterns:
    description:
      - Shell-style patterns (C(fnmatch)); a cluster is kept when its name matches one of them. Empty keeps every name.
    type: list
    elements: str
    default: []
  tags:
    description:
      - Tags every kept cluster carries. A value of C(null) or C(*) asks only that the key is there.
    type: dict
    default: {}
  kubernetes_versions:
    description:
      - Kubernetes versions a kept cluster runs, such as C(1.33), or comparisons such as C(>=1.30) or C(<1.34); a
        cluster is kept when its version satisfies every comparison and equals one of the plain versions given
        (if any).
    type: list
    elements: str
    default: []
  authentication_modes:
    description:
      - The access-config authentication modes a kept cluster has. Empty keeps every mode.
    type: list
    elements: str
    choices: [API, API_AND_CONFIG_MAP, CONFIG_MAP]
    default: []
  statuses:
    description:
      - The cluster statuses kept; C(all) keeps every status.
    type: list
    elements: str
    default: [ACTIVE]
  hostname_format:
    description:
      - How a host is named, as a Python format string over C(name), C(region) and C(account).
      - Two clusters that would get the same name make the inventory fail, naming both; use for example
        C({name}.{region}.{account}) when clusters in several regions or accounts share a name.
    type: str
    default: "{name}"
  default_groups:
    description:
      - Add each host to groups made from its fields, besides C(eks_clusters)
        C(region_<region>), C(account_<account>), C(k8s_<version>), C(auth_<mode>) and C(tag_<key>_<value>).
    type: bool
    default: true
extends_documentation_fragment:
  - inventory_cache
  - constructed
  - amazon.aws.boto3
  - amazon.aws.common.plugins
  - amazon.aws.region.plugins
  - amazon.aws.assume_role.plugins
notes:
  - The cluster's credentials for Kubernetes come from the playbook (its kubeconfig or EKS tokens), not from
    this plugin.
  - With O(assume_role_arns), the playbook's AWS calls still use the credentials it is given; give each account's
    hosts their credentials through group variables (for example C(aws_profile) per C(account_<id>) group) or
    through AWX credentials.
"""

EXAMPLES = r"""
# fleet.eks_clusters.yml: the API-mode clusters of two regions whose name starts with prod-, in two accounts
plugin: jit.karpenter.eks_clusters
regions: [us-east-1, eu-west-1]
assume_role_arns:
  - arn:aws:iam::111111111111:role/fleet-reader
  - arn:aws:iam::222222222222:role/fleet-reader
hostname_format: "{name}.{region}"
name_patterns: ["prod-*"]
authentication_modes: [API, API_AND_CONFIG_MAP]
kubernetes_versions: [">=1.30"]
tags:
  team: platform
keyed_groups:
  - key: eks_cluster.tags.environment | default('none')
    prefix: env
compose:
  karpenter_discovery: "'tag' if 'karpenter.sh/discovery' in eks_cluster.tags else 'cluster'"
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/ansible-eks-clusters
"""

import fnmatch
import re

try:
    import botocore
except ImportError:
    pass  # the base class reports a missing AWS SDK

from ansible.errors import AnsibleError

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.plugin_utils.inventory import AWSInventoryBase
from ansible_collections.jit.karpenter.plugins.module_utils._names import parse_arn

GROUP = "eks_clusters"
_COMPARISON_RE = re.compile(r"^\s*(>=|<=|==|!=|>|<)?\s*v?(\d+)\.(\d+)\s*$")
_OPERATORS = {
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
}


def parse_version_filters(specs):
    """``(plain, comparisons)`` of ``kubernetes_versions``; an AnsibleError naming the entry it cannot read."""
    plain, comparisons = [], []
    for spec in specs or []:
        m = _COMPARISON_RE.match(str(spec))
        if not m:
            raise AnsibleError(
                "kubernetes_versions: %r is not a Kubernetes version such as 1.33 or a comparison such as >=1.30"
                % (spec,)
            )
        version = (int(m.group(2)), int(m.group(3)))
        if m.group(1) in (None, "=="):
            plain.append(version)
        else:
            comparisons.append((m.group(1), version))
    return plain, comparisons


def cluster_version(text):
    m = _COMPARISON_RE.match(str(text or ""))
    return (int(m.group(2)), int(m.group(3))) if m else None


def keep(cluster, name_patterns=(), tags=None, versions=((), ()), modes=(), statuses=("ACTIVE",)):
    """Whether a cluster record (see :func:`record`) passes every filter."""
    if name_patterns and not any(fnmatch.fnmatchcase(cluster["name"], p) for p in name_patterns):
        return False
    for key, value in (tags or {}).items():
        if key not in cluster["tags"]:
            return False
        if value not in (None, "*") and cluster["tags"][key] != str(value):
            return False
    plain, comparisons = versions
    if plain or comparisons:
        have = cluster_version(cluster["version"])
        if have is None:
            return False
        if plain and have not in plain:
            return False
        if not all(_OPERATORS[op](have, want) for op, want in comparisons):
            return False
    if modes and cluster["authentication_mode"] not in modes:
        return False
    if statuses and "all" not in statuses and cluster["status"] not in statuses:
        return False
    return True


def record(description, region, role_arn=None):
    """The host's view of a ``DescribeCluster`` result: plain, JSON-able fields under snake_case names."""
    arn = description.get("arn") or ""
    parsed = parse_arn(arn)
    access = description.get("accessConfig") or {}
    oidc = ((description.get("identity") or {}).get("oidc") or {}).get("issuer")
    return {
        "name": description["name"],
        "arn": arn,
        "account": parsed.account if parsed else "",
        "region": region,
        "version": description.get("version") or "",
        "platform_version": description.get("platformVersion") or "",
        "status": description.get("status") or "",
        "endpoint": description.get("endpoint") or "",
        "authentication_mode": access.get("authenticationMode") or "CONFIG_MAP",
        "oidc_issuer": oidc or "",
        "tags": dict(description.get("tags") or {}),
        "assume_role_arn": role_arn or "",
    }


def hostname(cluster, fmt):
    try:
        return fmt.format(name=cluster["name"], region=cluster["region"], account=cluster["account"])
    except (KeyError, IndexError, ValueError) as e:
        raise AnsibleError(
            "hostname_format: %r cannot be used (%s); it may name {name}, {region} and {account}" % (fmt, e)
        )


def default_group_names(cluster):
    """The groups made from a cluster's fields (before Ansible's group-name sanitising)."""
    names = [
        "region_" + cluster["region"],
        "account_" + cluster["account"],
        "auth_" + cluster["authentication_mode"].lower(),
    ]
    if cluster["version"]:
        names.append("k8s_" + cluster["version"])
    for key, value in sorted(cluster["tags"].items()):
        names.append("tag_%s_%s" % (key, value) if value else "tag_" + key)
    return names


def hostvars(cluster):
    return {
        "cluster_name": cluster["name"],
        "aws_region": cluster["region"],
        "aws_account_id": cluster["account"],
        "eks_endpoint": cluster["endpoint"],
        "aws_assume_role_arn": cluster["assume_role_arn"],
        "eks_cluster": cluster,
    }


@AWSRetry.jittered_backoff(retries=5)
def _cluster_names(client):
    return client.get_paginator("list_clusters").paginate().build_full_result().get("clusters", [])


class InventoryModule(AWSInventoryBase):
    NAME = "jit.karpenter.eks_clusters"
    INVENTORY_FILE_SUFFIXES = ("eks_clusters.yml", "eks_clusters.yaml")

    def _credentials_per_account(self):
        """``(role_arn, credentials)`` for each account to list: each of assume_role_arns, or the base credentials."""
        roles = self.get_option("assume_role_arns") or []
        if not roles:
            return [(self.get_option("assume_role_arn") or None, dict(self._frozen_credentials))]
        base = dict(self._frozen_credentials)
        accounts = []
        for role in roles:
            self._frozen_credentials = base
            self._freeze_iam_role(role)
            accounts.append((role, dict(self._frozen_credentials)))
        self._frozen_credentials = base
        return accounts

    def _list(self, regions):
        clusters = []
        for role, credentials in self._credentials_per_account():
            self._frozen_credentials = credentials
            for region in regions or self._boto3_regions(service="eks"):
                client = self.client("eks", region=region, retry_decorator=AWSRetry.jittered_backoff(retries=5))
                try:
                    for name in _cluster_names(client):
                        description = client.describe_cluster(name=name, aws_retry=True)["cluster"]
                        clusters.append(record(description, region, role))
                except botocore.exceptions.EndpointConnectionError:
                    self.display.warning("eks_clusters: EKS is not reachable in region %s; skipped" % region)
                except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
                    raise AnsibleError(
                        "eks_clusters: listing the EKS clusters of region %s%s failed: %s"
                        % (region, " through role " + role if role else "", e)
                    )
        return clusters

    def _filter(self, clusters):
        versions = parse_version_filters(self.get_option("kubernetes_versions"))
        kept = [
            c
            for c in clusters
            if keep(
                c,
                name_patterns=self.get_option("name_patterns"),
                tags=self.get_option("tags"),
                versions=versions,
                modes=self.get_option("authentication_modes"),
                statuses=self.get_option("statuses"),
            )
        ]
        return sorted(kept, key=lambda c: (c["account"], c["region"], c["name"]))

    def _populate(self, clusters):
        fmt = self.get_option("hostname_format")
        seen = {}
        for cluster in clusters:
            name = hostname(cluster, fmt)
            if name in seen:
                raise AnsibleError(
                    "eks_clusters: clusters %s and %s would both be host %r; set hostname_format, for example to "
                    "'{name}.{region}.{account}'" % (seen[name], cluster["arn"], name)
                )
            seen[name] = cluster["arn"]
        self.inventory.add_group(GROUP)
        strict = self.get_option("strict")
        for cluster in clusters:
            name = hostname(cluster, fmt)
            self.inventory.add_host(name, group=GROUP)
            variables = hostvars(cluster)
            for key, value in variables.items():
                self.inventory.set_variable(name, key, value)
            if self.get_option("default_groups"):
                for group in default_group_names(cluster):
                    group = self._sanitize_group_name(group)
                    self.inventory.add_group(group)
                    self.inventory.add_child(group, name)
            self._set_composite_vars(self.get_option("compose"), variables, name, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), variables, name, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), variables, name, strict=strict)

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache=cache)
        parse_version_filters(self.get_option("kubernetes_versions"))  # bad input fails before any AWS call
        hostname({"name": "n", "region": "r", "account": "a"}, self.get_option("hostname_format"))
        was_cached, clusters = self.get_cached_result(path, cache)
        if not was_cached:
            clusters = self._list(self.get_option("regions"))
            self.update_cached_result(path, cache, clusters)
        self._populate(self._filter(clusters))

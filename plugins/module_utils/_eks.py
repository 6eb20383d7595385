# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading an EKS cluster: the one DescribeCluster call the collection's modules share, its
add-ons, and the tags of an EKS resource. The AWS calls are made through :mod:`._aws`."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.jit.karpenter.plugins.module_utils._aws import MISSING, aws_call
from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError


def apply_tags(eks, arn, to_set, to_unset, what):
    """TagResource / UntagResource on the EKS resource ``arn`` (``what`` names it in errors)."""
    if to_set:
        aws_call("Tagging " + what, eks.tag_resource, resourceArn=arn, tags=to_set)
    if to_unset:
        aws_call("Untagging " + what, eks.untag_resource, resourceArn=arn, tagKeys=to_unset)


def describe_cluster(eks, cluster_name, region):
    """The raw ``cluster`` of DescribeCluster; a missing cluster is an error naming it and the region."""
    action = "Describing EKS cluster '{0}' in {1}".format(cluster_name, region)
    found = aws_call(action, eks.describe_cluster, missing=("ResourceNotFoundException",), name=cluster_name)
    if found is MISSING:
        raise KarpenterError(
            "EKS cluster '{0}' was not found in region {1}".format(cluster_name, region),
            cluster_name=cluster_name,
            region=region,
        )
    return found["cluster"]


def summarize(cluster):
    """The fields the collection uses, with flat snake_case names."""
    access = cluster.get("accessConfig") or {}
    vpc = cluster.get("resourcesVpcConfig") or {}
    return {
        "name": cluster.get("name"),
        "arn": cluster.get("arn"),
        "status": cluster.get("status"),
        "version": cluster.get("version"),
        "platform_version": cluster.get("platformVersion"),
        "endpoint": cluster.get("endpoint"),
        "certificate_authority_data": (cluster.get("certificateAuthority") or {}).get("data"),
        "oidc_issuer": ((cluster.get("identity") or {}).get("oidc") or {}).get("issuer"),
        # Clusters created before access entries existed report no accessConfig: they use aws-auth only.
        "authentication_mode": access.get("authenticationMode") or "CONFIG_MAP",
        "vpc_id": vpc.get("vpcId"),
        "subnet_ids": vpc.get("subnetIds") or [],
        "cluster_security_group_id": vpc.get("clusterSecurityGroupId"),
        "tags": cluster.get("tags") or {},
    }


def list_addons(eks, cluster_name):
    """Names of the cluster's EKS add-ons, sorted."""
    action = "Listing the add-ons of EKS cluster '{0}'".format(cluster_name)
    names, token = [], None
    while True:
        kwargs = {"clusterName": cluster_name}
        if token:
            kwargs["nextToken"] = token
        page = aws_call(action, eks.list_addons, **kwargs)
        names.extend(page.get("addons") or [])
        token = page.get("nextToken")
        if not token:
            return sorted(names)


def read_cluster(eks, cluster_name, region, include_addons=False):
    """The cluster (:func:`summarize`), with ``addons`` (:func:`list_addons`) when asked."""
    cluster = summarize(describe_cluster(eks, cluster_name, region))
    if include_addons:
        cluster["addons"] = list_addons(eks, cluster_name)
    return cluster

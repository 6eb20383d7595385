# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading an EKS cluster: the one DescribeCluster call the collection's modules share, and the
one way every AWS call of the collection is made (:func:`aws_call`)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    import botocore.exceptions
except ImportError:  # handled by AnsibleAWSModule
    pass

from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags
from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError

# Throttling and service-side failures (AWSRetry's codes: RequestLimitExceeded, Throttling,
# TooManyRequestsException, ServiceUnavailable, Unavailable, InternalFailure, InternalError) are
# retried with jittered backoff, as amazon.aws's own modules do (module_utils/iam.py).
RETRIES = 8
RETRY_DELAY = 1.0
RETRY_MAX_DELAY = 20.0


class _Missing:
    """What :func:`aws_call` returns when the error code says the resource is not there."""

    def __repr__(self):
        return "MISSING"


MISSING = _Missing()


def aws_error(err, action):
    """Turn a botocore error into the collection's error, naming the action."""
    code = ((getattr(err, "response", None) or {}).get("Error") or {}).get("Code")
    return KarpenterError("{0} failed: {1}".format(action, err), error_code=code)


def aws_call(action, fn, missing=(), **kwargs):
    """``fn(**kwargs)`` through amazon.aws's retry decorator and error handler.

    Throttling and AWS-side failures are retried (``AWSRetry.jittered_backoff``); an error
    whose code is in ``missing`` (for example ``NoSuchEntity``) returns :data:`MISSING`; any
    other ``ClientError`` or ``BotoCoreError`` (a connection error, say) becomes the
    collection's error, naming ``action``.
    """
    retrying = AWSRetry.jittered_backoff(retries=RETRIES, delay=RETRY_DELAY, max_delay=RETRY_MAX_DELAY)(fn)

    @AWSErrorHandler.common_error_handler(action)
    def call():
        try:
            return retrying(**kwargs)
        except botocore.exceptions.ClientError as e:
            if missing and error_code(e) in missing:
                return MISSING
            raise

    try:
        return call()
    except AnsibleAWSError as e:
        raise aws_error(e.exception, action) from e


def plan_tags(current_tags, desired_tags, purge_tags):
    """``(to_set, to_unset)`` for an EKS resource's tags; nothing to change when ``desired_tags`` is None."""
    if desired_tags is None:
        return {}, []
    to_set, to_unset = compare_aws_tags(current_tags, desired_tags, purge_tags)
    return to_set, sorted(to_unset)


def apply_tags(eks, arn, to_set, to_unset, what):
    """TagResource / UntagResource on the EKS resource ``arn`` (``what`` names it in errors)."""
    if to_set:
        aws_call("Tagging " + what, eks.tag_resource, resourceArn=arn, tags=to_set)
    if to_unset:
        aws_call("Untagging " + what, eks.untag_resource, resourceArn=arn, tagKeys=to_unset)


def error_code(err):
    return ((getattr(err, "response", None) or {}).get("Error") or {}).get("Code")


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

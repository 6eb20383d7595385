# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""EKS Pod Identity associations: one per cluster, namespace and service account.

Pure validation, normalisation and planning first; the AWS calls after.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.jit.karpenter.plugins.module_utils._names import (
    is_dns1123_label,
    is_dns1123_subdomain,
    parse_iam_arn,
)
from ansible_collections.jit.karpenter.plugins.module_utils._aws import MISSING, plan_tags
from ansible_collections.jit.karpenter.plugins.module_utils._aws import aws_call as _call
from ansible_collections.jit.karpenter.plugins.module_utils._eks import apply_tags, describe_cluster
from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError


def validate(params, state="present"):
    """The desired association; raises :class:`KarpenterError` naming the bad option."""
    namespace = params.get("namespace") or ""
    service_account = params.get("service_account") or ""
    if not is_dns1123_label(namespace):
        raise KarpenterError(
            "namespace '{0}' is not a Kubernetes namespace name (lower-case letters, digits and '-', "
            "at most 63 characters)".format(namespace),
            namespace=namespace,
        )
    if not is_dns1123_subdomain(service_account):
        raise KarpenterError(
            "service_account '{0}' is not a Kubernetes service account name".format(service_account),
            service_account=service_account,
        )
    role_arn = params.get("role_arn")
    if state == "present":
        if not role_arn:
            raise KarpenterError("role_arn is required with state=present", namespace=namespace)
        if parse_iam_arn(role_arn, kinds=("role",)) is None:
            raise KarpenterError(
                "role_arn '{0}' is not an IAM role ARN (arn:<partition>:iam::<account>:role/<name>); Pod Identity "
                "assumes a role that trusts pods.eks.amazonaws.com".format(role_arn),
                role_arn=role_arn,
            )
    return {
        "namespace": namespace,
        "service_account": service_account,
        "role_arn": role_arn,
        "tags": dict(params["tags"]) if params.get("tags") is not None else None,
    }


def normalize(association):
    """The module's view of an EKS ``association``."""
    return {
        "cluster_name": association.get("clusterName"),
        "namespace": association.get("namespace"),
        "service_account": association.get("serviceAccount"),
        "role_arn": association.get("roleArn"),
        "association_arn": association.get("associationArn"),
        "association_id": association.get("associationId"),
        "tags": dict(association.get("tags") or {}),
    }


def plan(current, desired, purge_tags=True):
    """``{"create", "role_arn", "tag", "untag"}``: what to change on ``current`` (``None`` if missing)."""
    changes = {"create": current is None, "role_arn": None, "tag": {}, "untag": []}
    if current is None:
        return changes
    if desired["role_arn"] != current["role_arn"]:
        changes["role_arn"] = desired["role_arn"]
    changes["tag"], changes["untag"] = plan_tags(current["tags"], desired["tags"], purge_tags)
    return changes


def plan_is_empty(changes):
    return not (changes["create"] or changes["role_arn"] or changes["tag"] or changes["untag"])


def predict(cluster_name, current, desired, changes):
    if current is None:
        return {
            "cluster_name": cluster_name,
            "namespace": desired["namespace"],
            "service_account": desired["service_account"],
            "role_arn": desired["role_arn"],
            "association_arn": None,
            "association_id": None,
            "tags": dict(desired["tags"] or {}),
        }
    after = dict(current)
    if changes["role_arn"]:
        after["role_arn"] = changes["role_arn"]
    tags = dict(current["tags"])
    tags.update(changes["tag"])
    for key in changes["untag"]:
        tags.pop(key, None)
    after["tags"] = tags
    return after


# ------------------------------------------------------------------------- AWS


def find(eks, cluster_name, namespace, service_account, region=None):
    """The association of ``namespace``/``service_account``, normalised, or ``None``."""
    where = "{0}/{1} in cluster '{2}'".format(namespace, service_account, cluster_name)
    kwargs = {"clusterName": cluster_name, "namespace": namespace, "serviceAccount": service_account}
    found = []
    while True:
        action = "Listing the Pod Identity associations of " + where
        page = _call(action, eks.list_pod_identity_associations, missing=("ResourceNotFoundException",), **kwargs)
        if page is MISSING:
            describe_cluster(eks, cluster_name, region)  # names a missing cluster and its region
            raise KarpenterError(action + " failed: ResourceNotFoundException", error_code="ResourceNotFoundException")
        found.extend(
            a
            for a in page.get("associations") or []
            if a.get("namespace") == namespace and a.get("serviceAccount") == service_account
        )
        if not page.get("nextToken"):
            break
        kwargs["nextToken"] = page["nextToken"]
    if not found:
        return None
    described = _call(
        "Reading the Pod Identity association of " + where,
        eks.describe_pod_identity_association,
        clusterName=cluster_name,
        associationId=found[0]["associationId"],
    )["association"]
    return normalize(described)


def ensure_present(eks, cluster_name, params, check_mode=False, region=None):
    desired = validate(params)
    current = find(eks, cluster_name, desired["namespace"], desired["service_account"], region)
    changes = plan(current, desired, purge_tags=params.get("purge_tags", True))
    if plan_is_empty(changes):
        return False, {"before": current, "after": current}
    if check_mode:
        return True, {"before": current, "after": predict(cluster_name, current, desired, changes)}
    where = "{0}/{1} in cluster '{2}'".format(desired["namespace"], desired["service_account"], cluster_name)
    if changes["create"]:
        kwargs = {
            "clusterName": cluster_name,
            "namespace": desired["namespace"],
            "serviceAccount": desired["service_account"],
            "roleArn": desired["role_arn"],
        }
        if desired["tags"]:
            kwargs["tags"] = desired["tags"]
        after = _call(
            "Creating the Pod Identity association of " + where, eks.create_pod_identity_association, **kwargs
        )
        return True, {"before": None, "after": normalize(after["association"])}
    if changes["role_arn"]:
        _call(
            "Updating the role of the Pod Identity association of " + where,
            eks.update_pod_identity_association,
            clusterName=cluster_name,
            associationId=current["association_id"],
            roleArn=changes["role_arn"],
        )
    apply_tags(
        eks, current["association_arn"], changes["tag"], changes["untag"], "the Pod Identity association of " + where
    )
    return True, {
        "before": current,
        "after": find(eks, cluster_name, desired["namespace"], desired["service_account"], region),
    }


def ensure_absent(eks, cluster_name, params, check_mode=False, region=None):
    desired = validate(params, state="absent")
    current = find(eks, cluster_name, desired["namespace"], desired["service_account"], region)
    if current is None:
        return False, {"before": None, "after": None}
    if not check_mode:
        _call(
            "Deleting the Pod Identity association " + current["association_id"],
            eks.delete_pod_identity_association,
            missing=("ResourceNotFoundException",),  # gone already
            clusterName=cluster_name,
            associationId=current["association_id"],
        )
    return True, {"before": current, "after": None}


def run(clients, params, check_mode=False, region=None):
    """Everything the module does; returns the result (with ``diff``, which the module keeps on request)."""
    eks = clients.aws("eks")
    if params.get("state") == "absent":
        changed, state = ensure_absent(eks, params["cluster_name"], params, check_mode=check_mode, region=region)
    else:
        changed, state = ensure_present(eks, params["cluster_name"], params, check_mode=check_mode, region=region)
    return {
        "changed": changed,
        "pod_identity_association": state["after"],
        "diff": {"before": state["before"] or {}, "after": state["after"] or {}},
    }

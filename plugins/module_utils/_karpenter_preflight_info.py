# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the preflight reads from AWS, in one module run (the module ``karpenter_preflight_info``).

The EKS cluster (DescribeCluster, and its add-ons when asked), then, each only when asked: an IAM role
(GetRole: its ARN and tags; ListRolePolicies: the names of its inline policies), a CloudFormation stack's
resources (DescribeStacks, ListStackResources), another stack with its template (DescribeStacks,
GetTemplate), the Pod Identity association of a service account (ListPodIdentityAssociations) and the node
classes' discovery and selectors (:func:`._discovery.discover`, with the cluster just read).

The cluster is the first read: when it cannot be read (a wrong name or region, credentials that do not
work) the module fails. What fails in the later reads, a bad name included, is returned as data under
``errors``, keyed by the read's return key, so that the caller reports each failure where it checks that
read (the preflight role fails at the same step, with the same message, as when each read was a module run
of its own). A selector that matches nothing is such a failure: ``errors.discovery``, with ``discovery``
holding what was resolved.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.jit.karpenter.plugins.module_utils._aws import MISSING, aws_call
from ansible_collections.jit.karpenter.plugins.module_utils._discovery import discover, tag_map
from ansible_collections.jit.karpenter.plugins.module_utils._eks import read_cluster
from ansible_collections.jit.karpenter.plugins.module_utils._eks_pod_identity_association import (
    find as find_pod_identity_association,
)
from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError
from ansible_collections.jit.karpenter.plugins.module_utils._iam_oidc_provider import get_provider, provider_arn
from ansible_collections.jit.karpenter.plugins.module_utils._names import is_iam_role_name, is_stack_name

# ---------------------------------------------------------------------------
# Pure logic


def summarize_role(role, inline_policy_names=(), attached_policy_arns=()):
    """The fields of GetRole's ``Role`` that the checks and ``amazon.aws.iam_role``'s comparison use, with
    snake_case names; the names of the role's inline policies (ListRolePolicies) and the ARNs of its managed
    policies (ListAttachedRolePolicies), sorted."""
    return {
        "role_name": role.get("RoleName"),
        "arn": role.get("Arn"),
        "path": role.get("Path"),
        "description": role.get("Description"),
        "assume_role_policy_document": role.get("AssumeRolePolicyDocument"),
        "tags": tag_map(role.get("Tags")),
        "inline_policy_names": sorted(inline_policy_names),
        "attached_policy_arns": sorted(attached_policy_arns),
    }


def _pages(call, what, key, **kwargs):
    """Every item under ``key`` of an IAM list call, page by page (Marker, IsTruncated)."""
    items, marker = [], None
    while True:
        if marker:
            kwargs["Marker"] = marker
        page = aws_call(what, call, **kwargs)
        items.extend(page.get(key) or [])
        marker = page.get("Marker") if page.get("IsTruncated") else None
        if not marker:
            return items


def summarize_stack(stack, resources):
    """A stack (DescribeStacks) and its resources (ListStackResources' summaries).

    ``stack_resources`` maps each logical ID to its physical ID, as amazon.aws's ``cloudformation_info``
    returns them.
    """
    return {
        "stack_name": stack.get("StackName"),
        "stack_id": stack.get("StackId"),
        "stack_status": stack.get("StackStatus"),
        "stack_resources": {r.get("LogicalResourceId"): r.get("PhysicalResourceId") for r in resources},
    }


def _pairs(items, key, value):
    return {item.get(key): item.get(value) for item in items or []}


def summarize_deployed_stack(stack, template):
    """A stack (DescribeStacks) and its template (GetTemplate's ``TemplateBody``), with the keys and values that
    amazon.aws's ``cloudformation_info`` returns with ``stack_template=true``: ``stack_description`` (here its
    name, ID and status only), ``stack_template``, ``stack_parameters``, ``stack_tags`` and ``stack_outputs``."""
    return {
        "stack_description": {
            "stack_name": stack.get("StackName"),
            "stack_id": stack.get("StackId"),
            "stack_status": stack.get("StackStatus"),
        },
        "stack_template": template,
        "stack_parameters": _pairs(stack.get("Parameters"), "ParameterKey", "ParameterValue"),
        "stack_tags": tag_map(stack.get("Tags")),
        "stack_outputs": _pairs(stack.get("Outputs"), "OutputKey", "OutputValue"),
    }


def error_entry(err):
    """What ``errors`` holds for one failed read: the message and the error's details (but for the partial
    discovery, which is returned under ``discovery``)."""
    entry = {k: v for k, v in err.details.items() if k != "discovery"}
    entry["msg"] = err.msg
    return entry


# ---------------------------------------------------------------------------
# The reads


def read_role(iam, name):
    """The role ``name`` (:func:`summarize_role`), or None when it does not exist."""
    if not is_iam_role_name(name):
        raise KarpenterError(
            "iam_role_name '{0}' is not an IAM role name (1 to 64 letters, digits and + = , . @ _ -)".format(name),
            iam_role_name=name,
        )
    found = aws_call("Reading IAM role " + name, iam.get_role, missing=("NoSuchEntity",), RoleName=name)
    if found is MISSING:
        return None
    names = _pages(
        iam.list_role_policies, "Listing the inline policies of IAM role " + name, "PolicyNames", RoleName=name
    )
    attached = _pages(
        iam.list_attached_role_policies,
        "Listing the managed policies of IAM role " + name,
        "AttachedPolicies",
        RoleName=name,
    )
    return summarize_role(found["Role"], names, [p.get("PolicyArn") for p in attached])


def describe_stack(cloudformation, name):
    """DescribeStacks' stack ``name``, or None when it does not exist.

    DescribeStacks answers a stack that does not exist (or no longer does) with ValidationError, which it
    also uses for a malformed name: the name is checked first, so that ValidationError means no stack.
    """
    if not is_stack_name(name):
        raise KarpenterError(
            "stack_name '{0}' is not a CloudFormation stack name (a letter, then up to 127 letters, digits"
            " and -)".format(name),
            stack_name=name,
        )
    action = "Describing CloudFormation stack " + name
    found = aws_call(action, cloudformation.describe_stacks, missing=("ValidationError",), StackName=name)
    if found is MISSING or not found.get("Stacks"):
        return None
    return found["Stacks"][0]


def read_stack(cloudformation, name):
    """The stack ``name`` and its resources (:func:`summarize_stack`), or None when it does not exist."""
    stack = describe_stack(cloudformation, name)
    if stack is None:
        return None
    resources, token = [], None
    while True:
        kwargs = {"StackName": stack.get("StackId") or name}
        if token:
            kwargs["NextToken"] = token
        page = aws_call(
            "Listing the resources of CloudFormation stack " + name, cloudformation.list_stack_resources, **kwargs
        )
        resources.extend(page.get("StackResourceSummaries") or [])
        token = page.get("NextToken")
        if not token:
            return summarize_stack(stack, resources)


def read_deployed_stack(cloudformation, name):
    """The stack ``name`` with its template (:func:`summarize_deployed_stack`), or ``{}`` when it does not exist."""
    stack = describe_stack(cloudformation, name)
    if stack is None:
        return {}
    template = aws_call(
        "Reading the template of CloudFormation stack " + name,
        cloudformation.get_template,
        StackName=stack.get("StackId") or name,
    )
    return summarize_deployed_stack(stack, template.get("TemplateBody"))


def read_pod_identity_association(eks, cluster_name, namespace, service_account, region=None):
    """The Pod Identity association of ``namespace``/``service_account`` (as
    ``eks_pod_identity_association`` returns it), or ``{}`` when there is none."""
    return find_pod_identity_association(eks, cluster_name, namespace, service_account, region) or {}


def read_oidc_provider(iam, cluster):
    """The IAM OIDC provider of the cluster's issuer (as ``iam_oidc_provider`` returns it), or ``{}`` when
    there is none; its account and partition are the cluster's."""
    issuer = (cluster.get("oidc_issuer") or "").strip().rstrip("/")
    if not issuer:
        raise KarpenterError("EKS cluster {0} reports no OIDC issuer".format(cluster.get("name")))
    arn_parts = (cluster.get("arn") or "").split(":")
    return get_provider(iam, provider_arn(issuer, arn_parts[4], arn_parts[1])) or {}


def run(clients, params, check_mode=False, region=None):
    """The module's result: ``cluster``, ``iam_role``, ``cloudformation_stack``, ``deployed_stack``,
    ``pod_identity_association``, ``oidc_provider``, ``discovery`` and ``errors``.

    ``clients.aws(service)`` gives a boto3 client. Nothing is written, so ``check_mode`` changes nothing.
    """
    eks = clients.aws("eks")
    cluster = read_cluster(eks, params["cluster_name"], region, include_addons=params.get("include_addons"))
    reads = [
        ("iam_role", params.get("iam_role_name"), lambda: read_role(clients.aws("iam"), params["iam_role_name"])),
        (
            "cloudformation_stack",
            params.get("stack_name"),
            lambda: read_stack(clients.aws("cloudformation"), params["stack_name"]),
        ),
        (
            "deployed_stack",
            params.get("deployed_stack_name"),
            lambda: read_deployed_stack(clients.aws("cloudformation"), params["deployed_stack_name"]),
        ),
        (
            "pod_identity_association",
            params.get("pod_identity_service_account"),
            lambda: read_pod_identity_association(
                eks,
                params["cluster_name"],
                params["pod_identity_service_account"]["namespace"],
                params["pod_identity_service_account"]["name"],
                region,
            ),
        ),
        ("oidc_provider", params.get("oidc_provider"), lambda: read_oidc_provider(clients.aws("iam"), cluster)),
        (
            "discovery",
            params.get("discovery"),
            lambda: discover(
                eks,
                clients.aws("ec2"),
                clients.aws("ssm"),
                cluster,
                params.get("nodeclasses") or [],
                params["discovery"],
            ),
        ),
    ]
    result = {"changed": False, "cluster": cluster}
    errors = {}
    for key, asked, read in reads:
        result[key] = None
        if not asked:
            continue
        try:
            result[key] = read()
        except KarpenterError as err:
            # A selector that matches nothing: what was resolved comes with the error (errors.discovery).
            result[key] = err.details.get(key)
            errors[key] = error_entry(err)

    result["errors"] = errors
    return result

# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which subnets, security groups and AMIs an EC2NodeClass will select, found before anything is written.

Real clusters made by eksctl or terraform-aws-eks carry no ``karpenter.sh/discovery`` tag, so a node
class that selects by it matches nothing and Karpenter launches nothing. By default the node class
selects, by ``id``, the subnets where the cluster's nodes already run (its managed node groups'
subnets, else the cluster's private subnets) and the cluster security group. With ``discovery=tag``
those same resources are tagged ``karpenter.sh/discovery=<cluster>`` and selected by that tag.

Every node class's selector terms are then resolved against EC2 and SSM the way Karpenter resolves
them, and a selector that matches nothing is an error naming it and what does exist.

Pure functions first (unit-tested), then the reads.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.jit.karpenter.plugins.module_utils._aws import MISSING, aws_call
from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError

DISCOVERY_TAG = "karpenter.sh/discovery"
# The record of tags this collection added to a resource, on the resource itself: the keys it added,
# separated by spaces (teardown removes those, where they still name the cluster, and no others).
ADDED_TAGS_KEY = "jit.karpenter/added-tags"

# Karpenter's al2023 alias (pkg/providers/amifamily/al2023.go, DescribeImageQuery and resolvePath):
# every architecture and variant is tried; the alias resolves when any parameter exists.
AL2023_VARIANTS = (
    ("x86_64", "standard"),
    ("arm64", "standard"),
    ("x86_64", "nvidia"),
    ("x86_64", "neuron"),
    ("arm64", "nvidia"),
)


# ---------------------------------------------------------------------------
# Pure logic


# The option nodeclasses of the modules that resolve node classes' selectors (its docs:
# doc_fragments/_nodeclass_selectors.py).
NODECLASSES_OPTION = {
    "type": "list",
    "elements": "dict",
    "default": [],
    "options": {
        "name": {"type": "str", "required": True},
        "subnet_selector_terms": {"type": "list", "elements": "dict"},
        "security_group_selector_terms": {"type": "list", "elements": "dict"},
        "ami_selector_terms": {"type": "list", "elements": "dict"},
    },
}


def tag_map(tags):
    """EC2's ``[{"Key", "Value"}]`` as a dict."""
    return {t["Key"]: t.get("Value", "") for t in tags or []}


def _route_table_of(route_tables, subnet_id):
    """The route table a subnet uses: its explicit association, else the VPC's main table."""
    for table in route_tables:
        for assoc in table.get("Associations") or []:
            if assoc.get("SubnetId") == subnet_id:
                return table
    for table in route_tables:
        for assoc in table.get("Associations") or []:
            if assoc.get("Main"):
                return table
    return None


def is_public(route_tables, subnet_id):
    """Whether a subnet routes to an internet gateway.

    As the Kubernetes AWS cloud provider decides it (legacy-cloud-providers/aws/aws.go ``isSubnetPublic``,
    which eksctl's pkg/vpc uses too): the subnet's explicitly associated route table, else the VPC's main
    route table; public when a route's gateway is an internet gateway (``igw-``).
    """
    table = _route_table_of(route_tables, subnet_id)
    if table is None:
        return False
    return any(str(route.get("GatewayId") or "").startswith("igw") for route in table.get("Routes") or [])


def private_subnet_ids(subnet_ids, route_tables):
    """The subnets among ``subnet_ids`` with no route to an internet gateway, in the order given."""
    return [s for s in subnet_ids if not is_public(route_tables, s)]


def choose_network(nodegroups, cluster_subnet_ids, route_tables, cluster_security_group_id, node_security_group_ids=()):
    """What a node class selects by default: ``{subnet_ids, security_group_ids, source, security_group_source}``.

    ``nodegroups`` are DescribeNodegroup results. Their subnets are where the cluster's nodes run; without
    managed node groups, the cluster's private subnets (its public ones would give nodes public addresses).
    ``node_security_group_ids`` are the security groups of the node groups' running instances: the groups
    Karpenter's nodes need to reach and be reached by the nodes already there (eksctl's managed nodes use the
    cluster security group; terraform-aws-eks's use its own node security group, and the cluster security
    group only with ``attach_cluster_primary_security_group``). Without any, the cluster security group.
    """
    subnets, names = [], []
    for group in nodegroups:
        names.append(group.get("nodegroupName"))
        for subnet in group.get("subnets") or []:
            if subnet not in subnets:
                subnets.append(subnet)
    if subnets:
        source = "the subnets of managed node group(s) {0}".format(", ".join(sorted(n for n in names if n)))
    else:
        subnets = private_subnet_ids(cluster_subnet_ids, route_tables)
        source = "the cluster's private subnets (resourcesVpcConfig.subnetIds without a route to an internet gateway)"
        if not subnets:
            raise KarpenterError(
                "no subnet to launch nodes in: the cluster has no managed node group, and none of its subnets {0}"
                " is private (each routes to an internet gateway). Give nodeclass.subnet_selector_terms.".format(
                    ", ".join(cluster_subnet_ids) or "(none)"
                ),
                subnet_ids=list(cluster_subnet_ids),
            )
    if node_security_group_ids:
        return {
            "subnet_ids": subnets,
            "security_group_ids": list(node_security_group_ids),
            "source": source,
            "security_group_source": "the security groups of the managed node groups' instances",
        }
    if not cluster_security_group_id:
        raise KarpenterError(
            "the cluster reports no cluster security group (resourcesVpcConfig.clusterSecurityGroupId);"
            " give nodeclass.security_group_selector_terms"
        )
    return {
        "subnet_ids": subnets,
        "security_group_ids": [cluster_security_group_id],
        "source": source,
        "security_group_source": "the cluster security group (resourcesVpcConfig.clusterSecurityGroupId)",
    }


def instance_security_groups(reservations):
    """Security group IDs of DescribeInstances reservations, in first-seen order."""
    out = []
    for reservation in reservations:
        for instance in reservation.get("Instances") or []:
            for group in instance.get("SecurityGroups") or []:
                if group.get("GroupId") and group["GroupId"] not in out:
                    out.append(group["GroupId"])
    return out


def default_terms(network, discovery, cluster_name):
    """The selector terms the playbook gives node classes without their own."""
    if discovery == "tag":
        term = [{"tags": {DISCOVERY_TAG: cluster_name}}]
        return {"subnet_selector_terms": term, "security_group_selector_terms": list(term)}
    return {
        "subnet_selector_terms": [{"id": s} for s in network["subnet_ids"]],
        "security_group_selector_terms": [{"id": g} for g in network["security_group_ids"]],
    }


def tag_conflicts(resources, cluster_name, key=DISCOVERY_TAG):
    """Resources that carry ``key`` with another cluster's value: ``["subnet-1 (karpenter.sh/discovery=other)"]``.

    ``resources`` maps an ID to its tag dict. Tagging them for this cluster would take them from another.
    """
    return [
        "{0} ({1}={2})".format(rid, key, tags[key])
        for rid, tags in sorted(resources.items())
        if key in tags and tags[key] != cluster_name
    ]


def tags_to_add(resources, cluster_name, key=DISCOVERY_TAG):
    """IDs of ``resources`` (ID -> tags) that do not carry ``key=cluster_name`` yet, sorted."""
    return sorted(rid for rid, tags in resources.items() if tags.get(key) != cluster_name)


def ec2_filters(term):
    """DescribeSubnets/DescribeSecurityGroups/DescribeImages filters for one selector term.

    As Karpenter reads terms: ``tags`` values are ANDed, and the value ``*`` matches any value of the key
    (pkg/providers/subnet and securitygroup: ``tag-key`` filter for ``*``).
    """
    filters = []
    for key, value in sorted((term.get("tags") or {}).items()):
        if value == "*":
            filters.append({"Name": "tag-key", "Values": [key]})
        else:
            filters.append({"Name": "tag:" + key, "Values": [value]})
    if term.get("name"):
        filters.append({"Name": "group-name", "Values": [term["name"]]})
    return filters


def alias_parameters(alias, kubernetes_version):
    """The SSM parameters an AMI alias reads, or None for a family this check does not know.

    ``al2023@latest`` reads ``.../<k8s>/amazon-linux-2023/<arch>/<variant>/recommended/image_id``; a pinned
    ``al2023@v20240807`` reads ``.../amazon-eks-node-al2023-<arch>-<variant>-<k8s>-v20240807/image_id``
    (Karpenter pkg/providers/amifamily/al2023.go ``resolvePath``).
    """
    family, _sep, version = str(alias).partition("@")
    if family != "al2023" or not version:
        return None
    names = []
    for arch, variant in AL2023_VARIANTS:
        leaf = (
            "recommended"
            if version == "latest"
            else "amazon-eks-node-al2023-{0}-{1}-{2}-{3}".format(arch, variant, kubernetes_version, version)
        )
        names.append(
            "/aws/service/eks/optimized-ami/{0}/amazon-linux-2023/{1}/{2}/{3}/image_id".format(
                kubernetes_version, arch, variant, leaf
            )
        )
    return names


def describe_tags(tags, limit=6):
    """``Name=x, k=v`` for a message (at most ``limit`` tags)."""
    items = sorted(tags.items(), key=lambda kv: (kv[0] != "Name", kv[0]))
    text = ", ".join("{0}={1}".format(k, v) for k, v in items[:limit])
    if len(items) > limit:
        text += ", ..."
    return text or "no tags"


def no_match_message(nodeclass, field, terms, what, existing):
    """``EC2NodeClass default: subnet_selector_terms [...] match no subnet; the VPC has: ...``."""
    lines = ["EC2NodeClass {0}: {1} {2} match no {3}".format(nodeclass, field, json.dumps(terms, sort_keys=True), what)]
    if existing is not None:
        lines.append("  what exists: " + ("; ".join(existing) if existing else "none"))
    return "\n".join(lines)


def format_subnets(subnets):
    return [
        "{0} ({1}, {2})".format(s["SubnetId"], s.get("AvailabilityZone"), describe_tags(tag_map(s.get("Tags"))))
        for s in sorted(subnets, key=lambda s: s["SubnetId"])
    ]


def format_groups(groups):
    return [
        "{0} ({1}, {2})".format(g["GroupId"], g.get("GroupName"), describe_tags(tag_map(g.get("Tags"))))
        for g in sorted(groups, key=lambda g: g["GroupId"])
    ]


# ---------------------------------------------------------------------------
# Reads


def _paged(action, fn, key, **kwargs):
    items, token_key = [], None
    while True:
        page = aws_call(action, fn, **kwargs)
        items.extend(page.get(key) or [])
        token = page.get("NextToken") or page.get("nextToken")
        if not token:
            return items
        token_key = "nextToken" if "nextToken" in page else "NextToken"
        kwargs[token_key] = token


def nodegroups(eks, cluster_name):
    names = _paged(
        "Listing the node groups of EKS cluster " + cluster_name,
        eks.list_nodegroups,
        "nodegroups",
        clusterName=cluster_name,
    )
    return [
        aws_call("Describing node group " + name, eks.describe_nodegroup, clusterName=cluster_name, nodegroupName=name)[
            "nodegroup"
        ]
        for name in sorted(names)
    ]


def node_group_security_groups(ec2, cluster_name, groups):
    """Security groups of the running instances of the managed node groups ``groups`` (EKS tags them)."""
    names = [g.get("nodegroupName") for g in groups if g.get("nodegroupName")]
    if not names:
        return []
    reservations = _paged(
        "Describing the node groups' instances",
        ec2.describe_instances,
        "Reservations",
        Filters=[
            {"Name": "tag:eks:cluster-name", "Values": [cluster_name]},
            {"Name": "tag:eks:nodegroup-name", "Values": names},
            {"Name": "instance-state-name", "Values": ["pending", "running"]},
        ],
    )
    return instance_security_groups(reservations)


def route_tables(ec2, vpc_id):
    return _paged(
        "Describing the route tables of " + vpc_id,
        ec2.describe_route_tables,
        "RouteTables",
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}],
    )


def _not_found(code):
    """EC2's codes for IDs that do not exist (or cannot)."""
    return str(code or "").endswith(".NotFound") or code in (
        "InvalidGroupId.Malformed",
        "InvalidSubnetID.Malformed",
        "InvalidAMIID.Malformed",
    )


def _describe_by_ids(action, fn, key, id_param, ids):
    """Describe* by IDs; IDs that do not exist give an empty list rather than an error."""
    found = aws_call(action, fn, missing=_not_found, **{id_param: list(ids)})
    return [] if found is MISSING else found.get(key) or []


def resolve_subnets(ec2, terms):
    found = {}
    for term in terms:
        if term.get("id"):
            items = _describe_by_ids(
                "Describing subnet " + term["id"], ec2.describe_subnets, "Subnets", "SubnetIds", [term["id"]]
            )
        else:
            items = _paged("Describing subnets", ec2.describe_subnets, "Subnets", Filters=ec2_filters(term))
        for item in items:
            found[item["SubnetId"]] = item
    return found


def resolve_security_groups(ec2, terms):
    found = {}
    for term in terms:
        if term.get("id"):
            items = _describe_by_ids(
                "Describing security group " + term["id"],
                ec2.describe_security_groups,
                "SecurityGroups",
                "GroupIds",
                [term["id"]],
            )
        else:
            items = _paged(
                "Describing security groups", ec2.describe_security_groups, "SecurityGroups", Filters=ec2_filters(term)
            )
        for item in items:
            found[item["GroupId"]] = item
    return found


def _parameter(ssm, name):
    found = aws_call(
        "Reading SSM parameter " + name,
        ssm.get_parameter,
        missing=("ParameterNotFound", "ParameterVersionNotFound"),
        Name=name,
    )
    return None if found is MISSING else found["Parameter"]["Value"]


def resolve_amis(ec2, ssm, terms, kubernetes_version):
    """``(image_ids, tried)``: the AMIs the terms select, and what was looked at (for the message)."""
    ids, tried = [], []
    for term in terms:
        if term.get("alias"):
            names = alias_parameters(term["alias"], kubernetes_version)
            if names is None:  # a family this check does not resolve: Karpenter decides
                return None, ["alias {0} (not checked here)".format(term["alias"])]
            for name in names:
                value = _parameter(ssm, name)
                tried.append(name)
                if value:
                    ids.append(value)
                    break
        elif term.get("ssmParameter"):
            value = _parameter(ssm, term["ssmParameter"])
            tried.append(term["ssmParameter"])
            if value:
                ids.append(value)
        elif term.get("id"):
            images = _describe_by_ids(
                "Describing image " + term["id"], ec2.describe_images, "Images", "ImageIds", [term["id"]]
            )
            tried.append(term["id"])
            ids.extend(i["ImageId"] for i in images)
        else:
            filters = ec2_filters({"tags": term.get("tags")})
            if term.get("name"):
                filters.append({"Name": "name", "Values": [term["name"]]})
            owners = [term["owner"]] if term.get("owner") else ["self", "amazon"]
            images = aws_call("Describing images", ec2.describe_images, Filters=filters, Owners=owners)["Images"]
            tried.append(json.dumps(term, sort_keys=True))
            ids.extend(i["ImageId"] for i in images)
    return sorted(set(ids)), tried


def discover(eks, ec2, ssm, cluster, nodeclasses, discovery="cluster"):
    """Resolve the defaults and every node class's terms; raise naming each selector that matches nothing.

    ``cluster`` is _eks.summarize()'s dict. ``nodeclasses`` are dicts with ``name`` and optional
    ``subnet_selector_terms``, ``security_group_selector_terms`` and ``ami_selector_terms`` (the nodepool
    module's option names). Returns the module's result.
    """
    cluster_name = cluster["name"]
    groups = nodegroups(eks, cluster_name)
    network = choose_network(
        groups,
        cluster["subnet_ids"],
        route_tables(ec2, cluster["vpc_id"]) if cluster.get("vpc_id") else [],
        cluster.get("cluster_security_group_id"),
        node_group_security_groups(ec2, cluster_name, groups),
    )
    defaults = default_terms(network, discovery, cluster_name)

    # The discovered resources themselves must exist; in tag mode, they must not belong to another cluster.
    subnets = resolve_subnets(ec2, [{"id": s} for s in network["subnet_ids"]])
    groups = resolve_security_groups(ec2, [{"id": g} for g in network["security_group_ids"]])
    tagged = {rid: tag_map(item.get("Tags")) for rid, item in list(subnets.items()) + list(groups.items())}
    result = {
        "discovery": discovery,
        "subnet_ids": network["subnet_ids"],
        "security_group_ids": network["security_group_ids"],
        "source": network["source"],
        "security_group_source": network["security_group_source"],
        "default_terms": defaults,
        "tags_to_add": tags_to_add(tagged, cluster_name) if discovery == "tag" else [],
        "record_tag": ADDED_TAGS_KEY,
    }
    problems = []
    if discovery == "tag":
        conflicts = tag_conflicts(tagged, cluster_name)
        if conflicts:
            problems.append(
                "karpenter_discovery=tag: these resources already carry {0} for another cluster; tagging them for"
                " {1} would take them from it: {2}".format(DISCOVERY_TAG, cluster_name, ", ".join(conflicts))
            )

    vpc_subnets = vpc_groups = None
    classes = []
    for nodeclass in nodeclasses:
        name = nodeclass.get("name")
        entry = {"name": name}
        for field, what, resolve, defaulted in (
            ("subnet_selector_terms", "subnet", resolve_subnets, network["subnet_ids"]),
            ("security_group_selector_terms", "security group", resolve_security_groups, network["security_group_ids"]),
        ):
            terms = nodeclass.get(field)
            if not terms:
                # The defaults: the resources just read (tagged before any node class is written in tag mode).
                entry[field] = {"terms": defaults[field], "ids": list(defaulted), "default": True}
                continue
            terms = [_clean(t) for t in terms]
            found = resolve(ec2, terms)
            entry[field] = {"terms": terms, "ids": sorted(found), "default": False}
            if not found:
                if field == "subnet_selector_terms":
                    if vpc_subnets is None:
                        vpc_subnets = _vpc_items(ec2, cluster, "subnets")
                    existing = (
                        [
                            "the cluster's VPC {0} has subnets: ".format(cluster.get("vpc_id"))
                            + "".join("\n    " + line for line in format_subnets(vpc_subnets))
                        ]
                        if vpc_subnets
                        else []
                    )
                else:
                    if vpc_groups is None:
                        vpc_groups = _vpc_items(ec2, cluster, "groups")
                    existing = (
                        [
                            "the cluster's VPC {0} has security groups: ".format(cluster.get("vpc_id"))
                            + "".join("\n    " + line for line in format_groups(vpc_groups))
                        ]
                        if vpc_groups
                        else []
                    )
                problems.append(no_match_message(name, field, terms, what, existing))
        ami_terms = [_clean(t) for t in (nodeclass.get("ami_selector_terms") or [{"alias": "al2023@latest"}])]
        ids, tried = resolve_amis(ec2, ssm, ami_terms, cluster["version"])
        entry["ami_selector_terms"] = {"terms": ami_terms, "ids": ids, "checked": ids is not None}
        if ids == []:
            problems.append(
                no_match_message(name, "ami_selector_terms", ami_terms, "image", None)
                + "\n  looked for: "
                + "; ".join(tried)
            )
        classes.append(entry)
    result["nodeclasses"] = classes
    if problems:
        raise KarpenterError(
            "node class selectors refused before anything was written:\n" + "\n".join(problems),
            discovery=result,
        )
    return result


def _clean(term):
    """A term with its empty fields dropped and the nodepool module's ``ssm_parameter`` spelled as Karpenter's."""
    term = {k: v for k, v in (term or {}).items() if v not in (None, "", {}, [])}
    if "ssm_parameter" in term:
        term["ssmParameter"] = term.pop("ssm_parameter")
    return term


def _vpc_items(ec2, cluster, kind):
    if not cluster.get("vpc_id"):
        return []
    filters = [{"Name": "vpc-id", "Values": [cluster["vpc_id"]]}]
    if kind == "subnets":
        return _paged("Describing the VPC's subnets", ec2.describe_subnets, "Subnets", Filters=filters)
    return _paged(
        "Describing the VPC's security groups", ec2.describe_security_groups, "SecurityGroups", Filters=filters
    )


# ---------------------------------------------------------------------------
# Writes: the discovery tags (karpenter_discovery=tag), each recorded on its resource


def recorded_keys(tags):
    """Keys the record tag ADDED_TAGS_KEY lists (space-separated), as a set."""
    return set((tags.get(ADDED_TAGS_KEY) or "").split())


def tag_plan(resources, cluster_name, key=DISCOVERY_TAG):
    """``{id: tags to create}`` for resources (ID -> tags) without ``key=cluster_name``.

    Each gets the tag and, in the same CreateTags call, the record tag listing ``key`` among the keys
    this collection added to it, so a tag is never added without its record.
    """
    plan = {}
    for rid, tags in sorted(resources.items()):
        if tags.get(key) == cluster_name:
            continue
        plan[rid] = {key: cluster_name, ADDED_TAGS_KEY: " ".join(sorted(recorded_keys(tags) | {key}))}
    return plan


def untag_plan(resources, cluster_name, key=DISCOVERY_TAG):
    """``{id: (keys to delete, record tag value to keep or None)}`` for what this collection recorded it added.

    Only ``key`` where the record lists it and its value still names ``cluster_name``; a resource tagged by
    someone else (no record) is left alone.
    """
    plan = {}
    for rid, tags in sorted(resources.items()):
        listed = recorded_keys(tags)
        if key not in listed or tags.get(key) != cluster_name:
            continue
        rest = sorted(listed - {key})
        plan[rid] = ([key], " ".join(rest) if rest else None)
    return plan


def _current_tags(ec2, resource_ids):
    """ID -> tags of subnets and security groups among ``resource_ids``."""
    subnets = [r for r in resource_ids if r.startswith("subnet-")]
    groups = [r for r in resource_ids if r.startswith("sg-")]
    other = sorted(set(resource_ids) - set(subnets) - set(groups))
    if other:
        raise KarpenterError(
            "only subnets and security groups are tagged for discovery, not {0}".format(", ".join(other))
        )
    found = {}
    if subnets:
        for rid, item in resolve_subnets(ec2, [{"id": s} for s in subnets]).items():
            found[rid] = tag_map(item.get("Tags"))
    if groups:
        for rid, item in resolve_security_groups(ec2, [{"id": g} for g in groups]).items():
            found[rid] = tag_map(item.get("Tags"))
    missing = sorted(set(resource_ids) - set(found))
    if missing:
        raise KarpenterError("no such subnet or security group: {0}".format(", ".join(missing)), missing=missing)
    return found


def _recorded_resources(ec2, cluster_name):
    """ID -> tags of subnets and security groups whose record lists the discovery tag for this cluster."""
    filters = [
        {"Name": "tag:" + DISCOVERY_TAG, "Values": [cluster_name]},
        {"Name": "tag-key", "Values": [ADDED_TAGS_KEY]},
    ]
    found = {}
    for item in _paged("Describing subnets", ec2.describe_subnets, "Subnets", Filters=filters):
        found[item["SubnetId"]] = tag_map(item.get("Tags"))
    for item in _paged("Describing security groups", ec2.describe_security_groups, "SecurityGroups", Filters=filters):
        found[item["GroupId"]] = tag_map(item.get("Tags"))
    return found


def ensure_tags_present(ec2, cluster_name, resource_ids, check_mode=False):
    """Tag ``resource_ids`` ``karpenter.sh/discovery=<cluster>``, each with its record. Returns ``(changed, state)``.

    Resources that already carry the tag are left alone (and unrecorded: someone else tagged them); one that
    carries it for another cluster is refused.
    """
    current = _current_tags(ec2, resource_ids)
    conflicts = tag_conflicts(current, cluster_name)
    if conflicts:
        raise KarpenterError(
            "these resources carry {0} for another cluster: {1}".format(DISCOVERY_TAG, ", ".join(conflicts)),
            conflicts=conflicts,
        )
    plan = tag_plan(current, cluster_name)
    if not check_mode:
        for rid, tags in plan.items():
            aws_call(
                "Tagging " + rid,
                ec2.create_tags,
                Resources=[rid],
                Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())],
            )
    before = {
        rid: {k: current[rid].get(k) for k in (DISCOVERY_TAG, ADDED_TAGS_KEY) if k in current[rid]}
        for rid in sorted(current)
    }
    after = {rid: dict(before[rid], **plan.get(rid, {})) for rid in sorted(current)}
    return bool(plan), {
        "before": before,
        "after": after,
        "state": {"tag": {DISCOVERY_TAG: cluster_name}, "added": sorted(plan), "record_tag": ADDED_TAGS_KEY},
    }


def ensure_tags_absent(ec2, cluster_name, check_mode=False):
    """Remove the discovery tags this collection recorded it added for ``cluster_name``, and their record."""
    current = _recorded_resources(ec2, cluster_name)
    plan = untag_plan(current, cluster_name)
    if not check_mode:
        for rid, (keys, rest) in plan.items():
            delete = [{"Key": k} for k in keys]
            if rest is None:
                delete.append({"Key": ADDED_TAGS_KEY})
            aws_call("Untagging " + rid, ec2.delete_tags, Resources=[rid], Tags=delete)
            if rest is not None:
                aws_call(
                    "Updating the record on " + rid,
                    ec2.create_tags,
                    Resources=[rid],
                    Tags=[{"Key": ADDED_TAGS_KEY, "Value": rest}],
                )
    before = {rid: {k: current[rid].get(k) for k in (DISCOVERY_TAG, ADDED_TAGS_KEY)} for rid in plan}
    return bool(plan), {
        "before": before,
        "after": {rid: {} for rid in plan},
        "state": {"removed": sorted(plan), "record_tag": ADDED_TAGS_KEY},
    }

# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Removing everything Karpenter runs and made for one cluster, and nothing else.

What belongs to Karpenter is recognised by the tags Karpenter itself sets and filters on
(aws/karpenter-provider-aws):

* instances: ``pkg/providers/instance/instance.go`` ``List`` filters on the tag keys
  ``karpenter.sh/nodepool`` and ``karpenter.k8s.aws/ec2nodeclass`` and on
  ``eks:eks-cluster-name=<cluster>``; it also tags them ``kubernetes.io/cluster/<cluster>=owned``.
  Karpenter 0.16 tagged ``karpenter.sh/provisioner-name`` and ``kubernetes.io/cluster/<cluster>``.
* launch templates: ``pkg/providers/launchtemplate/launchtemplate.go`` ``DeleteAll`` filters on
  ``eks:eks-cluster-name=<cluster>`` and ``karpenter.k8s.aws/ec2nodeclass`` (since 1.1); before,
  and in 0.16, ``karpenter.k8s.aws/cluster=<cluster>``. Karpenter's own getting-started cleanup
  still filters on the old tag and so finds none of 1.x's.
* instance profiles: ``pkg/providers/instanceprofile/instanceprofile.go`` creates them under the
  path ``/karpenter/<region>/<cluster>/<nodeclass uid>/`` since 1.7 (``ListClusterProfiles``
  lists that prefix); 1.0 to 1.6 named them ``<cluster>_<hash>`` at ``/``, tagged
  ``kubernetes.io/cluster/<cluster>=owned`` and ``karpenter.k8s.aws/ec2nodeclass``.

A node group's instances carry ``kubernetes.io/cluster/<cluster>`` too, but never a Karpenter
node pool or provisioner tag, so they are never selected.

The pure part (what is Karpenter's, which finalizers may go, the report) is apart from the
Kubernetes and AWS calls, and tested alone.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

# _kube first: it has the kubernetes library load its generated classes on demand.
from ansible_collections.jit.karpenter.plugins.module_utils._kube import api_error
from ansible_collections.jit.karpenter.plugins.module_utils._aws import aws_call as _call

try:
    from kubernetes.client import AppsV1Api, CoreV1Api, CustomObjectsApi
    from kubernetes.client.exceptions import ApiException
except ImportError:  # handled by the module
    ApiException = Exception

# The collection's ownership mark, on everything it creates outside a CloudFormation stack.
OWNER_TAG_KEY = "jit.karpenter/managed-by"
OWNER_TAG_VALUE = "jit.karpenter"
# On an EC2 resource this collection added tags to: the keys it added, separated by spaces.
ADDED_TAGS_RECORD_KEY = "jit.karpenter/added-tags"

NODEPOOL_TAG = "karpenter.sh/nodepool"
NODECLASS_TAG = "karpenter.k8s.aws/ec2nodeclass"
EKS_CLUSTER_TAG = "eks:eks-cluster-name"
LEGACY_PROVISIONER_TAG = "karpenter.sh/provisioner-name"
LEGACY_LAUNCH_TEMPLATE_CLUSTER_TAG = "karpenter.k8s.aws/cluster"
NODE_FINALIZER = "karpenter.sh/termination"
GONE_STATES = ("shutting-down", "terminated")
MERGE_PATCH = "application/merge-patch+json"

# (group, version, plural, kind); the order is the order of deletion.
V1_KINDS = (
    ("karpenter.sh", "v1", "nodepools", "NodePool"),
    ("karpenter.sh", "v1", "nodeclaims", "NodeClaim"),
    ("karpenter.k8s.aws", "v1", "ec2nodeclasses", "EC2NodeClass"),
)
LEGACY_KINDS = (
    ("karpenter.sh", "v1alpha5", "provisioners", "Provisioner"),
    ("karpenter.sh", "v1alpha5", "machines", "Machine"),
    ("karpenter.k8s.aws", "v1alpha1", "awsnodetemplates", "AWSNodeTemplate"),
)
NODE_LABELS = ("karpenter.sh/nodepool", "karpenter.sh/provisioner-name")
CONTROLLER_NAMESPACES = ("kube-system", "karpenter")


# ---------------------------------------------------------------- pure helpers


def tag_map(tags):
    """``[{"Key": k, "Value": v}]`` (EC2 and IAM lists) as a dict."""
    return {t.get("Key"): t.get("Value") for t in tags or []}


def is_karpenter_instance(tags, cluster):
    """Whether an instance with these tags was launched by Karpenter for ``cluster``."""
    tags = tag_map(tags) if isinstance(tags, list) else dict(tags or {})
    of_cluster = tags.get(EKS_CLUSTER_TAG) == cluster or ("kubernetes.io/cluster/" + cluster) in tags
    return of_cluster and (NODEPOOL_TAG in tags or LEGACY_PROVISIONER_TAG in tags)


def is_karpenter_launch_template(tags, cluster):
    tags = tag_map(tags) if isinstance(tags, list) else dict(tags or {})
    if tags.get(EKS_CLUSTER_TAG) == cluster and NODECLASS_TAG in tags:
        return True
    return tags.get(LEGACY_LAUNCH_TEMPLATE_CLUSTER_TAG) == cluster


def instance_profile_prefix(region, cluster):
    return "/karpenter/{0}/{1}/".format(region, cluster)


def is_karpenter_instance_profile(profile, tags, region, cluster):
    """Karpenter's instance profile for ``cluster``: under its path (1.7+), or named and tagged as 1.0-1.6 did."""
    if (profile.get("Path") or "").startswith(instance_profile_prefix(region, cluster)):
        return True
    tags = tag_map(tags) if isinstance(tags, list) else dict(tags or {})
    return (
        profile.get("Path", "/") == "/"
        and (profile.get("InstanceProfileName") or "").startswith(cluster + "_")
        and tags.get("kubernetes.io/cluster/" + cluster) == "owned"
        and NODECLASS_TAG in tags
    )


def instance_id(provider_id):
    """``aws:///us-east-1a/i-0123`` -> ``i-0123``; None when there is none."""
    if not provider_id:
        return None
    last = str(provider_id).rstrip("/").rsplit("/", 1)[-1]
    return last if last.startswith("i-") else None


def provider_id_of(obj):
    return ((obj.get("status") or {}).get("providerID")) or ((obj.get("spec") or {}).get("providerID"))


def finalizers_removable(obj, live_instance_ids):
    """A NodeClaim's or Node's finalizers may go only once no live instance stands behind it."""
    return instance_id(provider_id_of(obj)) not in set(live_instance_ids)


def added_tags_to_remove(tags, cluster):
    """The tags this collection recorded it added to a resource, and that name ``cluster``.

    Returns ``(keys_to_remove, record_goes)``: the record tag goes when every key it lists goes.
    """
    tags = tag_map(tags) if isinstance(tags, list) else dict(tags or {})
    listed = [k for k in (tags.get(ADDED_TAGS_RECORD_KEY) or "").split() if k]
    remove = [k for k in listed if k in tags and tags[k] == cluster]
    absent = [k for k in listed if k not in tags]
    return sorted(remove), bool(listed) and len(remove) + len(absent) == len(listed)


def has_owner_tag(tags):
    tags = tag_map(tags) if isinstance(tags, list) else dict(tags or {})
    return tags.get(OWNER_TAG_KEY) == OWNER_TAG_VALUE


def entry(kind, ident, **extra):
    item = {"kind": kind, "id": ident}
    item.update(extra)
    return item


# ------------------------------------------------------------------- Kubernetes


class KarpenterObjects(object):
    """Karpenter's custom objects and nodes of a cluster, whatever generation the cluster serves."""

    def __init__(self, client):
        self.custom = CustomObjectsApi(client)
        self.core = CoreV1Api(client)
        self.apps = AppsV1Api(client)

    def list(self, kind):
        group, version, plural, name = kind
        try:
            return self.custom.list_cluster_custom_object(group, version, plural)["items"]
        except ApiException as e:
            if getattr(e, "status", None) == 404:  # the CRD is not served (never installed, or uninstalled)
                return []
            raise api_error(e, "Listing {0}s".format(name))

    def delete(self, kind, name):
        group, version, plural, what = kind
        try:
            self.custom.delete_cluster_custom_object(group, version, plural, name)
        except ApiException as e:
            if getattr(e, "status", None) != 404:
                raise api_error(e, "Deleting {0} {1}".format(what, name))

    def drop_finalizers(self, kind, name):
        group, version, plural, what = kind
        try:
            self.custom.patch_cluster_custom_object(
                group, version, plural, name, {"metadata": {"finalizers": None}}, _content_type=MERGE_PATCH
            )
        except ApiException as e:
            if getattr(e, "status", None) != 404:
                raise api_error(e, "Removing the finalizers of {0} {1}".format(what, name))

    def nodes(self):
        """Karpenter's nodes (labelled with a node pool or, 0.16, a provisioner)."""
        found = {}
        for label in NODE_LABELS:
            try:
                items = self.core.list_node(label_selector=label).items
            except ApiException as e:
                raise api_error(e, "Listing nodes")
            for node in items:
                found[node.metadata.name] = {
                    "metadata": {"name": node.metadata.name, "finalizers": node.metadata.finalizers or []},
                    "spec": {"providerID": node.spec.provider_id},
                }
        return [found[k] for k in sorted(found)]

    def delete_node(self, name):
        try:
            self.core.patch_node(name, {"metadata": {"finalizers": None}}, _content_type=MERGE_PATCH)
            self.core.delete_node(name)
        except ApiException as e:
            if getattr(e, "status", None) != 404:
                raise api_error(e, "Deleting node {0}".format(name))

    def controller_present(self):
        """Whether a Karpenter controller Deployment exists (kube-system or karpenter)."""
        for namespace in CONTROLLER_NAMESPACES:
            try:
                items = self.apps.list_namespaced_deployment(
                    namespace, label_selector="app.kubernetes.io/name=karpenter"
                ).items
            except ApiException as e:
                if getattr(e, "status", None) == 404:
                    continue
                raise api_error(e, "Listing deployments in {0}".format(namespace))
            if items:
                return True
        return False


def _names(items):
    return sorted(i["metadata"]["name"] for i in items)


# ------------------------------------------------------------------------- AWS


def live_instances(ec2, cluster, keys=(NODEPOOL_TAG, LEGACY_PROVISIONER_TAG)):
    """Karpenter's instances of ``cluster`` tagged with one of ``keys`` and not (being) terminated:
    ``{id: instance}`` as DescribeInstances gives them."""
    found = {}
    for key in keys:
        filters = [{"Name": "tag-key", "Values": [key]}]
        token = None
        while True:
            kwargs = {"Filters": filters}
            if token:
                kwargs["NextToken"] = token
            page = _call("Listing Karpenter's instances (ec2:DescribeInstances)", ec2.describe_instances, **kwargs)
            for reservation in page.get("Reservations") or []:
                for inst in reservation.get("Instances") or []:
                    state = (inst.get("State") or {}).get("Name")
                    if state not in GONE_STATES and is_karpenter_instance(inst.get("Tags"), cluster):
                        found[inst["InstanceId"]] = inst
            token = page.get("NextToken")
            if not token:
                break
    return found


def karpenter_instances(ec2, cluster):
    """Karpenter's instances of ``cluster`` that are not (being) terminated: ``{id: state}``."""
    return {ident: (inst.get("State") or {}).get("Name") for ident, inst in live_instances(ec2, cluster).items()}


def karpenter_launch_templates(ec2, cluster):
    """``{id: name}`` of Karpenter's launch templates of ``cluster``."""
    found, token = {}, None
    while True:
        kwargs = {"NextToken": token} if token else {}
        page = _call("Listing launch templates (ec2:DescribeLaunchTemplates)", ec2.describe_launch_templates, **kwargs)
        for lt in page.get("LaunchTemplates") or []:
            if is_karpenter_launch_template(lt.get("Tags"), cluster):
                found[lt["LaunchTemplateId"]] = lt.get("LaunchTemplateName")
        token = page.get("NextToken")
        if not token:
            return found


def karpenter_instance_profiles(iam, region, cluster):
    """``{name: [role names]}`` of Karpenter's instance profiles of ``cluster``."""
    found, marker = {}, None
    while True:
        kwargs = {"Marker": marker} if marker else {}
        page = _call("Listing instance profiles (iam:ListInstanceProfiles)", iam.list_instance_profiles, **kwargs)
        for profile in page.get("InstanceProfiles") or []:
            name = profile["InstanceProfileName"]
            tags = []
            if profile.get("Path", "/") == "/" and name.startswith(cluster + "_"):
                tags = _call(
                    "Reading the tags of instance profile " + name,
                    iam.list_instance_profile_tags,
                    InstanceProfileName=name,
                ).get("Tags")
            if is_karpenter_instance_profile(profile, tags, region, cluster):
                found[name] = sorted(r["RoleName"] for r in profile.get("Roles") or [])
        marker = page.get("Marker") if page.get("IsTruncated") else None
        if not marker:
            return found


def tagged_by_us(ec2, cluster):
    """``{resource id: keys to remove, record goes}`` for subnets and security groups this collection tagged."""
    found = {}
    filters = [{"Name": "tag-key", "Values": [ADDED_TAGS_RECORD_KEY]}]
    for what, fn, items_key, id_key in (
        ("subnets", ec2.describe_subnets, "Subnets", "SubnetId"),
        ("security groups", ec2.describe_security_groups, "SecurityGroups", "GroupId"),
    ):
        page = _call("Listing " + what + " this collection tagged", fn, Filters=filters)
        for item in page.get(items_key) or []:
            keys, record_goes = added_tags_to_remove(item.get("Tags"), cluster)
            if keys:
                found[item[id_key]] = (keys, record_goes)
    return found


def _terminate(ec2, ids):
    for start in range(0, len(ids), 500):
        _call("Terminating Karpenter's instances", ec2.terminate_instances, InstanceIds=ids[start : start + 500])


def _delete_launch_template(ec2, lt_id):
    _call(
        "Deleting launch template " + lt_id,
        ec2.delete_launch_template,
        missing=_launch_template_gone,
        LaunchTemplateId=lt_id,
    )


def _launch_template_gone(code):
    return "NotFound" in (code or "")


def _delete_instance_profile(iam, name, roles):
    for role in roles:
        _call(
            "Removing role {0} from instance profile {1}".format(role, name),
            iam.remove_role_from_instance_profile,
            InstanceProfileName=name,
            RoleName=role,
        )
    _call(
        "Deleting instance profile " + name,
        iam.delete_instance_profile,
        missing=("NoSuchEntity",),
        InstanceProfileName=name,
    )


def _untag(ec2, resource_id, keys, record_goes):
    tags = [{"Key": k} for k in keys] + ([{"Key": ADDED_TAGS_RECORD_KEY}] if record_goes else [])
    _call(
        "Removing tags {0} from {1}".format(", ".join(keys), resource_id),
        ec2.delete_tags,
        Resources=[resource_id],
        Tags=tags,
    )


# ------------------------------------------------------------------- inventory


def inventory(objects, ec2, iam, region, cluster, discovery_tags=True):
    """Everything of Karpenter's for ``cluster`` that exists now, as report entries."""
    items = []
    kube = {}
    for kind in V1_KINDS + LEGACY_KINDS:
        kube[kind] = objects.list(kind)
        items += [entry(kind[3], name) for name in _names(kube[kind])]
    nodes = objects.nodes()
    items += [entry("Node", name) for name in _names(nodes)]
    instances = karpenter_instances(ec2, cluster)
    items += [entry("EC2 instance", i, state=s) for i, s in sorted(instances.items())]
    templates = karpenter_launch_templates(ec2, cluster)
    items += [entry("launch template", i, name=n) for i, n in sorted(templates.items())]
    profiles = karpenter_instance_profiles(iam, region, cluster)
    items += [entry("instance profile", n, roles=r) for n, r in sorted(profiles.items())]
    tagged = tagged_by_us(ec2, cluster) if discovery_tags else {}
    items += [entry("discovery tags", rid, keys=k) for rid, (k, _goes) in sorted(tagged.items())]
    return {
        "kube": kube,
        "nodes": nodes,
        "instances": instances,
        "templates": templates,
        "profiles": profiles,
        "tagged": tagged,
        "items": items,
    }


# ------------------------------------------------------------------------ run


def _wait(predicate, timeout, sleep, interval=5):
    deadline = time.time() + timeout
    while True:
        if predicate():
            return True
        if time.time() >= deadline:
            return False
        sleep(interval)


def ensure_absent(
    objects, ec2, iam, region, cluster, wait_timeout=600, discovery_tags=True, check_mode=False, sleep=time.sleep
):
    """Remove every node and resource of Karpenter's for ``cluster``.

    1. Delete every NodePool, NodeClaim and EC2NodeClass (0.16: Provisioner, AWSNodeTemplate, and
       its nodes), and, while a controller Deployment exists, wait up to ``wait_timeout`` seconds
       for the controller to drain and terminate their nodes.
    2. Terminate Karpenter's instances of the cluster that are still running (the controller is
       gone or did not finish), and wait for them to shut down.
    3. Remove finalizers only from objects whose instance is gone; delete Karpenter's Node objects.
    4. Delete Karpenter's launch templates and instance profiles (roles removed first), and the
       discovery tags this collection recorded it added.

    Returns ``(changed, {"removed": [...], "left_over": [...], "controller": bool, "swept": [...]})``.
    """
    before = inventory(objects, ec2, iam, region, cluster, discovery_tags)
    state = {"removed": before["items"], "left_over": [], "swept": [], "controller": None}
    if not before["items"]:
        return False, state
    if check_mode:
        return True, state

    # 1. Ask the controller.
    for kind in V1_KINDS + LEGACY_KINDS:
        for name in _names(before["kube"][kind]):
            objects.delete(kind, name)
    if before["kube"][LEGACY_KINDS[0]]:
        # Karpenter 0.16 drains and terminates a node when its Node object is deleted.
        for name in _names(before["nodes"]):
            try:
                objects.core.delete_node(name)
            except ApiException as e:
                if getattr(e, "status", None) != 404:
                    raise api_error(e, "Deleting node " + name)
    state["controller"] = objects.controller_present()

    def drained():
        claims_or_classes = (V1_KINDS[1], V1_KINDS[2], LEGACY_KINDS[1])
        return (
            not any(objects.list(kind) for kind in claims_or_classes)
            and not objects.nodes()
            and not karpenter_instances(ec2, cluster)
        )

    if state["controller"]:
        _wait(drained, wait_timeout, sleep)

    # 2. What the controller left running, terminated here.
    live = karpenter_instances(ec2, cluster)
    if live:
        ids = sorted(live)
        _terminate(ec2, ids)
        state["swept"] = ids
        _wait(lambda: not karpenter_instances(ec2, cluster), wait_timeout, sleep)
    live = karpenter_instances(ec2, cluster)

    # 3. Finalizers, only where no instance stands behind the object.
    for kind in (V1_KINDS[1], LEGACY_KINDS[1]):
        for obj in objects.list(kind):
            if finalizers_removable(obj, live):
                objects.drop_finalizers(kind, obj["metadata"]["name"])
    for node in objects.nodes():
        if finalizers_removable(node, live):
            objects.delete_node(node["metadata"]["name"])

    # 4. What Karpenter made in AWS.
    for lt_id in sorted(karpenter_launch_templates(ec2, cluster)):
        _delete_launch_template(ec2, lt_id)
    for name, roles in sorted(karpenter_instance_profiles(iam, region, cluster).items()):
        _delete_instance_profile(iam, name, roles)
    if discovery_tags:
        for resource_id, (keys, record_goes) in sorted(tagged_by_us(ec2, cluster).items()):
            _untag(ec2, resource_id, keys, record_goes)
    if not live:
        # Node pools and node classes have no nodes left; a finalizer the controller can no longer
        # remove would only keep the CRDs from being uninstalled.
        for kind in (V1_KINDS[0], V1_KINDS[2], LEGACY_KINDS[0], LEGACY_KINDS[2]):
            for obj in objects.list(kind):
                if obj["metadata"].get("finalizers"):
                    objects.drop_finalizers(kind, obj["metadata"]["name"])

    # Deleted objects whose finalizers just went disappear a moment later.
    _wait(lambda: not any(objects.list(kind) for kind in V1_KINDS + LEGACY_KINDS), min(wait_timeout, 60), sleep, 1)
    after = inventory(objects, ec2, iam, region, cluster, discovery_tags)
    left = {(i["kind"], i["id"]) for i in after["items"]}
    state["left_over"] = after["items"]
    state["removed"] = [i for i in before["items"] if (i["kind"], i["id"]) not in left]
    return True, state


def run(clients, params, check_mode=False, region=None):
    """The ``karpenter_teardown`` module's entry point (see ``_runner``)."""
    changed, state = ensure_absent(
        KarpenterObjects(clients.kube()),
        clients.aws("ec2"),
        clients.aws("iam"),
        region,
        params["cluster_name"],
        wait_timeout=params["wait_timeout"],
        discovery_tags=params["discovery_tags"],
        check_mode=check_mode,
    )
    result = dict(changed=changed, **state)
    result["diff"] = {
        "before": {"resources": state["removed"] + state["left_over"]},
        "after": {"resources": state["left_over"]},
    }
    return result

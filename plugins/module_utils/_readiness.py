# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether Karpenter works: its EC2NodeClasses' and NodePools' conditions read as a verdict with likely fixes.

Karpenter v1 reports on each EC2NodeClass the conditions SubnetsReady, SecurityGroupsReady, AMIsReady,
InstanceProfileReady, ValidationSucceeded and their sum Ready; on each NodePool NodeClassReady,
ValidationSucceeded and Ready (karpenter-provider-aws pkg/apis/v1/ec2nodeclass_status.go,
sigs.k8s.io/karpenter pkg/apis/v1/nodepool_status.go). Pure functions, no client.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# The likely fix for a condition that is not True, by kind and condition type.
FIXES = {
    ("EC2NodeClass", "SubnetsReady"): (
        "its subnet_selector_terms match no subnet: leave them out to select the subnets of the cluster's nodes"
        " (karpenter_discovery: cluster), set karpenter_discovery: tag, or fix the terms"
    ),
    ("EC2NodeClass", "SecurityGroupsReady"): (
        "its security_group_selector_terms match no security group: leave them out to select the cluster"
        " security group, or fix the terms"
    ),
    ("EC2NodeClass", "AMIsReady"): (
        "its ami_selector_terms match no AMI for this Kubernetes version and region: use alias al2023@latest or"
        " fix the terms"
    ),
    ("EC2NodeClass", "InstanceProfileReady"): (
        "the controller could not make the instance profile of the node role: check that the role exists and"
        " that the controller's role has the KarpenterControllerIAMIntegrationPolicy"
    ),
    ("EC2NodeClass", "ValidationSucceeded"): (
        "AWS refused the controller's dry-run launch: check the controller's IAM policies and the node class's tags"
    ),
    ("NodePool", "NodeClassReady"): "its EC2NodeClass is not Ready (see the EC2NodeClass's line)",
    ("NodePool", "ValidationSucceeded"): "fix the NodePool's requirements, taints or labels as the message says",
}
NO_CONTROLLER = (
    "no condition reported: the Karpenter controller has not reconciled it; check that its pods run"
    " (kubectl -n {namespace} get pods -l app.kubernetes.io/name=karpenter) and read their logs"
)
ORDER = (
    "SubnetsReady",
    "SecurityGroupsReady",
    "AMIsReady",
    "InstanceProfileReady",
    "NodeClassReady",
    "ValidationSucceeded",
    "Ready",
)


def _conditions(obj):
    return {c.get("type"): c for c in ((obj.get("status") or {}).get("conditions") or [])}


def object_problem(obj, namespace="kube-system"):
    """One line naming the object, each condition that is not True with its message, and the likely fix.

    None when the object's Ready condition is True.
    """
    kind = obj.get("kind")
    name = (obj.get("metadata") or {}).get("name")
    conditions = _conditions(obj)
    ready = conditions.get("Ready")
    if ready and ready.get("status") == "True":
        return None
    if not conditions:
        return "{0} {1}: {2}".format(kind, name, NO_CONTROLLER.format(namespace=namespace))
    failing = [t for t in ORDER if t != "Ready" and t in conditions and conditions[t].get("status") != "True"]
    failing += sorted(t for t in conditions if t not in ORDER and conditions[t].get("status") != "True")
    parts = []
    for ctype in failing or ["Ready"]:
        cond = conditions.get(ctype) or {"status": "Unknown"}
        text = "{0}={1}".format(ctype, cond.get("status"))
        message = cond.get("message") or cond.get("reason")
        if message:
            text += ", " + message
        parts.append(text)
    fixes = [FIXES[(kind, t)] for t in failing if (kind, t) in FIXES]
    line = "{0} {1}: {2}".format(kind, name, "; ".join(parts))
    if fixes:
        line += " (likely fix: " + "; ".join(fixes) + ")"
    return line


def verdict(objects, namespace="kube-system"):
    """``{"ready": bool, "problems": [...], "ready_objects": [...]}`` for EC2NodeClasses and NodePools.

    Node classes come first: a NodePool waits on its node class.
    """
    order = {"EC2NodeClass": 0, "NodePool": 1}
    problems, ready = [], []
    for obj in sorted(objects, key=lambda o: (order.get(o.get("kind"), 2), (o.get("metadata") or {}).get("name"))):
        problem = object_problem(obj, namespace)
        label = "{0} {1}".format(obj.get("kind"), (obj.get("metadata") or {}).get("name"))
        if problem:
            problems.append(problem)
        else:
            ready.append(label)
    return {"ready": not problems and bool(objects), "problems": problems, "ready_objects": ready}


def allows_spot(requirements):
    """Whether a NodePool's requirements (the nodepool module's ``requirements``) admit Spot capacity.

    Without a ``karpenter.sh/capacity-type`` requirement Karpenter launches on-demand only.
    """
    allowed = None
    for req in requirements or []:
        if req.get("key") != "karpenter.sh/capacity-type":
            continue
        operator, values = req.get("operator"), [str(v) for v in req.get("values") or []]
        if operator == "In":
            this = "spot" in values
        elif operator == "NotIn":
            this = "spot" not in values
        elif operator == "Exists":
            this = True
        else:
            this = False
        allowed = this if allowed is None else (allowed and this)
    return bool(allowed)

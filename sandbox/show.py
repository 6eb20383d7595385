"""Print what the playbooks made on the sandbox: python -m sandbox.show (with .sandbox/env sourced)."""

import json
import os
import subprocess
import sys

import boto3
import yaml
from kubernetes import client, config


def _section(title):
    print("\n== %s" % title)


def main():
    cluster = os.environ.get("SANDBOX_CLUSTER", "demo")
    cfn, iam = boto3.client("cloudformation"), boto3.client("iam")
    _section("CloudFormation stack Karpenter-%s" % cluster)
    try:
        stack = cfn.describe_stacks(StackName="Karpenter-%s" % cluster)["Stacks"][0]
        print("status: %s" % stack["StackStatus"])
        for out in sorted(stack.get("Outputs", []), key=lambda o: o["OutputKey"]):
            print("  %-28s %s" % (out["OutputKey"], out["OutputValue"]))
    except cfn.exceptions.ClientError as e:
        print("  (none: %s)" % e.response["Error"]["Message"])

    _section("IAM OIDC providers")
    for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
        print("  %s" % p["Arn"])

    _section("Controller role %s-karpenter" % cluster)
    try:
        role = iam.get_role(RoleName="%s-karpenter" % cluster)["Role"]
        print("  trust: %s" % json.dumps(role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]))
        for pol in iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"]:
            print("  policy: %s" % pol["PolicyName"])
    except iam.exceptions.NoSuchEntityException:
        print("  (none)")

    api = config.new_client_from_config()
    core = client.CoreV1Api(api)
    _section("kube-system/aws-auth mapRoles")
    cm = core.read_namespaced_config_map("aws-auth", "kube-system")
    for entry in yaml.safe_load(cm.data.get("mapRoles") or "[]"):
        print("  %s -> %s %s" % (entry["rolearn"], entry.get("username"), entry.get("groups")))

    _section("Helm releases")
    print(subprocess.run(["helm", "list", "-A"], capture_output=True, text=True, check=False).stdout.rstrip())

    custom = client.CustomObjectsApi(api)
    _section("NodePools and EC2NodeClasses")
    for group, plural in (("karpenter.sh", "nodepools"), ("karpenter.k8s.aws", "ec2nodeclasses")):
        try:
            items = custom.list_cluster_custom_object(group, "v1", plural)["items"]
        except client.exceptions.ApiException:
            items = []
        for item in items:
            print("  %s/%s" % (plural, item["metadata"]["name"]))
            print("    " + json.dumps(item["spec"], sort_keys=True)[:400])

    _section("inflate")
    pods = core.list_namespaced_pod("default", label_selector="app=inflate").items
    for pod in pods:
        cond = [c for c in (pod.status.conditions or []) if c.type == "PodScheduled"]
        why = cond[0].message if cond and cond[0].status != "True" else ""
        print("  %s %s %s %s" % (pod.metadata.name, pod.status.phase, pod.spec.node_name or "-", why))
    if not pods:
        print("  (no pods)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

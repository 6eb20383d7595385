# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Set up a throwaway EKS cluster and read its access entries and Pod Identity associations, as JSON
(an independent read for the eks_access_entry and eks_pod_identity_association targets).

  eks_itest.py create-cluster NAME NETWORK_FROM   cluster in API_AND_CONFIG_MAP mode, on NETWORK_FROM's subnets
  eks_itest.py delete-cluster NAME
  eks_itest.py entry CLUSTER PRINCIPAL_ARN
  eks_itest.py associations CLUSTER NAMESPACE SERVICE_ACCOUNT
"""

import json
import sys

import boto3
import botocore

eks = boto3.client("eks")


def _missing(err):
    return err.response["Error"]["Code"] == "ResourceNotFoundException"


def create_cluster(name, network_from):
    try:
        cluster = eks.describe_cluster(name=name)["cluster"]
        created = False
    except botocore.exceptions.ClientError as e:
        if not _missing(e):
            raise
        template = eks.describe_cluster(name=network_from)["cluster"]
        cluster = eks.create_cluster(
            name=name,
            roleArn=template["roleArn"],
            resourcesVpcConfig={"subnetIds": template["resourcesVpcConfig"]["subnetIds"]},
            accessConfig={"authenticationMode": "API_AND_CONFIG_MAP", "bootstrapClusterCreatorAdminPermissions": False},
        )["cluster"]
        created = True
    return {"created": created, "name": name, "authentication_mode": cluster["accessConfig"]["authenticationMode"]}


def delete_cluster(name):
    try:
        eks.delete_cluster(name=name)
    except botocore.exceptions.ClientError as e:
        if not _missing(e):
            raise
        return {"deleted": False}
    return {"deleted": True}


def entry(cluster, principal):
    try:
        found = eks.describe_access_entry(clusterName=cluster, principalArn=principal)["accessEntry"]
    except botocore.exceptions.ClientError as e:
        if not _missing(e):
            raise
        return {"exists": False}
    policies = eks.list_associated_access_policies(clusterName=cluster, principalArn=principal)
    return {
        "exists": True,
        "type": found.get("type"),
        "username": found.get("username"),
        "kubernetes_groups": sorted(found.get("kubernetesGroups") or []),
        "tags": found.get("tags") or {},
        "access_policies": sorted(
            (
                {
                    "policy_arn": p["policyArn"],
                    "scope": p["accessScope"]["type"],
                    "namespaces": sorted(p["accessScope"].get("namespaces") or []),
                }
                for p in policies.get("associatedAccessPolicies") or []
            ),
            key=lambda p: p["policy_arn"],
        ),
    }


def associations(cluster, namespace, service_account):
    found = eks.list_pod_identity_associations(
        clusterName=cluster, namespace=namespace, serviceAccount=service_account
    )["associations"]
    result = []
    for summary in found:
        association = eks.describe_pod_identity_association(
            clusterName=cluster, associationId=summary["associationId"]
        )["association"]
        result.append(
            {
                "association_id": association["associationId"],
                "role_arn": association["roleArn"],
                "tags": association.get("tags") or {},
            }
        )
    return {"count": len(result), "associations": result}


COMMANDS = {
    "create-cluster": create_cluster,
    "delete-cluster": delete_cluster,
    "entry": entry,
    "associations": associations,
}

if __name__ == "__main__":
    print(json.dumps(COMMANDS[sys.argv[1]](*sys.argv[2:])))

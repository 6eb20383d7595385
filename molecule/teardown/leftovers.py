"""Print, as JSON, what of Karpenter's is in the AWS emulator for a cluster, read with boto3 alone.

    python leftovers.py <cluster> <region>

Independent of the collection's own detection: instances not terminated that carry a
karpenter.sh/nodepool tag, launch templates tagged eks:eks-cluster-name=<cluster> (Karpenter 1.x),
instance profiles under /karpenter/<region>/<cluster>/ (Karpenter 1.7+), and any instance of the
cluster that is still running (the node group's must be there).
"""

import json
import sys

import boto3


def main(cluster, region):
    ec2 = boto3.client("ec2", region_name=region)
    iam = boto3.client("iam", region_name=region)
    live = ["pending", "running", "stopping", "stopped"]
    reservations = ec2.describe_instances(
        Filters=[{"Name": "tag-key", "Values": ["karpenter.sh/nodepool"]}, {"Name": "instance-state-name", "Values": live}]
    )["Reservations"]
    instances = [i["InstanceId"] for r in reservations for i in r["Instances"]]
    cluster_reservations = ec2.describe_instances(
        Filters=[{"Name": "tag-key", "Values": ["kubernetes.io/cluster/" + cluster]}, {"Name": "instance-state-name", "Values": live}]
    )["Reservations"]
    templates = [
        lt["LaunchTemplateId"]
        for lt in ec2.describe_launch_templates()["LaunchTemplates"]
        if {"Key": "eks:eks-cluster-name", "Value": cluster} in (lt.get("Tags") or [])
    ]
    profiles = [
        p["InstanceProfileName"]
        for p in iam.list_instance_profiles(PathPrefix="/karpenter/%s/%s/" % (region, cluster))["InstanceProfiles"]
    ]
    print(
        json.dumps(
            {
                "instances": instances,
                "launch_templates": templates,
                "instance_profiles": profiles,
                "cluster_instances": [i["InstanceId"] for r in cluster_reservations for i in r["Instances"]],
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

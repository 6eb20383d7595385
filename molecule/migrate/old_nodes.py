"""Seed what Karpenter 0.16 leaves on a cluster: its instances and their Nodes (the sandbox runs no 0.16 controller).

    python old_nodes.py seed <cluster> <provisioner> <count>   (prints the instance IDs as JSON)

Idempotent: instances already tagged for the provisioner count. Each instance is launched as 0.16 launched
them (Karpenter v0.16.3, pkg/cloudprovider/aws: instance.go and launchtemplate.go): in a private subnet and
the security group of the AWSNodeTemplate's selectors (the walkthrough's alpha.eksctl.io/cluster-name), with
the chart's default instance profile, tagged with the AWSNodeTemplate's tags and 0.16's own:
``karpenter.sh/provisioner-name: <provisioner>``, ``Name: karpenter.sh/provisioner-name/<provisioner>`` and
``kubernetes.io/cluster/<cluster>: owned``. Its Node is the one a kubelet registers (named after the private
DNS name, providerID ``aws:///<zone>/<id>``) with the labels 0.16 puts on its nodes (the Provisioner's labels,
``karpenter.sh/provisioner-name``, ``karpenter.sh/capacity-type``, the instance type's, ``karpenter.sh/initialized``)
and 0.16's finalizer ``karpenter.sh/termination``; kwok keeps it Ready (annotation ``kwok.x-k8s.io/node``).
Credentials and endpoints: the AWS_* environment and $KUBECONFIG.
"""

import json
import sys

import boto3
from kubernetes import client, config

TEMPLATE_TAGS = {"KarpenerProvisionerName": "default", "NodeType": "karpenter-workshop", "IntentLabel": "apps"}
INSTANCE_TYPE = "m5.xlarge"


def seed(cluster, provisioner, count):
    ec2 = boto3.client("ec2")
    selector = [{"Name": "tag:alpha.eksctl.io/cluster-name", "Values": [cluster]}]
    subnets = sorted((s for s in ec2.describe_subnets(Filters=selector)["Subnets"] if not s.get("MapPublicIpOnLaunch")
                      and "Private" in {t["Key"]: t["Value"] for t in s.get("Tags", [])}.get("Name", "")),
                     key=lambda s: s["AvailabilityZone"])
    group = ec2.describe_security_groups(Filters=selector)["SecurityGroups"][0]["GroupId"]
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    tags = dict(TEMPLATE_TAGS, **{"karpenter.sh/provisioner-name": provisioner,
                                 "Name": "karpenter.sh/provisioner-name/" + provisioner,
                                 "kubernetes.io/cluster/" + cluster: "owned"})
    live = [i for r in ec2.describe_instances(Filters=[
        {"Name": "tag:karpenter.sh/provisioner-name", "Values": [provisioner]},
        {"Name": "instance-state-name", "Values": ["pending", "running"]}])["Reservations"] for i in r["Instances"]]
    for n in range(len(live), count):
        subnet = subnets[n % len(subnets)]["SubnetId"]
        live += ec2.run_instances(
            ImageId=image, InstanceType=INSTANCE_TYPE, MinCount=1, MaxCount=1, SubnetId=subnet,
            SecurityGroupIds=[group], IamInstanceProfile={"Name": "KarpenterNodeInstanceProfile-" + cluster},
            TagSpecifications=[{"ResourceType": rt, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
                               for rt in ("instance", "volume")])["Instances"]
    config.load_kube_config()
    core = client.CoreV1Api()
    existing = {n.metadata.name for n in core.list_node().items}
    for inst in live:
        name, zone = inst["PrivateDnsName"], inst["Placement"]["AvailabilityZone"]
        if name in existing:
            continue
        core.create_node({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {
                "name": name,
                "finalizers": ["karpenter.sh/termination"],
                "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
                "labels": {
                    "intent": "apps", "karpenter.sh/provisioner-name": provisioner,
                    "karpenter.sh/capacity-type": "on-demand", "karpenter.sh/initialized": "true",
                    "karpenter.k8s.aws/instance-category": "m", "karpenter.k8s.aws/instance-family": "m5",
                    "karpenter.k8s.aws/instance-size": "xlarge", "karpenter.k8s.aws/instance-cpu": "4",
                    "node.kubernetes.io/instance-type": INSTANCE_TYPE, "kubernetes.io/arch": "amd64",
                    "kubernetes.io/os": "linux", "kubernetes.io/hostname": name,
                    "topology.kubernetes.io/zone": zone, "topology.kubernetes.io/region": zone[:-1],
                },
            },
            "spec": {"providerID": "aws:///%s/%s" % (zone, inst["InstanceId"])},
            "status": {
                "capacity": {"cpu": "4", "memory": "15Gi", "pods": "58"},
                "allocatable": {"cpu": "3920m", "memory": "14Gi", "pods": "58"},
                "addresses": [{"type": "InternalIP", "address": inst.get("PrivateIpAddress", "")},
                              {"type": "InternalDNS", "address": name}, {"type": "Hostname", "address": name}],
                "nodeInfo": {"architecture": "amd64", "operatingSystem": "linux", "kubeletVersion": "v1.23.9-eks",
                             "containerRuntimeVersion": "containerd://1.6.6", "osImage": "Amazon Linux 2",
                             "kernelVersion": "5.4.0", "machineID": "", "systemUUID": "", "bootID": "",
                             "kubeProxyVersion": ""},
            },
        })
    return sorted(i["InstanceId"] for i in live)


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] != "seed":
        sys.exit(__doc__)
    print(json.dumps(seed(sys.argv[2], sys.argv[3], int(sys.argv[4]))))

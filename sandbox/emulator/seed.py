"""Create, in the AWS emulator, what a fresh eksctl-created EKS cluster has.

Idempotent: existing resources are found by tag or name and reused; only the sandbox
overrides (endpoint, CA, OIDC issuer, version, authentication mode) are re-applied.

    python -m sandbox.emulator.seed --endpoint-url http://127.0.0.1:5000 --region us-east-1 \
        --cluster demo --kubernetes-version 1.36 --apiserver-url https://127.0.0.1:6443 \
        --ca-file ca.pem --oidc-issuer "$(python -c '...new_oidc_issuer(...)')" --out seed.json
"""

import argparse
import base64
import hashlib
import json
import sys
import urllib.error
import urllib.request

import boto3
import botocore.exceptions

from .patches import issuer_url

VPC_CIDR = "192.168.0.0/16"
# eksctl's private subnets: one /19 per availability zone.
PRIVATE_SUBNET_CIDRS = ("192.168.64.0/19", "192.168.96.0/19")
NODEGROUP = "ng-1"
NODE_INSTANCE_TYPE = "m5.large"
NODE_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryReadOnly",
    "AmazonSSMManagedInstanceCore",
)
CLUSTER_POLICIES = ("AmazonEKSClusterPolicy", "AmazonEKSVPCResourceController")
NODE_AMI_PARAMETER = (
    "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
)


def new_oidc_issuer(region):
    """A fresh issuer URL shaped like EKS's: https://oidc.eks.<region>.amazonaws.com/id/<32 hex>."""
    return issuer_url(region)


def _trust(service):
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )


def _cfn_name(prefix, seed):
    """A CloudFormation-style physical name ``<prefix>-<SUFFIX>``, at most 64 characters.

    The suffix is derived from ``seed`` so reruns compute the same name.
    """
    suffix = hashlib.sha256(seed.encode()).hexdigest()[:12].upper()
    return f"{prefix[: 64 - len(suffix) - 1]}-{suffix}"


def _tag_list(tags):
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


class _Seeder:
    def __init__(self, endpoint_url, region, cluster_name):
        session = boto3.session.Session(region_name=region)
        extra = {}
        if session.get_credentials() is None:
            extra = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        self.endpoint_url = endpoint_url.rstrip("/")
        self.region = region
        self.cluster = cluster_name

        def client(name):
            return session.client(name, endpoint_url=self.endpoint_url, **extra)

        self.ec2 = client("ec2")
        self.iam = client("iam")
        self.eks = client("eks")
        self.ssm = client("ssm")
        self.sts = client("sts")
        self.base_tags = {
            "alpha.eksctl.io/cluster-name": cluster_name,
            "eksctl.cluster.k8s.io/v1alpha1/cluster-name": cluster_name,
            "karpenter.sh/discovery": cluster_name,
        }

    # -- network ---------------------------------------------------------------------------
    def _by_tags(self, describe, key, extra_filters=()):
        filters = [
            {"Name": "tag:alpha.eksctl.io/cluster-name", "Values": [self.cluster]},
            *extra_filters,
        ]
        return describe(Filters=filters)[key]

    def vpc(self):
        found = self._by_tags(self.ec2.describe_vpcs, "Vpcs")
        if found:
            return found[0]["VpcId"]
        tags = dict(self.base_tags, Name=f"eksctl-{self.cluster}-cluster/VPC")
        vpc = self.ec2.create_vpc(
            CidrBlock=VPC_CIDR,
            TagSpecifications=[{"ResourceType": "vpc", "Tags": _tag_list(tags)}],
        )["Vpc"]["VpcId"]
        self.ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        return vpc

    def subnets(self, vpc_id):
        result = []
        for letter, cidr in zip("ab", PRIVATE_SUBNET_CIDRS):
            zone = self.region + letter
            found = self._by_tags(
                self.ec2.describe_subnets,
                "Subnets",
                [
                    {"Name": "vpc-id", "Values": [vpc_id]},
                    {"Name": "availability-zone", "Values": [zone]},
                ],
            )
            if found:
                result.append((found[0]["SubnetId"], zone))
                continue
            tags = dict(
                self.base_tags,
                Name="eksctl-{}-cluster/SubnetPrivate{}".format(
                    self.cluster, zone.replace("-", "").upper()
                ),
            )
            tags[f"kubernetes.io/cluster/{self.cluster}"] = "shared"
            tags["kubernetes.io/role/internal-elb"] = "1"
            subnet = self.ec2.create_subnet(
                VpcId=vpc_id,
                CidrBlock=cidr,
                AvailabilityZone=zone,
                TagSpecifications=[{"ResourceType": "subnet", "Tags": _tag_list(tags)}],
            )["Subnet"]["SubnetId"]
            result.append((subnet, zone))
        return result

    # -- IAM -------------------------------------------------------------------------------
    def _role(self, prefix, service, policies, extra_tags):
        name = _cfn_name(prefix, f"{self.region}/{prefix}")
        try:
            role = self.iam.get_role(RoleName=name)["Role"]
        except self.iam.exceptions.NoSuchEntityException:
            role = self.iam.create_role(
                RoleName=name,
                AssumeRolePolicyDocument=_trust(service),
                Tags=_tag_list(dict(self.base_tags, **extra_tags)),
            )["Role"]
        attached = {
            p["PolicyName"]
            for p in self.iam.list_attached_role_policies(RoleName=name)[
                "AttachedPolicies"
            ]
        }
        for policy in policies:
            if policy not in attached:
                self.iam.attach_role_policy(
                    RoleName=name, PolicyArn=f"arn:aws:iam::aws:policy/{policy}"
                )
        return role

    def cluster_role(self):
        return self._role(
            f"eksctl-{self.cluster}-cluster-ServiceRole",
            "eks.amazonaws.com",
            CLUSTER_POLICIES,
            {},
        )

    def node_role(self):
        return self._role(
            f"eksctl-{self.cluster}-nodegroup-{NODEGROUP}-NodeInstanceRole",
            "ec2.amazonaws.com",
            NODE_POLICIES,
            {
                "alpha.eksctl.io/nodegroup-name": NODEGROUP,
                "alpha.eksctl.io/nodegroup-type": "managed",
            },
        )

    def instance_profile(self, role_name, nodegroup_arn):
        profiles = self.iam.list_instance_profiles_for_role(RoleName=role_name)[
            "InstanceProfiles"
        ]
        if profiles:
            return profiles[0]
        # EKS names a managed node group's instance profile eks-<node group id>.
        name = "eks-" + nodegroup_arn.rsplit("/", 1)[1]
        profile = self.iam.create_instance_profile(InstanceProfileName=name)[
            "InstanceProfile"
        ]
        self.iam.add_role_to_instance_profile(
            InstanceProfileName=name, RoleName=role_name
        )
        return profile

    # -- EKS -------------------------------------------------------------------------------
    def eks_cluster(self, version, role_arn, subnet_ids, authentication_mode):
        try:
            return self.eks.describe_cluster(name=self.cluster)["cluster"]
        except self.eks.exceptions.ResourceNotFoundException:
            pass
        return self.eks.create_cluster(
            name=self.cluster,
            version=version,
            roleArn=role_arn,
            resourcesVpcConfig={
                "subnetIds": subnet_ids,
                "endpointPublicAccess": True,
                "endpointPrivateAccess": False,
            },
            accessConfig={
                "authenticationMode": authentication_mode,
                "bootstrapClusterCreatorAdminPermissions": True,
            },
            tags=dict(self.base_tags),
        )["cluster"]

    def nodegroup(self, version, node_role_arn, subnet_ids):
        try:
            return self.eks.describe_nodegroup(
                clusterName=self.cluster, nodegroupName=NODEGROUP
            )["nodegroup"]
        except self.eks.exceptions.ResourceNotFoundException:
            pass
        labels = {
            "alpha.eksctl.io/cluster-name": self.cluster,
            "alpha.eksctl.io/nodegroup-name": NODEGROUP,
        }
        return self.eks.create_nodegroup(
            clusterName=self.cluster,
            nodegroupName=NODEGROUP,
            version=version,
            nodeRole=node_role_arn,
            subnets=subnet_ids,
            instanceTypes=[NODE_INSTANCE_TYPE],
            amiType="AL2023_x86_64_STANDARD",
            scalingConfig={"minSize": 2, "maxSize": 2, "desiredSize": 2},
            labels=labels,
            tags=dict(self.base_tags, **{"alpha.eksctl.io/nodegroup-name": NODEGROUP}),
        )["nodegroup"]

    def node_access_entry(self, node_role_arn):
        """The EC2_LINUX entry EKS makes for a managed node group's role in the API modes (no aws-auth)."""
        try:
            self.eks.describe_access_entry(clusterName=self.cluster, principalArn=node_role_arn)
        except self.eks.exceptions.ResourceNotFoundException:
            self.eks.create_access_entry(
                clusterName=self.cluster, principalArn=node_role_arn, type="EC2_LINUX"
            )

    def override(self, overrides):
        request = urllib.request.Request(
            f"{self.endpoint_url}/_sandbox/eks/clusters/{self.cluster}",
            data=json.dumps(dict(overrides, region=self.region)).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.load(response)
        except urllib.error.HTTPError as err:
            raise RuntimeError(
                "cluster override failed ({}): {}".format(
                    err.code, err.read().decode(errors="replace")
                )
            ) from None

    # -- EC2 instances of the managed node group -------------------------------------------
    def node_instances(self, subnets, security_group_id, profile_arn):
        result = []
        image_id = None
        for subnet_id, zone in subnets:
            found = self.ec2.describe_instances(
                Filters=[
                    {"Name": "tag:eks:cluster-name", "Values": [self.cluster]},
                    {"Name": "tag:eks:nodegroup-name", "Values": [NODEGROUP]},
                    {"Name": "availability-zone", "Values": [zone]},
                    {"Name": "instance-state-name", "Values": ["pending", "running"]},
                ]
            )["Reservations"]
            instances = [i for r in found for i in r["Instances"]]
            if not instances:
                if image_id is None:
                    image_id = self.ssm.get_parameter(Name=NODE_AMI_PARAMETER)[
                        "Parameter"
                    ]["Value"]
                tags = {
                    "Name": f"{self.cluster}-{NODEGROUP}-Node",
                    "eks:cluster-name": self.cluster,
                    "eks:nodegroup-name": NODEGROUP,
                    f"kubernetes.io/cluster/{self.cluster}": "owned",
                    "alpha.eksctl.io/nodegroup-name": NODEGROUP,
                    "alpha.eksctl.io/nodegroup-type": "managed",
                }
                instances = self.ec2.run_instances(
                    ImageId=image_id,
                    InstanceType=NODE_INSTANCE_TYPE,
                    MinCount=1,
                    MaxCount=1,
                    SubnetId=subnet_id,
                    SecurityGroupIds=[security_group_id],
                    IamInstanceProfile={"Arn": profile_arn},
                    TagSpecifications=[
                        {"ResourceType": "instance", "Tags": _tag_list(tags)},
                    ],
                )["Instances"]
            instance = min(instances, key=lambda i: i["InstanceId"])
            result.append(
                {
                    "instance_id": instance["InstanceId"],
                    "availability_zone": zone,
                    "private_dns_name": instance["PrivateDnsName"],
                    "private_ip_address": instance.get("PrivateIpAddress"),
                    "instance_type": instance["InstanceType"],
                    "subnet_id": subnet_id,
                }
            )
        return result


def seed_cluster(
    endpoint_url,
    region,
    cluster_name,
    kubernetes_version,
    apiserver_url,
    ca_pem,
    oidc_issuer,
    authentication_mode="CONFIG_MAP",
):
    """Seed the emulator with an eksctl-like cluster; returns a JSON-able summary."""
    if isinstance(ca_pem, bytes):
        ca_pem = ca_pem.decode("ascii")
    seeder = _Seeder(endpoint_url, region, cluster_name)
    account_id = seeder.sts.get_caller_identity()["Account"]
    vpc_id = seeder.vpc()
    subnets = seeder.subnets(vpc_id)
    subnet_ids = [s for s, _ in subnets]
    cluster_role = seeder.cluster_role()
    node_role = seeder.node_role()
    cluster = seeder.eks_cluster(
        kubernetes_version, cluster_role["Arn"], subnet_ids, authentication_mode
    )
    nodegroup = seeder.nodegroup(kubernetes_version, node_role["Arn"], subnet_ids)
    profile = seeder.instance_profile(node_role["RoleName"], nodegroup["nodegroupArn"])
    if authentication_mode != "CONFIG_MAP":
        seeder.node_access_entry(node_role["Arn"])
    view = seeder.override(
        {
            "endpoint": apiserver_url,
            "certificate_authority_data": base64.b64encode(
                ca_pem.encode("ascii")
            ).decode("ascii"),
            "oidc_issuer": oidc_issuer,
            "version": kubernetes_version,
            "authentication_mode": authentication_mode,
        }
    )
    security_group_id = cluster["resourcesVpcConfig"]["clusterSecurityGroupId"]
    instances = seeder.node_instances(subnets, security_group_id, profile["Arn"])
    return {
        "account_id": account_id,
        "region": region,
        "cluster_name": cluster_name,
        "cluster_arn": cluster["arn"],
        "cluster_role_arn": cluster_role["Arn"],
        "endpoint": view["endpoint"],
        "oidc_issuer": view["oidc_issuer"],
        "kubernetes_version": view["version"],
        "authentication_mode": view["authentication_mode"],
        "cluster_creator_arn": view.get("cluster_creator_arn"),
        "vpc_id": vpc_id,
        "subnet_ids": subnet_ids,
        "availability_zones": [z for _, z in subnets],
        "security_group_id": security_group_id,
        "node_role_arn": node_role["Arn"],
        "node_role_name": node_role["RoleName"],
        "instance_profile_name": profile["InstanceProfileName"],
        "instance_profile_arn": profile["Arn"],
        "nodegroup_name": NODEGROUP,
        "nodegroup_arn": nodegroup["nodegroupArn"],
        "node_instances": instances,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint-url", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--cluster", required=True)
    parser.add_argument("--kubernetes-version", required=True)
    parser.add_argument("--apiserver-url", required=True)
    parser.add_argument("--ca-file", required=True, help="PEM file of the cluster CA")
    parser.add_argument("--oidc-issuer", required=True)
    parser.add_argument("--authentication-mode", default="CONFIG_MAP")
    parser.add_argument("--out", required=True, help="write the summary JSON here")
    args = parser.parse_args(argv)
    with open(args.ca_file, encoding="ascii") as handle:
        ca_pem = handle.read()
    try:
        summary = seed_cluster(
            args.endpoint_url,
            args.region,
            args.cluster,
            args.kubernetes_version,
            args.apiserver_url,
            ca_pem,
            args.oidc_issuer,
            args.authentication_mode,
        )
    except (
        botocore.exceptions.BotoCoreError,
        botocore.exceptions.ClientError,
        RuntimeError,
    ) as err:
        print(f"seed failed: {err}", file=sys.stderr)
        return 1
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(summary, handle, indent=2, sort_keys=True)
        handle.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Create, in the AWS emulator, what a fresh EKS cluster has, as the tool of a profile made it.

The profiles (``eksctl``, the default; ``terraform``; ``karpenter-guide``) are described, with
their sources, in ``sandbox/emulator/profiles.py``. Idempotent: existing resources are found by
name and reused; only the sandbox
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

from . import profiles
from .patches import issuer_url

NODE_AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
CLUSTER_POLICIES = ("AmazonEKSClusterPolicy", "AmazonEKSVPCResourceController")
EKS_NODE_USERNAME = "system:node:{{EC2PrivateDNSName}}"
EKS_NODE_GROUPS = ["system:bootstrappers", "system:nodes"]


def new_oidc_issuer(region):
    """A fresh issuer URL shaped like EKS's: https://oidc.eks.<region>.amazonaws.com/id/<32 hex>."""
    return issuer_url(region)


def _cfn_name(prefix, seed, limit=64):
    """A CloudFormation-style physical name ``<prefix>-<SUFFIX>``, at most ``limit`` characters
    (64 for IAM roles; security group names may have 255).

    The suffix is derived from ``seed`` so reruns compute the same name.
    """
    suffix = hashlib.sha256(seed.encode()).hexdigest()[:12].upper()
    return f"{prefix[: limit - len(suffix) - 1]}-{suffix}"


def _tf_name(prefix, seed):
    """A terraform ``name_prefix`` name: ``<prefix>-`` plus a 26-digit unique ID (18 digits of time,
    8 of a counter, as terraform's ``id.PrefixedUniqueId``), derived from ``seed`` so reruns agree."""
    digits = str(int(hashlib.sha256(seed.encode()).hexdigest(), 16))[:18]
    return f"{prefix}-{digits}00000001"


def _tag_list(tags):
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def _tags(items):
    return {t["Key"]: t["Value"] for t in items or []}


def render_map_roles(entries):
    """aws-auth ``mapRoles`` text as EKS and eksctl write it (groups, rolearn, username)."""
    lines = []
    for entry in entries:
        lines.append("- groups:")
        lines.extend(f"  - {group}" for group in entry["groups"])
        lines.append(f"  rolearn: {entry['rolearn']}")
        lines.append(f"  username: {entry['username']}")
    return "\n".join(lines) + "\n" if lines else ""


class _Seeder:
    def __init__(self, endpoint_url, region, cluster_name, spec):
        session = boto3.session.Session(region_name=region)
        extra = {}
        if session.get_credentials() is None:
            extra = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        self.endpoint_url = endpoint_url.rstrip("/")
        self.region = region
        self.cluster = cluster_name
        self.spec = spec
        self.net = spec["network"]

        def client(name):
            return session.client(name, endpoint_url=self.endpoint_url, **extra)

        self.ec2 = client("ec2")
        self.iam = client("iam")
        self.eks = client("eks")
        self.ssm = client("ssm")
        self.sts = client("sts")

    def _name(self, prefix, spec_item, limit=64):
        """A physical name as the profile's tool makes it: given, CloudFormation's or terraform's."""
        if spec_item.get("exact"):
            return prefix
        if spec_item.get("name_prefix"):
            return _tf_name(prefix, f"{self.region}/{self.cluster}/{prefix}")
        return _cfn_name(prefix, f"{self.region}/{prefix}", limit)

    # -- network ---------------------------------------------------------------------------
    # Everything is found again by its Name tag (every profile names its resources after the
    # cluster), inside the cluster's VPC: no tag of the sandbox's own is put anywhere.
    def _find(self, describe, key, name, vpc_id=None, extra=()):
        filters = [{"Name": "tag:Name", "Values": [name]}, *extra]
        if vpc_id:
            filters.append({"Name": "vpc-id", "Values": [vpc_id]})
        return describe(Filters=filters)[key]

    def vpc(self):
        spec = self.net["vpc"]
        found = self._find(self.ec2.describe_vpcs, "Vpcs", spec["tags"]["Name"])
        if found:
            return found[0]["VpcId"]
        vpc = self.ec2.create_vpc(
            CidrBlock=spec["cidr"],
            TagSpecifications=[{"ResourceType": "vpc", "Tags": _tag_list(spec["tags"])}],
        )["Vpc"]["VpcId"]
        # eksctl (vpc_ipv4.go) and terraform-aws-vpc (enable_dns_hostnames) both turn it on.
        self.ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        return vpc

    def internet_gateway(self, vpc_id):
        tags = self.net["internet_gateway_tags"]
        found = self.ec2.describe_internet_gateways(
            Filters=[
                {"Name": "tag:Name", "Values": [tags["Name"]]},
                {"Name": "attachment.vpc-id", "Values": [vpc_id]},
            ]
        )["InternetGateways"]
        if found:
            return found[0]["InternetGatewayId"]
        igw = self.ec2.create_internet_gateway(
            TagSpecifications=[{"ResourceType": "internet-gateway", "Tags": _tag_list(tags)}]
        )["InternetGateway"]["InternetGatewayId"]
        self.ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
        return igw

    def subnets(self, vpc_id, kind):
        result = []
        for item in self.net[kind]:
            found = self._find(self.ec2.describe_subnets, "Subnets", item["tags"]["Name"], vpc_id)
            if found:
                result.append((found[0]["SubnetId"], item["zone"]))
                continue
            subnet = self.ec2.create_subnet(
                VpcId=vpc_id,
                CidrBlock=item["cidr"],
                AvailabilityZone=item["zone"],
                TagSpecifications=[{"ResourceType": "subnet", "Tags": _tag_list(item["tags"])}],
            )["Subnet"]["SubnetId"]
            if item["map_public_ip_on_launch"]:
                self.ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})
            result.append((subnet, item["zone"]))
        return result

    def _route_table(self, vpc_id, tags, subnet_ids, route):
        found = self._find(self.ec2.describe_route_tables, "RouteTables", tags["Name"], vpc_id)
        if found:
            return found[0]["RouteTableId"]
        table = self.ec2.create_route_table(
            VpcId=vpc_id,
            TagSpecifications=[{"ResourceType": "route-table", "Tags": _tag_list(tags)}],
        )["RouteTable"]["RouteTableId"]
        self.ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", **route)
        for subnet_id in subnet_ids:
            self.ec2.associate_route_table(RouteTableId=table, SubnetId=subnet_id)
        return table

    def nat_gateway(self, vpc_id, public_subnet_id):
        nat = self.net["nat"]
        found = self.ec2.describe_nat_gateways(
            Filters=[
                {"Name": "tag:Name", "Values": [nat["tags"]["Name"]]},
                {"Name": "vpc-id", "Values": [vpc_id]},
                {"Name": "state", "Values": ["pending", "available"]},
            ]
        )["NatGateways"]
        if found:
            return found[0]["NatGatewayId"]
        allocation = self.ec2.allocate_address(
            Domain="vpc",
            TagSpecifications=[{"ResourceType": "elastic-ip", "Tags": _tag_list(nat["eip_tags"])}],
        )["AllocationId"]
        return self.ec2.create_nat_gateway(
            SubnetId=public_subnet_id,
            AllocationId=allocation,
            TagSpecifications=[{"ResourceType": "natgateway", "Tags": _tag_list(nat["tags"])}],
        )["NatGateway"]["NatGatewayId"]

    def network(self):
        """VPC, internet gateway, public and private subnets, one NAT gateway, route tables."""
        vpc_id = self.vpc()
        igw = self.internet_gateway(vpc_id)
        public = self.subnets(vpc_id, "public_subnets")
        private = self.subnets(vpc_id, "private_subnets")
        self._route_table(
            vpc_id,
            self.net["public_route_table_tags"],
            [s for s, _ in public],
            {"GatewayId": igw},
        )
        nat = self.nat_gateway(vpc_id, public[0][0])
        if self.net["private_route_table"] is not None:
            self._route_table(
                vpc_id,
                self.net["private_route_table"],
                [s for s, _ in private],
                {"NatGatewayId": nat},
            )
        else:
            for (subnet_id, _), item in zip(private, self.net["private_subnets"]):
                self._route_table(vpc_id, item["route_table_tags"], [subnet_id], {"NatGatewayId": nat})
        return vpc_id, public, private

    def security_groups(self, vpc_id):
        """The tool's own security groups, by role (``control-plane``, ``shared-node``)."""
        result = {}
        for item in self.net["security_groups"]:
            found = self._find(
                self.ec2.describe_security_groups,
                "SecurityGroups",
                item["tags"]["Name"],
                vpc_id,
            )
            if found:
                result[item["role"]] = found[0]["GroupId"]
                continue
            group = self.ec2.create_security_group(
                GroupName=self._name(item["name"], item, limit=255),
                Description=item["description"],
                VpcId=vpc_id,
                TagSpecifications=[{"ResourceType": "security-group", "Tags": _tag_list(item["tags"])}],
            )["GroupId"]
            if item.get("self_ingress"):
                self.ec2.authorize_security_group_ingress(
                    GroupId=group,
                    IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": group}]}],
                )
            result[item["role"]] = group
        return result

    # -- IAM -------------------------------------------------------------------------------
    def _role(self, spec_item, service, policies, actions=("sts:AssumeRole",)):
        name = self._name(spec_item["name"], spec_item)
        try:
            role = self.iam.get_role(RoleName=name)["Role"]
        except self.iam.exceptions.NoSuchEntityException:
            kwargs = {"Tags": _tag_list(spec_item["tags"])} if spec_item["tags"] else {}
            role = self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=_trust(service, actions), **kwargs)[
                "Role"
            ]
        attached = {p["PolicyName"] for p in self.iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]}
        for policy in policies:
            if policy not in attached:
                self.iam.attach_role_policy(RoleName=name, PolicyArn=f"arn:aws:iam::aws:policy/{policy}")
        return role

    def cluster_role(self):
        return self._role(self.spec["cluster_role"], "eks.amazonaws.com", CLUSTER_POLICIES)

    def node_role(self):
        role = self.spec["nodegroup"]["role"]
        return self._role(role, "ec2.amazonaws.com", role["policies"])

    def instance_profile(self, role_name, nodegroup_arn):
        profiles = self.iam.list_instance_profiles_for_role(RoleName=role_name)["InstanceProfiles"]
        if profiles:
            return profiles[0]
        # EKS names a managed node group's instance profile eks-<node group id>.
        name = "eks-" + nodegroup_arn.rsplit("/", 1)[1]
        profile = self.iam.create_instance_profile(InstanceProfileName=name)["InstanceProfile"]
        self.iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=role_name)
        return profile

    def oidc_provider(self, issuer, account_id):
        """The IAM OIDC provider for the cluster's issuer, where the profile's tool makes one."""
        spec = self.spec["oidc_provider"]
        if spec is None:
            return None
        arn = "arn:aws:iam::{}:oidc-provider/{}".format(account_id, issuer.split("://", 1)[1])
        try:
            self.iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        except self.iam.exceptions.NoSuchEntityException:
            arn = self.iam.create_open_id_connect_provider(
                Url=issuer,
                ClientIDList=["sts.amazonaws.com"],
                ThumbprintList=[profiles.OIDC_THUMBPRINT],
                Tags=_tag_list(spec["tags"]),
            )["OpenIDConnectProviderArn"]
        return arn

    # -- EKS -------------------------------------------------------------------------------
    def eks_cluster(self, version, role_arn, subnet_ids, security_group_ids, authentication_mode):
        try:
            return self.eks.describe_cluster(name=self.cluster)["cluster"]
        except self.eks.exceptions.ResourceNotFoundException:
            pass
        kwargs = {"tags": self.spec["cluster_tags"]} if self.spec["cluster_tags"] else {}
        return self.eks.create_cluster(
            name=self.cluster,
            version=version,
            roleArn=role_arn,
            resourcesVpcConfig={
                "subnetIds": subnet_ids,
                "securityGroupIds": security_group_ids,
                "endpointPublicAccess": True,
                "endpointPrivateAccess": False,
            },
            accessConfig={
                "authenticationMode": authentication_mode,
                "bootstrapClusterCreatorAdminPermissions": self.spec["bootstrap_creator_admin"],
            },
            **kwargs,
        )["cluster"]

    def nodegroup_name(self):
        spec = self.spec["nodegroup"]
        if spec.get("name_prefix"):
            return _tf_name(spec["name"], f"{self.region}/{self.cluster}/nodegroup")
        return spec["name"]

    def nodegroup(self, version, node_role_arn, subnet_ids):
        spec = self.spec["nodegroup"]
        name = self.nodegroup_name()
        try:
            return self.eks.describe_nodegroup(clusterName=self.cluster, nodegroupName=name)["nodegroup"]
        except self.eks.exceptions.ResourceNotFoundException:
            pass
        kwargs = {}
        if spec["labels"]:
            kwargs["labels"] = spec["labels"]
        if spec["tags"]:
            kwargs["tags"] = spec["tags"]
        return self.eks.create_nodegroup(
            clusterName=self.cluster,
            nodegroupName=name,
            version=version,
            nodeRole=node_role_arn,
            subnets=subnet_ids,
            instanceTypes=[spec["instance_type"]],
            amiType="AL2023_x86_64_STANDARD",
            scalingConfig={"minSize": 2, "maxSize": 2, "desiredSize": 2},
            **kwargs,
        )["nodegroup"]

    def node_access_entry(self, node_role_arn):
        """The EC2_LINUX entry EKS makes for a managed node group's role in the API modes (no aws-auth)."""
        try:
            self.eks.describe_access_entry(clusterName=self.cluster, principalArn=node_role_arn)
        except self.eks.exceptions.ResourceNotFoundException:
            self.eks.create_access_entry(clusterName=self.cluster, principalArn=node_role_arn, type="EC2_LINUX")

    def creator_admin_entry(self, creator_arn):
        """terraform-aws-eks main.tf ``enable_cluster_creator_admin_permissions``: a STANDARD entry for
        the caller with AmazonEKSClusterAdminPolicy on the whole cluster."""
        try:
            self.eks.describe_access_entry(clusterName=self.cluster, principalArn=creator_arn)
            return
        except self.eks.exceptions.ResourceNotFoundException:
            pass
        self.eks.create_access_entry(clusterName=self.cluster, principalArn=creator_arn)
        self.eks.associate_access_policy(
            clusterName=self.cluster,
            principalArn=creator_arn,
            policyArn="arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
            accessScope={"type": "cluster"},
        )

    def addons(self):
        existing = set(self.eks.list_addons(clusterName=self.cluster)["addons"])
        for name in self.spec["addons"]:
            if name not in existing:
                self.eks.create_addon(clusterName=self.cluster, addonName=name)
        return list(self.spec["addons"])

    def pod_identity(self):
        """eksctl's ``iam.podIdentityAssociations``: the role and its association."""
        spec = self.spec["pod_identity"]
        if spec is None:
            return None
        role = self._role(
            {"name": spec["role_name"], "tags": spec["tags"], "exact": True},
            "pods.eks.amazonaws.com",
            (),
            actions=("sts:AssumeRole", "sts:TagSession"),
        )
        found = self.eks.list_pod_identity_associations(
            clusterName=self.cluster,
            namespace=spec["namespace"],
            serviceAccount=spec["service_account"],
        )["associations"]
        if found:
            association = found[0]["associationId"]
        else:
            association = self.eks.create_pod_identity_association(
                clusterName=self.cluster,
                namespace=spec["namespace"],
                serviceAccount=spec["service_account"],
                roleArn=role["Arn"],
            )["association"]["associationId"]
        return {
            "namespace": spec["namespace"],
            "service_account": spec["service_account"],
            "role_arn": role["Arn"],
            "association_id": association,
        }

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
                "cluster override failed ({}): {}".format(err.code, err.read().decode(errors="replace"))
            ) from None

    # -- EC2 instances of the managed node group -------------------------------------------
    def node_instances(self, nodegroup_name, subnets, security_group_ids, profile_arn):
        spec = self.spec["nodegroup"]
        result = []
        image_id = None
        for subnet_id, zone in subnets:
            found = self.ec2.describe_instances(
                Filters=[
                    {"Name": "tag:eks:cluster-name", "Values": [self.cluster]},
                    {"Name": "tag:eks:nodegroup-name", "Values": [nodegroup_name]},
                    {"Name": "availability-zone", "Values": [zone]},
                    {"Name": "instance-state-name", "Values": ["pending", "running"]},
                ]
            )["Reservations"]
            instances = [i for r in found for i in r["Instances"]]
            if not instances:
                if image_id is None:
                    image_id = self.ssm.get_parameter(Name=NODE_AMI_PARAMETER)["Parameter"]["Value"]
                # EKS's own tags on a managed node group's instances, then the tool's.
                tags = dict(
                    spec["instance_tags"],
                    **{
                        "eks:cluster-name": self.cluster,
                        "eks:nodegroup-name": nodegroup_name,
                        f"kubernetes.io/cluster/{self.cluster}": "owned",
                    },
                )
                instances = self.ec2.run_instances(
                    ImageId=image_id,
                    InstanceType=spec["instance_type"],
                    MinCount=1,
                    MaxCount=1,
                    SubnetId=subnet_id,
                    SecurityGroupIds=security_group_ids,
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


def _trust(service, actions=("sts:AssumeRole",)):
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": actions[0] if len(actions) == 1 else list(actions),
                }
            ],
        }
    )


def aws_auth_entries(spec, authentication_mode, account_id, node_role_arn):
    """The aws-auth ``mapRoles`` entries a profile's cluster has (empty: no aws-auth ConfigMap).

    EKS writes a managed node group's role there only in ``CONFIG_MAP`` mode; in the modes with
    access entries it makes an ``EC2_LINUX`` entry instead, and "MNG and Fargate will only manage
    entries using access entry APIs, not the aws-auth ConfigMap" (aws/containers-roadmap#185).
    eksctl's ``iamIdentityMappings`` go to aws-auth in every mode that reads it.
    """
    entries = []
    if authentication_mode == "CONFIG_MAP":
        entries.append({"rolearn": node_role_arn, "username": EKS_NODE_USERNAME, "groups": list(EKS_NODE_GROUPS)})
    if authentication_mode != "API":
        for extra in spec["aws_auth_extra_roles"]:
            entries.append(
                {
                    "rolearn": f"arn:aws:iam::{account_id}:role/{extra['role_name']}",
                    "username": extra["username"],
                    "groups": list(extra["groups"]),
                }
            )
    return entries


def seed_cluster(
    endpoint_url,
    region,
    cluster_name,
    kubernetes_version,
    apiserver_url,
    ca_pem,
    oidc_issuer,
    authentication_mode=None,
    profile=profiles.DEFAULT_PROFILE,
):
    """Seed the emulator with the cluster of ``profile``; returns a JSON-able summary."""
    if isinstance(ca_pem, bytes):
        ca_pem = ca_pem.decode("ascii")
    if authentication_mode is None:
        authentication_mode = profiles.default_authentication_mode(profile)
    spec = profiles.spec(profile, cluster_name, region)
    net = spec["network"]
    seeder = _Seeder(endpoint_url, region, cluster_name, spec)
    account_id = seeder.sts.get_caller_identity()["Account"]
    vpc_id, public, private = seeder.network()
    by_kind = {"public": public, "private": private, "public+private": public + private}
    cluster_subnets = by_kind[net["cluster_subnets"]]
    node_subnets = by_kind[net["nodegroup_subnets"]]
    groups = seeder.security_groups(vpc_id)
    cluster_role = seeder.cluster_role()
    node_role = seeder.node_role()
    cluster = seeder.eks_cluster(
        kubernetes_version,
        cluster_role["Arn"],
        [s for s, _ in cluster_subnets],
        [groups[r] for r in net["cluster_security_groups"]],
        authentication_mode,
    )
    nodegroup = seeder.nodegroup(kubernetes_version, node_role["Arn"], [s for s, _ in node_subnets])
    nodegroup_name = nodegroup["nodegroupName"]
    profile_ = seeder.instance_profile(node_role["RoleName"], nodegroup["nodegroupArn"])
    if authentication_mode != "CONFIG_MAP":
        seeder.node_access_entry(node_role["Arn"])
    view = seeder.override(
        {
            "endpoint": apiserver_url,
            "certificate_authority_data": base64.b64encode(ca_pem.encode("ascii")).decode("ascii"),
            "oidc_issuer": oidc_issuer,
            "version": kubernetes_version,
            "authentication_mode": authentication_mode,
        }
    )
    if spec["creator_admin_entry"] and authentication_mode != "CONFIG_MAP":
        seeder.creator_admin_entry(view["cluster_creator_arn"])
    oidc_provider_arn = seeder.oidc_provider(view["oidc_issuer"], account_id)
    addons = seeder.addons()
    pod_identity = seeder.pod_identity()
    groups["eks-cluster"] = cluster["resourcesVpcConfig"]["clusterSecurityGroupId"]
    instances = seeder.node_instances(
        nodegroup_name,
        node_subnets,
        [groups[r] for r in net["node_security_groups"]],
        profile_["Arn"],
    )
    return {
        "profile": profile,
        "account_id": account_id,
        "region": region,
        "cluster_name": cluster_name,
        "cluster_arn": cluster["arn"],
        "cluster_role_arn": cluster_role["Arn"],
        "endpoint": view["endpoint"],
        "oidc_issuer": view["oidc_issuer"],
        "oidc_provider_arn": oidc_provider_arn,
        "kubernetes_version": view["version"],
        "authentication_mode": view["authentication_mode"],
        "cluster_creator_arn": view.get("cluster_creator_arn"),
        "vpc_id": vpc_id,
        # The cluster's subnets (resourcesVpcConfig.subnetIds), and the two kinds apart.
        "subnet_ids": [s for s, _ in cluster_subnets],
        "public_subnet_ids": [s for s, _ in public],
        "private_subnet_ids": [s for s, _ in private],
        "nodegroup_subnet_ids": [s for s, _ in node_subnets],
        "availability_zones": [z for _, z in node_subnets],
        # The cluster security group EKS made (resourcesVpcConfig.clusterSecurityGroupId).
        "security_group_id": groups["eks-cluster"],
        # The tool's own: control-plane (resourcesVpcConfig.securityGroupIds) and shared-node.
        "security_group_ids": {r: groups[r] for r in sorted(groups) if r != "eks-cluster"},
        "node_security_group_ids": [groups[r] for r in net["node_security_groups"]],
        "node_role_arn": node_role["Arn"],
        "node_role_name": node_role["RoleName"],
        "instance_profile_name": profile_["InstanceProfileName"],
        "instance_profile_arn": profile_["Arn"],
        "nodegroup_name": nodegroup_name,
        "nodegroup_arn": nodegroup["nodegroupArn"],
        "node_labels": dict(spec["nodegroup"]["labels"]),
        "node_instances": instances,
        "aws_auth_map_roles": aws_auth_entries(spec, view["authentication_mode"], account_id, node_role["Arn"]),
        "addons": addons,
        "pod_identity": pod_identity,
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
    parser.add_argument("--profile", choices=profiles.PROFILES, default=profiles.DEFAULT_PROFILE)
    parser.add_argument(
        "--authentication-mode",
        default=None,
        help="default: the profile's (eksctl CONFIG_MAP, the others API_AND_CONFIG_MAP)",
    )
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
            args.profile,
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

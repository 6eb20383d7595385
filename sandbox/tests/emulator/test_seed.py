"""seed_cluster: each profile's cluster as the tool that made it leaves it, idempotently.

The expected shapes are read from the tools' own sources (eksctl-io/eksctl v0.230.0,
terraform-aws-modules/terraform-aws-eks v21.19.0 and terraform-aws-vpc v6, and Karpenter's
getting-started guide); each test names the file it follows.
"""

import base64
import json
import re
import subprocess
import sys

import pytest

from sandbox.emulator import profiles
from sandbox.emulator.seed import new_oidc_issuer, seed_cluster

REGION = "us-east-1"


def _tags(items):
    return {t["Key"]: t["Value"] for t in items or []}


def _seed_twice(emulator, ca_pem, name, profile=None):
    """Seed one cluster twice; the second run's request log slice is kept."""
    issuer = new_oidc_issuer(REGION)
    args = (emulator.url, REGION, name, "1.36", "https://127.0.0.1:6443", ca_pem, issuer)
    if profile:
        args += (None, profile)
    first = seed_cluster(*args)
    offset = emulator.log_size()
    second = seed_cluster(*args)
    return {
        "name": name,
        "issuer": issuer,
        "args": args,
        "first": first,
        "second": second,
        "second_requests": emulator.log_since(offset),
    }


@pytest.fixture(scope="module")
def seeded(emulator, ca_pem):
    return _seed_twice(emulator, ca_pem, "seeded")


def test_new_oidc_issuer_shape():
    issuer = new_oidc_issuer("eu-west-1")
    assert re.match(r"^https://oidc\.eks\.eu-west-1\.amazonaws\.com/id/[0-9A-F]{32}$", issuer)
    assert issuer != new_oidc_issuer("eu-west-1")


def test_summary_shape(seeded):
    summary = seeded["first"]
    json.dumps(summary)
    assert summary["account_id"] == "123456789012"
    assert summary["cluster_arn"] == "arn:aws:eks:us-east-1:123456789012:cluster/seeded"
    assert summary["profile"] == "eksctl"
    assert summary["availability_zones"] == ["us-east-1a", "us-east-1b"]
    # pkg/cfn/builder/vpc_ipv4.go ControlPlaneSubnetRefs: the cluster gets public then private.
    assert summary["subnet_ids"] == summary["public_subnet_ids"] + summary["private_subnet_ids"]
    assert len(summary["public_subnet_ids"]) == len(summary["private_subnet_ids"]) == 2
    # The walkthrough's node group runs in the private subnets.
    assert summary["nodegroup_subnet_ids"] == summary["private_subnet_ids"]
    assert re.match(
        r"^eksctl-seeded-nodegroup-ng-1-NodeInstanceRole-[0-9A-F]{12}$",
        summary["node_role_name"],
    )
    assert summary["node_role_arn"].endswith(":role/" + summary["node_role_name"])
    zones = [i["availability_zone"] for i in summary["node_instances"]]
    assert zones == ["us-east-1a", "us-east-1b"]
    for instance in summary["node_instances"]:
        assert instance["instance_type"] == "m5.large"
        assert instance["instance_id"].startswith("i-")
        assert instance["private_dns_name"].endswith(".ec2.internal")
        assert instance["subnet_id"] in summary["private_subnet_ids"]
    # CONFIG_MAP: EKS maps the managed node group's role in aws-auth.
    assert summary["aws_auth_map_roles"] == [
        {
            "rolearn": summary["node_role_arn"],
            "username": "system:node:{{EC2PrivateDNSName}}",
            "groups": ["system:bootstrappers", "system:nodes"],
        }
    ]
    assert summary["oidc_provider_arn"] is None
    assert summary["addons"] == [] and summary["pod_identity"] is None


def test_second_run_creates_nothing(seeded):
    assert seeded["second"] == seeded["first"]
    writes = [r for r in seeded["second_requests"] if r["write"]]
    assert writes == []
    assert seeded["second_requests"], "the second run must still have looked things up"


def test_describe_cluster_after_seed(emulator, seeded, ca_pem):
    cluster = emulator.client("eks").describe_cluster(name="seeded")["cluster"]
    assert cluster["endpoint"] == "https://127.0.0.1:6443"
    assert base64.b64decode(cluster["certificateAuthority"]["data"]).decode() == ca_pem
    assert cluster["identity"]["oidc"]["issuer"] == seeded["issuer"]
    assert cluster["version"] == "1.36"
    assert cluster["accessConfig"]["authenticationMode"] == "CONFIG_MAP"
    assert cluster["resourcesVpcConfig"]["clusterSecurityGroupId"] == seeded["first"]["security_group_id"]
    assert cluster["resourcesVpcConfig"]["vpcId"] == seeded["first"]["vpc_id"]
    assert sorted(cluster["resourcesVpcConfig"]["subnetIds"]) == sorted(seeded["first"]["subnet_ids"])
    nodegroup = emulator.client("eks").describe_nodegroup(clusterName="seeded", nodegroupName="ng-1")
    assert nodegroup["nodegroup"]["nodeRole"] == seeded["first"]["node_role_arn"]


STACK_TAGS = {
    # eksctl pkg/cfn/manager/api.go NewStackCollection and createClusterStack.
    "alpha.eksctl.io/cluster-name": "seeded",
    "eksctl.cluster.k8s.io/v1alpha1/cluster-name": "seeded",
    "alpha.eksctl.io/eksctl-version": profiles.EKSCTL_VERSION,
    "alpha.eksctl.io/cluster-oidc-enabled": "false",
}


def _vpc_resources(ec2, vpc_id):
    """Every tagged network resource of the VPC: (kind, id, tags)."""
    flt = [{"Name": "vpc-id", "Values": [vpc_id]}]
    found = [("vpc", vpc_id, _tags(ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0].get("Tags")))]
    found += [("subnet", s["SubnetId"], _tags(s.get("Tags"))) for s in ec2.describe_subnets(Filters=flt)["Subnets"]]
    found += [
        ("security-group", g["GroupId"], _tags(g.get("Tags")))
        for g in ec2.describe_security_groups(Filters=flt)["SecurityGroups"]
        if g["GroupName"] != "default"
    ]
    found += [
        ("route-table", t["RouteTableId"], _tags(t.get("Tags")))
        for t in ec2.describe_route_tables(Filters=flt)["RouteTables"]
        if not any(a.get("Main") for a in t.get("Associations", []))
    ]
    found += [
        ("internet-gateway", g["InternetGatewayId"], _tags(g.get("Tags")))
        for g in ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}])[
            "InternetGateways"
        ]
    ]
    found += [
        ("natgateway", n["NatGatewayId"], _tags(n.get("Tags")))
        for n in ec2.describe_nat_gateways(Filters=flt)["NatGateways"]
    ]
    return found


def test_eksctl_network_has_eksctl_tags_and_no_discovery_tag(emulator, seeded):
    """eksctl never tags karpenter.sh/discovery unless metadata.tags asks for it (vpc_ipv4.go
    addSubnets, cluster.go addResourcesForSecurityGroups): nothing in the VPC carries it."""
    ec2 = emulator.client("ec2")
    summary = seeded["first"]
    resources = _vpc_resources(ec2, summary["vpc_id"])
    kinds = sorted({kind for kind, _, _ in resources})
    assert kinds == ["internet-gateway", "natgateway", "route-table", "security-group", "subnet", "vpc"]
    for kind, resource_id, tags in resources:
        assert "karpenter.sh/discovery" not in tags, (kind, resource_id, tags)
        if resource_id != summary["security_group_id"]:  # EKS made that one, not eksctl's stack
            assert STACK_TAGS.items() <= tags.items(), (kind, resource_id, tags)
            # pkg/cfn/builder/api.go makeAutoNameTag: "${AWS::StackName}/<logical ID>".
            assert tags["Name"].startswith("eksctl-seeded-cluster/"), tags
    flt = [{"Name": "tag:karpenter.sh/discovery", "Values": ["seeded"]}]
    assert ec2.describe_subnets(Filters=flt)["Subnets"] == []
    assert ec2.describe_security_groups(Filters=flt)["SecurityGroups"] == []


def test_eksctl_subnets_public_and_private(emulator, seeded):
    """vpc_ipv4.go addSubnets: public subnets map public IPs and carry kubernetes.io/role/elb,
    private ones kubernetes.io/role/internal-elb; the VPC is 192.168.0.0/16 in /19s, public first."""
    ec2 = emulator.client("ec2")
    summary = seeded["first"]
    vpc = ec2.describe_vpcs(VpcIds=[summary["vpc_id"]])["Vpcs"][0]
    assert vpc["CidrBlock"] == "192.168.0.0/16"
    assert _tags(vpc["Tags"])["Name"] == "eksctl-seeded-cluster/VPC"
    public = ec2.describe_subnets(SubnetIds=summary["public_subnet_ids"])["Subnets"]
    private = ec2.describe_subnets(SubnetIds=summary["private_subnet_ids"])["Subnets"]
    assert sorted((s["AvailabilityZone"], s["CidrBlock"]) for s in public) == [
        ("us-east-1a", "192.168.0.0/19"),
        ("us-east-1b", "192.168.32.0/19"),
    ]
    assert sorted((s["AvailabilityZone"], s["CidrBlock"]) for s in private) == [
        ("us-east-1a", "192.168.64.0/19"),
        ("us-east-1b", "192.168.96.0/19"),
    ]
    for subnet in public:
        tags = _tags(subnet["Tags"])
        assert subnet["MapPublicIpOnLaunch"] is True
        assert tags["kubernetes.io/role/elb"] == "1" and "kubernetes.io/role/internal-elb" not in tags
        assert (
            tags["Name"] == "eksctl-seeded-cluster/SubnetPublic" + subnet["AvailabilityZone"].replace("-", "").upper()
        )
    for subnet in private:
        tags = _tags(subnet["Tags"])
        assert subnet["MapPublicIpOnLaunch"] is False
        assert tags["kubernetes.io/role/internal-elb"] == "1" and "kubernetes.io/role/elb" not in tags
        assert (
            tags["Name"] == "eksctl-seeded-cluster/SubnetPrivate" + subnet["AvailabilityZone"].replace("-", "").upper()
        )


def _default_route(ec2, subnet_id):
    [table] = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}])[
        "RouteTables"
    ]
    [route] = [r for r in table["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
    return table, route


def test_eksctl_routes_public_through_the_internet_gateway_private_through_one_nat(emulator, seeded):
    """vpc_ipv4.go: PublicSubnetRoute to the internet gateway; singleNAT (eksctl's default NAT
    mode) in the first zone's public subnet, one PrivateRouteTable<AZ> per private subnet."""
    ec2 = emulator.client("ec2")
    summary = seeded["first"]
    [igw] = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [summary["vpc_id"]]}])[
        "InternetGateways"
    ]
    [nat] = ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [summary["vpc_id"]]}])["NatGateways"]
    assert nat["SubnetId"] == summary["public_subnet_ids"][0]
    for subnet_id in summary["public_subnet_ids"]:
        _, route = _default_route(ec2, subnet_id)
        assert route["GatewayId"] == igw["InternetGatewayId"]
    tables = set()
    for subnet_id in summary["private_subnet_ids"]:
        table, route = _default_route(ec2, subnet_id)
        assert route["NatGatewayId"] == nat["NatGatewayId"]
        assert _tags(table["Tags"])["Name"].startswith("eksctl-seeded-cluster/PrivateRouteTableUSEAST1")
        tables.add(table["RouteTableId"])
    assert len(tables) == 2


def test_eksctl_security_groups(emulator, seeded):
    """cluster.go addResourcesForSecurityGroups: ControlPlaneSecurityGroup is the cluster's
    resourcesVpcConfig.securityGroupIds; ClusterSharedNodeSecurityGroup lets nodes talk to each
    other. Managed nodes get the cluster security group EKS made (managed_launch_template.go,
    pkg/vpc/importer.go SecurityGroups -> ClusterSecurityGroupId)."""
    ec2 = emulator.client("ec2")
    eks = emulator.client("eks")
    summary = seeded["first"]
    config = eks.describe_cluster(name="seeded")["cluster"]["resourcesVpcConfig"]
    own = summary["security_group_ids"]
    assert config["securityGroupIds"] == [own["control-plane"]]
    groups = {
        g["GroupId"]: g
        for g in ec2.describe_security_groups(GroupIds=[own["control-plane"], own["shared-node"]])["SecurityGroups"]
    }
    control, shared = groups[own["control-plane"]], groups[own["shared-node"]]
    assert control["Description"] == "Communication between the control plane and worker nodegroups"
    assert re.match(r"^eksctl-seeded-cluster-ControlPlaneSecurityGroup-[0-9A-F]{12}$", control["GroupName"])
    assert _tags(control["Tags"])["Name"] == "eksctl-seeded-cluster/ControlPlaneSecurityGroup"
    assert shared["Description"] == "Communication between all nodes in the cluster"
    assert re.match(r"^eksctl-seeded-cluster-ClusterSharedNodeSecurityGroup-[0-9A-F]{12}$", shared["GroupName"])
    assert _tags(shared["Tags"])["Name"] == "eksctl-seeded-cluster/ClusterSharedNodeSecurityGroup"
    assert [p["GroupId"] for p in shared["IpPermissions"][0]["UserIdGroupPairs"]] == [own["shared-node"]]
    cluster_sg = ec2.describe_security_groups(GroupIds=[summary["security_group_id"]])["SecurityGroups"][0]
    assert _tags(cluster_sg["Tags"])["aws:eks:cluster-name"] == "seeded"
    assert summary["node_security_group_ids"] == [summary["security_group_id"]]


def test_eksctl_cluster_and_node_group_tags(emulator, seeded):
    """The EKS cluster carries the stack's tags; the node group its stack's (pkg/cfn/manager/
    nodegroup.go), and its nodes eksctl's labels (v1alpha5 ClusterNameLabel, NodeGroupNameLabel)."""
    eks = emulator.client("eks")
    cluster = eks.describe_cluster(name="seeded")["cluster"]
    assert STACK_TAGS.items() <= cluster["tags"].items()
    assert "karpenter.sh/discovery" not in cluster["tags"]
    nodegroup = eks.describe_nodegroup(clusterName="seeded", nodegroupName="ng-1")["nodegroup"]
    assert nodegroup["tags"]["alpha.eksctl.io/nodegroup-name"] == "ng-1"
    assert nodegroup["tags"]["alpha.eksctl.io/nodegroup-type"] == "managed"
    assert nodegroup["labels"] == {"alpha.eksctl.io/cluster-name": "seeded", "alpha.eksctl.io/nodegroup-name": "ng-1"}
    assert sorted(nodegroup["subnets"]) == sorted(seeded["first"]["private_subnet_ids"])


def test_node_role_and_instances(emulator, seeded):
    iam = emulator.client("iam")
    summary = seeded["first"]
    role = iam.get_role(RoleName=summary["node_role_name"])["Role"]
    principals = [s["Principal"] for s in role["AssumeRolePolicyDocument"]["Statement"]]
    assert principals == [{"Service": "ec2.amazonaws.com"}]
    attached = {p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"]}
    assert {
        "AmazonEKSWorkerNodePolicy",
        "AmazonEKS_CNI_Policy",
        "AmazonEC2ContainerRegistryReadOnly",
    } <= attached
    profiles = iam.list_instance_profiles_for_role(RoleName=role["RoleName"])["InstanceProfiles"]
    assert [p["Arn"] for p in profiles] == [summary["instance_profile_arn"]]

    ids = [i["instance_id"] for i in summary["node_instances"]]
    reservations = emulator.client("ec2").describe_instances(InstanceIds=ids)["Reservations"]
    instances = [i for r in reservations for i in r["Instances"]]
    assert len(instances) == 2
    for instance in instances:
        assert instance["State"]["Name"] == "running"
        assert instance["IamInstanceProfile"]["Arn"] == summary["instance_profile_arn"]
        tags = _tags(instance["Tags"])
        assert tags["eks:cluster-name"] == "seeded"
        assert tags["eks:nodegroup-name"] == "ng-1"
        assert instance["SubnetId"] in summary["private_subnet_ids"]
        assert [g["GroupId"] for g in instance["SecurityGroups"]] == [summary["security_group_id"]]


def test_two_clusters_do_not_share_resources(emulator, ca_pem, seeded):
    other = seed_cluster(
        emulator.url,
        REGION,
        "seeded-other",
        "1.36",
        "https://127.0.0.1:7443",
        ca_pem,
        new_oidc_issuer(REGION),
    )
    first = seeded["first"]
    assert other["vpc_id"] != first["vpc_id"]
    assert set(other["subnet_ids"]).isdisjoint(first["subnet_ids"])
    assert other["node_role_name"] != first["node_role_name"]
    assert other["security_group_id"] != first["security_group_id"]


def test_cli_writes_the_same_summary(emulator, seeded, tmp_path, repo_root, subprocess_env):
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text(seeded["args"][5])
    out = tmp_path / "seed.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sandbox.emulator.seed",
            "--endpoint-url",
            emulator.url,
            "--region",
            REGION,
            "--cluster",
            "seeded",
            "--kubernetes-version",
            "1.36",
            "--apiserver-url",
            "https://127.0.0.1:6443",
            "--ca-file",
            str(ca_file),
            "--oidc-issuer",
            seeded["issuer"],
            "--profile",
            "eksctl",
            "--out",
            str(out),
        ],
        cwd=str(repo_root),
        env=subprocess_env,
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert json.loads(out.read_text()) == seeded["first"]


@pytest.mark.parametrize("mode", ["API", "API_AND_CONFIG_MAP"])
def test_api_modes_give_the_node_group_role_an_access_entry(emulator, ca_pem, mode):
    """EKS makes an EC2_LINUX entry for a managed node group's role when the cluster has access entries;
    the creator's admin entry is there too. Seeding again changes nothing."""
    name = "seeded-" + mode.lower().replace("_", "-")
    args = (emulator.url, REGION, name, "1.36", "https://127.0.0.1:8443", ca_pem, new_oidc_issuer(REGION), mode)
    summary = seed_cluster(*args)
    assert summary["authentication_mode"] == mode
    assert summary["cluster_creator_arn"] == "arn:aws:iam::123456789012:user/moto"
    eks = emulator.client("eks")
    entries = eks.list_access_entries(clusterName=name)["accessEntries"]
    assert sorted(entries) == sorted([summary["node_role_arn"], summary["cluster_creator_arn"]])
    node = eks.describe_access_entry(clusterName=name, principalArn=summary["node_role_arn"])["accessEntry"]
    assert (node["type"], node["kubernetesGroups"]) == ("EC2_LINUX", ["system:nodes"])
    seed_cluster(*args)
    assert sorted(eks.list_access_entries(clusterName=name)["accessEntries"]) == sorted(entries)


# -- terraform: terraform-aws-eks v21.19.0 with terraform-aws-vpc v6 ------------------------------


@pytest.fixture(scope="module")
def terraform(emulator, ca_pem):
    return _seed_twice(emulator, ca_pem, "tfseeded", "terraform")


def test_terraform_second_run_creates_nothing(terraform):
    assert terraform["second"] == terraform["first"]
    assert [r for r in terraform["second_requests"] if r["write"]] == []


def test_terraform_has_no_eksctl_tags_and_tags_only_where_the_modules_put_them(emulator, terraform):
    """With var.tags empty, the modules tag only Name (vpc main.tf, eks main.tf) and, on the node
    security group, kubernetes.io/cluster/<name>=owned (eks node_groups.tf); the example's
    public_subnet_tags / private_subnet_tags add the ELB role tags."""
    ec2 = emulator.client("ec2")
    summary = terraform["first"]
    for kind, resource_id, tags in _vpc_resources(ec2, summary["vpc_id"]):
        assert not any(k.startswith(("alpha.eksctl.io/", "eksctl.")) for k in tags), (kind, tags)
        assert "karpenter.sh/discovery" not in tags, (kind, tags)
        if resource_id == summary["security_group_id"]:
            continue  # made by EKS, not by terraform
        allowed = {
            "Name",
            "kubernetes.io/role/elb",
            "kubernetes.io/role/internal-elb",
            "kubernetes.io/cluster/tfseeded",
        }
        assert set(tags) <= allowed, (kind, tags)
    cluster = emulator.client("eks").describe_cluster(name="tfseeded")["cluster"]
    assert not any(k.startswith(("alpha.eksctl.io/", "eksctl.")) for k in cluster.get("tags") or {})
    vpc = ec2.describe_vpcs(VpcIds=[summary["vpc_id"]])["Vpcs"][0]
    assert (vpc["CidrBlock"], _tags(vpc["Tags"])) == ("10.0.0.0/16", {"Name": "tfseeded"})


def test_terraform_subnets_and_routes(emulator, terraform):
    """examples/eks-managed-node-group/main.tf: private cidrsubnet(10.0.0.0/16, 4, k), public
    cidrsubnet(.., 8, k + 48), single NAT gateway; vpc main.tf names "<name>-private-<az>" and
    "<name>-public-<az>", map_public_ip_on_launch false by default, one "<name>-private" route
    table for all private subnets with a single NAT gateway. The cluster and its node group use
    the private subnets (subnet_ids = module.vpc.private_subnets)."""
    ec2 = emulator.client("ec2")
    summary = terraform["first"]
    public = ec2.describe_subnets(SubnetIds=summary["public_subnet_ids"])["Subnets"]
    private = ec2.describe_subnets(SubnetIds=summary["private_subnet_ids"])["Subnets"]
    assert sorted((s["CidrBlock"], _tags(s["Tags"])["Name"]) for s in public) == [
        ("10.0.48.0/24", "tfseeded-public-us-east-1a"),
        ("10.0.49.0/24", "tfseeded-public-us-east-1b"),
    ]
    assert sorted((s["CidrBlock"], _tags(s["Tags"])["Name"]) for s in private) == [
        ("10.0.0.0/20", "tfseeded-private-us-east-1a"),
        ("10.0.16.0/20", "tfseeded-private-us-east-1b"),
    ]
    assert all(s["MapPublicIpOnLaunch"] is False for s in public + private)
    assert all(_tags(s["Tags"])["kubernetes.io/role/elb"] == "1" for s in public)
    assert all(_tags(s["Tags"])["kubernetes.io/role/internal-elb"] == "1" for s in private)
    tables = {_default_route(ec2, s)[0]["RouteTableId"] for s in summary["private_subnet_ids"]}
    assert len(tables) == 1
    [table] = ec2.describe_route_tables(RouteTableIds=list(tables))["RouteTables"]
    assert _tags(table["Tags"]) == {"Name": "tfseeded-private"}
    assert all("NatGatewayId" in _default_route(ec2, s)[1] for s in summary["private_subnet_ids"])
    assert all("GatewayId" in _default_route(ec2, s)[1] for s in summary["public_subnet_ids"])
    assert summary["subnet_ids"] == summary["private_subnet_ids"] == summary["nodegroup_subnet_ids"]
    config = emulator.client("eks").describe_cluster(name="tfseeded")["cluster"]["resourcesVpcConfig"]
    assert config["subnetIds"] == summary["private_subnet_ids"]


def test_terraform_security_groups(emulator, terraform):
    """eks main.tf aws_security_group.cluster ("<name>-cluster-" prefix) is the cluster's
    additional security group; node_groups.tf aws_security_group.node ("<name>-node-" prefix,
    kubernetes.io/cluster/<name>=owned) is the one its node group's instances get."""
    ec2 = emulator.client("ec2")
    summary = terraform["first"]
    own = summary["security_group_ids"]
    config = emulator.client("eks").describe_cluster(name="tfseeded")["cluster"]["resourcesVpcConfig"]
    assert config["securityGroupIds"] == [own["control-plane"]]
    [cluster_sg] = ec2.describe_security_groups(GroupIds=[own["control-plane"]])["SecurityGroups"]
    [node_sg] = ec2.describe_security_groups(GroupIds=[own["shared-node"]])["SecurityGroups"]
    assert re.match(r"^tfseeded-cluster-\d{26}$", cluster_sg["GroupName"])
    assert (cluster_sg["Description"], _tags(cluster_sg["Tags"])) == (
        "EKS cluster security group",
        {"Name": "tfseeded-cluster"},
    )
    assert re.match(r"^tfseeded-node-\d{26}$", node_sg["GroupName"])
    assert node_sg["Description"] == "EKS node shared security group"
    assert _tags(node_sg["Tags"]) == {"Name": "tfseeded-node", "kubernetes.io/cluster/tfseeded": "owned"}
    assert summary["node_security_group_ids"] == [own["shared-node"]]
    ids = [i["instance_id"] for i in summary["node_instances"]]
    reservations = ec2.describe_instances(InstanceIds=ids)["Reservations"]
    for instance in (i for r in reservations for i in r["Instances"]):
        assert [g["GroupId"] for g in instance["SecurityGroups"]] == [own["shared-node"]]
        assert instance["SubnetId"] in summary["private_subnet_ids"]


def test_terraform_access_entries_and_no_aws_auth(emulator, terraform):
    """variables.tf: authentication_mode API_AND_CONFIG_MAP; main.tf hard-codes
    bootstrap_cluster_creator_admin_permissions = false and makes the creator's entry itself
    (enable_cluster_creator_admin_permissions, as README.md's usage sets it); EKS makes the node
    group role's EC2_LINUX entry and, in this mode, no aws-auth entry (aws/containers-roadmap#185)."""
    eks = emulator.client("eks")
    summary = terraform["first"]
    cluster = eks.describe_cluster(name="tfseeded")["cluster"]
    assert cluster["accessConfig"] == {
        "authenticationMode": "API_AND_CONFIG_MAP",
        "bootstrapClusterCreatorAdminPermissions": False,
    }
    creator = summary["cluster_creator_arn"]
    assert sorted(eks.list_access_entries(clusterName="tfseeded")["accessEntries"]) == sorted(
        [creator, summary["node_role_arn"]]
    )
    entry = eks.describe_access_entry(clusterName="tfseeded", principalArn=creator)["accessEntry"]
    assert entry["type"] == "STANDARD"
    policies = eks.list_associated_access_policies(clusterName="tfseeded", principalArn=creator)[
        "associatedAccessPolicies"
    ]
    assert [(p["policyArn"].rsplit("/", 1)[1], p["accessScope"]["type"]) for p in policies] == [
        ("AmazonEKSClusterAdminPolicy", "cluster")
    ]
    node = eks.describe_access_entry(clusterName="tfseeded", principalArn=summary["node_role_arn"])["accessEntry"]
    assert node["type"] == "EC2_LINUX"
    assert summary["aws_auth_map_roles"] == []


def test_terraform_iam_names_node_group_and_oidc_provider(emulator, terraform):
    """name_prefix names ("<name>-cluster-", "<key>-eks-node-group-", node group "<key>-"), the
    node group's three policies (modules/eks-managed-node-group), and the IRSA provider that
    enable_irsa (default true) makes, tagged Name = "<name>-eks-irsa" (main.tf)."""
    iam = emulator.client("iam")
    summary = terraform["first"]
    assert re.match(r"^tfseeded-cluster-\d{26}$", summary["cluster_role_arn"].rsplit("/", 1)[1])
    assert re.match(r"^example-eks-node-group-\d{26}$", summary["node_role_name"])
    assert re.match(r"^example-\d{26}$", summary["nodegroup_name"])
    attached = {
        p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=summary["node_role_name"])["AttachedPolicies"]
    }
    assert attached == {"AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly", "AmazonEKS_CNI_Policy"}
    provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=summary["oidc_provider_arn"])
    assert provider["ClientIDList"] == ["sts.amazonaws.com"]
    assert _tags(provider["Tags"]) == {"Name": "tfseeded-eks-irsa"}
    assert summary["oidc_provider_arn"].endswith(summary["oidc_issuer"].split("://", 1)[1])
    assert summary["node_labels"] == {} and summary["addons"] == [] and summary["pod_identity"] is None


# -- karpenter-guide: getting-started-with-karpenter/scripts/step02-create-cluster.sh ------------


@pytest.fixture(scope="module")
def guide(emulator, ca_pem):
    return _seed_twice(emulator, ca_pem, "gdseeded", "karpenter-guide")


def test_guide_second_run_creates_nothing(guide):
    assert guide["second"] == guide["first"]
    assert [r for r in guide["second_requests"] if r["write"]] == []


def test_guide_discovery_tags_where_metadata_tags_put_them(emulator, guide):
    """metadata.tags are stack tags (pkg/cfn/manager/api.go), which CloudFormation puts on every
    resource of the stack: the VPC, all subnets, route tables, gateways and eksctl's security
    groups carry karpenter.sh/discovery; so do the cluster and its node group."""
    ec2 = emulator.client("ec2")
    eks = emulator.client("eks")
    summary = guide["first"]
    for kind, resource_id, tags in _vpc_resources(ec2, summary["vpc_id"]):
        if resource_id == summary["security_group_id"]:
            # Made by EKS, which does not give it the cluster's tags (terraform-aws-eks#1957).
            assert "karpenter.sh/discovery" not in tags
            continue
        assert tags.get("karpenter.sh/discovery") == "gdseeded", (kind, tags)
        assert tags["alpha.eksctl.io/cluster-oidc-enabled"] == "true"
    found = ec2.describe_subnets(Filters=[{"Name": "tag:karpenter.sh/discovery", "Values": ["gdseeded"]}])["Subnets"]
    assert sorted(s["SubnetId"] for s in found) == sorted(summary["subnet_ids"])
    assert eks.describe_cluster(name="gdseeded")["cluster"]["tags"]["karpenter.sh/discovery"] == "gdseeded"
    nodegroup = eks.describe_nodegroup(clusterName="gdseeded", nodegroupName="gdseeded-ng")["nodegroup"]
    assert nodegroup["tags"]["karpenter.sh/discovery"] == "gdseeded"


def test_guide_node_group_in_the_public_subnets(emulator, guide):
    """The guide's managed node group "<cluster>-ng" (m5.large) sets no privateNetworking, so eksctl
    puts it in the public subnets (pkg/cfn/builder/nodegroup.go AssignSubnets)."""
    summary = guide["first"]
    assert summary["nodegroup_name"] == "gdseeded-ng"
    assert summary["nodegroup_subnet_ids"] == summary["public_subnet_ids"]
    assert {i["subnet_id"] for i in summary["node_instances"]} == set(summary["public_subnet_ids"])
    assert {i["instance_type"] for i in summary["node_instances"]} == {"m5.large"}


def test_guide_oidc_addon_pod_identity_and_aws_auth(emulator, guide):
    """iam.withOIDC (the provider, tagged by pkg/eks/eks.go sharedTags), addons eks-pod-identity-agent,
    iam.podIdentityAssociations (role <cluster>-karpenter trusting pods.eks.amazonaws.com for
    kube-system/karpenter), iamIdentityMappings (KarpenterNodeRole-<cluster> in aws-auth), and
    eksctl's default mode API_AND_CONFIG_MAP, where the node group's role is an access entry."""
    eks = emulator.client("eks")
    iam = emulator.client("iam")
    summary = guide["first"]
    assert summary["authentication_mode"] == "API_AND_CONFIG_MAP"
    provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=summary["oidc_provider_arn"])
    assert _tags(provider["Tags"]) == {
        "alpha.eksctl.io/cluster-name": "gdseeded",
        "alpha.eksctl.io/eksctl-version": profiles.EKSCTL_VERSION,
    }
    assert eks.list_addons(clusterName="gdseeded")["addons"] == ["eks-pod-identity-agent"]
    [association] = eks.list_pod_identity_associations(clusterName="gdseeded")["associations"]
    assert (association["namespace"], association["serviceAccount"]) == ("kube-system", "karpenter")
    detail = eks.describe_pod_identity_association(clusterName="gdseeded", associationId=association["associationId"])[
        "association"
    ]
    assert detail["roleArn"] == "arn:aws:iam::123456789012:role/gdseeded-karpenter"
    role = iam.get_role(RoleName="gdseeded-karpenter")["Role"]
    [statement] = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert statement["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    assert summary["aws_auth_map_roles"] == [
        {
            "rolearn": "arn:aws:iam::123456789012:role/KarpenterNodeRole-gdseeded",
            "username": "system:node:{{EC2PrivateDNSName}}",
            "groups": ["system:bootstrappers", "system:nodes"],
        }
    ]
    node = eks.describe_access_entry(clusterName="gdseeded", principalArn=summary["node_role_arn"])["accessEntry"]
    assert node["type"] == "EC2_LINUX"


def test_guide_in_config_map_mode_maps_both_roles(emulator, ca_pem):
    """An explicit authentication mode overrides the profile's: in CONFIG_MAP the node group's role
    is in aws-auth (EKS) beside the guide's Karpenter node role (eksctl), and there are no access
    entries."""
    args = (
        emulator.url,
        REGION,
        "gdseeded-cm",
        "1.36",
        "https://127.0.0.1:6443",
        ca_pem,
        new_oidc_issuer(REGION),
        "CONFIG_MAP",
        "karpenter-guide",
    )
    summary = seed_cluster(*args)
    assert summary["authentication_mode"] == "CONFIG_MAP"
    assert [e["rolearn"].rsplit("/", 1)[1] for e in summary["aws_auth_map_roles"]] == [
        summary["node_role_name"],
        "KarpenterNodeRole-gdseeded-cm",
    ]


def test_profiles_default_modes_and_unknown_profile():
    assert [profiles.default_authentication_mode(p) for p in profiles.PROFILES] == [
        "CONFIG_MAP",
        "API_AND_CONFIG_MAP",
        "API_AND_CONFIG_MAP",
    ]
    with pytest.raises(ValueError, match="profile must be one of eksctl, terraform, karpenter-guide, not 'kops'"):
        profiles.spec("kops", "demo", REGION)

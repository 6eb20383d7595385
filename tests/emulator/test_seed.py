"""seed_cluster: an eksctl-like cluster, idempotently."""

import base64
import json
import re
import subprocess
import sys

import pytest

from sandbox.emulator.seed import new_oidc_issuer, seed_cluster

REGION = "us-east-1"


def _tags(items):
    return {t["Key"]: t["Value"] for t in items or []}


@pytest.fixture(scope="module")
def seeded(emulator, ca_pem):
    """Seed one cluster twice; the second run's request log slice is kept."""
    name = "seeded"
    issuer = new_oidc_issuer(REGION)
    args = (
        emulator.url,
        REGION,
        name,
        "1.36",
        "https://127.0.0.1:6443",
        ca_pem,
        issuer,
    )
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


def test_new_oidc_issuer_shape():
    issuer = new_oidc_issuer("eu-west-1")
    assert re.match(
        r"^https://oidc\.eks\.eu-west-1\.amazonaws\.com/id/[0-9A-F]{32}$", issuer
    )
    assert issuer != new_oidc_issuer("eu-west-1")


def test_summary_shape(seeded):
    summary = seeded["first"]
    json.dumps(summary)
    assert summary["account_id"] == "123456789012"
    assert summary["cluster_arn"] == "arn:aws:eks:us-east-1:123456789012:cluster/seeded"
    assert summary["availability_zones"] == ["us-east-1a", "us-east-1b"]
    assert len(summary["subnet_ids"]) == 2
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
    assert (
        cluster["resourcesVpcConfig"]["clusterSecurityGroupId"]
        == seeded["first"]["security_group_id"]
    )
    assert cluster["resourcesVpcConfig"]["vpcId"] == seeded["first"]["vpc_id"]
    assert sorted(cluster["resourcesVpcConfig"]["subnetIds"]) == sorted(
        seeded["first"]["subnet_ids"]
    )
    nodegroup = emulator.client("eks").describe_nodegroup(
        clusterName="seeded", nodegroupName="ng-1"
    )
    assert nodegroup["nodegroup"]["nodeRole"] == seeded["first"]["node_role_arn"]


def test_network_tags(emulator, seeded):
    ec2 = emulator.client("ec2")
    summary = seeded["first"]
    discovery = {
        "karpenter.sh/discovery": "seeded",
        "alpha.eksctl.io/cluster-name": "seeded",
    }

    vpc = ec2.describe_vpcs(VpcIds=[summary["vpc_id"]])["Vpcs"][0]
    assert vpc["CidrBlock"] == "192.168.0.0/16"
    assert discovery.items() <= _tags(vpc["Tags"]).items()

    subnets = ec2.describe_subnets(SubnetIds=summary["subnet_ids"])["Subnets"]
    assert sorted(s["AvailabilityZone"] for s in subnets) == [
        "us-east-1a",
        "us-east-1b",
    ]
    for subnet in subnets:
        tags = _tags(subnet["Tags"])
        assert discovery.items() <= tags.items()
        assert tags["kubernetes.io/cluster/seeded"] == "shared"
        assert subnet["VpcId"] == summary["vpc_id"]

    group = ec2.describe_security_groups(GroupIds=[summary["security_group_id"]])[
        "SecurityGroups"
    ][0]
    tags = _tags(group["Tags"])
    assert discovery.items() <= tags.items()
    assert tags["aws:eks:cluster-name"] == "seeded"
    assert group["VpcId"] == summary["vpc_id"]

    # Karpenter-style discovery by tag finds exactly these.
    found = ec2.describe_subnets(
        Filters=[{"Name": "tag:karpenter.sh/discovery", "Values": ["seeded"]}]
    )
    assert sorted(s["SubnetId"] for s in found["Subnets"]) == sorted(
        summary["subnet_ids"]
    )
    found = ec2.describe_security_groups(
        Filters=[{"Name": "tag:karpenter.sh/discovery", "Values": ["seeded"]}]
    )
    assert [g["GroupId"] for g in found["SecurityGroups"]] == [
        summary["security_group_id"]
    ]


def test_node_role_and_instances(emulator, seeded):
    iam = emulator.client("iam")
    summary = seeded["first"]
    role = iam.get_role(RoleName=summary["node_role_name"])["Role"]
    principals = [s["Principal"] for s in role["AssumeRolePolicyDocument"]["Statement"]]
    assert principals == [{"Service": "ec2.amazonaws.com"}]
    attached = {
        p["PolicyName"]
        for p in iam.list_attached_role_policies(RoleName=role["RoleName"])[
            "AttachedPolicies"
        ]
    }
    assert {
        "AmazonEKSWorkerNodePolicy",
        "AmazonEKS_CNI_Policy",
        "AmazonEC2ContainerRegistryReadOnly",
    } <= attached
    profiles = iam.list_instance_profiles_for_role(RoleName=role["RoleName"])[
        "InstanceProfiles"
    ]
    assert [p["Arn"] for p in profiles] == [summary["instance_profile_arn"]]

    ids = [i["instance_id"] for i in summary["node_instances"]]
    reservations = emulator.client("ec2").describe_instances(InstanceIds=ids)[
        "Reservations"
    ]
    instances = [i for r in reservations for i in r["Instances"]]
    assert len(instances) == 2
    for instance in instances:
        assert instance["State"]["Name"] == "running"
        assert instance["IamInstanceProfile"]["Arn"] == summary["instance_profile_arn"]
        tags = _tags(instance["Tags"])
        assert tags["eks:cluster-name"] == "seeded"
        assert tags["eks:nodegroup-name"] == "ng-1"
        assert instance["SubnetId"] in summary["subnet_ids"]


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


def test_cli_writes_the_same_summary(
    emulator, seeded, tmp_path, repo_root, subprocess_env
):
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

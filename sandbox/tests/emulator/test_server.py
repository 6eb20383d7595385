"""The emulator's EKS fixes and admin routes, through boto3 against the running server."""

import base64
import re
import subprocess
import sys

import botocore.exceptions
import pytest

ISSUER_RE = re.compile(r"^https://oidc\.eks\.us-east-1\.amazonaws\.com/id/[0-9A-F]{32}$")


def test_health(emulator):
    assert emulator.admin("GET", "/_sandbox/health") == (200, {"status": "ok"})


def test_aws_managed_policies_are_loaded(emulator):
    policy = emulator.client("iam").get_policy(PolicyArn="arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy")["Policy"]
    assert policy["PolicyName"] == "AmazonEKSWorkerNodePolicy"


def test_describe_cluster_returns_overrides(emulator, bare_cluster, unique, ca_pem):
    name = "override-" + unique
    bare_cluster(name)
    ca_data = base64.b64encode(ca_pem.encode()).decode()
    issuer = "https://oidc.eks.us-east-1.amazonaws.com/id/" + "AB" * 16
    status, view = emulator.admin(
        "POST",
        "/_sandbox/eks/clusters/" + name,
        {
            "endpoint": "https://127.0.0.1:6443",
            "certificate_authority_data": ca_data,
            "oidc_issuer": issuer,
            "version": "1.36",
            "authentication_mode": "API_AND_CONFIG_MAP",
        },
    )
    assert status == 200, view
    cluster = emulator.client("eks").describe_cluster(name=name)["cluster"]
    assert cluster["endpoint"] == "https://127.0.0.1:6443"
    assert cluster["certificateAuthority"]["data"] == ca_data
    assert base64.b64decode(cluster["certificateAuthority"]["data"]).decode() == ca_pem
    assert cluster["identity"]["oidc"]["issuer"] == issuer
    assert cluster["version"] == "1.36"
    assert cluster["accessConfig"]["authenticationMode"] == "API_AND_CONFIG_MAP"
    assert emulator.admin("GET", "/_sandbox/eks/clusters/" + name) == (200, view)


def test_issuer_and_endpoint_unique_per_cluster(emulator, bare_cluster, unique):
    first = bare_cluster("first-" + unique)
    second = bare_cluster("second-" + unique)
    issuers = {c["identity"]["oidc"]["issuer"] for c in (first, second)}
    assert len(issuers) == 2
    assert all(ISSUER_RE.match(i) for i in issuers)
    assert first["endpoint"] != second["endpoint"]


def test_access_config_from_create_and_one_way_update(emulator, bare_cluster, unique):
    eks = emulator.client("eks")
    name = "access-" + unique
    created = bare_cluster(name)
    assert created["accessConfig"] == {
        "authenticationMode": "CONFIG_MAP",
        "bootstrapClusterCreatorAdminPermissions": True,
    }
    update = eks.update_cluster_config(name=name, accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"})["update"]
    assert update["type"] == "AccessConfigUpdate"
    assert update["params"] == [{"type": "AuthenticationMode", "value": "API_AND_CONFIG_MAP"}]
    with pytest.raises(eks.exceptions.InvalidParameterException):
        eks.update_cluster_config(name=name, accessConfig={"authenticationMode": "CONFIG_MAP"})
    described = eks.describe_cluster(name=name)["cluster"]["accessConfig"]
    assert described["authenticationMode"] == "API_AND_CONFIG_MAP"

    api = bare_cluster("api-" + unique, accessConfig={"authenticationMode": "API"})
    assert api["accessConfig"]["authenticationMode"] == "API"


def test_cluster_security_group_created_like_eks(emulator, bare_cluster, unique):
    """EKS tags its cluster security group with its own tags only, not the cluster's
    (terraform-aws-modules/terraform-aws-eks#1957: "cluster tags are not propagated to the security
    group created by the EKS service"; aws/containers-roadmap#977)."""
    name = "sg-" + unique
    cluster = bare_cluster(name, tags={"karpenter.sh/discovery": name})
    config = cluster["resourcesVpcConfig"]
    group = emulator.client("ec2").describe_security_groups(GroupIds=[config["clusterSecurityGroupId"]])[
        "SecurityGroups"
    ][0]
    tags = {t["Key"]: t["Value"] for t in group["Tags"]}
    assert tags["aws:eks:cluster-name"] == name
    assert tags["kubernetes.io/cluster/" + name] == "owned"
    assert "karpenter.sh/discovery" not in tags
    assert set(tags) == {"Name", "aws:eks:cluster-name", "kubernetes.io/cluster/" + name}
    assert group["GroupName"].startswith(f"eks-cluster-sg-{name}-")
    assert group["VpcId"] == config["vpcId"]

    emulator.client("eks").delete_cluster(name=name)
    with pytest.raises(botocore.exceptions.ClientError):
        emulator.client("ec2").describe_security_groups(GroupIds=[config["clusterSecurityGroupId"]])


@pytest.mark.parametrize(
    "body, status",
    [
        ({"certificate_authority_data": "not base64!"}, 400),
        ({"certificate_authority_data": base64.b64encode(b"hello").decode()}, 400),
        ({"authentication_mode": "SOMETHING"}, 400),
        ({"oidc_issuer": "http://insecure"}, 400),
        ({"colour": "blue"}, 400),
    ],
)
def test_override_rejects_bad_input(emulator, bare_cluster, unique, body, status):
    name = "bad-" + unique
    bare_cluster(name)
    before = emulator.client("eks").describe_cluster(name=name)["cluster"]
    code, _ = emulator.admin("POST", "/_sandbox/eks/clusters/" + name, body)
    assert code == status
    after = emulator.client("eks").describe_cluster(name=name)["cluster"]
    assert after == before


def test_override_unknown_cluster_is_404(emulator, unique):
    code, body = emulator.admin("POST", "/_sandbox/eks/clusters/nope-" + unique, {"version": "1.36"})
    assert code == 404
    assert "nope-" + unique in body["error"]


def test_server_refuses_non_loopback_host(repo_root, subprocess_env):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sandbox.emulator.server",
            "--host",
            "0.0.0.0",
            "--port",
            "1",
        ],
        cwd=str(repo_root),
        env=subprocess_env,
        capture_output=True,
        check=False,
        timeout=30,
    )
    assert result.returncode == 2
    assert b"loopback" in result.stderr


def test_create_cluster_with_unknown_subnet_stores_nothing(emulator, unique):
    eks = emulator.client("eks")
    name = "nosubnet-" + unique
    with pytest.raises(eks.exceptions.InvalidParameterException):
        eks.create_cluster(
            name=name,
            roleArn="arn:aws:iam::123456789012:role/any",
            resourcesVpcConfig={"subnetIds": ["subnet-0000000000000000f"]},
        )
    assert name not in eks.list_clusters()["clusters"]

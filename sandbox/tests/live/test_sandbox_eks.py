"""What the emulator says about the cluster matches the running control plane and nodes."""

import base64
import json
import re
import ssl

import pytest

from sandbox.harness import Harness

if not Harness().exists():
    pytest.skip("no sandbox: .sandbox/env is absent (start one with `make sandbox`)", allow_module_level=True)

import yaml  # noqa: E402
from .sandbox_testlib import openid_issuer, tls_handshake  # noqa: E402
from kubernetes import client  # noqa: E402

from sandbox import pki  # noqa: E402


@pytest.fixture(scope="module")
def cluster(aws, sbvars):
    return aws("eks").describe_cluster(name=sbvars["cluster_name"])["cluster"]


def test_describe_cluster_endpoint_is_the_apiserver(cluster, kube):
    assert cluster["status"] == "ACTIVE"
    assert cluster["endpoint"] == kube.configuration.host.rstrip("/")
    assert re.fullmatch(r"https://127\.0\.0\.1:\d+", cluster["endpoint"])
    info = client.VersionApi(kube).get_code()
    assert cluster["version"] == "%s.%s" % (info.major, info.minor)


def test_describe_cluster_ca_validates_the_apiserver(cluster, tmp_path):
    ca_pem = base64.b64decode(cluster["certificateAuthority"]["data"])
    assert ca_pem.startswith(b"-----BEGIN CERTIFICATE-----")
    subject = tls_handshake(cluster["endpoint"], ca_pem)
    assert subject["commonName"] == "kube-apiserver"
    # A CA of another sandbox does not validate this apiserver: the check above is a real one.
    other = pki.ensure_pki(tmp_path / "pki")
    with pytest.raises(ssl.SSLCertVerificationError):
        tls_handshake(cluster["endpoint"], (other / "ca.crt").read_bytes())


def test_issuer_is_the_apiservers_service_account_issuer(cluster, kube, seed, namespace):
    issuer = cluster["identity"]["oidc"]["issuer"]
    assert re.fullmatch(r"https://oidc\.eks\.[a-z0-9-]+\.amazonaws\.com/id/[0-9A-F]{32}", issuer)
    assert issuer == seed["oidc_issuer"]
    assert openid_issuer(kube) == issuer
    # And a projected token the apiserver mints says so too.
    core = client.CoreV1Api(kube)
    core.create_namespaced_service_account(namespace, {"metadata": {"name": "sbtest-sa"}})
    token = core.create_namespaced_service_account_token(
        "sbtest-sa", namespace, {"spec": {"audiences": ["sts.amazonaws.com"], "expirationSeconds": 600}}
    ).status.token
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["iss"] == issuer
    assert claims["aud"] == ["sts.amazonaws.com"]
    assert claims["sub"] == "system:serviceaccount:%s:sbtest-sa" % namespace


def test_aws_auth_maps_the_node_role(kube, seed, sbvars):
    """In CONFIG_MAP mode EKS maps the managed node group's role in aws-auth; in the API modes it
    makes an access entry instead, and aws-auth holds only what the profile's tool put there."""
    assert sbvars["sandbox_node_role_arn"] == seed["node_role_arn"]
    assert sbvars["sandbox_profile"] == seed["profile"]
    api = client.CoreV1Api(kube)
    if not seed["aws_auth_map_roles"]:
        with pytest.raises(client.exceptions.ApiException) as err:
            api.read_namespaced_config_map("aws-auth", "kube-system")
        assert err.value.status == 404
        return
    roles = yaml.safe_load(api.read_namespaced_config_map("aws-auth", "kube-system").data["mapRoles"])
    assert roles == seed["aws_auth_map_roles"]
    mine = [r for r in roles if r["rolearn"] == seed["node_role_arn"]]
    if seed["authentication_mode"] == "CONFIG_MAP":
        assert mine == [
            {
                "rolearn": seed["node_role_arn"],
                "username": "system:node:{{EC2PrivateDNSName}}",
                "groups": ["system:bootstrappers", "system:nodes"],
            }
        ]
    else:
        assert mine == []


def test_nodes_are_the_node_groups_instances(kube, aws, seed, sbvars):
    nodegroup = seed["nodegroup_name"]
    nodes = client.CoreV1Api(kube).list_node(label_selector="eks.amazonaws.com/nodegroup=" + nodegroup).items
    assert sorted(n.metadata.name for n in nodes) == sorted(i["private_dns_name"] for i in seed["node_instances"])
    ec2 = aws("ec2")
    zones = set()
    for node in nodes:
        labels = node.metadata.labels
        assert labels["eks.amazonaws.com/capacityType"] == "ON_DEMAND"
        # The node group's own labels: eksctl's (v1alpha5 ClusterNameLabel, NodeGroupNameLabel), or none.
        assert seed["node_labels"].items() <= labels.items()
        if seed["profile"] in ("eksctl", "karpenter-guide"):
            assert labels["alpha.eksctl.io/nodegroup-name"] == nodegroup
            assert labels["alpha.eksctl.io/cluster-name"] == sbvars["cluster_name"]
        else:
            assert not [k for k in labels if k.startswith("alpha.eksctl.io/")]
        m = re.fullmatch(r"aws:///([a-z0-9-]+)/(i-[0-9a-f]+)", node.spec.provider_id or "")
        assert m, node.spec.provider_id
        az, instance_id = m.groups()
        assert labels["topology.kubernetes.io/zone"] == az
        assert labels["topology.kubernetes.io/region"] == sbvars["aws_region"]
        reservations = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
        [inst] = [i for r in reservations for i in r["Instances"]]
        assert inst["Placement"]["AvailabilityZone"] == az
        assert inst["PrivateDnsName"] == node.metadata.name
        assert inst["InstanceType"] == labels["node.kubernetes.io/instance-type"]
        assert inst["State"]["Name"] == "running"
        assert inst["IamInstanceProfile"]["Arn"] == seed["instance_profile_arn"]
        assert inst["SubnetId"] in seed["nodegroup_subnet_ids"]
        zones.add(az)
    assert zones == set(seed["availability_zones"])

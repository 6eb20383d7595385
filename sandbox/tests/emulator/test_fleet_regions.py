"""One emulator, clusters in two regions (the fleet of ``python -m sandbox up --aws-url``): each region lists
its own clusters, and each cluster's network, nodes and admin view are its region's."""

import boto3

from sandbox.emulator.seed import new_oidc_issuer, seed_cluster


def _client(emulator, service, region):
    return boto3.client(
        service,
        endpoint_url=emulator.url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_clusters_of_two_regions_in_one_emulator(emulator, ca_pem):
    east = seed_cluster(
        emulator.url, "us-east-1", "fleet-east", "1.36", "https://127.0.0.1:6443", ca_pem, new_oidc_issuer("us-east-1")
    )
    west = seed_cluster(
        emulator.url, "us-west-2", "fleet-west", "1.36", "https://127.0.0.1:7443", ca_pem, new_oidc_issuer("us-west-2")
    )
    assert west["cluster_arn"].startswith("arn:aws:eks:us-west-2:123456789012:cluster/fleet-west")
    assert east["cluster_arn"].startswith("arn:aws:eks:us-east-1:123456789012:cluster/fleet-east")
    assert all(z.startswith("us-west-2") for z in west["availability_zones"]), west["availability_zones"]
    west_eks = _client(emulator, "eks", "us-west-2")
    assert "fleet-west" in west_eks.list_clusters()["clusters"]
    assert "fleet-west" not in _client(emulator, "eks", "us-east-1").list_clusters()["clusters"]
    assert west_eks.describe_cluster(name="fleet-west")["cluster"]["endpoint"] == "https://127.0.0.1:7443"
    # The network and the node group's instances are in the cluster's region, not the other one.
    west_ec2 = _client(emulator, "ec2", "us-west-2")
    assert west_ec2.describe_vpcs(VpcIds=[west["vpc_id"]])["Vpcs"]
    ids = [i["instance_id"] for i in west["node_instances"]]
    found = [
        i["InstanceId"] for r in west_ec2.describe_instances(InstanceIds=ids)["Reservations"] for i in r["Instances"]
    ]
    assert sorted(found) == sorted(ids)
    # The admin view (what the token webhook and the Pod Identity agent read) finds each by its name.
    status, view = emulator.admin("GET", "/_sandbox/eks/clusters/fleet-west")
    assert status == 200 and view["arn"] == west["cluster_arn"] and view["endpoint"] == "https://127.0.0.1:7443"

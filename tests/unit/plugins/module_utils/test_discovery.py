"""Pure logic of node class discovery: private subnets, default terms, tag plans, messages.

The route-table cases follow the Kubernetes AWS cloud provider's own test (kubernetes/cloud-provider-aws
pkg/providers/v1/aws_test.go ``TestSubnetIDsinVPC``: a main route table to ``igw-main``, and subnets with
their own table routing to ``igw-...`` (public) or ``vgw-...`` (private)), whose ``isSubnetPublic`` eksctl
uses too.
"""

import pytest

from ansible_collections.jit.karpenter.plugins.module_utils import _discovery as discovery
from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError

MAIN_IGW = {
    "Associations": [{"Main": True}],
    "Routes": [{"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-main"}],
}
MAIN_LOCAL = {
    "Associations": [{"Main": True}],
    "Routes": [{"DestinationCidrBlock": "192.168.0.0/16", "GatewayId": "local"}],
}


def _table(subnet_id, gateway):
    return {
        "Associations": [{"SubnetId": subnet_id}],
        "Routes": [{"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": gateway}],
    }


def _nat_table(subnet_id):
    return {
        "Associations": [{"SubnetId": subnet_id}],
        "Routes": [{"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-0123"}],
    }


@pytest.mark.parametrize(
    "tables,subnet,public",
    [
        ([MAIN_IGW, _table("subnet-a0000001", "igw-a0000001")], "subnet-a0000001", True),
        ([MAIN_IGW, _table("subnet-a0000001", "vgw-a0000001")], "subnet-a0000001", False),  # own table wins
        ([MAIN_IGW], "subnet-b0000001", True),  # no association: the main table's igw
        ([MAIN_LOCAL], "subnet-b0000001", False),
        ([MAIN_IGW, _nat_table("subnet-c0000001")], "subnet-c0000001", False),  # eksctl's private: NAT
        ([], "subnet-d0000001", False),  # no route table at all: no internet gateway
    ],
)
def test_is_public(tables, subnet, public):
    assert discovery.is_public(tables, subnet) is public


def test_private_subnet_ids_keep_order():
    tables = [MAIN_IGW, _nat_table("subnet-2"), _nat_table("subnet-1"), _table("subnet-3", "igw-x")]
    assert discovery.private_subnet_ids(["subnet-2", "subnet-3", "subnet-1", "subnet-9"], tables) == [
        "subnet-2",
        "subnet-1",
    ]


def test_choose_network_prefers_node_group_subnets():
    groups = [
        {"nodegroupName": "ng-2", "subnets": ["subnet-b", "subnet-a"]},
        {"nodegroupName": "ng-1", "subnets": ["subnet-a", "subnet-c"]},
    ]
    net = discovery.choose_network(groups, ["subnet-pub", "subnet-a"], [MAIN_IGW], "sg-cluster")
    assert net["subnet_ids"] == ["subnet-b", "subnet-a", "subnet-c"]
    assert net["security_group_ids"] == ["sg-cluster"]
    assert "ng-1, ng-2" in net["source"]


def test_choose_network_without_node_groups_takes_private_cluster_subnets():
    tables = [MAIN_IGW, _nat_table("subnet-priv-a"), _nat_table("subnet-priv-b")]
    net = discovery.choose_network(
        [], ["subnet-pub-a", "subnet-priv-a", "subnet-pub-b", "subnet-priv-b"], tables, "sg-1"
    )
    assert net["subnet_ids"] == ["subnet-priv-a", "subnet-priv-b"]
    assert "private" in net["source"]


def test_choose_network_fails_when_only_public_subnets():
    with pytest.raises(KarpenterError) as err:
        discovery.choose_network([], ["subnet-pub-a"], [MAIN_IGW], "sg-1")
    assert "subnet-pub-a" in err.value.msg and "subnet_selector_terms" in err.value.msg


def test_choose_network_prefers_the_node_groups_instance_security_groups():
    # terraform-aws-eks: managed nodes carry the module's node security group, not the cluster's.
    net = discovery.choose_network(
        [{"nodegroupName": "ng", "subnets": ["subnet-a"]}], [], [], "sg-cluster", ["sg-node"]
    )
    assert net["security_group_ids"] == ["sg-node"]
    assert "instances" in net["security_group_source"]


def test_instance_security_groups_in_first_seen_order():
    reservations = [
        {"Instances": [{"SecurityGroups": [{"GroupId": "sg-2"}, {"GroupId": "sg-1"}]}]},
        {"Instances": [{"SecurityGroups": [{"GroupId": "sg-1"}]}, {"SecurityGroups": []}]},
    ]
    assert discovery.instance_security_groups(reservations) == ["sg-2", "sg-1"]


def test_choose_network_fails_without_cluster_security_group():
    with pytest.raises(KarpenterError, match="clusterSecurityGroupId"):
        discovery.choose_network([{"nodegroupName": "ng", "subnets": ["subnet-a"]}], [], [], None)


def test_default_terms_by_id_and_by_tag():
    net = {"subnet_ids": ["subnet-a", "subnet-b"], "security_group_ids": ["sg-1"]}
    assert discovery.default_terms(net, "cluster", "demo") == {
        "subnet_selector_terms": [{"id": "subnet-a"}, {"id": "subnet-b"}],
        "security_group_selector_terms": [{"id": "sg-1"}],
    }
    assert discovery.default_terms(net, "tag", "demo") == {
        "subnet_selector_terms": [{"tags": {"karpenter.sh/discovery": "demo"}}],
        "security_group_selector_terms": [{"tags": {"karpenter.sh/discovery": "demo"}}],
    }


def test_tag_plan_conflicts_and_record():
    resources = {
        "subnet-a": {"Name": "x"},
        "subnet-b": {"karpenter.sh/discovery": "demo"},
        "sg-1": {"karpenter.sh/discovery": "other"},
    }
    assert discovery.tag_conflicts(resources, "demo") == ["sg-1 (karpenter.sh/discovery=other)"]
    assert discovery.tags_to_add(resources, "demo") == ["sg-1", "subnet-a"]


def test_tag_plan_records_each_added_key_on_the_resource():
    resources = {
        "subnet-a": {"Name": "x"},
        "subnet-b": {"karpenter.sh/discovery": "demo"},  # tagged by someone else: left alone, unrecorded
        "sg-1": {"jit.karpenter/added-tags": "team"},
    }
    assert discovery.tag_plan(resources, "demo") == {
        "sg-1": {"karpenter.sh/discovery": "demo", "jit.karpenter/added-tags": "karpenter.sh/discovery team"},
        "subnet-a": {"karpenter.sh/discovery": "demo", "jit.karpenter/added-tags": "karpenter.sh/discovery"},
    }


def test_untag_plan_removes_only_recorded_tags_naming_the_cluster():
    resources = {
        "subnet-a": {"karpenter.sh/discovery": "demo", "jit.karpenter/added-tags": "karpenter.sh/discovery"},
        "subnet-b": {"karpenter.sh/discovery": "demo"},  # no record
        "subnet-c": {"karpenter.sh/discovery": "other", "jit.karpenter/added-tags": "karpenter.sh/discovery"},
        "sg-1": {"karpenter.sh/discovery": "demo", "jit.karpenter/added-tags": "team karpenter.sh/discovery"},
    }
    assert discovery.untag_plan(resources, "demo") == {
        "sg-1": (["karpenter.sh/discovery"], "team"),
        "subnet-a": (["karpenter.sh/discovery"], None),
    }


def test_ec2_filters_follow_karpenter_wildcard():
    assert discovery.ec2_filters({"tags": {"b": "*", "a": "1"}, "name": "web"}) == [
        {"Name": "tag:a", "Values": ["1"]},
        {"Name": "tag-key", "Values": ["b"]},
        {"Name": "group-name", "Values": ["web"]},
    ]


def test_alias_parameters_latest_and_pinned():
    latest = discovery.alias_parameters("al2023@latest", "1.36")
    assert latest[0] == "/aws/service/eks/optimized-ami/1.36/amazon-linux-2023/x86_64/standard/recommended/image_id"
    assert latest[1] == "/aws/service/eks/optimized-ami/1.36/amazon-linux-2023/arm64/standard/recommended/image_id"
    assert len(latest) == 5
    pinned = discovery.alias_parameters("al2023@v20240807", "1.30")
    assert pinned[0] == (
        "/aws/service/eks/optimized-ami/1.30/amazon-linux-2023/x86_64/standard/"
        "amazon-eks-node-al2023-x86_64-standard-1.30-v20240807/image_id"
    )
    assert discovery.alias_parameters("bottlerocket@latest", "1.36") is None
    assert discovery.alias_parameters("al2023", "1.36") is None


def test_no_match_message_names_selector_and_what_exists():
    subnets = [
        {
            "SubnetId": "subnet-2",
            "AvailabilityZone": "us-east-1b",
            "Tags": [{"Key": "alpha.eksctl.io/cluster-name", "Value": "demo"}, {"Key": "Name", "Value": "priv-b"}],
        }
    ]
    text = discovery.no_match_message(
        "default",
        "subnet_selector_terms",
        [{"tags": {"karpenter.sh/discovery": "demo"}}],
        "subnet",
        ["the cluster's VPC vpc-1 has subnets: " + "; ".join(discovery.format_subnets(subnets))],
    )
    assert text.splitlines()[0] == (
        'EC2NodeClass default: subnet_selector_terms [{"tags": {"karpenter.sh/discovery": "demo"}}] match no subnet'
    )
    assert "subnet-2 (us-east-1b, Name=priv-b, alpha.eksctl.io/cluster-name=demo)" in text


def test_clean_term_spells_ssm_parameter_as_karpenter():
    assert discovery._clean({"ssm_parameter": "/x", "id": None, "tags": {}}) == {"ssmParameter": "/x"}

"""CreateFleet (on-demand and spot) launches instances with their launch template's security groups and instance profile."""

import json

import pytest


@pytest.fixture
def network(emulator, unique):
    ec2, iam = emulator.client("ec2"), emulator.client("iam")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24", AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="nodes-" + unique, Description="nodes", VpcId=vpc)["GroupId"]
    role = "node-" + unique
    iam.create_role(
        RoleName=role,
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )
    iam.create_instance_profile(InstanceProfileName="profile-" + unique)
    iam.add_role_to_instance_profile(InstanceProfileName="profile-" + unique, RoleName=role)
    image = emulator.client("ssm").get_parameter(
        Name="/aws/service/eks/optimized-ami/1.36/amazon-linux-2023/x86_64/standard/recommended/image_id"
    )["Parameter"]["Value"]
    return {"subnet": subnet, "group": group, "profile": "profile-" + unique, "image": image}


def _launch(emulator, unique, data, subnet, capacity_type="on-demand", types=("m5.xlarge",)):
    ec2 = emulator.client("ec2")
    template = ec2.create_launch_template(LaunchTemplateName="lt-" + unique, LaunchTemplateData=data)
    fleet = ec2.create_fleet(
        Type="instant",
        TargetCapacitySpecification={"TotalTargetCapacity": 1, "DefaultTargetCapacityType": capacity_type},
        LaunchTemplateConfigs=[
            {
                "LaunchTemplateSpecification": {
                    "LaunchTemplateId": template["LaunchTemplate"]["LaunchTemplateId"],
                    "Version": "$Latest",
                },
                "Overrides": [{"InstanceType": t, "SubnetId": subnet} for t in types],
            }
        ],
    )
    instance_id = fleet["Instances"][0]["InstanceIds"][0]
    return ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]


@pytest.mark.parametrize("capacity_type", ["on-demand", "spot"])
def test_network_interface_groups_and_instance_profile(emulator, unique, network, capacity_type):
    instance = _launch(
        emulator,
        unique,
        {
            "ImageId": network["image"],
            "IamInstanceProfile": {"Name": network["profile"]},
            "NetworkInterfaces": [{"DeviceIndex": 0, "Groups": [network["group"]]}],
        },
        network["subnet"],
        capacity_type,
    )
    assert [g["GroupId"] for g in instance["SecurityGroups"]] == [network["group"]]
    assert [g["GroupId"] for g in instance["NetworkInterfaces"][0]["Groups"]] == [network["group"]]
    assert instance["IamInstanceProfile"]["Arn"].endswith(":instance-profile/" + network["profile"])
    assert instance["SubnetId"] == network["subnet"]
    assert instance["Placement"]["AvailabilityZone"] == "us-east-1b"


def test_security_group_ids(emulator, unique, network):
    instance = _launch(
        emulator, unique, {"ImageId": network["image"], "SecurityGroupIds": [network["group"]]}, network["subnet"]
    )
    assert [g["GroupId"] for g in instance["SecurityGroups"]] == [network["group"]]
    assert "IamInstanceProfile" not in instance


@pytest.mark.parametrize("capacity_type", ["on-demand", "spot"])
def test_lowest_price_launches_the_cheapest_type(emulator, unique, network, capacity_type):
    # Listed as Karpenter lists them, in no price order; the prices are the emulator's table (conftest.py).
    instance = _launch(
        emulator,
        unique,
        {"ImageId": network["image"]},
        network["subnet"],
        capacity_type,
        types=("m5.2xlarge", "unpriced.large", "c5.large", "m5.large"),
    )
    assert instance["InstanceType"] == "c5.large"


def test_prices_parsed_from_karpenters_table():
    from .conftest import PRICES_GO
    from sandbox.emulator import ec2_fleet

    prices = ec2_fleet.parse_prices(PRICES_GO)
    assert prices == {
        "us-east-1": {"c5.large": 0.085, "c5.xlarge": 0.17, "m5.2xlarge": 0.384, "m5.large": 0.096, "m5.xlarge": 0.192},
        "us-west-2": {"m5.large": 0.096},
    }

"""EC2's catalogue reads through the server, whose answers are kept: pages, regions and filters still hold."""

import boto3


def ec2(emulator, region):
    return boto3.client(
        "ec2",
        endpoint_url=emulator.url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def all_types(client):
    return [
        t["InstanceType"]
        for page in client.get_paginator("describe_instance_types").paginate(PaginationConfig={"PageSize": 100})
        for t in page["InstanceTypes"]
    ]


def test_every_page_of_instance_types_twice(emulator):
    from moto.ec2.models.instance_types import INSTANCE_TYPES

    client = ec2(emulator, "us-east-1")
    first, again = all_types(client), all_types(client)
    assert first == again
    assert sorted(first) == sorted(INSTANCE_TYPES) and len(first) > 100


def test_offerings_and_spot_prices_per_region_and_filter(emulator):
    east, west = ec2(emulator, "us-east-1"), ec2(emulator, "us-west-2")
    for _ in range(2):
        zones = {
            o["Location"]
            for o in east.describe_instance_type_offerings(LocationType="availability-zone")["InstanceTypeOfferings"]
        }
        assert zones and all(z.startswith("us-east-1") for z in zones)
        zones = {
            o["Location"]
            for o in west.describe_instance_type_offerings(LocationType="availability-zone")["InstanceTypeOfferings"]
        }
        assert zones and all(z.startswith("us-west-2") for z in zones)
        prices = east.describe_spot_price_history(InstanceTypes=["m5.large"])["SpotPriceHistory"]
        assert prices and {p["InstanceType"] for p in prices} == {"m5.large"}
        prices = east.describe_spot_price_history(InstanceTypes=["c5.large"])["SpotPriceHistory"]
        assert prices and {p["InstanceType"] for p in prices} == {"c5.large"}

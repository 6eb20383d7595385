# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Launch one instance with the given tags and print its ID and zone as JSON (RunInstances, always new).

python run_instance.py <subnet-id> KEY=VALUE ...
"""

import json
import sys

import boto3

ec2 = boto3.client("ec2")
image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
tags = [dict(zip(("Key", "Value"), arg.split("=", 1))) for arg in sys.argv[2:]]
instance = ec2.run_instances(
    ImageId=image,
    InstanceType="m5.xlarge",
    MinCount=1,
    MaxCount=1,
    SubnetId=sys.argv[1],
    TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
)["Instances"][0]
print(json.dumps({"id": instance["InstanceId"], "zone": instance["Placement"]["AvailabilityZone"]}))

# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print what IAM holds for one OIDC provider ARN, as JSON (an independent read for the tests)."""

import json
import sys

import boto3
import botocore

arn = sys.argv[1]
iam = boto3.client("iam")
try:
    provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
except botocore.exceptions.ClientError as e:
    if e.response["Error"]["Code"] != "NoSuchEntity":
        raise
    print(json.dumps({"exists": False}))
else:
    print(
        json.dumps(
            {
                "exists": True,
                "url": provider["Url"],
                "client_ids": sorted(provider.get("ClientIDList", [])),
                "thumbprints": sorted(provider.get("ThumbprintList", [])),
            }
        )
    )

"""Print, as JSON, the IAM and EventBridge state of Karpenter's stack for a cluster, read with boto3 alone.

    python aws_state.py <cluster> <region>

Independent of the collection's own reading: the managed policies attached to the controller role
<cluster>-karpenter, each with the actions and resources of its default version; and the EventBridge rules
that target the interruption queue <cluster>, each with the detail-types it matches.
"""

import json
import sys
import urllib.parse

import boto3


def main(cluster, region):
    iam = boto3.client("iam", region_name=region)
    events = boto3.client("events", region_name=region)
    sqs = boto3.client("sqs", region_name=region)
    policies = {}
    attached = iam.list_attached_role_policies(RoleName=cluster + "-karpenter")["AttachedPolicies"]
    for p in attached:
        meta = iam.get_policy(PolicyArn=p["PolicyArn"])["Policy"]
        doc = iam.get_policy_version(PolicyArn=p["PolicyArn"], VersionId=meta["DefaultVersionId"])["PolicyVersion"]["Document"]
        if isinstance(doc, str):
            doc = json.loads(urllib.parse.unquote(doc))
        statements = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
        actions, resources = set(), set()
        for st in statements:
            for key, into in (("Action", actions), ("Resource", resources)):
                value = st.get(key) or []
                into.update([value] if isinstance(value, str) else value)
        policies[p["PolicyName"]] = {"actions": sorted(actions), "resources": sorted(resources),
                                     "sids": sorted(st.get("Sid", "") for st in statements)}
    queue_arn = sqs.get_queue_attributes(QueueUrl=sqs.get_queue_url(QueueName=cluster)["QueueUrl"],
                                         AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rules = {}
    for name in events.list_rule_names_by_target(TargetArn=queue_arn)["RuleNames"]:
        rule = events.describe_rule(Name=name)
        pattern = json.loads(rule.get("EventPattern") or "{}")
        rules[name] = sorted(pattern.get("detail-type") or [])
    print(json.dumps({"policies": policies, "rules": rules}, indent=2, sort_keys=True))


if __name__ == "__main__":
    main(*sys.argv[1:3])

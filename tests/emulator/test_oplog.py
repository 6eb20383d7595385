"""Request log: pure classification and operation resolution, then the live log."""

import pytest

from sandbox.emulator import oplog


@pytest.mark.parametrize(
    "operation",
    [
        "DescribeCluster",
        "DescribeInstances",
        "GetRole",
        "GetCallerIdentity",
        "ListClusters",
        "ListAttachedRolePolicies",
        "AssumeRoleWithWebIdentity",
        "BatchGetImage",
        "SimulatePrincipalPolicy",
        "ValidateTemplate",
        "HeadObject",
        "Get",
    ],
)
def test_reads_are_not_writes(operation):
    assert oplog.is_write(operation) is False


@pytest.mark.parametrize(
    "operation",
    [
        "CreateCluster",
        "RunInstances",
        "AttachRolePolicy",
        "UpdateClusterConfig",
        "TerminateInstances",
        "PutRolePolicy",
        "TagResource",
        "SendMessage",
        "ReceiveMessage",
        "Getaway",  # a verb prefix must end at a word boundary
        "Listen",
        "",
        None,  # unresolved requests count as writes
    ],
)
def test_writes_are_writes(operation):
    assert oplog.is_write(operation) is True


@pytest.mark.parametrize(
    "method, path, query, expected",
    [
        ("GET", "/clusters", "", "ListClusters"),
        ("POST", "/clusters", "", "CreateCluster"),
        ("GET", "/clusters/demo", "", "DescribeCluster"),
        ("DELETE", "/clusters/demo", "", "DeleteCluster"),
        ("POST", "/clusters/demo/update-config", "", "UpdateClusterConfig"),
        ("POST", "/clusters/demo/node-groups", "", "CreateNodegroup"),
        ("GET", "/clusters/demo/node-groups/ng-1", "", "DescribeNodegroup"),
        ("POST", "/clusters/demo/access-entries", "", "CreateAccessEntry"),
        ("GET", "/clusters/demo/updates/abc", "", "DescribeUpdate"),
        ("PATCH", "/nowhere", "", None),
    ],
)
def test_resolve_rest_operation_from_botocore_model(method, path, query, expected):
    assert oplog.resolve_rest_operation("eks", method, path, query) == expected


def test_make_record_shape():
    record = oplog.make_record("eks", "DescribeCluster", "GET", "/clusters/x", 200)
    assert set(record) == {
        "time",
        "service",
        "operation",
        "method",
        "path",
        "status",
        "write",
    }
    assert record["write"] is False
    assert record["time"].endswith("Z")


def test_request_log_classifies_live_requests(emulator, unique):
    offset = emulator.log_size()
    ec2 = emulator.client("ec2")
    ec2.describe_vpcs()  # query protocol, read
    ec2.create_vpc(CidrBlock="10.9.0.0/16")  # query protocol, write
    emulator.client("eks").list_clusters()  # rest-json, read
    sqs = emulator.client("sqs")
    sqs.create_queue(QueueName="q-" + unique)  # json protocol (X-Amz-Target), write
    sqs.list_queues()  # json protocol, read
    emulator.client("sts").assume_role_with_web_identity(  # unsigned request
        RoleArn="arn:aws:iam::123456789012:role/any",
        RoleSessionName="log-test",
        WebIdentityToken="token",
    )
    eks = emulator.client("eks")
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.describe_cluster(name="absent-" + unique)  # 404
    emulator.admin(
        "GET", "/_sandbox/health"
    )  # admin routes are not AWS calls: not logged

    records = emulator.log_since(offset)
    seen = [(r["service"], r["operation"], r["write"]) for r in records]
    assert seen == [
        ("ec2", "DescribeVpcs", False),
        ("ec2", "CreateVpc", True),
        ("eks", "ListClusters", False),
        ("sqs", "CreateQueue", True),
        ("sqs", "ListQueues", False),
        ("sts", "AssumeRoleWithWebIdentity", False),
        ("eks", "DescribeCluster", False),
    ]
    assert records[2]["method"] == "GET" and records[2]["path"] == "/clusters"
    assert [r["status"] for r in records] == [200] * 6 + [404]

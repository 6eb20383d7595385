"""Request log: pure classification and operation resolution, then the live log."""

import io
from urllib.parse import quote, unquote

import pytest

from sandbox.emulator import oplog

# Path labels as botocore sends them: percent-encoded, slashes included.
ROLE = quote("arn:aws:iam::123456789012:role/nodes/node-role", safe="")
VIEW = quote("arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy", safe="")


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
        "DescribeAccessEntry",
        "ListAccessEntries",
        "ListAccessPolicies",
        "ListAssociatedAccessPolicies",
        "DescribePodIdentityAssociation",
        "ListPodIdentityAssociations",
        "DescribeAddon",
        "ListAddons",
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
        "CreateAccessEntry",
        "UpdateAccessEntry",
        "DeleteAccessEntry",
        "AssociateAccessPolicy",
        "DisassociateAccessPolicy",
        "CreatePodIdentityAssociation",
        "UpdatePodIdentityAssociation",
        "DeletePodIdentityAssociation",
        "CreateAddon",
        "DeleteAddon",
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
        ("GET", "/clusters/demo/access-entries", "", "ListAccessEntries"),
        ("GET", f"/clusters/demo/access-entries/{ROLE}", "", "DescribeAccessEntry"),
        ("POST", f"/clusters/demo/access-entries/{ROLE}", "", "UpdateAccessEntry"),
        ("DELETE", f"/clusters/demo/access-entries/{ROLE}", "", "DeleteAccessEntry"),
        (
            "POST",
            f"/clusters/demo/access-entries/{ROLE}/access-policies",
            "",
            "AssociateAccessPolicy",
        ),
        (
            "GET",
            f"/clusters/demo/access-entries/{ROLE}/access-policies",
            "",
            "ListAssociatedAccessPolicies",
        ),
        (
            "DELETE",
            f"/clusters/demo/access-entries/{ROLE}/access-policies/{VIEW}",
            "",
            "DisassociateAccessPolicy",
        ),
        ("GET", "/access-policies", "", "ListAccessPolicies"),
        (
            "GET",
            "/clusters/demo/pod-identity-associations",
            "namespace=kube-system",
            "ListPodIdentityAssociations",
        ),
        (
            "POST",
            "/clusters/demo/pod-identity-associations/a-1",
            "",
            "UpdatePodIdentityAssociation",
        ),
        ("GET", "/clusters/demo/addons/eks-pod-identity-agent", "", "DescribeAddon"),
        ("PATCH", "/nowhere", "", None),
    ],
)
def test_resolve_rest_operation_from_botocore_model(method, path, query, expected):
    assert oplog.resolve_rest_operation("eks", method, path, query) == expected


@pytest.mark.parametrize(
    "extra",
    [
        {"RAW_URI": f"/clusters/demo/access-entries/{ROLE}/access-policies?x=1"},
        {"REQUEST_URI": f"/clusters/demo/access-entries/{ROLE}/access-policies"},
        {"REQUEST_URI": f"http://127.0.0.1:5000/clusters/demo/access-entries/{ROLE}/access-policies"},
    ],
)
def test_identify_matches_the_encoded_path(extra):
    """PATH_INFO is decoded; a principal ARN label would otherwise span segments."""
    path = f"/clusters/demo/access-entries/{ROLE}/access-policies"
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": unquote(path),
        "QUERY_STRING": "",
        "HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/eks/"
        "aws4_request, SignedHeaders=host, Signature=0",
        "wsgi.input": io.BytesIO(b""),
        **extra,
    }
    assert oplog.identify(environ) == ("eks", "ListAssociatedAccessPolicies")


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
        "access_key",
    }
    assert record["write"] is False
    assert record["access_key"] is None
    assert record["time"].endswith("Z")


def test_access_key_id_of_a_sigv4_header():
    header = (
        "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE123/20260101/us-east-1/ec2/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=abc"
    )
    assert oplog.access_key_id(header) == "ASIAEXAMPLE123"
    assert oplog.access_key_id(None) is None


def test_request_log_classifies_live_requests(emulator, unique):
    offset = emulator.log_size()
    ec2 = emulator.client("ec2")
    ec2.describe_vpcs()  # query protocol, read
    ec2.create_vpc(CidrBlock="10.9.0.0/16")  # query protocol, write
    emulator.client("eks").list_clusters()  # rest-json, read
    sqs = emulator.client("sqs")
    sqs.create_queue(QueueName="q-" + unique)  # json protocol (X-Amz-Target), write
    sqs.list_queues()  # json protocol, read
    sts = emulator.client("sts")
    with pytest.raises(sts.exceptions.InvalidIdentityTokenException):
        sts.assume_role_with_web_identity(  # unsigned request; a junk token is refused
            RoleArn="arn:aws:iam::123456789012:role/any",
            RoleSessionName="log-test",
            WebIdentityToken="token",
        )
    eks = emulator.client("eks")
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.describe_cluster(name="absent-" + unique)  # 404
    emulator.admin("GET", "/_sandbox/health")  # admin routes are not AWS calls: not logged

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
    assert [r["status"] for r in records] == [200] * 5 + [400, 404]


def test_request_log_classifies_access_entry_requests(emulator, bare_cluster, unique):
    name = bare_cluster("log-" + unique, accessConfig={"authenticationMode": "API"})["name"]
    principal = f"arn:aws:iam::123456789012:role/nodes/log-{unique}"
    view = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
    eks = emulator.client("eks")
    offset = emulator.log_size()
    eks.create_access_entry(clusterName=name, principalArn=principal)
    eks.describe_access_entry(clusterName=name, principalArn=principal)
    eks.update_access_entry(clusterName=name, principalArn=principal, username="u")
    eks.associate_access_policy(
        clusterName=name,
        principalArn=principal,
        policyArn=view,
        accessScope={"type": "cluster"},
    )
    eks.list_associated_access_policies(clusterName=name, principalArn=principal)
    eks.disassociate_access_policy(clusterName=name, principalArn=principal, policyArn=view)
    eks.list_access_entries(clusterName=name)
    eks.delete_access_entry(clusterName=name, principalArn=principal)
    eks.list_addons(clusterName=name)

    seen = [(r["operation"], r["write"]) for r in emulator.log_since(offset)]
    assert seen == [
        ("CreateAccessEntry", True),
        ("DescribeAccessEntry", False),
        ("UpdateAccessEntry", True),
        ("AssociateAccessPolicy", True),
        ("ListAssociatedAccessPolicies", False),
        ("DisassociateAccessPolicy", True),
        ("ListAccessEntries", False),
        ("DeleteAccessEntry", True),
        ("ListAddons", False),
    ]

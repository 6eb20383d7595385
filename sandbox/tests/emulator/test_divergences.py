"""Known ways the emulator (moto 5.2.5) differs from AWS, pinned.

Each test asserts moto's *current* behaviour and names the AWS behaviour in its docstring.
When moto (or the sandbox) is fixed, the test fails: update it and the README together.
Where a difference matters, the collection follows AWS, not the emulator.
"""

import json
import re

import boto3
import pytest
from botocore.exceptions import ClientError
from .conftest import REGION

TRUST_EC2 = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
SMALL_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "ec2:DescribeInstances", "Resource": "*"}],
}


def _create_stack(cfn, name, resources):
    cfn.create_stack(
        StackName=name,
        TemplateBody=json.dumps({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}),
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    return cfn.describe_stacks(StackName=name)["Stacks"][0]


def _big_policy(min_length):
    statements = []
    document = {"Version": "2012-10-17", "Statement": statements}
    while len(json.dumps(document, separators=(",", ":"))) <= min_length:
        index = len(statements)
        statements.append(
            {
                "Sid": f"S{index}",
                "Effect": "Allow",
                "Action": "ec2:TerminateInstances",
                "Resource": f"arn:aws:ec2:us-east-1:123456789012:instance/i-{index:017d}",
            }
        )
    return document


def test_divergence_cfn_role_managed_policy_arns_ignored(emulator, unique):
    """AWS: AWS::IAM::Role ManagedPolicyArns attaches each listed managed policy to the role.

    moto: the stack reaches CREATE_COMPLETE but the role has no attached policies.
    """
    cfn = emulator.client("cloudformation")
    role_name = "cfn-role-" + unique
    stack = _create_stack(
        cfn,
        "cfn-role-" + unique,
        {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": role_name,
                    "AssumeRolePolicyDocument": TRUST_EC2,
                    "ManagedPolicyArns": ["arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"],
                },
            }
        },
    )
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    attached = emulator.client("iam").list_attached_role_policies(RoleName=role_name)
    assert attached["AttachedPolicies"] == []


def test_divergence_cfn_managed_policy_json_string_document_rejected(emulator, unique):
    """AWS: AWS::IAM::ManagedPolicy PolicyDocument may be a JSON string (Karpenter's
    CloudFormation template builds it with ``!Sub |``); CloudFormation parses it.

    moto: CreateStack fails at once with MalformedPolicyDocument. The same document as
    a mapping is accepted.
    """
    cfn = emulator.client("cloudformation")

    def policy(document):
        return {
            "Policy": {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {
                    "ManagedPolicyName": "p-" + unique,
                    "PolicyDocument": document,
                },
            }
        }

    with pytest.raises(cfn.exceptions.ClientError) as err:
        _create_stack(cfn, "json-string-" + unique, policy(json.dumps(SMALL_POLICY)))
    assert err.value.response["Error"]["Code"] == "MalformedPolicyDocument"

    stack = _create_stack(cfn, "json-dict-" + unique, policy(SMALL_POLICY))
    assert stack["StackStatus"] == "CREATE_COMPLETE"


def test_divergence_managed_policy_size_limit_not_enforced(emulator, unique):
    """AWS: a managed policy document may hold at most 6,144 characters (whitespace
    excluded); CreatePolicy fails with LimitExceeded beyond that.

    moto: a document of more than twice the limit is accepted, directly and through
    CloudFormation.
    """
    document = _big_policy(2 * 6144)
    assert len(json.dumps(document, separators=(",", ":"))) > 2 * 6144
    iam = emulator.client("iam")
    created = iam.create_policy(PolicyName="big-" + unique, PolicyDocument=json.dumps(document))
    assert created["Policy"]["PolicyName"] == "big-" + unique

    stack = _create_stack(
        emulator.client("cloudformation"),
        "big-policy-" + unique,
        {
            "Policy": {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {
                    "ManagedPolicyName": "cfn-big-" + unique,
                    "PolicyDocument": document,
                },
            }
        },
    )
    assert stack["StackStatus"] == "CREATE_COMPLETE"


def test_divergence_cfn_sqs_queue_policy_silently_skipped(emulator, unique):
    """AWS: AWS::SQS::QueuePolicy sets the queue's Policy attribute (Karpenter's
    interruption queue lets events.amazonaws.com and sqs.amazonaws.com send to it).

    moto: the resource type is unsupported; it is skipped with only a server-side warning,
    the stack still reaches CREATE_COMPLETE, the queue has no Policy, and the stack lists
    a nameless resource in its place.
    """
    cfn = emulator.client("cloudformation")
    name = "queue-" + unique
    stack = _create_stack(
        cfn,
        name,
        {
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": name}},
            "QueuePolicy": {
                "Type": "AWS::SQS::QueuePolicy",
                "Properties": {
                    "Queues": [{"Ref": "Queue"}],
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "events.amazonaws.com"},
                                "Action": "sqs:SendMessage",
                                "Resource": "*",
                            }
                        ],
                    },
                },
            },
        },
    )
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    logical_ids = [r["LogicalResourceId"] for r in cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]]
    assert "Queue" in logical_ids
    assert "QueuePolicy" not in logical_ids
    sqs = emulator.client("sqs")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
    assert "Policy" not in attributes.get("Attributes", {})


def test_divergence_cfn_update_stack_role_trust_policy_noop(emulator, unique):
    """AWS: UpdateStack with a changed AssumeRolePolicyDocument updates the role's trust
    policy in place.

    moto: the stack reports UPDATE_COMPLETE but the role keeps its old trust policy.
    """
    cfn = emulator.client("cloudformation")
    name = "trust-" + unique
    role_name = "trust-role-" + unique

    def template(service):
        trust = json.loads(json.dumps(TRUST_EC2))
        trust["Statement"][0]["Principal"]["Service"] = service
        return json.dumps(
            {
                "AWSTemplateFormatVersion": "2010-09-09",
                "Resources": {
                    "Role": {
                        "Type": "AWS::IAM::Role",
                        "Properties": {
                            "RoleName": role_name,
                            "AssumeRolePolicyDocument": trust,
                        },
                    }
                },
            }
        )

    cfn.create_stack(
        StackName=name,
        TemplateBody=template("ec2.amazonaws.com"),
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    cfn.update_stack(
        StackName=name,
        TemplateBody=template("eks.amazonaws.com"),
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
    role = emulator.client("iam").get_role(RoleName=role_name)["Role"]
    principal = role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
    assert principal == {"Service": "ec2.amazonaws.com"}


def test_divergence_oidc_provider_needs_no_thumbprint(emulator, unique):
    """AWS: ThumbprintList is optional; IAM then fetches the issuer's certificate chain
    itself (and fails if the issuer is unreachable).

    moto: the provider is created with an empty ThumbprintList and nothing is fetched, so
    an unreachable issuer is accepted too.
    """
    iam = emulator.client("iam")
    url = "https://oidc.eks.us-east-1.amazonaws.com/id/{}".format(unique.upper().ljust(32, "0"))
    arn = iam.create_open_id_connect_provider(Url=url, ClientIDList=["sts.amazonaws.com"])["OpenIDConnectProviderArn"]
    provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert provider["ThumbprintList"] == []
    assert provider["ClientIDList"] == ["sts.amazonaws.com"]


def test_divergence_sts_default_identity_is_an_sts_user_arn(emulator):
    """AWS: GetCallerIdentity for an IAM user's keys returns ``arn:aws:iam::<account>:user/<name>``.

    moto: credentials it does not know (the sandbox's ``testing`` keys) get the identity
    ``arn:aws:sts::<account>:user/moto``, an ARN no AWS service returns. The sandbox treats it as
    the IAM user ``moto`` (the token webhook and the cluster creator's access entry).
    """
    identity = emulator.client("sts").get_caller_identity()
    assert identity["Arn"] == "arn:aws:sts::123456789012:user/moto"
    assert identity["UserId"] == "AKIAIOSFODNN7EXAMPLE"


def test_divergence_sts_presigned_request_signature_and_age_unchecked(emulator):
    """AWS: STS recomputes the SigV4 signature of a presigned request (over its query and signed
    headers, so ``x-k8s-aws-id`` must carry the value it was signed with) and refuses it after
    ``X-Amz-Expires``: SignatureDoesNotMatch, or an expired-request error.

    moto: it answers any presigned GetCallerIdentity, with a wrong signature, a wrong
    ``x-k8s-aws-id`` or a date long past. The sandbox's token webhook checks the signature through
    ``/_sandbox/sts/verify-presigned`` and the 15-minute token age itself.
    """
    from .test_presign import caller_arn, presigned

    url = presigned(emulator.client("sts"), "demo")
    forged = url.split("X-Amz-Signature=")[0] + "X-Amz-Signature=" + "0" * 64
    assert caller_arn(forged, "another-cluster") == "arn:aws:sts::123456789012:user/moto"

    old = re.sub(r"X-Amz-Date=\d{8}T\d{6}Z", "X-Amz-Date=20200101T000000Z", url)
    assert caller_arn(old, "demo") == "arn:aws:sts::123456789012:user/moto"


def test_divergence_pricing_api_absent(emulator):
    """AWS: the Pricing API (GetProducts) lists on-demand prices; Karpenter refreshes its prices from it.

    moto has no Pricing service: every call is an HTTP 500. Karpenter then keeps the on-demand prices
    compiled into it (its pricing controller logs "updating pricing, retreiving on-demand pricing
    data ... Pricing: GetProducts ... StatusCode: 500" and retries), and still launches capacity.
    """
    from botocore.config import Config

    pricing = boto3.client(
        "pricing",
        endpoint_url=emulator.url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}),
    )
    with pytest.raises(ClientError) as err:
        pricing.get_products(ServiceCode="AmazonEC2", MaxResults=1)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


def test_divergence_pod_identity_trust_conditions_not_evaluated(emulator, unique):
    """AWS: EKS Pod Identity assumes the role through EKS Auth (``AssumeRoleForPodIdentity``), which calls
    ``sts:AssumeRole`` and ``sts:TagSession`` as ``pods.eks.amazonaws.com`` with the session tags
    ``eks-cluster-arn``, ``eks-cluster-name``, ``kubernetes-namespace``, ``kubernetes-service-account``,
    ``kubernetes-pod-name`` and ``kubernetes-pod-uid`` (EKS user guide, "Grant Pods access to AWS
    resources based on tags"). A trust policy with ``StringEquals`` on ``aws:RequestTag/eks-cluster-arn``,
    ``aws:RequestTag/kubernetes-namespace`` and ``aws:RequestTag/kubernetes-service-account`` (as
    ``karpenter.yml`` writes for the controller role) denies an association of another cluster,
    namespace or service account.

    moto: EKS Auth is not served, and ``AssumeRole`` does not evaluate the trust policy, its principal or
    its conditions: a session tagged for another namespace, by a caller that is not
    ``pods.eks.amazonaws.com``, gets credentials. So the sandbox cannot show the scoped trust refusing
    another namespace; tests/auth (test_mode_config_map.py) checks the trust document karpenter.yml writes.
    """
    iam, sts = emulator.client("iam"), emulator.client("sts")
    cluster_arn = "arn:aws:eks:us-east-1:123456789012:cluster/demo"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {
                    "StringEquals": {
                        "aws:RequestTag/eks-cluster-arn": cluster_arn,
                        "aws:RequestTag/kubernetes-namespace": "kube-system",
                        "aws:RequestTag/kubernetes-service-account": "karpenter",
                    }
                },
            }
        ],
    }
    role = iam.create_role(RoleName=f"pod-identity-{unique}", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    other_namespace = [
        {"Key": "eks-cluster-arn", "Value": cluster_arn},
        {"Key": "kubernetes-namespace", "Value": "other"},
        {"Key": "kubernetes-service-account", "Value": "karpenter"},
    ]
    creds = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="eks-demo-other", Tags=other_namespace)
    assert creds["Credentials"]["AccessKeyId"]

    from botocore.config import Config

    eks_auth = boto3.client(
        "eks-auth",
        endpoint_url=emulator.url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}),
    )
    with pytest.raises(ClientError):
        eks_auth.assume_role_for_pod_identity(clusterName="demo", token="x" * 32)


def test_second_service_linked_role_is_entity_already_exists(emulator):
    """AWS refuses a second CreateServiceLinkedRole for a service with ``InvalidInput`` ("Service role name
    ... has been taken in this account"); moto answers ``EntityAlreadyExists``. The collection looks for the
    role by its path first and never creates it twice, so neither code is relied upon."""
    iam = emulator.client("iam")
    role = iam.create_service_linked_role(AWSServiceName="spot.amazonaws.com")["Role"]
    try:
        with pytest.raises(ClientError) as err:
            iam.create_service_linked_role(AWSServiceName="spot.amazonaws.com")
        assert err.value.response["Error"]["Code"] == "EntityAlreadyExists"
    finally:
        iam.delete_service_linked_role(RoleName=role["RoleName"])

# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_aws.aws_call: amazon.aws's retries and error handling around every AWS call (pure: the calls
here are plain functions raising botocore's own exceptions; no client, no network)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from types import SimpleNamespace

import botocore.exceptions
import pytest
from ansible_collections.amazon.aws.plugins.module_utils import cloud
from ansible_collections.jit.karpenter.plugins.module_utils import _aws, _discovery
from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    slept = []
    monkeypatch.setattr(cloud.time, "sleep", slept.append)
    return slept


def _client_error(code, status=400):
    return botocore.exceptions.ClientError(
        {"Error": {"Code": code, "Message": code + " happened"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "DescribeCluster",
    )


def _flaky(errors, result="ok"):
    calls = []

    def fn(**kwargs):
        calls.append(kwargs)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return result

    return fn, calls


@pytest.mark.parametrize(
    "code",
    ["Throttling", "TooManyRequestsException", "RequestLimitExceeded", "ServiceUnavailable", "InternalFailure"],
)
def test_throttling_and_service_failures_are_retried(code, no_sleep):
    fn, calls = _flaky([_client_error(code, 503)] * 2)
    assert _aws.aws_call("Describing", fn, name="demo") == "ok"
    assert len(calls) == 3 and calls[0] == {"name": "demo"}
    assert len(no_sleep) == 2


@pytest.mark.parametrize("code", ["AccessDeniedException", "InvalidParameterException", "ValidationError"])
def test_other_errors_fail_at_once_with_a_clean_message(code):
    fn, calls = _flaky([_client_error(code)])
    with pytest.raises(KarpenterError) as err:
        _aws.aws_call("Describing EKS cluster 'demo' in us-east-1", fn, name="demo")
    assert len(calls) == 1
    assert err.value.msg.startswith("Describing EKS cluster 'demo' in us-east-1 failed: ")
    assert code in err.value.msg and err.value.details == {"error_code": code}
    assert "Traceback" not in err.value.msg


def test_connection_errors_end_in_the_collection_error():
    fn, _calls = _flaky([botocore.exceptions.EndpointConnectionError(endpoint_url="https://eks.example")])
    with pytest.raises(KarpenterError, match=r"^Reading OIDC provider x failed: Could not connect"):
        _aws.aws_call("Reading OIDC provider x", fn)


def test_missing_codes_return_the_missing_marker():
    fn, _calls = _flaky([_client_error("NoSuchEntity", 404)])
    assert _aws.aws_call("Reading", fn, missing=("NoSuchEntity",)) is _aws.MISSING
    fn, _calls = _flaky([_client_error("NoSuchEntity", 404)])
    with pytest.raises(KarpenterError, match="NoSuchEntity"):
        _aws.aws_call("Reading", fn)


def test_retries_end_after_the_last_attempt():
    fn, calls = _flaky([_client_error("Throttling", 400)] * 50)
    with pytest.raises(KarpenterError, match="Throttling"):
        _aws.aws_call("Listing", fn)
    assert len(calls) == _aws.RETRIES


def test_missing_may_be_a_test_of_the_code():
    fn, _calls = _flaky([_client_error("InvalidSubnetID.NotFound")])
    assert _aws.aws_call("Describing", fn, missing=lambda code: code.endswith(".NotFound")) is _aws.MISSING
    fn, _calls = _flaky([_client_error("UnauthorizedOperation")])
    with pytest.raises(KarpenterError, match="UnauthorizedOperation"):
        _aws.aws_call("Describing", fn, missing=lambda code: code.endswith(".NotFound"))


@pytest.mark.parametrize("code", ["InvalidSubnetID.NotFound", "InvalidGroupId.Malformed"])
def test_ec2_ids_that_do_not_exist_describe_nothing(code):
    fn, _calls = _flaky([_client_error(code)])
    assert _discovery._describe_by_ids("Describing subnet x", fn, "Subnets", "SubnetIds", ["x"]) == []


def test_describes_by_id_and_ssm_reads_are_retried():
    fn, calls = _flaky([_client_error("RequestLimitExceeded", 503)], {"Subnets": [{"SubnetId": "subnet-1"}]})
    assert _discovery._describe_by_ids("Describing", fn, "Subnets", "SubnetIds", ["subnet-1"]) == [
        {"SubnetId": "subnet-1"}
    ]
    assert calls == [{"SubnetIds": ["subnet-1"]}] * 2
    fn, calls = _flaky([_client_error("Throttling", 400)], {"Parameter": {"Value": "ami-1"}})
    assert _discovery._parameter(SimpleNamespace(get_parameter=fn), "/aws/x") == "ami-1"
    assert len(calls) == 2


def test_a_missing_ssm_parameter_is_none():
    fn, _calls = _flaky([_client_error("ParameterNotFound")])
    assert _discovery._parameter(SimpleNamespace(get_parameter=fn), "/aws/x") is None


# --- boto3 clients: AnsibleAWSModule.client's options, one session per module run --------------------


class _ClientModule:
    """The options of amazon.aws's ``aws`` doc fragment that ``get_aws_connection_info`` reads."""

    _name = "jit.karpenter.test"

    def __init__(self, **params):
        self.params = dict(
            region=None,
            endpoint_url=None,
            access_key=None,
            secret_key=None,
            session_token=None,
            profile=None,
            validate_certs=True,
            aws_ca_bundle=None,
            aws_config=None,
        )
        self.params.update(params)
        self.failed = None

    def fail_json(self, **kwargs):
        self.failed = kwargs
        raise SystemExit(1)

    def fail_json_aws(self, exception, msg=None, **kwargs):
        self.fail_json(msg="{0}: {1}".format(msg, exception), **kwargs)


def test_aws_client_takes_the_modules_region_endpoint_credentials_and_config(monkeypatch):
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    module = _ClientModule(
        region="eu-west-1",
        endpoint_url="http://127.0.0.1:5000",
        access_key="AKIAEXAMPLE",
        secret_key="secret",
        session_token="token",
        validate_certs=False,
        aws_config={"connect_timeout": 7},
    )
    sessions = {}
    eks = _aws.aws_client(module, "eks", sessions)
    iam = _aws.aws_client(module, "iam", sessions)
    assert eks.meta.region_name == "eu-west-1"
    assert eks.meta.endpoint_url == "http://127.0.0.1:5000"
    assert eks.meta.config.connect_timeout == 7
    assert eks.meta.config.user_agent.startswith("APN/1.0 Ansible/")
    credentials = eks._request_signer._credentials
    assert (credentials.access_key, credentials.secret_key, credentials.token) == ("AKIAEXAMPLE", "secret", "token")
    assert eks._endpoint.http_session._verify is False
    assert iam.meta.service_model.service_name == "iam"
    # One boto3 session for both (botocore's loader, and what it loaded, shared).
    assert list(sessions) == [None]
    assert eks._loader is iam._loader


def test_aws_client_without_a_region_fails_naming_the_module(monkeypatch):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    module = _ClientModule()
    with pytest.raises(SystemExit):
        _aws.aws_client(module, "eks", {})
    assert module.failed["msg"].startswith("The jit.karpenter.test module requires a region")

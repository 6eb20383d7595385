"""The emulator's catalogue cache as WSGI middleware: what it keeps, and what it always passes on."""

import io
from urllib.parse import urlencode

import pytest

from sandbox.emulator.catalogue_cache import CatalogueCacheMiddleware, cache_key

AUTH = "AWS4-HMAC-SHA256 Credential=AKID/20261130/{region}/{service}/aws4_request, SignedHeaders=host, Signature=x"


def environ(action, region="us-east-1", service="ec2", **params):
    body = urlencode({"Action": action, "Version": "2016-11-15", **params}).encode()
    return {
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": "application/x-www-form-urlencoded; charset=utf-8",
        "CONTENT_LENGTH": str(len(body)),
        "QUERY_STRING": "",
        "HTTP_AUTHORIZATION": AUTH.format(region=region, service=service),
        "wsgi.input": io.BytesIO(body),
    }


class Moto:
    """A WSGI app that answers with a new body on every call, and records what it was asked."""

    def __init__(self, status="200 OK"):
        self.status = status
        self.calls = []

    def __call__(self, env, start_response):
        body = env["wsgi.input"].read(int(env.get("CONTENT_LENGTH") or 0))
        self.calls.append(body)
        start_response(self.status, [("Content-Type", "text/xml")])
        return [b"answer %d" % len(self.calls)]


def call(app, env):
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, headers

    content = b"".join(app(env, start_response))
    return seen["status"], content


@pytest.mark.parametrize(
    "action", ["DescribeInstanceTypes", "DescribeInstanceTypeOfferings", "DescribeSpotPriceHistory"]
)
def test_a_catalogue_read_is_answered_once_per_request(action):
    moto = Moto()
    app = CatalogueCacheMiddleware(moto)
    first = call(app, environ(action, **{"Filter.1.Name": "instance-type", "Filter.1.Value.1": "m5.large"}))
    again = call(app, environ(action, **{"Filter.1.Name": "instance-type", "Filter.1.Value.1": "m5.large"}))
    assert first == again == ("200 OK", b"answer 1")
    assert len(moto.calls) == 1
    # moto received the body unchanged, though the middleware read it first.
    assert b"Action=" + action.encode() in moto.calls[0]


def test_other_parameters_another_region_or_another_action_are_asked_again():
    moto = Moto()
    app = CatalogueCacheMiddleware(moto)
    call(app, environ("DescribeInstanceTypes", **{"InstanceType.1": "m5.large"}))
    assert call(app, environ("DescribeInstanceTypes", **{"InstanceType.1": "c5.large"}))[1] == b"answer 2"
    assert (
        call(app, environ("DescribeInstanceTypes", region="us-west-2", **{"InstanceType.1": "m5.large"}))[1]
        == b"answer 3"
    )
    assert (
        call(app, environ("DescribeInstanceTypes", **{"InstanceType.1": "m5.large", "NextToken": "5"}))[1]
        == b"answer 4"
    )
    assert call(app, environ("DescribeInstances"))[1] == b"answer 5"
    assert call(app, environ("DescribeInstances"))[1] == b"answer 6"
    assert call(app, environ("RunInstances"))[1] == b"answer 7"
    assert len(moto.calls) == 7


def test_a_failed_answer_is_not_kept():
    moto = Moto(status="500 INTERNAL SERVER ERROR")
    app = CatalogueCacheMiddleware(moto)
    call(app, environ("DescribeInstanceTypes"))
    assert call(app, environ("DescribeInstanceTypes")) == ("500 INTERNAL SERVER ERROR", b"answer 2")


def test_keys():
    env = environ("DescribeSpotPriceHistory", region="eu-west-1", **{"InstanceType.1": "m5.large"})
    body = env["wsgi.input"].read()
    region, params = cache_key(env, body)
    assert region == "eu-west-1" and ("InstanceType.1", "m5.large") in params
    # Parameter order does not matter; credentials are not part of the key.
    other = environ("DescribeSpotPriceHistory", region="eu-west-1", **{"InstanceType.1": "m5.large"})
    other["HTTP_AUTHORIZATION"] = other["HTTP_AUTHORIZATION"].replace("AKID", "ASIAOTHER")
    assert cache_key(other, urlencode(sorted(params, reverse=True)).encode()) == (region, params)
    # Only EC2's catalogue actions.
    iam = environ("DescribeInstanceTypes", service="iam")
    assert cache_key(iam, iam["wsgi.input"].read()) is None
    subnets = environ("DescribeSubnets")
    assert cache_key(subnets, subnets["wsgi.input"].read()) is None

"""Fixtures: the AWS emulator runs as a real server process for the whole test run."""

import datetime
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import boto3
import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _subprocess_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


class Emulator:
    def __init__(self, url, log_path, process):
        self.url = url
        self.log_path = log_path
        self.process = process

    def client(self, service):
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def admin(self, method, path, body=None):
        """(status, JSON body) of an admin route call."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")

    def log_size(self):
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_since(self, offset):
        with open(self.log_path, encoding="utf-8") as handle:
            handle.seek(offset)
            return [json.loads(line) for line in handle if line.strip()]


PRICES_GO = """package pricing

var InitialOnDemandPricesAWS = map[string]map[ec2types.InstanceType]float64{
	// us-east-1
	"us-east-1": {
		// c5 family
		"c5.large": 0.085000, "c5.xlarge": 0.170000,
		// m5 family
		"m5.2xlarge": 0.384000, "m5.large": 0.096000, "m5.xlarge": 0.192000,
	},
	// us-west-2
	"us-west-2": {
		"m5.large": 0.096000,
	},
}
"""


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    port = _free_port()
    log_dir = tmp_path_factory.mktemp("emulator")
    log_path = log_dir / "requests.jsonl"
    # Prices in the format of karpenter-provider-aws's pkg/providers/pricing/zz_generated.pricing_aws.go,
    # which the sandbox hands the emulator (test_ec2_fleet.py).
    prices = log_dir / "zz_generated.pricing_aws.go"
    prices.write_text(PRICES_GO)
    # The server logs every request to stderr: into a file, since a pipe nobody reads fills up
    # (64 KiB) and then blocks the server in the middle of a request.
    stderr_path = log_dir / "stderr.log"
    stderr = open(stderr_path, "wb")  # noqa: SIM115 - closed after the server stops
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox.emulator.server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--request-log",
            str(log_path),
            "--ec2-prices",
            str(prices),
        ],
        cwd=str(REPO_ROOT),
        env=_subprocess_env(),
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise RuntimeError("emulator exited: {}".format(stderr_path.read_text(errors="replace")))
        try:
            with urllib.request.urlopen(url + "/_sandbox/health", timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("emulator did not become healthy within 30s")
        time.sleep(0.1)
    yield Emulator(url, log_path, process)
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    stderr.close()


@pytest.fixture(scope="session")
def repo_root():
    return REPO_ROOT


@pytest.fixture(scope="session")
def subprocess_env():
    """Environment for child processes: repo root importable, no ambient AWS settings."""
    return _subprocess_env()


@pytest.fixture
def unique():
    """A short unique name fragment, so tests sharing one emulator never collide."""
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def ca_pem():
    """A self-signed CA certificate in PEM, like a cluster CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


@pytest.fixture
def bare_cluster(emulator, unique):
    """A cluster made straight through the EKS API (no seeding), in its own VPC."""
    ec2 = emulator.client("ec2")
    iam = emulator.client("iam")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24", AvailabilityZone=REGION + "a")
    role = iam.create_role(
        RoleName="cluster-role-" + unique,
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "eks.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]

    def make(name, **kwargs):
        return emulator.client("eks").create_cluster(
            name=name,
            roleArn=role["Arn"],
            resourcesVpcConfig={"subnetIds": [subnet["Subnet"]["SubnetId"]]},
            **kwargs,
        )["cluster"]

    return make

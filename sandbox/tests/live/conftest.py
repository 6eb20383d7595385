"""Fixtures for the tests that run against the sandbox (`make sandbox`).

The running sandbox is found through its state directory, ``.sandbox/`` in the repository; its
``env`` file supplies the kubeconfig, the emulator's endpoint and the pinned kubectl/helm.
Everything the tests create is named ``sbtest-...``.
"""

import json
import uuid
from pathlib import Path

import pytest
import yaml

from sandbox.harness import Harness

REPO_ROOT = Path(__file__).resolve().parents[3]
STATE = REPO_ROOT / ".sandbox"


@pytest.fixture(scope="session")
def state():
    return STATE


@pytest.fixture(scope="session")
def sbenv(state):
    return Harness(state).env()


@pytest.fixture(scope="session")
def seed(state):
    return json.loads((state / "seed.json").read_text())


@pytest.fixture(scope="session")
def sbvars(state):
    return yaml.safe_load((state / "vars.yml").read_text())


@pytest.fixture(scope="session")
def kube(sbenv):
    from kubernetes import config

    return config.new_client_from_config(sbenv["KUBECONFIG"])


@pytest.fixture(scope="session")
def aws(sbenv):
    """``aws("eks")`` -> a boto3 client for the sandbox's emulator."""
    import boto3

    session = boto3.session.Session(
        aws_access_key_id=sbenv["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=sbenv["AWS_SECRET_ACCESS_KEY"],
        region_name=sbenv["AWS_REGION"],
    )
    return lambda service: session.client(service, endpoint_url=sbenv["AWS_ENDPOINT_URL"])


@pytest.fixture(scope="module")
def namespace(kube):
    """A namespace of the test module's own, deleted afterwards."""
    from kubernetes import client

    name = "sbtest-%s" % uuid.uuid4().hex[:8]
    api = client.CoreV1Api(kube)
    api.create_namespace({"metadata": {"name": name}})
    yield name
    api.delete_namespace(name, propagation_policy="Background")

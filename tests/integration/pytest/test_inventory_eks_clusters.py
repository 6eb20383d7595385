# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The eks_clusters inventory plugin, run by ansible-inventory against the AWS emulator.

A fleet of EKS clusters in two accounts and two regions is made in the emulator (the sandbox's own cluster, in
its own region, is left alone: the fleet's regions are others). The second account is reached as users reach
theirs, through a role the plugin assumes. Needs AWS_ENDPOINT_URL (the sandbox's env file); skipped otherwise.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import boto3
import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
ENDPOINT = os.environ.get("AWS_ENDPOINT_URL")
if not ENDPOINT:
    pytest.skip("needs the AWS emulator (source the sandbox's env file)", allow_module_level=True)

OTHER_ACCOUNT = "222233334444"
READER = "arn:aws:iam::%s:role/fleet-reader" % OTHER_ACCOUNT
REGIONS = ["eu-west-1", "us-west-2"]
# name, account (None: the credentials' own), region, version, authentication mode, tags
FLEET = [
    ("prod-a", None, "eu-west-1", "1.33", "API", {"team": "platform", "env": "prod"}),
    ("dev-a", None, "eu-west-1", "1.29", "CONFIG_MAP", {"team": "platform", "env": "dev"}),
    ("prod-b", OTHER_ACCOUNT, "us-west-2", "1.32", "API_AND_CONFIG_MAP", {"team": "platform", "env": "prod"}),
    ("prod-a", OTHER_ACCOUNT, "eu-west-1", "1.34", "API", {"team": "data"}),
]


def _session(account):
    base = dict(
        endpoint_url=ENDPOINT,
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
    )
    if account is None:
        return base
    creds = boto3.client("sts", region_name="us-east-1", **base).assume_role(
        RoleArn="arn:aws:iam::%s:role/fleet-admin" % account, RoleSessionName="fleet-setup"
    )["Credentials"]
    return dict(
        endpoint_url=ENDPOINT,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


@pytest.fixture(scope="module")
def own_account():
    return boto3.client("sts", region_name="us-east-1", **_session(None)).get_caller_identity()["Account"]


@pytest.fixture(scope="module")
def fleet(own_account):
    made = []
    for name, account, region, version, mode, tags in FLEET:
        eks = boto3.client("eks", region_name=region, **_session(account))
        eks.create_cluster(
            name=name,
            version=version,
            roleArn="arn:aws:iam::%s:role/eks" % (account or own_account),
            resourcesVpcConfig={"subnetIds": []},
            accessConfig={"authenticationMode": mode},
            tags=tags,
        )
        made.append((eks, name))
    yield
    for eks, name in made:
        eks.delete_cluster(name=name)


def _plain(value):
    """ansible-inventory marks the plugin's strings unsafe (never templated): {"__ansible_unsafe": text}."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _inventory(tmp_path, config, *args):
    path = tmp_path / "fleet.eks_clusters.yml"
    path.write_text(yaml.safe_dump(dict({"plugin": "jit.karpenter.eks_clusters", "regions": REGIONS}, **config)))
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "collections"),
        ANSIBLE_INVENTORY_ENABLED="jit.karpenter.eks_clusters",
        ANSIBLE_INVENTORY_UNPARSED_FAILED="true",
        ANSIBLE_FORCE_COLOR="false",
    )
    run = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-inventory"), "-i", str(path), "--list"] + list(args),
        cwd=str(tmp_path),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return run, (_plain(json.loads(run.stdout)) if run.returncode == 0 else None)


def _hosts(listing, group="eks_clusters"):
    return sorted(listing.get(group, {}).get("hosts", []))


def test_lists_both_accounts_with_their_variables_and_groups(tmp_path, fleet, own_account):
    run, listing = _inventory(
        tmp_path,
        {
            "assume_role_arns": ["arn:aws:iam::%s:role/fleet-reader" % own_account, READER],
            "hostname_format": "{name}.{region}.{account}",
            "keyed_groups": [{"key": "eks_cluster.tags.env | default('none')", "prefix": "env"}],
            "compose": {"karpenter_namespace": "'kube-system'"},
        },
    )
    assert run.returncode == 0, run.stderr
    assert _hosts(listing) == sorted(
        [
            "prod-a.eu-west-1.%s" % own_account,
            "dev-a.eu-west-1.%s" % own_account,
            "prod-b.us-west-2.%s" % OTHER_ACCOUNT,
            "prod-a.eu-west-1.%s" % OTHER_ACCOUNT,
        ]
    )
    hv = listing["_meta"]["hostvars"]["prod-b.us-west-2.%s" % OTHER_ACCOUNT]
    assert (hv["cluster_name"], hv["aws_region"], hv["aws_account_id"]) == ("prod-b", "us-west-2", OTHER_ACCOUNT)
    assert hv["aws_assume_role_arn"] == READER
    assert hv["eks_cluster"]["authentication_mode"] == "API_AND_CONFIG_MAP"
    assert hv["eks_cluster"]["version"] == "1.32"
    assert hv["eks_endpoint"] == hv["eks_cluster"]["endpoint"]
    assert hv["karpenter_namespace"] == "kube-system"
    assert _hosts(listing, "account_" + OTHER_ACCOUNT) == sorted(
        ["prod-b.us-west-2.%s" % OTHER_ACCOUNT, "prod-a.eu-west-1.%s" % OTHER_ACCOUNT]
    )
    assert _hosts(listing, "region_us_west_2") == ["prod-b.us-west-2.%s" % OTHER_ACCOUNT]
    assert _hosts(listing, "auth_config_map") == ["dev-a.eu-west-1.%s" % own_account]
    assert _hosts(listing, "k8s_1_29") == ["dev-a.eu-west-1.%s" % own_account]
    assert _hosts(listing, "tag_team_data") == ["prod-a.eu-west-1.%s" % OTHER_ACCOUNT]
    assert _hosts(listing, "env_prod") == sorted(
        ["prod-a.eu-west-1.%s" % own_account, "prod-b.us-west-2.%s" % OTHER_ACCOUNT]
    )


def test_filters(tmp_path, fleet, own_account):
    run, listing = _inventory(
        tmp_path,
        {
            "assume_role_arns": ["arn:aws:iam::%s:role/fleet-reader" % own_account, READER],
            "hostname_format": "{name}.{account}",
            "name_patterns": ["prod-*"],
            "tags": {"team": "platform"},
            "kubernetes_versions": [">=1.30"],
            "authentication_modes": ["API", "API_AND_CONFIG_MAP"],
        },
    )
    assert run.returncode == 0, run.stderr
    assert _hosts(listing) == sorted(["prod-a.%s" % own_account, "prod-b.%s" % OTHER_ACCOUNT])


def test_one_account_through_the_credentials_chain(tmp_path, fleet):
    run, listing = _inventory(tmp_path, {})
    assert run.returncode == 0, run.stderr
    assert _hosts(listing) == ["dev-a", "prod-a"]


def test_two_clusters_on_one_host_name_are_refused_naming_both(tmp_path, fleet, own_account):
    run = _inventory(tmp_path, {"assume_role_arns": ["arn:aws:iam::%s:role/fleet-reader" % own_account, READER]})[0]
    assert run.returncode != 0
    text = " ".join((run.stdout + run.stderr).split())
    assert "arn:aws:eks:eu-west-1:%s:cluster/prod-a" % own_account in text, text
    assert "arn:aws:eks:eu-west-1:%s:cluster/prod-a" % OTHER_ACCOUNT in text, text
    assert "hostname_format" in text


def test_a_bad_version_filter_is_refused_by_name(tmp_path, fleet):
    run = _inventory(tmp_path, {"kubernetes_versions": ["1.x"]})[0]
    assert run.returncode != 0
    assert "kubernetes_versions: '1.x'" in run.stdout + run.stderr


def test_the_cache_serves_the_listing_until_flushed(tmp_path, own_account):
    config = {
        "cache": True,
        "cache_plugin": "ansible.builtin.jsonfile",
        "cache_connection": str(tmp_path / "cache"),
        "regions": ["ap-south-1"],
    }
    eks = boto3.client("eks", region_name="ap-south-1", **_session(None))
    eks.create_cluster(
        name="cached",
        version="1.33",
        roleArn="arn:aws:iam::%s:role/eks" % own_account,
        resourcesVpcConfig={"subnetIds": []},
    )
    try:
        run, listing = _inventory(tmp_path, config)
        assert _hosts(listing) == ["cached"], run.stderr
    finally:
        eks.delete_cluster(name="cached")
    run, listing = _inventory(tmp_path, config)
    assert _hosts(listing) == ["cached"], run.stderr
    run, listing = _inventory(tmp_path, config, "--flush-cache")
    assert run.returncode == 0, run.stderr
    assert _hosts(listing) == []

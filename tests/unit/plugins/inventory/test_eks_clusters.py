# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The eks_clusters inventory plugin's pure logic: the cluster record, filters, host names and groups."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.errors import AnsibleError

from ansible_collections.jit.karpenter.plugins.inventory import eks_clusters as inv

# A DescribeCluster result, as the EKS API reference documents it (fields this plugin reads).
DESCRIPTION = {
    "name": "prod-a",
    "arn": "arn:aws:eks:eu-west-1:111122223333:cluster/prod-a",
    "version": "1.33",
    "platformVersion": "eks.9",
    "status": "ACTIVE",
    "endpoint": "https://ABCDEF.gr7.eu-west-1.eks.amazonaws.com",
    "identity": {"oidc": {"issuer": "https://oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF"}},
    "accessConfig": {"authenticationMode": "API_AND_CONFIG_MAP"},
    "tags": {"team": "platform", "karpenter.sh/discovery": "prod-a"},
}


def cluster(**changes):
    rec = inv.record(DESCRIPTION, "eu-west-1")
    rec.update(changes)
    return rec


def test_record_reads_account_region_and_mode():
    rec = inv.record(DESCRIPTION, "eu-west-1", "arn:aws:iam::111122223333:role/reader")
    assert rec["account"] == "111122223333"
    assert rec["authentication_mode"] == "API_AND_CONFIG_MAP"
    assert rec["oidc_issuer"].endswith("/id/ABCDEF")
    assert rec["assume_role_arn"] == "arn:aws:iam::111122223333:role/reader"
    hv = inv.hostvars(rec)
    assert (hv["cluster_name"], hv["aws_region"], hv["aws_account_id"]) == ("prod-a", "eu-west-1", "111122223333")
    assert hv["eks_endpoint"] == DESCRIPTION["endpoint"]


def test_record_of_a_cluster_without_access_config_is_config_map():
    # Clusters created before access entries (and EKS's API before 2023-12) have no accessConfig.
    description = dict(DESCRIPTION)
    del description["accessConfig"]
    assert inv.record(description, "eu-west-1")["authentication_mode"] == "CONFIG_MAP"


@pytest.mark.parametrize(
    "specs,version,kept",
    [
        (["1.33"], "1.33", True),
        (["1.32", "1.33"], "1.33", True),
        (["1.32"], "1.33", False),
        ([">=1.30"], "1.33", True),
        ([">=1.30"], "1.29", False),
        ([">=1.30", "<1.34"], "1.34", False),
        ([">1.9"], "1.10", True),  # versions compare as numbers, not text
        (["!=1.33"], "1.33", False),
        (["==1.33"], "1.33", True),
    ],
)
def test_kubernetes_versions(specs, version, kept):
    assert inv.keep(cluster(version=version), versions=inv.parse_version_filters(specs), statuses=()) is kept


@pytest.mark.parametrize("spec", ["1.x", "=>1.30", "1", "latest", "1.30; rm -rf /"])
def test_a_version_filter_that_is_not_one_is_refused_by_name(spec):
    with pytest.raises(AnsibleError, match="kubernetes_versions: .*%s" % spec[:3].replace(".", r"\.")):
        inv.parse_version_filters([spec])


@pytest.mark.parametrize(
    "patterns,kept", [([], True), (["prod-*"], True), (["dev-*"], False), (["dev-*", "*-a"], True), (["PROD-*"], False)]
)
def test_name_patterns(patterns, kept):
    assert inv.keep(cluster(), name_patterns=patterns) is kept


@pytest.mark.parametrize(
    "tags,kept",
    [
        ({"team": "platform"}, True),
        ({"team": "data"}, False),
        ({"karpenter.sh/discovery": None}, True),
        ({"karpenter.sh/discovery": "*"}, True),
        ({"owner": None}, False),
        ({"team": "platform", "owner": "*"}, False),
    ],
)
def test_tags(tags, kept):
    assert inv.keep(cluster(), tags=tags) is kept


@pytest.mark.parametrize(
    "modes,statuses,kept",
    [
        (["API_AND_CONFIG_MAP"], ["ACTIVE"], True),
        (["API"], ["ACTIVE"], False),
        ([], ["CREATING"], False),
        ([], ["all"], True),
    ],
)
def test_modes_and_statuses(modes, statuses, kept):
    assert inv.keep(cluster(), modes=modes, statuses=statuses) is kept


def test_hostname_format():
    assert inv.hostname(cluster(), "{name}") == "prod-a"
    assert inv.hostname(cluster(), "{name}.{region}.{account}") == "prod-a.eu-west-1.111122223333"
    with pytest.raises(AnsibleError, match="hostname_format: '{cluster}'"):
        inv.hostname(cluster(), "{cluster}")


def test_default_groups_come_from_the_fields_and_the_tags():
    assert inv.default_group_names(cluster()) == [
        "region_eu-west-1",
        "account_111122223333",
        "auth_api_and_config_map",
        "k8s_1.33",
        "tag_karpenter.sh/discovery_prod-a",
        "tag_team_platform",
    ]

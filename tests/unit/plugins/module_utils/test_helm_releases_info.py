# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""helm_releases_info's pure part: the helm list command, the exact name picked from what the filter matches,
and the errors that name the namespace. The helm binary itself runs in the integration target."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError
from ansible_collections.jit.karpenter.plugins.module_utils._helm_releases_info import list_command, pick, run

# helm list --output=yaml, as helm 3 prints it: --filter is a regular expression, so it also matches longer names.
LISTED = """
- app_version: 1.14.3
  chart: karpenter-crd-1.14.3
  name: karpenter-crd
  namespace: kube-system
  revision: "1"
  status: deployed
  updated: 2026-11-30 12:00:00.000000000 +0000 UTC
- app_version: 1.14.3
  chart: karpenter-1.14.3
  name: karpenter
  namespace: kube-system
  revision: "3"
  status: failed
  updated: 2026-11-30 12:05:00.000000000 +0000 UTC
"""


class Helm:
    """Answers ``helm list`` per namespace with canned output; records the commands."""

    def __init__(self, by_namespace, rc=0, err=""):
        self.by_namespace, self.rc, self.err, self.commands = by_namespace, rc, err, []

    def helm(self, args):
        self.commands.append(list(args))
        return self.rc, self.by_namespace.get(args[args.index("--namespace") + 1], ""), self.err


def test_list_command_filters_by_name_in_one_namespace():
    assert list_command("karpenter", "kube-system") == [
        "list",
        "--output=yaml",
        "--namespace",
        "kube-system",
        "--filter",
        "karpenter",
    ]


def test_pick_takes_the_exact_name_not_what_the_filter_also_matches():
    import yaml

    found = pick(yaml.safe_load(LISTED), "karpenter", "kube-system")
    assert found == {
        "name": "karpenter",
        "namespace": "kube-system",
        "revision": "3",
        "updated": "2026-11-30 12:05:00.000000000 +0000 UTC",
        "status": "failed",
        "chart": "karpenter-1.14.3",
        "app_version": "1.14.3",
    }
    assert pick(yaml.safe_load(LISTED), "karpenter-crd-x", "kube-system") is None
    assert pick(None, "karpenter", "kube-system") is None  # helm prints "[]" or nothing for no release


def test_run_lists_each_namespace_once_in_order():
    helm = Helm({"kube-system": LISTED, "karpenter": "[]\n"})
    result = run(helm, {"name": "karpenter", "release_namespaces": ["karpenter", "kube-system", "karpenter"]})
    assert [c[3] for c in helm.commands] == ["karpenter", "kube-system"]
    assert result["changed"] is False
    assert [(r["namespace"], r["app_version"]) for r in result["releases"]] == [("kube-system", "1.14.3")]


def test_a_bad_namespace_is_named_before_helm_runs():
    helm = Helm({})
    with pytest.raises(KarpenterError, match="release_namespaces: 'Kube_System' is not a Kubernetes namespace name"):
        run(helm, {"name": "karpenter", "release_namespaces": ["karpenter", "Kube_System"]})
    assert helm.commands == []


def test_a_failed_helm_list_names_the_namespace_and_helms_error():
    helm = Helm({}, rc=1, err="Error: Kubernetes cluster unreachable: Unauthorized\n")
    with pytest.raises(KarpenterError) as caught:
        run(helm, {"name": "karpenter", "release_namespaces": ["kube-system"]})
    assert caught.value.msg == (
        "Listing the Helm releases of namespace kube-system failed (helm exited 1): "
        "Error: Kubernetes cluster unreachable: Unauthorized"
    )


# --- other names, and the values of each release --------------------------------------------------------


class HelmWithValues(Helm):
    """``helm list`` as above, and ``helm get values`` from canned output per (namespace, name)."""

    def __init__(self, by_namespace, values):
        Helm.__init__(self, by_namespace)
        self.values = values

    def helm(self, args):
        if args[:2] == ["get", "values"]:
            self.commands.append(list(args))
            return self.values[(args[args.index("--namespace") + 1], args[-1])]
        return Helm.helm(self, args)


def test_list_command_with_other_names_matches_exactly_those():
    assert list_command("karpenter", "kube-system", ["karpenter-crd", "karpenter", "x.y"])[-1] == (
        "^(karpenter|karpenter-crd|x\\.y)$"
    )
    assert list_command("karpenter", "kube-system", ["karpenter"])[-1] == "karpenter"


def test_other_names_come_back_apart_and_values_are_read_for_each_release():
    helm = HelmWithValues(
        {"kube-system": LISTED, "karpenter": "[]\n"},
        {
            ("kube-system", "karpenter"): (0, "settings:\n  clusterName: demo\nreplicas: 2\n", ""),
            ("kube-system", "karpenter-crd"): (0, "null\n", ""),
        },
    )
    result = run(
        helm,
        {
            "name": "karpenter",
            "release_namespaces": ["kube-system", "karpenter"],
            "other_names": ["karpenter-crd", "karpenter"],
            "read_values": True,
        },
    )
    assert [c[:2] for c in helm.commands] == [["list", "--output=yaml"]] * 2 + [["get", "values"]] * 2
    assert helm.commands[0][-1] == "^(karpenter|karpenter-crd)$"
    assert helm.commands[2] == ["get", "values", "--output=yaml", "--namespace", "kube-system", "karpenter"]
    assert [(r["name"], r["status"], r["user_values"]) for r in result["releases"]] == [
        ("karpenter", "failed", {"settings": {"clusterName": "demo"}, "replicas": 2})
    ]
    assert [(r["name"], r["chart"], r["user_values"]) for r in result["other_releases"]] == [
        ("karpenter-crd", "karpenter-crd-1.14.3", {})
    ]


def test_without_read_values_no_values_are_read():
    helm = Helm({"kube-system": LISTED})
    result = run(helm, {"name": "karpenter", "release_namespaces": ["kube-system"], "other_names": ["karpenter-crd"]})
    assert len(helm.commands) == 1
    assert "user_values" not in result["releases"][0] and "user_values" not in result["other_releases"][0]


def test_a_bad_other_name_is_named_before_helm_runs():
    helm = Helm({})
    with pytest.raises(KarpenterError, match="other_names: 'Karpenter_CRD' is not a Helm release name"):
        run(helm, {"name": "karpenter", "release_namespaces": ["kube-system"], "other_names": ["Karpenter_CRD"]})
    assert helm.commands == []


def test_a_failed_helm_get_values_names_the_release():
    helm = HelmWithValues({"kube-system": LISTED}, {("kube-system", "karpenter"): (1, "", "Error: forbidden\n")})
    with pytest.raises(KarpenterError) as caught:
        run(helm, {"name": "karpenter", "release_namespaces": ["kube-system"], "read_values": True})
    assert caught.value.msg == (
        "Reading the values of Helm release karpenter in namespace kube-system failed (helm exited 1): Error: forbidden"
    )

# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure parts of k8s_objects_info: how a query becomes a request and an answer becomes resources."""

from ansible_collections.jit.karpenter.plugins.module_utils._k8s_objects_info import describe, get_params, items_of


def test_describe_names_kind_and_place():
    assert describe({"api_version": "v1", "kind": "Namespace", "name": "kube-system"}) == "v1 Namespace kube-system"
    assert describe(
        {"api_version": "v1", "kind": "ServiceAccount", "namespace": "kube-system", "name": "karpenter"}
    ) == ("v1 ServiceAccount kube-system/karpenter")
    assert describe({"api_version": "karpenter.sh/v1", "kind": "NodePool", "namespace": None, "name": None}) == (
        "karpenter.sh/v1 NodePool"
    )


def test_get_params_only_what_was_asked():
    assert get_params({"api_version": "v1", "kind": "Pod", "namespace": None, "name": None}) == {}
    assert get_params({"namespace": "ns", "name": "n", "label_selectors": ["a=b", "c"]}) == {
        "namespace": "ns",
        "name": "n",
        "label_selector": "a=b,c",
    }


def test_items_of_a_list_and_of_one_object():
    listed = {"kind": "ConfigMapList", "items": [{"metadata": {"name": "a"}}, {"metadata": {"name": "b"}}]}
    assert items_of({}, listed) == listed["items"]
    assert items_of({}, {"kind": "ConfigMapList", "items": None}) == []
    one = {"kind": "ConfigMap", "metadata": {"name": "a"}}
    assert items_of({"name": "a"}, one) == [one]
    assert items_of({"name": "a"}, None) == []

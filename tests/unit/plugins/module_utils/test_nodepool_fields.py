# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nodepool module's field table against its DOCUMENTATION: the same options, with the same
argument spec, and each option documents the field the table says it sets."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
import yaml
from ansible_collections.jit.karpenter.plugins.module_utils._nodepool.fields import (
    OPTION,
    OPTIONS,
    OWNED_FIELDS,
    REJECTED,
    Converted,
    argument_spec,
)
from ansible_collections.jit.karpenter.plugins.module_utils._kube import kube_argument_spec
from ansible_collections.jit.karpenter.plugins.modules import nodepool as module

DOCUMENTED = yaml.safe_load(module.DOCUMENTATION)["options"]


def _documented(options, prefix=""):
    """``{dotted name: documentation}`` of every option and suboption."""
    out = {}
    for name, doc in options.items():
        out[prefix + name] = doc
        out.update(_documented(doc.get("suboptions") or {}, prefix + name + "."))
    return out


DOCS = _documented(DOCUMENTED)


def _description(name):
    text = DOCS[name]["description"]
    return " ".join(text) if isinstance(text, list) else text


def test_every_documented_option_is_in_the_table_and_vice_versa():
    assert sorted(DOCS) == sorted(OPTION)
    assert len(OPTIONS) == len(OPTION), "an option has two rows"


@pytest.mark.parametrize("name", sorted(OPTION))
def test_the_argument_spec_agrees_with_the_documentation(name):
    doc, spec = DOCS[name], OPTION[name].spec
    assert spec["type"] == doc.get("type", "str")
    for key in ("elements", "choices", "default", "aliases"):
        assert spec.get(key) == doc.get(key), key
    assert spec.get("required", False) == doc.get("required", False)


@pytest.mark.parametrize("row", [row for row in OPTIONS if isinstance(row.v1, str)], ids=lambda row: row.name)
def test_each_option_documents_its_v1_field(row):
    """``spec.template.spec.requirements`` is documented as such; a suboption's field as ``C(minValues)``."""
    field = row.v1 if _top_level(row) else row.v1.rsplit(".", 1)[-1]
    assert f"C({field})" in _description(row.name)


def _top_level(row):
    """Options of the NodePool, and of the node class (``nodeclass.role``)."""
    return "." not in row.name.replace("nodeclass.", "", 1)


@pytest.mark.parametrize(
    "row", [row for row in OPTIONS if row.v1alpha5 == REJECTED and _top_level(row)], ids=lambda row: row.name
)
def test_each_option_v1alpha5_rejects_says_so(row):
    assert "rejected with o(api=v1alpha5)" in _description(row.name).lower()


def test_the_module_argument_spec_is_the_tables():
    spec = module.argument_spec()
    assert {k: v for k, v in spec.items() if k not in kube_argument_spec()} == argument_spec()


def test_owned_fields_come_from_the_table():
    assert OWNED_FIELDS["NodePool"][0] == ("limits",)
    assert ("template", "spec", "nodeClassRef") in OWNED_FIELDS["NodePool"]
    assert ("providerRef",) in OWNED_FIELDS["Provisioner"]
    assert ("ttlSecondsAfterEmpty",) in OWNED_FIELDS["Provisioner"]
    assert ("consolidation",) in OWNED_FIELDS["Provisioner"]
    assert ("role",) in OWNED_FIELDS["EC2NodeClass"]
    assert ("role",) not in OWNED_FIELDS["AWSNodeTemplate"]
    for row in OPTIONS:
        if _top_level(row) and isinstance(row.v1, str) and row.v1.startswith("spec."):
            kind = "EC2NodeClass" if row.name.startswith("nodeclass.") else "NodePool"
            assert tuple(row.v1.split(".")[1:]) in OWNED_FIELDS[kind], row.name


def test_converted_rows_say_how():
    for row in OPTIONS:
        for field in (row.v1, row.v1alpha5):
            if isinstance(field, Converted):
                assert field.how, row.name

# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""awx/: each job template's survey against the role jit.karpenter.karpenter's argument spec.

Every question must name an option of the role, ask for it with a matching type and the same choices, and
offer a default that the role's own argument-spec validation (ansible-core's ArgumentSpecValidator) accepts.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from pathlib import Path

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

ROOT = Path(__file__).resolve().parents[2]
AWX = ROOT / "awx"
SPEC = yaml.safe_load((ROOT / "roles/karpenter/meta/argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
CONFIGURE = yaml.safe_load((AWX / "configure.yml").read_text())[0]
TEMPLATES = CONFIGURE["vars"]["awx_templates"]
SURVEYS = sorted(p.name for p in (AWX / "surveys").glob("*.yml"))
# AWX survey question types and the argument-spec types that can take their answers.
TYPES = {"text": {"str"}, "textarea": {"str"}, "password": {"str"}, "integer": {"int"}, "float": {"float"},
         "multiplechoice": {"str", "bool"}, "multiselect": {"list"}}


def _option_spec(name):
    """The option's spec as ArgumentSpecValidator reads it (no docs, no templated default)."""
    keep = {k: v for k, v in SPEC[name].items() if k in ("type", "choices", "elements")}
    return {name: keep}


def _questions():
    for survey in SURVEYS:
        for q in yaml.safe_load((AWX / "surveys" / survey).read_text())["spec"]:
            yield pytest.param(survey, q, id="%s:%s" % (survey, q["variable"]))


def test_every_template_has_its_survey_and_playbook():
    assert sorted(t["survey"] for t in TEMPLATES) == SURVEYS
    for t in TEMPLATES:
        assert (ROOT / t["playbook"]).is_file(), t


@pytest.mark.parametrize("survey,question", list(_questions()))
def test_question_matches_the_role_argument_spec(survey, question):
    name = question["variable"]
    assert name in SPEC, "%s asks for %s, which the role does not take" % (survey, name)
    spec = SPEC[name]
    assert spec.get("type", "str") in TYPES[question["type"]], (survey, name, question["type"], spec.get("type"))
    if question["type"] == "multiplechoice":
        want = set(spec["choices"]) if "choices" in spec else {"true", "false"}
        assert spec.get("type") == "bool" or "choices" in spec, (survey, name)
        assert set(question["choices"]) == want, (survey, name)
        assert question["default"] in question["choices"]
    result = ArgumentSpecValidator(_option_spec(name)).validate({name: question["default"]})
    assert not result.error_messages, (survey, name, result.error_messages)
    # A survey default that differs from the role's own default is a second source of truth.
    if "default" in spec and "{{" not in str(spec["default"]):
        assert result.validated_parameters[name] == spec["default"], (survey, name)


@pytest.mark.parametrize("name,answer", [("karpenter_verify_timeout", "soon"), ("karpenter_verify_jit", "maybe"),
                                         ("karpenter_controller_identity", "kiam")])
def test_the_validator_the_test_relies_on_refuses_bad_answers(name, answer):
    assert ArgumentSpecValidator(_option_spec(name)).validate({name: answer}).error_messages

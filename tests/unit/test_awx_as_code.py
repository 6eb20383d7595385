# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""awx/: each job template's survey against the role jit.karpenter.karpenter's argument spec, and the
credential type for a Kubernetes bearer token against what kubernetes.core reads.

Every question must name an option of the role, ask for it with a matching type and the same choices, and
offer a default that the role's own argument-spec validation (ansible-core's ArgumentSpecValidator) accepts.
The bearer-token type must inject only variables that kubernetes.core's modules and kubernetes.core.helm read,
keep its token secret, and give them the host, token, CA and TLS check it was given (AWX's injection rendered
as AWX does it, the result read by kubernetes.core's own code).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_MAP
from ansible_collections.kubernetes.core.plugins.module_utils.helm_args_common import (
    HELM_AUTH_ARG_SPEC,
    HELM_AUTH_MUTUALLY_EXCLUSIVE,
)
from ansible_collections.kubernetes.core.plugins.module_utils.k8s import client as k8s_client
from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = Path(__file__).resolve().parents[2]
AWX = ROOT / "awx"
SPEC = yaml.safe_load((ROOT / "roles/karpenter/meta/argument_specs.yml").read_text())["argument_specs"]["main"][
    "options"
]
CONFIGURE = yaml.safe_load((AWX / "configure.yml").read_text())[0]
TEMPLATES = CONFIGURE["vars"]["awx_templates"]
SURVEYS = sorted(p.name for p in (AWX / "surveys").glob("*.yml"))
# AWX survey question types and the argument-spec types that can take their answers.
TYPES = {
    "text": {"str"},
    "textarea": {"str"},
    "password": {"str"},
    "integer": {"int"},
    "float": {"float"},
    "multiplechoice": {"str", "bool"},
    "multiselect": {"list"},
}


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


@pytest.mark.parametrize(
    "name,answer",
    [
        ("karpenter_verify_timeout", "soon"),
        ("karpenter_verify_jit", "maybe"),
        ("karpenter_controller_identity", "kiam"),
    ],
)
def test_the_validator_the_test_relies_on_refuses_bad_answers(name, answer):
    assert ArgumentSpecValidator(_option_spec(name)).validate({name: answer}).error_messages


# ---------------------------------------------------------------------------
# The credential type "Kubernetes bearer token (jit.karpenter)": what AWX injects, and what kubernetes.core
# makes of it (its modules through the k8s client, kubernetes.core.helm through its argument spec).

BEARER_TOKEN_TYPE = "Kubernetes bearer token (jit.karpenter)"
CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIBdummy\n-----END CERTIFICATE-----\n"
# Every environment variable kubernetes.core's k8s client reads for a connection option it was not given
# (K8S_AUTH_<option> or K8S_AUTH_<alias>), and every one kubernetes.core.helm's argument spec falls back to.
K8S_READS = {"K8S_AUTH_%s" % name.upper() for pair in AUTH_ARG_MAP.items() for name in pair}
HELM_READS = {env for spec in HELM_AUTH_ARG_SPEC.values() if "fallback" in spec for env in spec["fallback"][1]}


def _configure_loaded():
    """configure.yml as ansible-playbook loads it (its strings are templates)."""
    loader = DataLoader()
    try:
        play = loader.load_from_file(str(AWX / "configure.yml"), trusted_as_template=True)[0]
    except TypeError:  # ansible-core before 2.19 templates every string
        play = loader.load_from_file(str(AWX / "configure.yml"))[0]
    return loader, play


def _templated(value, **variables):
    """The value as Ansible templates it, in plain Python types."""
    loader = DataLoader()
    return json.loads(json.dumps(Templar(loader=loader, variables=variables).template(value)))


def _credential_type(name):
    """The arguments awx.awx.credential_type receives for the type named so."""
    for task in _configure_loaded()[1]["tasks"]:
        args = task.get("awx.awx.credential_type")
        if args and args["name"] == name:
            return _templated(args)
    raise AssertionError("configure.yml creates no credential type %r" % name)


def _inject(cred_type, inputs, tmp_path):
    """The environment AWX gives a job for a credential of this type with these inputs.

    As AWX's CredentialType.inject_credential: a namespace of the non-empty inputs, a boolean input left unset is
    false, the file templates are rendered to files (tower.filename), then the env templates, all in Jinja's
    immutable sandbox.
    """
    namespace = {k: v for k, v in inputs.items() if isinstance(v, bool) or v}
    for field in cred_type["inputs"]["fields"]:
        if field["type"] == "boolean" and field["id"] not in inputs:
            namespace[field["id"]] = False
    sandbox = ImmutableSandboxedEnvironment()
    files = {}
    for label, template in cred_type["injectors"].get("file", {}).items():
        path = tmp_path / ("credential-" + label)
        path.write_text(sandbox.from_string(template).render(**namespace))
        files[label] = str(path)
    if "template" in files:
        namespace["tower"] = {"filename": files["template"]}
    else:
        namespace["tower"] = {"filename": dict((label.split(".", 1)[1], path) for label, path in files.items())}
    return dict(
        (var, sandbox.from_string(template).render(**namespace))
        for var, template in cred_type["injectors"]["env"].items()
    )


@pytest.fixture
def job_env(monkeypatch):
    """Set a job's injected environment, with no other K8S_AUTH_ variable of the test run's own."""

    def apply(env):
        for var in list(os.environ):
            if var.startswith("K8S_AUTH_"):
                monkeypatch.delenv(var)
        for var, value in env.items():
            monkeypatch.setenv(var, value)

    return apply


def _k8s_auth():
    """The connection the kubernetes.core modules (and this collection's) make of the environment alone."""
    return k8s_client._create_auth_spec()


def _helm_auth():
    """The connection options kubernetes.core.helm's argument spec yields from the environment alone."""
    result = ArgumentSpecValidator(HELM_AUTH_ARG_SPEC, mutually_exclusive=HELM_AUTH_MUTUALLY_EXCLUSIVE).validate({})
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


def test_bearer_token_inputs_keep_the_token_secret():
    inputs = _credential_type(BEARER_TOKEN_TYPE)["inputs"]
    fields = dict((f["id"], f) for f in inputs["fields"])
    assert set(fields) == {"host", "bearer_token", "ssl_ca_cert", "insecure_skip_tls_verify"}
    assert fields["bearer_token"].get("secret") is True
    assert [f for f in fields if fields[f].get("secret")] == ["bearer_token"]
    assert set(inputs["required"]) == {"host", "bearer_token"}
    assert fields["ssl_ca_cert"].get("multiline") is True
    assert fields["insecure_skip_tls_verify"]["type"] == "boolean"


def test_bearer_token_injects_only_variables_the_modules_and_helm_read():
    injectors = _credential_type(BEARER_TOKEN_TYPE)["injectors"]
    assert set(injectors) <= {"env", "file"}
    env = set(injectors["env"])
    assert env == {"K8S_AUTH_HOST", "K8S_AUTH_API_KEY", "K8S_AUTH_SSL_CA_CERT", "K8S_AUTH_VERIFY_SSL"}
    assert env <= K8S_READS, env - K8S_READS
    assert env <= HELM_READS, env - HELM_READS
    # The role takes a kubeconfig first: this credential must not set one.
    assert "K8S_AUTH_KUBECONFIG" not in env


def test_bearer_token_injectors_pass_awx_validation():
    """As AWX validates a credential type: every template renders with only the inputs and tower.filename."""
    cred_type = _credential_type(BEARER_TOKEN_TYPE)
    namespace = dict((f["id"], "EXAMPLE") for f in cred_type["inputs"]["fields"])
    namespace["tower"] = {"filename": "EXAMPLE_FILENAME"}
    sandbox = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    for kind, templates in cred_type["injectors"].items():
        for key, template in templates.items():
            assert "{{" in template, (kind, key, template)
            sandbox.from_string(template).render(namespace)
    assert list(cred_type["injectors"]["file"]) == ["template"]


def test_bearer_token_with_ca_reaches_the_modules_and_helm(tmp_path, job_env):
    cred_type = _credential_type(BEARER_TOKEN_TYPE)
    job_env(
        _inject(
            cred_type, {"host": "https://api.example:443", "bearer_token": "sekrit", "ssl_ca_cert": CA_PEM}, tmp_path
        )
    )
    k8s = _k8s_auth()
    assert k8s["host"] == "https://api.example:443"
    assert k8s["api_key"] == "sekrit"
    assert k8s["verify_ssl"] is True
    with open(k8s["ssl_ca_cert"]) as ca:
        assert ca.read() == CA_PEM
    helm = _helm_auth()
    assert (helm["host"], helm["api_key"], helm["ca_cert"], helm["validate_certs"]) == (
        "https://api.example:443",
        "sekrit",
        k8s["ssl_ca_cert"],
        True,
    )


def test_bearer_token_without_ca_verifies_with_the_system_cas(tmp_path, job_env):
    cred_type = _credential_type(BEARER_TOKEN_TYPE)
    job_env(_inject(cred_type, {"host": "https://api.example", "bearer_token": "sekrit"}, tmp_path))
    k8s = _k8s_auth()
    assert k8s["verify_ssl"] is True
    assert not k8s.get("ssl_ca_cert")  # no CA file: urllib3 loads the system's CAs
    helm = _helm_auth()
    assert helm["validate_certs"] is True
    assert not helm["ca_cert"]  # kubernetes.core.helm passes no HELM_KUBECAFILE


def test_bearer_token_skips_tls_verification_only_when_asked(tmp_path, job_env):
    cred_type = _credential_type(BEARER_TOKEN_TYPE)
    job_env(
        _inject(
            cred_type, {"host": "https://api.example", "bearer_token": "t", "insecure_skip_tls_verify": True}, tmp_path
        )
    )
    assert _k8s_auth()["verify_ssl"] is False
    assert _helm_auth()["validate_certs"] is False
    job_env(
        _inject(
            cred_type, {"host": "https://api.example", "bearer_token": "t", "insecure_skip_tls_verify": False}, tmp_path
        )
    )
    assert _k8s_auth()["verify_ssl"] is True
    assert _helm_auth()["validate_certs"] is True


@pytest.mark.parametrize(
    "kubernetes_credential,want", [("", ["AWS platform"]), ("prod-1 token", ["AWS platform", "prod-1 token"])]
)
def test_job_templates_attach_the_kubernetes_credential_only_when_given(kubernetes_credential, want):
    loader, play = _configure_loaded()
    templates = [t["awx.awx.job_template"] for t in play["tasks"] if "awx.awx.job_template" in t]
    assert templates
    for args in templates:
        assert args["ask_credential_on_launch"] is True
        assert (
            _templated(
                args["credentials"], awx_aws_credential="AWS platform", awx_kubernetes_credential=kubernetes_credential
            )
            == want
        )
    assert play["vars"]["awx_kubernetes_credential"] == ""

# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the role jit.karpenter.karpenter reaches the cluster: its tasks/main.yml's module_defaults and conditions.

A kubeconfig (karpenter_kubeconfig) comes first; without one, a bearer token in K8S_AUTH_HOST and
K8S_AUTH_API_KEY (as AWX's "Kubernetes bearer token (jit.karpenter)" credential injects it) leaves every
connection option to the modules, which read the environment; else EKS tokens. The expressions are rendered
with Jinja, a stand-in for lookup() and omit, so a change to any of them shows here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from pathlib import Path

import datetime

import pytest
import yaml
from jinja2 import Environment, StrictUndefined

ROOT = Path(__file__).resolve().parents[2]
BLOCK = yaml.safe_load((ROOT / "roles/karpenter/tasks/main.yml").read_text())[0]
OMIT = "<omit>"
GROUPS = ("group/jit.karpenter.k8s", "group/kubernetes.core.helm")
CONNECTION = ("kubeconfig", "host", "ca_cert", "api_key")
NOW = datetime.datetime(2026, 11, 30, 12, 0, 0, tzinfo=datetime.timezone.utc)


def _now(utc=False):
    return NOW


def _render(template, env, **variables):
    def lookup(name, *terms, **kwargs):
        if name == "ansible.builtin.env":
            return env.get(terms[0], "")
        if name == "jit.karpenter.eks_token":
            return "eks-token-for-" + terms[0]
        raise AssertionError("unexpected lookup %s" % name)

    context = dict(
        lookup=lookup,
        now=_now,
        omit=OMIT,
        cluster_name="prod-1",
        __karpenter_region="eu-west-1",
        __karpenter_ca_file={"path": "/runner/env/ca.crt"},
    )
    context.setdefault("__karpenter_cluster_access", _made(10))
    context.update(variables)
    if "{{" not in template:  # a bare `when` condition
        template = "{{ %s }}" % template
    return Environment(undefined=StrictUndefined).from_string(template).render(context).strip()


def _made(seconds_ago):
    """access.yml's fact: the endpoint, the CA and the token it made ``seconds_ago`` (``made`` as set_fact keeps it)."""
    made = (NOW - datetime.timedelta(seconds=seconds_ago)).timestamp()
    return {"endpoint": "https://eks.example", "ca_data": "Q0E=", "token": "token-made-by-access.yml", "made": made}


def _access(env, kubeconfig="", cluster_access=None):
    """The access mode, and the connection options each group gets (omitted ones left out)."""
    extra = {} if cluster_access is None else {"__karpenter_cluster_access": cluster_access}
    mode = _render(BLOCK["vars"]["__karpenter_k8s_access"], env, karpenter_kubeconfig=kubeconfig)
    options = {}
    for group in GROUPS:
        rendered = dict(
            (
                key,
                _render(
                    BLOCK["module_defaults"][group][key],
                    env,
                    karpenter_kubeconfig=kubeconfig,
                    __karpenter_k8s_access=mode,
                    **extra,
                ),
            )
            for key in CONNECTION
        )
        options[group] = dict((k, v) for k, v in rendered.items() if v != OMIT)
    return mode, options


def _task(name_start):
    return next(t for t in BLOCK["block"] if t["name"].startswith(name_start))


TOKEN_ENV = {"K8S_AUTH_HOST": "https://api.example", "K8S_AUTH_API_KEY": "sekrit"}


def test_bearer_token_of_the_environment_leaves_every_connection_option_to_the_modules():
    mode, options = _access(TOKEN_ENV)
    assert mode == "env"
    for group in GROUPS:
        assert options[group] == {}, group


@pytest.mark.parametrize(
    "env",
    [{}, {"K8S_AUTH_HOST": "https://api.example"}, {"K8S_AUTH_API_KEY": "sekrit"}],
    ids=["nothing", "host-only", "token-only"],
)
def test_without_a_whole_bearer_token_the_role_makes_eks_tokens(env):
    mode, options = _access(env)
    assert mode == "eks"
    for group in GROUPS:
        assert options[group] == {
            "host": "https://eks.example",
            "ca_cert": "/runner/env/ca.crt",
            "api_key": "token-made-by-access.yml",
        }, group


@pytest.mark.parametrize(
    "seconds_ago,api_key",
    [
        (0, "token-made-by-access.yml"),
        (239, "token-made-by-access.yml"),
        (240, "eks-token-for-prod-1"),
        (3600, "eks-token-for-prod-1"),
    ],
)
def test_the_token_access_yml_made_serves_for_4_minutes_then_each_task_makes_one(seconds_ago, api_key):
    mode, options = _access({}, cluster_access=_made(seconds_ago))
    assert mode == "eks"
    for group in GROUPS:
        assert options[group]["api_key"] == api_key, group


def test_both_groups_get_the_same_connection_options():
    assert BLOCK["module_defaults"][GROUPS[0]] == BLOCK["module_defaults"][GROUPS[1]]


def test_a_kubeconfig_comes_before_the_bearer_token():
    mode, options = _access(TOKEN_ENV, kubeconfig="/runner/kubeconfig")
    assert mode == "kubeconfig"
    for group in GROUPS:
        assert options[group] == {"kubeconfig": "/runner/kubeconfig"}, group


@pytest.mark.parametrize(
    "env,kubeconfig,reads_eks,one_host_check",
    [
        (TOKEN_ENV, "", False, True),
        ({}, "", True, False),
        (TOKEN_ENV, "/runner/kubeconfig", False, False),
    ],
)
def test_eks_access_is_read_only_for_eks_tokens_and_the_token_needs_one_host(
    env, kubeconfig, reads_eks, one_host_check
):
    mode = _render(BLOCK["vars"]["__karpenter_k8s_access"], env, karpenter_kubeconfig=kubeconfig)
    access = _task("Reach the cluster with EKS tokens")
    assert access["ansible.builtin.include_tasks"] == "access.yml"
    assert _render(access["when"], env, __karpenter_k8s_access=mode) == str(reads_eks)
    check = _task("One cluster per run")
    assert _render(check["when"], env, __karpenter_k8s_access=mode) == str(one_host_check)
    assert check["ansible.builtin.assert"]["that"] == "ansible_play_hosts_all | length == 1"
    # The check runs before anything else of the role.
    assert BLOCK["block"].index(check) == 0

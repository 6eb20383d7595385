# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the ``helm_releases_info`` module: Helm release names, looked up in several namespaces.

``helm list`` once per namespace, in one module run, as ``kubernetes.core.helm_info`` lists (by default the
releases that are deployed or failed, the name as ``--filter``, then the exact name picked from what it
matches); without ``helm_info``'s four more commands per namespace (values, manifest, notes, hooks), which a
check of which release is installed, and which version, does not read. With ``read_values``, ``helm get
values`` for each release found: the user-supplied values, which ``kubernetes.core.helm`` compares with the
values it is given before it upgrades.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError
from ansible_collections.jit.karpenter.plugins.module_utils._names import is_dns1123_label

# Helm 3's release names: a DNS-1123 subdomain of at most 53 characters (helm's ValidateReleaseName).
_RELEASE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

# What helm list --output=yaml gives for each release, and what the module returns of it.
FIELDS = ("name", "namespace", "revision", "updated", "status", "chart", "app_version")


def list_command(name, namespace, other_names=()):
    """The arguments of ``helm list`` for release ``name`` in ``namespace`` (its filter, a regular
    expression, is the name, as ``kubernetes.core.helm`` filters), or for ``name`` and ``other_names``
    (a filter that matches exactly those)."""
    others = [n for n in other_names if n != name]
    if not others:
        pattern = name
    else:
        pattern = "^(" + "|".join(n.replace(".", "\\.") for n in [name] + others) + ")$"
    return ["list", "--output=yaml", "--namespace", namespace, "--filter", pattern]


def values_command(name, namespace):
    """The arguments of ``helm get values`` (the user-supplied values) of release ``name`` in ``namespace``."""
    return ["get", "values", "--output=yaml", "--namespace", namespace, name]


def is_release_name(name):
    """Whether ``name`` is a release name Helm takes."""
    return isinstance(name, str) and len(name) <= 53 and bool(_RELEASE_NAME.match(name))


def pick(listed, name, namespace):
    """The release named exactly ``name`` from ``helm list``'s parsed output (a list, or None when empty)."""
    for release in listed or []:
        if isinstance(release, dict) and release.get("name") == name:
            found = dict((key, release.get(key)) for key in FIELDS)
            found["namespace"] = found["namespace"] or namespace
            return found
    return None


def _user_values(clients, release):
    """``helm get values`` of ``release``, parsed as ``kubernetes.core.helm`` parses it ({} for none)."""
    import yaml

    rc, out, err = clients.helm(values_command(release["name"], release["namespace"]))
    if rc != 0:
        raise KarpenterError(
            "Reading the values of Helm release {0} in namespace {1} failed (helm exited {2}): {3}".format(
                release["name"], release["namespace"], rc, (err or out).strip()
            ),
            namespace=release["namespace"],
            rc=rc,
        )
    if out.rstrip("\n") == "null":  # helm 3 prints null when no values were given
        return {}
    try:
        return yaml.safe_load(out) or {}
    except yaml.YAMLError as e:
        raise KarpenterError(
            "helm get values of release {0} in namespace {1} gave output that does not parse as YAML: {2}".format(
                release["name"], release["namespace"], e
            ),
            namespace=release["namespace"],
        )


def _refuse_any(option, values, valid, what, detail):
    """Fail on the first of ``values`` that ``valid`` does not take, naming ``option`` and the value."""
    for value in values:
        if not valid(value):
            raise KarpenterError("{0}: '{1}' is not {2}".format(option, value, what), **{detail: value})


def run(clients, params, check_mode=False, region=None):
    """The ``helm_releases_info`` module's entry point (see ``_runner``): read-only, in check mode too."""
    import yaml

    name = params["name"]
    other_names = [n for n in dict.fromkeys(params.get("other_names") or []) if n != name]
    namespaces = list(dict.fromkeys(params["release_namespaces"]))  # each once, in order
    _refuse_any(
        "other_names",
        other_names,
        is_release_name,
        "a Helm release name (lower-case letters, digits, '-' and '.', at most 53 characters)",
        "name",
    )
    _refuse_any(
        "release_namespaces",
        namespaces,
        is_dns1123_label,
        "a Kubernetes namespace name (lower-case letters, digits and '-', at most 63 characters)",
        "namespace",
    )
    releases = []
    others = []
    for namespace in namespaces:
        rc, out, err = clients.helm(list_command(name, namespace, other_names))
        if rc != 0:
            raise KarpenterError(
                "Listing the Helm releases of namespace {0} failed (helm exited {1}): {2}".format(
                    namespace, rc, (err or out).strip()
                ),
                namespace=namespace,
                rc=rc,
            )
        try:
            listed = yaml.safe_load(out)
        except yaml.YAMLError as e:
            raise KarpenterError(
                "helm list in namespace {0} gave output that does not parse as YAML: {1}".format(namespace, e),
                namespace=namespace,
            )
        found = pick(listed, name, namespace)
        if found:
            releases.append(found)
        others.extend(r for r in (pick(listed, other, namespace) for other in other_names) if r)
    if params.get("read_values"):
        for release in releases + others:
            release["user_values"] = _user_values(clients, release)
    return {"changed": False, "releases": releases, "other_releases": others}

# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the ``helm_releases_info`` module: one Helm release name, looked up in several namespaces.

``helm list`` once per namespace, in one module run, as ``kubernetes.core.helm_info`` lists (by default the
releases that are deployed or failed, the name as ``--filter``, then the exact name picked from what it
matches); without ``helm_info``'s four more commands per namespace (values, manifest, notes, hooks), which a
check of which release is installed, and which version, does not read.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError
from ansible_collections.jit.karpenter.plugins.module_utils._names import is_dns1123_label

# What helm list --output=yaml gives for each release, and what the module returns of it.
FIELDS = ("name", "namespace", "revision", "updated", "status", "chart", "app_version")


def list_command(name, namespace):
    """The arguments of ``helm list`` for release ``name`` in ``namespace``."""
    return ["list", "--output=yaml", "--namespace", namespace, "--filter", name]


def pick(listed, name, namespace):
    """The release named exactly ``name`` from ``helm list``'s parsed output (a list, or None when empty)."""
    for release in listed or []:
        if isinstance(release, dict) and release.get("name") == name:
            found = dict((key, release.get(key)) for key in FIELDS)
            found["namespace"] = found["namespace"] or namespace
            return found
    return None


def run(clients, params, check_mode=False, region=None):
    """The ``helm_releases_info`` module's entry point (see ``_runner``): read-only, in check mode too."""
    import yaml

    name = params["name"]
    namespaces = list(dict.fromkeys(params["release_namespaces"]))  # each once, in order
    for namespace in namespaces:
        if not is_dns1123_label(namespace):
            raise KarpenterError(
                "release_namespaces: '{0}' is not a Kubernetes namespace name (lower-case letters, digits and '-', "
                "at most 63 characters)".format(namespace),
                namespace=namespace,
            )
    releases = []
    for namespace in namespaces:
        rc, out, err = clients.helm(list_command(name, namespace))
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
    return {"changed": False, "releases": releases}

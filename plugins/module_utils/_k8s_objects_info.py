# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Several Kubernetes reads in one module run (the module ``k8s_objects_info``).

Each query names an API version and kind, and optionally a namespace, a name and label
selectors, as ``kubernetes.core.k8s_info`` takes them; its result is that module's
``api_found`` and ``resources``. A kind the API server does not serve is ``api_found: false``
with no resources; a named object that does not exist is no resources; any other error of the
API server (401, 403, 5xx) fails the run, naming the query.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.jit.karpenter.plugins.module_utils._kube import api_error as as_error

QUERY_KEYS = ("api_version", "kind", "namespace", "name", "label_selectors")


def describe(query):
    """``<api_version> <kind> [<namespace>/]<name>``, for errors."""
    where = "/".join(p for p in (query.get("namespace"), query.get("name")) if p)
    return " ".join(p for p in (query["api_version"], query["kind"], where) if p)


def get_params(query):
    """The keyword arguments of the dynamic client's ``get`` for one query."""
    params = {}
    for key in ("namespace", "name"):
        if query.get(key):
            params[key] = query[key]
    if query.get("label_selectors"):
        params["label_selector"] = ",".join(query["label_selectors"])
    return params


def items_of(query, found):
    """The objects of one answer: a list's items, or the one object asked for by name."""
    if found is None:
        return []
    if query.get("name"):
        return [found]
    return list(found.get("items") or [])


def read_objects(client, queries, missing_kind, not_found, api_error):
    """Answer each query with the client ``client`` (kubernetes.core's ``K8SClient``).

    ``missing_kind``, ``not_found`` and ``api_error`` are the exception types for a kind the server
    does not serve, a named object that does not exist, and any other API error (in discovery too, where
    a bad token first shows). Returns one result per query, in order: the query's own keys,
    ``api_found`` and ``resources``."""
    results = []
    for query in queries:
        result = dict((k, query.get(k)) for k in QUERY_KEYS)
        try:
            resource = client.resource(query["kind"], query["api_version"])
        except missing_kind:
            result.update(api_found=False, resources=[])
            results.append(result)
            continue
        except api_error as err:
            raise as_error(err, "Reading " + describe(query))
        try:
            found = client.get(resource, **get_params(query)).to_dict()
        except not_found:
            found = None
        except api_error as err:
            raise as_error(err, "Reading " + describe(query))
        result.update(api_found=True, resources=items_of(query, found))
        results.append(result)
    return results


def run(clients, params, check_mode=False, region=None):
    """The ``k8s_objects_info`` module's entry point (see ``_runner``): read-only, in check mode too."""
    from kubernetes.client.exceptions import ApiException
    from kubernetes.dynamic.exceptions import NotFoundError, ResourceNotFoundError, ResourceNotUniqueError

    results = read_objects(
        clients.kube_dynamic(),
        params["queries"],
        missing_kind=(ResourceNotFoundError, ResourceNotUniqueError),
        not_found=NotFoundError,
        api_error=ApiException,
    )
    return {"changed": False, "results": results}

# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes access shared by the collection's Kubernetes modules.

Authentication options are kubernetes.core's own (same names, same
``K8S_AUTH_*`` environment fallbacks), so ``module_defaults`` for
``group/jit.karpenter.k8s`` (which extends ``kubernetes.core.k8s``) reach them and
kubernetes.core's modules alike.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import random
import time

from ansible_collections.jit.karpenter.plugins.module_utils._lazy_kubernetes import install as _lazy_kubernetes

# Before the first import of the kubernetes library in this process: its generated API classes and
# models load when a name is first used (module_utils/_lazy_kubernetes.py).
_lazy_kubernetes()

try:
    from kubernetes.client.exceptions import ApiException
except ImportError:  # reported by AnsibleK8SModule, or by require_kubernetes
    ApiException = Exception
    HAS_KUBERNETES = False
else:
    HAS_KUBERNETES = True

from ansible.module_utils.basic import missing_required_lib
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError


def kube_argument_spec():
    """A copy of kubernetes.core's connection options."""
    return copy.deepcopy(AUTH_ARG_SPEC)


def require_kubernetes(module):
    """Fail ``module`` when the kubernetes library is missing, with the message kubernetes.core's
    ``AnsibleK8SModule`` gives; for the modules that need AWS and Kubernetes alike and therefore
    stay on ``AnsibleAWSModule``."""
    if not HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib("kubernetes"))


def dynamic_client(params):
    """Return kubernetes.core's ``K8SClient`` (discovery of kinds, ``get``) built from the module's
    auth options."""
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException

    auth = dict((k, v) for k, v in params.items() if k in AUTH_ARG_SPEC)
    try:
        return get_api_client(**auth)
    except CoreException as e:
        raise KarpenterError("Cannot reach the Kubernetes API: {0}".format(e))
    except Exception as e:  # connection refused, TLS and DNS errors surface from urllib3 as many types
        reason = getattr(e, "reason", None) or e
        raise KarpenterError("Cannot reach the Kubernetes API: {0}".format(reason))


def api_client(params):
    """Return a ``kubernetes.client.ApiClient`` built from the module's auth options."""
    return dynamic_client(params).client.client


def api_error(err, action):
    """Turn an ``ApiException`` into the collection's error, naming the action."""
    status = getattr(err, "status", None)
    reason = getattr(err, "reason", None) or str(err)
    body = getattr(err, "body", None)
    message = reason
    if body:
        try:
            import json

            message = json.loads(body).get("message") or reason
        except (ValueError, AttributeError):
            message = reason
    return KarpenterError("{0} failed: {1} (HTTP {2})".format(action, message, status), status=status)


# Statuses worth sending a request again for: 429 Too Many Requests (API Priority and Fairness
# rejects a request it has no seat for, with a Retry-After) and the 5xx family (an API server or
# etcd that is restarting, overloaded or timing out). client-go retries the same: its
# rest.Request retries 429 and, with Retry-After, 5xx (k8s.io/client-go/rest/with_retry.go).
TRANSIENT_STATUSES = (429, 500, 502, 503, 504)


def transient(err):
    """True when ``err`` (an ``ApiException``) is worth retrying as it stands."""
    return getattr(err, "status", None) in TRANSIENT_STATUSES


def retry_after(err):
    """Seconds the server asked to wait (its ``Retry-After`` header), or None."""
    headers = getattr(err, "headers", None)
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return None


def backoff(attempt, err=None, base_delay=0.2, max_delay=5.0, rand=random.random):
    """Seconds to wait before attempt ``attempt + 1``: the server's ``Retry-After`` when it
    gave one, otherwise jittered exponential backoff; never more than ``max_delay``."""
    hinted = retry_after(err) if err is not None else None
    if hinted is not None:
        return min(max_delay, hinted)
    return min(max_delay, base_delay * (2 ** (attempt - 1))) * (0.5 + rand() / 2)


def with_retries(call, retry_on, attempts=8, base_delay=0.2, max_delay=5.0, sleep=time.sleep):
    """Run ``call()``; on an ``ApiException`` whose status is in ``retry_on``, retry with
    bounded backoff (:func:`backoff`). Returns ``(result, attempts_used)``."""
    for attempt in range(1, attempts + 1):
        try:
            return call(), attempt
        except ApiException as e:
            if getattr(e, "status", None) not in retry_on or attempt == attempts:
                raise
            sleep(backoff(attempt, e, base_delay, max_delay))
    raise AssertionError("unreachable")

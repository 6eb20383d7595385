# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading and writing Karpenter objects (NodePool, EC2NodeClass) on a cluster.

The only I/O of the ``nodepool`` module. The request pattern keeps traffic low:
one GET per object; a write only when an owned field differs (see
``compare``); a create, or a replace that carries the
``resourceVersion`` it read. Check mode sends the same write as a server-side
dry run (``dryRun=All``), so the API server and its admission chain validate it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

# _kube first: it has the kubernetes library load its generated classes on demand.
from ansible_collections.jit.karpenter.plugins.module_utils._kube import (
    TRANSIENT_STATUSES,
    api_error,
    transient,
    with_retries,
)
from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError

try:
    from kubernetes.client import CoreV1Api, CustomObjectsApi
    from kubernetes.client.exceptions import ApiException
except ImportError:  # reported by the module (AnsibleK8SModule checks for kubernetes)
    ApiException = Exception
from ansible_collections.jit.karpenter.plugins.module_utils._nodepool.compare import (
    differences,
    merge_managed,
)
from ansible_collections.jit.karpenter.plugins.module_utils._nodepool.fields import (
    APIS,
    FIELD_MANAGER,
    choose_api,
)
from ansible_collections.jit.karpenter.plugins.module_utils._nodepool.v1 import build_v1, nodeclass_name
from ansible_collections.jit.karpenter.plugins.module_utils._nodepool.v1alpha5 import build_v1alpha5

BUILDERS = {"v1": build_v1, "v1alpha5": build_v1alpha5}

# Admission webhooks that are not serving yet answer 500 (or 503) with one of these.
_WEBHOOK_MESSAGES = ("failed calling webhook", "no endpoints available")
_WEBHOOK_STATUSES = (500, 503)
_CONFLICT_ATTEMPTS = 3


def _webhook_unavailable(err):
    text = "{} {}".format(getattr(err, "reason", "") or "", getattr(err, "body", "") or "")
    return getattr(err, "status", None) in _WEBHOOK_STATUSES and any(m in text for m in _WEBHOOK_MESSAGES)


class _Objects:
    """Cluster-scoped custom objects of one API generation, with bounded webhook retries."""

    def __init__(self, client, api="v1", attempts=10, sleep=time.sleep):
        self.custom = CustomObjectsApi(client)
        self.core = CoreV1Api(client)
        self.api = APIS[api]
        self.attempts = attempts
        self.sleep = sleep

    def _call(self, action, fn, *args, **kwargs):
        """Run a request; retry while a webhook is unavailable and on 429 or a 5xx; other errors pass through."""

        def attempt():
            try:
                return fn(*args, **kwargs)
            except ApiException as e:
                if _webhook_unavailable(e) or transient(e):
                    raise
                raise _Passthrough(e)

        try:
            return with_retries(attempt, TRANSIENT_STATUSES, attempts=self.attempts, sleep=self.sleep)[0]
        except _Passthrough as e:
            raise e.err
        except ApiException as e:
            raise api_error(
                e,
                action
                + (
                    f" (webhook still unavailable after {self.attempts} attempts)"
                    if _webhook_unavailable(e)
                    else f" (still failing after {self.attempts} attempts)"
                ),
            )

    def served(self):
        """``(group, version, plural)`` of the Karpenter node pool kinds the cluster serves."""
        out = set()
        for api in APIS.values():
            group, version = api["nodepool"]["group"], api["nodepool"]["version"]
            try:
                resources = self.custom.get_api_resources(group, version)
            except ApiException as e:
                if e.status == 404:
                    continue
                raise api_error(e, f"discover {group}/{version}")
            for res in resources.resources or []:
                out.add((group, version, res.name))
        return out

    def _coords(self, which):
        res = self.api[which]
        return res["group"], res["version"], res["plural"]

    def get(self, which, name):
        kind = self.api[which]["kind"]
        try:
            return self._call(
                f"get {kind} {name}",
                self.custom.get_cluster_custom_object,
                *self._coords(which),
                name,
            )
        except ApiException as e:
            if e.status == 404:
                return None
            raise api_error(e, f"get {kind} {name}")

    def write(self, which, desired, current, check_mode):
        """Create ``desired`` or replace ``current``; return the object the server answered."""
        kind = desired["kind"]
        name = desired["metadata"]["name"]
        kwargs = {"field_manager": FIELD_MANAGER}
        # Strict field validation, where the client can ask for it (kubernetes 24.2, the minimum, cannot;
        # the server then applies its default, Warn).
        if "field_validation" in (self.custom.create_cluster_custom_object.__doc__ or "field_validation"):
            kwargs["field_validation"] = "Strict"
        if check_mode:
            kwargs["dry_run"] = "All"
        for attempt in range(1, _CONFLICT_ATTEMPTS + 1):
            try:
                if current is None:
                    action = f"create {kind} {name}"
                    return self._call(
                        action,
                        self.custom.create_cluster_custom_object,
                        *self._coords(which),
                        desired,
                        **kwargs,
                    )
                action = f"replace {kind} {name}"
                return self._call(
                    action,
                    self.custom.replace_cluster_custom_object,
                    *self._coords(which),
                    name,
                    merge_managed(current, desired),
                    **kwargs,
                )
            except ApiException as e:
                if e.status == 409 and attempt < _CONFLICT_ATTEMPTS:
                    # Someone else wrote in between (or created it): read again and retry.
                    current = self.get(which, name)
                    continue
                if e.status == 404 and current is None and check_mode:
                    # The CRDs are not installed yet (a check run before the first install, where
                    # the Helm step would install them): predict the object as it would be created.
                    return desired
                if e.status == 404 and current is None:
                    raise KarpenterError(
                        "{} failed: the {}/{} {} API is not served; install the Karpenter CRDs"
                        " (the karpenter-crd chart; before 0.32, the karpenter chart's crds/) first".format(
                            action,
                            self.api[which]["group"],
                            self.api[which]["version"],
                            kind,
                        ),
                        status=404,
                    )
                raise api_error(e, action)
        raise AssertionError("unreachable")

    def delete(self, which, name, check_mode):
        kind = self.api[which]["kind"]
        kwargs = {"dry_run": "All"} if check_mode else {}
        try:
            self._call(
                f"delete {kind} {name}",
                self.custom.delete_cluster_custom_object,
                *self._coords(which),
                name,
                **kwargs,
            )
        except ApiException as e:
            if e.status != 404:
                raise api_error(e, f"delete {kind} {name}")

    def list_names(self, which, label_selector):
        if which not in self.api:  # v1alpha5 has no NodeClaims
            return []
        kind = self.api[which]["kind"]
        try:
            items = self.custom.list_cluster_custom_object(*self._coords(which), label_selector=label_selector)["items"]
        except ApiException as e:
            if e.status == 404:  # the kind is not installed, so there are none
                return []
            raise api_error(e, f"list {kind}")
        return [i["metadata"]["name"] for i in items]

    def list_items(self, which):
        kind = self.api[which]["kind"]
        try:
            return self.custom.list_cluster_custom_object(*self._coords(which))["items"]
        except ApiException as e:
            if e.status == 404:
                return []
            raise api_error(e, f"list {kind}")

    def node_names(self, label_selector):
        try:
            return [n.metadata.name for n in self.core.list_node(label_selector=label_selector).items]
        except ApiException as e:
            raise api_error(e, "list Nodes")


class _Passthrough(Exception):
    def __init__(self, err):
        super().__init__(str(err))
        self.err = err


def _spec(obj):
    return None if obj is None else obj.get("spec")


def resolve_api(client, params):
    """The API generation for ``params['api']`` (``auto``: from the CRDs the cluster serves)."""
    requested = params.get("api") or "auto"
    served = _Objects(client).served() if requested == "auto" else set()
    return choose_api(requested, served)


def ensure_present(client, params, check_mode, api="v1", sleep=time.sleep):
    """Make the NodePool (and a managed EC2NodeClass) match ``params``.

    Returns ``(changed, state)``; ``state`` has ``nodepool``, ``nodeclass`` (the
    resulting, or in check mode predicted, objects), ``changed_fields`` and
    ``before``/``after`` specs for ``--diff``.
    """
    desired_pool, desired_class = BUILDERS[api](params)
    objects = _Objects(client, api, sleep=sleep)
    class_name = nodeclass_name(params)

    current_class = objects.get("nodeclass", class_name)
    current_pool = objects.get("nodepool", params["name"])

    # Writes needed, node class first so that the NodePool's reference resolves.
    pending = []
    changed_fields = {}
    for which, desired, current in (
        ("nodeclass", desired_class, current_class),
        ("nodepool", desired_pool, current_pool),
    ):
        if desired is None:
            continue
        if current is None:
            fields = ["(created)"]
        else:
            fields = differences(desired["kind"], desired["spec"], current.get("spec"))
        if fields:
            changed_fields[which] = fields
            pending.append((which, desired, current))

    # When both objects change, let the server validate the second one before the
    # first is written, so that an invalid input leaves nothing half-applied.
    if len(pending) > 1 and not check_mode:
        for which, desired, current in pending[1:]:
            objects.write(which, desired, current, check_mode=True)

    results = {"nodeclass": current_class, "nodepool": current_pool}
    for which, desired, current in pending:
        results[which] = objects.write(which, desired, current, check_mode)
    changed = bool(pending)
    result_pool, result_class = results["nodepool"], results["nodeclass"]

    state = {
        "nodepool": result_pool,
        "nodeclass": result_class,
        "changed_fields": changed_fields,
        "before": {"nodepool": _spec(current_pool), "nodeclass": _spec(current_class)},
        "after": {"nodepool": _spec(result_pool), "nodeclass": _spec(result_class)},
    }
    return changed, state


def _wait_gone(objects, name, class_name, deadline, sleep, wait_class):
    """Poll until the NodePool, its NodeClaims and Nodes (and the class) are gone."""
    selector = "{}={}".format(objects.api["node_label"], name)
    while True:
        remaining = {}
        if objects.get("nodepool", name) is not None:
            remaining["nodepool"] = [name]
        claims = objects.list_names("nodeclaim", selector)
        if claims:
            remaining["nodeclaims"] = claims
        nodes = objects.node_names(selector)
        if nodes:
            remaining["nodes"] = nodes
        if wait_class and objects.get("nodeclass", class_name) is not None:
            remaining["nodeclass"] = [class_name]
        if not remaining:
            return
        if time.time() >= deadline:
            raise KarpenterError(
                "Timed out waiting for NodePool {} to be removed; still present: {}".format(
                    name, ", ".join(f"{k} {v}" for k, v in sorted(remaining.items()))
                ),
                remaining=remaining,
            )
        sleep(2)


def _wait_reporting(changed, *args, **kwargs):
    """``_wait_gone``, but a timeout after a delete still reports ``changed``."""
    try:
        _wait_gone(*args, **kwargs)
    except KarpenterError as err:
        err.details["changed"] = changed
        raise


def _referenced_elsewhere(objects, name, class_name):
    """Other NodePools that still reference the node class."""
    users = []
    for pool in objects.list_items("nodepool"):
        if pool["metadata"]["name"] == name:
            continue
        spec = pool.get("spec") or {}
        ref = spec.get("providerRef") or ((spec.get("template") or {}).get("spec") or {}).get("nodeClassRef") or {}
        if ref.get("name") == class_name and ref.get("kind") == objects.api["nodeclass"]["kind"]:
            users.append(pool["metadata"]["name"])
    return users


def ensure_absent(client, params, check_mode, api="v1", sleep=time.sleep):
    """Delete the NodePool and, when managed, its EC2NodeClass.

    With ``wait``, wait (at most ``wait_timeout`` seconds) until no NodeClaims or
    Nodes labelled ``karpenter.sh/nodepool=<name>`` (v1alpha5: Nodes labelled
    ``karpenter.sh/provisioner-name=<name>``) remain before deleting the
    node class, and until both objects are gone.
    """
    objects = _Objects(client, api, sleep=sleep)
    name = params["name"]
    class_name = nodeclass_name(params)
    manage = (params.get("nodeclass") or {}).get("manage", True)
    wait = params.get("wait") and not check_mode
    deadline = time.time() + (params.get("wait_timeout") or 0)

    current_pool = objects.get("nodepool", name)
    current_class = objects.get("nodeclass", class_name) if manage else None
    changed = False
    kept_class_for = []

    if current_pool is not None and not current_pool["metadata"].get("deletionTimestamp"):
        objects.delete("nodepool", name, check_mode)
        changed = True
    if wait:
        _wait_reporting(changed, objects, name, class_name, deadline, sleep, wait_class=False)

    if current_class is not None and not current_class["metadata"].get("deletionTimestamp"):
        kept_class_for = _referenced_elsewhere(objects, name, class_name)
        if not kept_class_for:
            objects.delete("nodeclass", class_name, check_mode)
            changed = True
    if wait and manage and not kept_class_for:
        _wait_reporting(changed, objects, name, class_name, deadline, sleep, wait_class=True)

    # A node class still used by another NodePool is kept (and reported).
    after_class = current_class if kept_class_for else None
    state = {
        "nodepool": None,
        "nodeclass": after_class,
        "nodeclass_kept_for": kept_class_for,
        "before": {"nodepool": _spec(current_pool), "nodeclass": _spec(current_class)},
        "after": {"nodepool": None, "nodeclass": _spec(after_class)},
    }
    return changed, state


def run(clients, params, check_mode=False, region=None):
    """The ``nodepool`` module's entry point (see ``_runner``): the objects of ``params`` present or absent."""
    client = clients.kube()
    api = resolve_api(client, params)
    ensure = ensure_present if params["state"] == "present" else ensure_absent
    changed, state = ensure(client, params, check_mode, api=api)
    state["api"] = api
    before, after = state.pop("before"), state.pop("after")
    return dict(state, changed=changed, diff={"before": before, "after": after})

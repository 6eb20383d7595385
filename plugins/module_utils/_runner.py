# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tail every module's ``main()`` shares.

Each module's ``main()`` is: its argument spec, its module class
(``AnsibleAWSModule`` or kubernetes.core's ``AnsibleK8SModule``), then
:func:`run_module` with the module's entry point.

The Kubernetes-only modules use ``AnsibleK8SModule`` from kubernetes.core's
``module_utils.k8s.core`` (``module_utils.ansiblemodule`` only re-exports
``AnsibleModule``, or cloud.common's turbo module): it fails when the kubernetes
library (or PyYAML, where asked) is missing, with ``missing_required_lib``'s
message, and otherwise proxies ``params``, ``check_mode``, ``_diff``, ``warn``,
``exit_json`` and ``fail_json`` to ``AnsibleModule``. The modules that need AWS
too stay on ``AnsibleAWSModule`` and call ``kube.require_kubernetes``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError, fail_from


def run_module(module, entry):
    """Call ``entry(module)`` and end the module with its result.

    ``entry`` returns the module's result as a dict: its return values and ``changed``, plus,
    optionally, ``diff`` (returned only when the task runs with ``--diff``) and ``warnings``
    (strings emitted through ``module.warn``, not returned as such). A :class:`KarpenterError`
    raised by ``entry`` becomes ``fail_json`` with the error's message, its details and the
    traceback (shown at ``-vvv``). Other exceptions are left to Ansible, which reports them
    with their traceback.
    """
    try:
        result = dict(entry(module))
    except KarpenterError as err:
        fail_from(module, err)
        return None  # fail_json exits; this line runs only with a module that does not
    for warning in result.pop("warnings", None) or ():
        module.warn(warning)
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)
    return None


def eks_resource_argument_spec(options):
    """The argument spec of a module for one resource of an EKS cluster (an access entry, a Pod
    Identity association): ``cluster_name``, the module's own ``options``, then ``tags`` (alias
    ``resource_tags``), ``purge_tags`` and ``state``, as amazon.aws's modules name them."""
    spec = {"cluster_name": {"type": "str", "required": True}}
    spec.update(options)
    spec.update(
        tags={"type": "dict", "aliases": ["resource_tags"]},
        purge_tags={"type": "bool", "default": True},
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
    )
    return spec


def eks_entry(run):
    """The module's entry point for a util whose own is ``run(eks, params, check_mode=..., region=...)``."""

    def entry(module):
        return run(module.client("eks"), module.params, check_mode=module.check_mode, region=module.region)

    return entry

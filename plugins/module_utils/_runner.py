"""The tail every module's ``main()`` shares, and the one entry point every util exposes.

Each module's ``main()`` is its argument spec, then :func:`run_module` with its module class
(``AnsibleAWSModule`` or kubernetes.core's ``AnsibleK8SModule``) and ``run`` from the module's
own private util: module ``X`` imports ``run`` from ``module_utils/_X`` (or the package ``_X``). Every such ``run`` has one
signature::

    run(clients, params, check_mode=False, region=None) -> dict

``clients`` is a :class:`Clients`: ``clients.aws("eks")`` is a boto3 client (with the
module's AWS options, retries in the util's own calls), ``clients.kube()`` a
``kubernetes.client.ApiClient`` and ``clients.kube_dynamic()`` kubernetes.core's client, both
built from the module's Kubernetes connection options, and ``clients.helm(args)`` runs the helm
binary with them (a module on kubernetes.core's ``AnsibleHelmModule``). The result is the module's return
values and ``changed``, plus, optionally, ``diff`` and ``warnings``.

The Kubernetes-only modules use ``AnsibleK8SModule`` from kubernetes.core's
``module_utils.k8s.core`` (``module_utils.ansiblemodule`` only re-exports
``AnsibleModule``, or cloud.common's turbo module): it fails when the kubernetes
library (or PyYAML, where asked) is missing, with ``missing_required_lib``'s
message, and otherwise proxies ``params``, ``check_mode``, ``_diff``, ``warn``,
``exit_json`` and ``fail_json`` to ``AnsibleModule``. The modules that need AWS
too stay on ``AnsibleAWSModule`` and pass ``kubernetes=True``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shlex

from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError, fail_from


class Clients(object):
    """What a util's ``run`` talks to, made on first use from the module's options: AWS clients
    by service name, and the Kubernetes API client (one per module run)."""

    def __init__(self, module):
        self._module = module
        self._kube = None
        self._aws = {}
        self._aws_sessions = {}

    def aws(self, service):
        """The boto3 client of ``service`` (region, endpoint, credentials as ``AnsibleAWSModule.client``
        takes them), one per service, all from one boto3 session (``_aws.aws_client``)."""
        client = self._aws.get(service)
        if client is None:
            from ansible_collections.jit.karpenter.plugins.module_utils._aws import aws_client

            client = self._aws[service] = aws_client(self._module, service, self._aws_sessions)
        return client

    def kube_dynamic(self):
        """kubernetes.core's ``K8SClient`` (discovery of kinds, ``get``)."""
        if self._kube is None:
            from ansible_collections.jit.karpenter.plugins.module_utils._kube import dynamic_client

            self._kube = dynamic_client(self._module.params)
        return self._kube

    def kube(self):
        """A ``kubernetes.client.ApiClient``."""
        return self.kube_dynamic().client.client

    def helm(self, args):
        """``(rc, stdout, stderr)`` of the helm binary run with ``args``, with the module's Kubernetes
        connection (kubernetes.core's ``AnsibleHelmModule``: kubeconfig, host, token and CA in helm's
        environment)."""
        command = [self._module.get_helm_binary()] + list(args)
        return self._module.run_helm_command(" ".join(shlex.quote(a) for a in command), fails_on_error=False)


def run_module(module_class, argument_spec, run, kubernetes=False, **kwargs):
    """A module's ``main()``: its module class made with ``argument_spec`` and check mode (every module
    supports it), then :func:`finish` with the module's ``run``.

    ``kwargs`` go to the module class (``required_if``, ``mutually_exclusive``, ...). ``kubernetes``: the
    module talks to Kubernetes from ``AnsibleAWSModule``, so the kubernetes library is checked here
    (``AnsibleK8SModule`` checks it itself).
    """
    module = module_class(argument_spec=argument_spec, supports_check_mode=True, **kwargs)
    if kubernetes:
        from ansible_collections.jit.karpenter.plugins.module_utils._kube import require_kubernetes

        require_kubernetes(module)
    return finish(module, run)


def finish(module, run):
    """Call the util's ``run(clients, params, check_mode=..., region=...)`` and end the module with
    its result.

    ``run`` returns the module's result as a dict: its return values and ``changed``, plus,
    optionally, ``diff`` (returned only when the task runs with ``--diff``) and ``warnings``
    (strings emitted through ``module.warn``, not returned as such). A :class:`KarpenterError`
    raised by ``run`` becomes ``fail_json`` with the error's message, its details and the
    traceback (shown at ``-vvv``). Other exceptions are left to Ansible, which reports them
    with their traceback.
    """
    try:
        result = dict(
            run(Clients(module), module.params, check_mode=module.check_mode, region=getattr(module, "region", None))
        )
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


def aws_and_kube_argument_spec(options):
    """The argument spec of a module that talks to AWS and Kubernetes alike (on ``AnsibleAWSModule``,
    which adds the AWS options): kubernetes.core's connection options, one ``validate_certs`` for
    both APIs (amazon.aws's default, kubernetes.core's alias ``verify_ssl``, as the merged docs
    say), then the module's own ``options``."""
    from ansible_collections.jit.karpenter.plugins.module_utils._kube import kube_argument_spec

    spec = kube_argument_spec()
    spec["validate_certs"] = {"type": "bool", "default": True, "aliases": ["verify_ssl"]}
    spec.update(options)
    return spec

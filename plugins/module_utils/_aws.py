# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWS plumbing: the one way every AWS call of the collection is made (:func:`aws_call`, with
amazon.aws's retries and error handling), and what the modules share about AWS errors and tags."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    import boto3
    import botocore.config
    import botocore.exceptions
except ImportError:  # handled by AnsibleAWSModule
    pass

from ansible.module_utils.ansible_release import __version__ as ansible_version
from ansible_collections.amazon.aws.plugins.module_utils.botocore import get_aws_connection_info
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags
from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError

# Throttling and service-side failures (AWSRetry's codes: RequestLimitExceeded, Throttling,
# TooManyRequestsException, ServiceUnavailable, Unavailable, InternalFailure, InternalError) are
# retried with jittered backoff, as amazon.aws's own modules do (module_utils/iam.py).
RETRIES = 8
RETRY_DELAY = 1.0
RETRY_MAX_DELAY = 20.0


class _Missing:
    """What :func:`aws_call` returns when the error code says the resource is not there."""

    def __repr__(self):
        return "MISSING"


MISSING = _Missing()


def error_code(err):
    """The AWS error code of a botocore ``ClientError`` (None for other errors)."""
    return ((getattr(err, "response", None) or {}).get("Error") or {}).get("Code")


def aws_error(err, action):
    """Turn a botocore error into the collection's error, naming the action."""
    return KarpenterError("{0} failed: {1}".format(action, err), error_code=error_code(err))


def _is_missing(code, missing):
    if callable(missing):
        return missing(code)
    return code in missing


def aws_call(action, fn, missing=(), **kwargs):
    """``fn(**kwargs)`` through amazon.aws's retry decorator and error handler.

    Throttling and AWS-side failures are retried (``AWSRetry.jittered_backoff``); an error
    whose code is in ``missing`` (for example ``NoSuchEntity``), or for which ``missing(code)``
    is true when it is a function, returns :data:`MISSING`; any other ``ClientError`` or
    ``BotoCoreError`` (a connection error, say) becomes the collection's error, naming ``action``.
    """
    retrying = AWSRetry.jittered_backoff(retries=RETRIES, delay=RETRY_DELAY, max_delay=RETRY_MAX_DELAY)(fn)

    @AWSErrorHandler.common_error_handler(action)
    def call():
        try:
            return retrying(**kwargs)
        except botocore.exceptions.ClientError as e:
            if missing and _is_missing(error_code(e), missing):
                return MISSING
            raise

    try:
        return call()
    except AnsibleAWSError as e:
        raise aws_error(e.exception, action) from e


def _user_agent():
    try:
        from ansible_collections.amazon.aws.plugins.module_utils.botocore import _get_user_agent_string

        return _get_user_agent_string()
    except Exception:  # a private helper of amazon.aws: its user agent when it has it, else the core of it
        return "APN/1.0 Ansible/{0}".format(ansible_version)


def aws_client(module, service, sessions):
    """A boto3 client of ``service`` made with the module's connection options, as
    ``AnsibleAWSModule.client`` makes it (amazon.aws's ``get_aws_connection_info``: region, endpoint,
    credentials, profile, ``aws_config``, certificate checks; amazon.aws's user agent), but from the
    one boto3 session per profile kept in ``sessions`` (a dict, one per module run): a session loads
    botocore's endpoint data and each service's model once, where a session per client, as
    ``AnsibleAWSModule.client`` makes, loads them again for each."""
    region, endpoint, params = get_aws_connection_info(module)
    params = dict(params)
    profile = params.pop("profile_name", None)
    config = botocore.config.Config(user_agent=_user_agent())
    for key in ("config", "aws_config"):
        extra = params.pop(key, None)
        if extra:
            config = config.merge(
                extra if isinstance(extra, botocore.config.Config) else botocore.config.Config(**extra)
            )
    try:
        session = sessions.get(profile)
        if session is None:
            session = sessions[profile] = boto3.session.Session(profile_name=profile)
        return session.client(service, config=config, region_name=region, endpoint_url=endpoint, **params)
    except botocore.exceptions.NoRegionError:
        module.fail_json(
            msg="The {0} module requires a region and none was found in configuration, environment variables "
            "or module parameters".format(module._name)
        )
    except (ValueError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Couldn't connect to AWS")


def plan_tags(current_tags, desired_tags, purge_tags):
    """``(to_set, to_unset)`` for a resource's tags; nothing to change when ``desired_tags`` is None."""
    if desired_tags is None:
        return {}, []
    to_set, to_unset = compare_aws_tags(current_tags, desired_tags, purge_tags)
    return to_set, sorted(to_unset)

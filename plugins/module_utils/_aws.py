# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWS plumbing: the one way every AWS call of the collection is made (:func:`aws_call`, with
amazon.aws's retries and error handling), and what the modules share about AWS errors and tags."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    import botocore.exceptions
except ImportError:  # handled by AnsibleAWSModule
    pass

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


def plan_tags(current_tags, desired_tags, purge_tags):
    """``(to_set, to_unset)`` for a resource's tags; nothing to change when ``desired_tags`` is None."""
    if desired_tags is None:
        return {}, []
    to_set, to_unset = compare_aws_tags(current_tags, desired_tags, purge_tags)
    return to_set, sorted(to_unset)

# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which Kubernetes errors are retried, and how long the module waits (pure; no client)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible_collections.jit.karpenter.plugins.module_utils import _kube as kube
from kubernetes.client.exceptions import ApiException


def _err(status, retry_after=None):
    err = ApiException(status=status, reason="x")
    err.headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return err


@pytest.mark.parametrize(
    ("status", "retried"),
    [
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (504, True),
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (409, False),
        (422, False),
    ],
)
def test_transient_is_429_and_5xx(status, retried):
    assert kube.transient(_err(status)) is retried


def test_backoff_honours_retry_after_within_the_cap():
    assert kube.backoff(1, _err(429, "2")) == 2.0
    assert kube.backoff(1, _err(429, "60"), max_delay=5.0) == 5.0
    assert kube.backoff(3, _err(503, "soon"), base_delay=0.2, rand=lambda: 1.0) == pytest.approx(0.8)


def test_backoff_grows_and_is_capped():
    delays = [kube.backoff(n, None, base_delay=0.2, max_delay=1.0, rand=lambda: 1.0) for n in range(1, 6)]
    assert delays == pytest.approx([0.2, 0.4, 0.8, 1.0, 1.0])


def _flaky(statuses, result="done"):
    calls = []

    def call():
        calls.append(1)
        if len(calls) <= len(statuses):
            raise _err(statuses[len(calls) - 1])
        return result

    return call, calls


def test_with_retries_retries_transient_then_succeeds():
    call, calls = _flaky([429, 503, 500])
    slept = []
    assert kube.with_retries(call, (409,) + kube.TRANSIENT_STATUSES, attempts=5, sleep=slept.append) == ("done", 4)
    assert len(slept) == 3


def test_with_retries_passes_other_errors_through_at_once():
    call, calls = _flaky([422])
    with pytest.raises(ApiException) as err:
        kube.with_retries(call, kube.TRANSIENT_STATUSES, attempts=5, sleep=lambda s: None)
    assert err.value.status == 422 and len(calls) == 1


def test_with_retries_gives_up_after_the_last_attempt():
    call, calls = _flaky([503] * 10)
    with pytest.raises(ApiException):
        kube.with_retries(call, kube.TRANSIENT_STATUSES, attempts=3, sleep=lambda s: None)
    assert len(calls) == 3

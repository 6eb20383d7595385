# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible_collections.jit.karpenter.plugins.module_utils import _eks_pod_identity_association as pi
from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError

ROLE_A = "arn:aws:iam::123456789012:role/KarpenterController-demo"
ROLE_B = "arn:aws:iam::123456789012:role/other/KarpenterController-demo"


def params(**kw):
    base = {"namespace": "kube-system", "service_account": "karpenter", "role_arn": ROLE_A, "tags": None}
    base.update(kw)
    return base


def current(**kw):
    assoc = pi.normalize(
        {
            "clusterName": "demo",
            "namespace": "kube-system",
            "serviceAccount": "karpenter",
            "roleArn": ROLE_A,
            "associationArn": "arn:aws:eks:us-east-1:123456789012:podidentityassociation/demo/a-1",
            "associationId": "a-1",
            "tags": {"a": "1"},
        }
    )
    assoc.update(kw)
    return assoc


@pytest.mark.parametrize(
    "kw, option",
    [
        ({"namespace": "Kube_System"}, "namespace"),
        ({"namespace": ""}, "namespace"),
        ({"namespace": "a" * 64}, "namespace"),
        ({"service_account": "Karpenter"}, "service_account"),
        ({"role_arn": "arn:aws:iam::123456789012:user/alice"}, "role_arn"),
        ({"role_arn": "KarpenterController"}, "role_arn"),
        ({"role_arn": None}, "role_arn"),
    ],
)
def test_validation_names_the_option(kw, option):
    with pytest.raises(KarpenterError) as err:
        pi.validate(params(**kw))
    assert err.value.msg.startswith(option)


def test_absent_needs_no_role():
    assert pi.validate(params(role_arn=None), state="absent")["role_arn"] is None


def test_dotted_service_account_is_valid():
    assert pi.validate(params(service_account="my.sa-1"))["service_account"] == "my.sa-1"


def test_plan_create_and_predict():
    desired = pi.validate(params(tags={"t": "1"}))
    changes = pi.plan(None, desired)
    assert changes["create"]
    after = pi.predict("demo", None, desired, changes)
    assert after["association_id"] is None
    assert after["role_arn"] == ROLE_A and after["tags"] == {"t": "1"}


def test_plan_same_is_empty():
    assert pi.plan_is_empty(pi.plan(current(), pi.validate(params())))
    assert pi.plan_is_empty(pi.plan(current(), pi.validate(params(tags={"a": "1"}))))


def test_plan_role_change_and_tags():
    desired = pi.validate(params(role_arn=ROLE_B, tags={"b": "2"}))
    before = current()
    changes = pi.plan(before, desired)
    assert changes["role_arn"] == ROLE_B
    assert changes["tag"] == {"b": "2"} and changes["untag"] == ["a"]
    after = pi.predict("demo", before, desired, changes)
    assert after["role_arn"] == ROLE_B and after["tags"] == {"b": "2"}
    assert after["association_id"] == "a-1"
    assert before["role_arn"] == ROLE_A


def test_plan_without_purge_keeps_tags():
    changes = pi.plan(current(), pi.validate(params(tags={"b": "2"})), purge_tags=False)
    assert changes["untag"] == [] and changes["tag"] == {"b": "2"}

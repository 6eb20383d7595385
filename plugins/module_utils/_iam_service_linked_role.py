# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An AWS service-linked role, made sure to exist (for Spot: AWSServiceRoleForEC2Spot, spot.amazonaws.com).

A service-linked role lives under the path ``/aws-service-role/<service>/``, so it is found by that path
whatever its name. Karpenter's getting-started guide creates the Spot one by hand
(``aws iam create-service-linked-role --aws-service-name spot.amazonaws.com``) because launching Spot
capacity with CreateFleet needs it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.jit.karpenter.plugins.module_utils._aws import aws_call
from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError

SERVICE_NAME = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)*\.amazonaws\.com(\.cn)?$")
# Names AWS gives the roles this collection creates (for check mode's prediction).
KNOWN_NAMES = {"spot.amazonaws.com": "AWSServiceRoleForEC2Spot"}


def role_path(service_name):
    return "/aws-service-role/{0}/".format(service_name)


def check_service_name(service_name):
    if not SERVICE_NAME.match(service_name or ""):
        raise KarpenterError(
            "aws_service_name: {0!r} is not a service principal such as spot.amazonaws.com".format(service_name)
        )


def find(iam, service_name):
    """The service-linked role of ``service_name`` (a ListRoles entry), or None."""
    kwargs = {"PathPrefix": role_path(service_name)}
    while True:
        page = aws_call("Listing the roles of " + role_path(service_name), iam.list_roles, **kwargs)
        for role in page.get("Roles") or []:
            if role.get("Path") == role_path(service_name):
                return role
        if not page.get("IsTruncated"):
            return None
        kwargs["Marker"] = page["Marker"]


def summary(role):
    return {"name": role["RoleName"], "arn": role["Arn"], "path": role["Path"]}


def ensure_present(iam, service_name, description=None, check_mode=False):
    """``(changed, role)``: the role, created when missing (predicted in check mode)."""
    check_service_name(service_name)
    role = find(iam, service_name)
    if role is not None:
        return False, summary(role)
    if check_mode:
        return True, {"name": KNOWN_NAMES.get(service_name), "arn": None, "path": role_path(service_name)}
    kwargs = {"AWSServiceName": service_name}
    if description:
        kwargs["Description"] = description
    created = aws_call("Creating the service-linked role of " + service_name, iam.create_service_linked_role, **kwargs)[
        "Role"
    ]
    return True, summary(created)


def run(clients, params, check_mode=False, region=None):
    """The ``iam_service_linked_role`` module's entry point (see ``_runner``)."""
    changed, role = ensure_present(
        clients.aws("iam"), params["aws_service_name"], params["description"], check_mode=check_mode
    )
    return {"changed": changed, "service_linked_role": role, "diff": {"before": {} if changed else role, "after": role}}

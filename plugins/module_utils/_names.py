# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The names the collection checks, each checked in one place: AWS ARNs and account IDs, and
Kubernetes object names.

ARNs follow AWS's documented format (IAM user guide, "IAM identifiers"; "Amazon Resource Names"):
``arn:<partition>:<service>:<region>:<account-id>:<resource>``, where the partition is ``aws``,
``aws-cn``, ``aws-us-gov`` or another ``aws-...`` partition (``aws-iso``, ``aws-iso-b``, ...), the
region is empty for global services (IAM, STS's ARNs of principals, EKS's access policies), and the
resource may hold ``/`` and ``:`` (``role/some/path/Name``). The account is 12 digits, except where
AWS owns the resource (``arn:aws:eks::aws:cluster-access-policy/...``).

IAM role names are 1 to 64 characters of letters, digits and ``+=,.@_-`` (IAM API reference, CreateRole's
``RoleName``); CloudFormation stack names start with a letter and hold up to 128 letters, digits and ``-``
(CloudFormation API reference, CreateStack's ``StackName``).

Kubernetes names follow the API machinery's validation (``k8s.io/apimachinery`` ``IsDNS1123Label``,
``IsDNS1123Subdomain``): namespaces are DNS-1123 labels, most other objects (service accounts among
them) DNS-1123 subdomains.

The checks here return a value or ``None``; the callers raise the collection's error, naming the
option and the bad input as their module documents it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from collections import namedtuple

_ARN = re.compile(
    r"^arn:(?P<partition>[^:]*):(?P<service>[^:]*):(?P<region>[^:]*):(?P<account>[^:]*):(?P<resource>.*)$"
)
_PARTITION = re.compile(r"^aws(-[a-z]+)*$")
_ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
_IAM_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}\Z", re.ASCII)
_STACK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}\Z")
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN_MAX = 253

Arn = namedtuple("Arn", ["partition", "service", "region", "account", "resource"])
IamArn = namedtuple("IamArn", ["partition", "service", "account", "kind", "path", "name"])


def parse_arn(value):
    """The six fields of an ARN as an :class:`Arn`, or ``None`` when ``value`` is not one.

    Only the shape is checked (``arn:`` and five fields); see :func:`is_partition` and
    :func:`is_account_id` for the fields' values.
    """
    match = _ARN.match(value) if isinstance(value, str) else None
    return Arn(**match.groupdict()) if match else None


def is_partition(value):
    """Whether ``value`` names an AWS partition (``aws``, ``aws-cn``, ``aws-us-gov``, ``aws-iso-b``, ...)."""
    return isinstance(value, str) and bool(_PARTITION.match(value))


def is_account_id(value):
    """Whether ``value`` is an AWS account ID: a string of 12 digits."""
    return isinstance(value, str) and bool(_ACCOUNT_ID.match(value))


def parse_iam_arn(value, kinds, services=("iam",)):
    """An :class:`IamArn` for the ARN of an IAM (or STS) principal or resource, or ``None``.

    ``value`` must be ``arn:<partition>:<service>::<12 digits>:<kind>/<path.../>name`` with a
    known partition, ``service`` in ``services``, no region, and ``kind`` in ``kinds``
    (``role``, ``user``, ``oidc-provider``, ``assumed-role``, ...). ``path`` is the list of the
    parts between the kind and the last ``/`` (a role's or user's IAM path), ``name`` the last part.
    """
    arn = parse_arn(value)
    if arn is None or not is_partition(arn.partition) or arn.service not in services or arn.region:
        return None
    if not is_account_id(arn.account):
        return None
    kind, sep, rest = arn.resource.partition("/")
    if kind not in kinds or not sep or not rest:
        return None
    parts = rest.split("/")
    return IamArn(arn.partition, arn.service, arn.account, kind, parts[:-1], parts[-1])


def is_iam_role_name(value):
    """Whether ``value`` is an IAM role name: 1 to 64 letters, digits and ``+=,.@_-``."""
    return isinstance(value, str) and bool(_IAM_ROLE_NAME.match(value))


def is_stack_name(value):
    """Whether ``value`` is a CloudFormation stack name: a letter, then up to 127 letters, digits and ``-``."""
    return isinstance(value, str) and bool(_STACK_NAME.match(value))


def is_dns1123_label(value):
    """Whether ``value`` is a DNS-1123 label (a namespace's name): at most 63 lower-case letters,
    digits and ``-``, starting and ending with a letter or digit."""
    return isinstance(value, str) and len(value) <= DNS1123_LABEL_MAX and bool(_DNS1123_LABEL.match(value))


def is_dns1123_subdomain(value):
    """Whether ``value`` is a DNS-1123 subdomain (a service account's name, among others): labels
    joined by ``.``, at most 253 characters."""
    return isinstance(value, str) and len(value) <= DNS1123_SUBDOMAIN_MAX and bool(_DNS1123_SUBDOMAIN.match(value))

"""Resolve a CloudFormation template the way the role and CloudFormation together would.

Pure and small on purpose: it knows the handful of intrinsic functions the collection's templates
use (``Ref``, ``Fn::Sub``, ``Fn::GetAtt``, ``Fn::Join``) and the attributes of the resource types
they declare. It is a test helper, not a CloudFormation implementation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

_SUB_VAR = re.compile(r"\$\{([^}!][^}]*)\}")


_INTRINSICS = {"Ref", "Fn::Sub", "Fn::GetAtt", "Fn::Join"}


def load(text: str) -> dict:
    """Parse template text; intrinsics stay in their long form, e.g. ``{"Fn::Sub": "..."}``."""
    return yaml.safe_load(text)


def prerender(text: str, cluster_name: str) -> str:
    """What the role does before upload: resolve ${ClusterName}, which may sit in mapping keys."""
    return text.replace("${ClusterName}", cluster_name)


@dataclass
class Context:
    cluster_name: str
    account_id: str = "123456789012"
    partition: str = "aws"
    region: str = "us-east-1"
    url_suffix: str = "amazonaws.com"
    stack_name: str = ""
    resources: dict = field(default_factory=dict)

    def pseudo(self) -> dict:
        return {
            "AWS::AccountId": self.account_id,
            "AWS::Partition": self.partition,
            "AWS::Region": self.region,
            "AWS::URLSuffix": self.url_suffix,
            "AWS::StackName": self.stack_name or f"Karpenter-{self.cluster_name}",
            "ClusterName": self.cluster_name,
        }

    def ref(self, name: str) -> str:
        pseudo = self.pseudo()
        if name in pseudo:
            return pseudo[name]
        resource = self.resources[name]
        props = resource.get("Properties", {})
        kind = resource["Type"]
        if kind == "AWS::IAM::Role":
            return self.resolve(props["RoleName"])
        if kind == "AWS::IAM::InstanceProfile":
            return self.resolve(props["InstanceProfileName"])
        if kind == "AWS::IAM::ManagedPolicy":
            path = props.get("Path", "/")
            return f"arn:{self.partition}:iam::{self.account_id}:policy{path}{self.resolve(props['ManagedPolicyName'])}"
        if kind == "AWS::SQS::Queue":
            queue = self.resolve(props["QueueName"])
            return f"https://sqs.{self.region}.{self.url_suffix}/{self.account_id}/{queue}"
        raise KeyError(f"no Ref rule for {kind}")

    def get_att(self, name: str, attribute: str) -> str:
        resource = self.resources[name]
        props = resource.get("Properties", {})
        kind = resource["Type"]
        if (kind, attribute) == ("AWS::IAM::Role", "Arn"):
            path = props.get("Path", "/")
            return f"arn:{self.partition}:iam::{self.account_id}:role{path}{self.resolve(props['RoleName'])}"
        if (kind, attribute) == ("AWS::SQS::Queue", "Arn"):
            return f"arn:{self.partition}:sqs:{self.region}:{self.account_id}:{self.resolve(props['QueueName'])}"
        if (kind, attribute) == ("AWS::SQS::Queue", "QueueName"):
            return self.resolve(props["QueueName"])
        raise KeyError(f"no GetAtt rule for {kind}.{attribute}")

    def _sub(self, template: str) -> str:
        def replace(match):
            name = match.group(1)
            if "." in name and not name.startswith("AWS::"):
                return self.get_att(*name.split(".", 1))
            return self.ref(name)

        return _SUB_VAR.sub(replace, template)

    def resolve(self, value):
        """Resolve intrinsics in `value` recursively; plain strings are left alone."""
        if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _INTRINSICS:
            ((name, arg),) = value.items()
            if name == "Fn::Sub":
                return self._sub(arg)
            if name == "Ref":
                return self.ref(arg)
            if name == "Fn::GetAtt":
                return self.get_att(*arg)
            sep, items = arg
            return sep.join(self.resolve(item) for item in items)
        if isinstance(value, dict):
            return {self.resolve(k): self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        return value


def render(text: str, context: Context) -> dict:
    """Pre-render as the role does, parse, and resolve every intrinsic."""
    template = load(prerender(text, context.cluster_name))
    context.resources = template["Resources"]
    return context.resolve(template)

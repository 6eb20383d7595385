"""UpdateStack keeps the region's exports in step with the stack's outputs, as CloudFormation does.

The user's path this covers: a stack upgraded to a template with one more exported output (Karpenter 1.9's
stack to 1.14's adds ZonalShiftPolicyArn), then deleted, then created again.
"""

import json

import pytest
from botocore.exceptions import ClientError


def _template(unique, queues):
    return json.dumps(
        {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Resources": {
                q: {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": f"{q.lower()}-{unique}"}} for q in queues
            },
            "Outputs": {
                q + "Arn": {"Value": {"Fn::GetAtt": [q, "Arn"]}, "Export": {"Name": f"{unique}-{q}Arn"}} for q in queues
            },
        }
    )


def _exports(cfn, unique):
    return sorted(e["Name"] for e in cfn.list_exports()["Exports"] if e["Name"].startswith(unique))


def test_update_registers_new_exports_and_delete_removes_them(emulator, unique):
    cfn = emulator.client("cloudformation")
    name = "exports-" + unique
    cfn.create_stack(StackName=name, TemplateBody=_template(unique, ["One"]))
    assert _exports(cfn, unique) == [f"{unique}-OneArn"]

    cfn.update_stack(StackName=name, TemplateBody=_template(unique, ["One", "Two"]))
    assert _exports(cfn, unique) == [f"{unique}-OneArn", f"{unique}-TwoArn"]

    cfn.update_stack(StackName=name, TemplateBody=_template(unique, ["Two"]))
    assert _exports(cfn, unique) == [f"{unique}-TwoArn"]

    cfn.delete_stack(StackName=name)
    assert _exports(cfn, unique) == []
    cfn.create_stack(StackName=name, TemplateBody=_template(unique, ["One", "Two"]))
    assert _exports(cfn, unique) == [f"{unique}-OneArn", f"{unique}-TwoArn"]
    cfn.delete_stack(StackName=name)


def test_update_to_an_export_another_stack_holds_is_refused(emulator, unique):
    cfn = emulator.client("cloudformation")
    cfn.create_stack(StackName="holder-" + unique, TemplateBody=_template(unique, ["Two"]))
    cfn.create_stack(StackName="other-" + unique, TemplateBody=_template(unique + "x", ["One"]))
    # Export the name the first stack holds.
    body = json.loads(_template(unique + "x", ["One"]))
    body["Outputs"]["OneArn"]["Export"]["Name"] = f"{unique}-TwoArn"
    with pytest.raises(ClientError, match="Export names must be unique"):
        cfn.update_stack(StackName="other-" + unique, TemplateBody=json.dumps(body))
    assert _exports(cfn, unique) == [f"{unique}-TwoArn"]

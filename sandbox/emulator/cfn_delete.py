"""DeleteStack deletes a stack's IAM managed policies, as CloudFormation does.

moto 5.2.5 has no delete handler for ``AWS::IAM::ManagedPolicy``: DeleteStack leaves every
managed policy of the stack behind, and a role of the stack that one of them is attached to
fails to delete (``DeleteConflict``), which moto turns into an error of DeleteStack itself
after it has already dropped the stack. A stack created again with the same policy names then
fails with ``EntityAlreadyExists``.

CloudFormation deletes a stack's resources in reverse dependency order; deleting an
``AWS::IAM::ManagedPolicy`` detaches it from the ``Roles``, ``Groups`` and ``Users`` its
template names, deletes its non-default versions, then deletes it. A policy still attached to
an entity outside the stack cannot be deleted (``DeleteConflict``): the stack goes to
``DELETE_FAILED`` and stays, with the resources that could not be deleted. DeleteStack on a
``DELETE_FAILED`` stack tries again.

Here:

* a managed policy a stack creates remembers the roles, groups and users it was attached to
  from the template; deleting the resource detaches those, then deletes the policy, or raises
  ``DeleteConflict`` when something else still holds it;
* a failed deletion leaves the stack listed, in ``DELETE_FAILED`` with a
  ``DELETE_FAILED`` event giving the reason, instead of dropping it; DeleteStack retries it;
* UpdateStack updates a managed policy in place, as CloudFormation does when its name stays: a new
  default version holds the new document (the oldest other version goes at IAM's five), and the
  template's roles, groups and users are attached or detached to match. moto 5.2.5 implements no
  update for ``AWS::IAM::ManagedPolicy``: the policy kept its old document, the stack forgot it, and
  DeleteStack then left it behind (``DELETE_FAILED``), which hid an upgrade followed by a teardown.
  A new name replaces the policy.
"""

import functools

_CFN_ATTACHMENTS = "_sandbox_cfn_attachments"


def _delete_policy_resource(policy, account_id, region_name):
    from moto.iam.exceptions import DeleteConflictException
    from moto.iam.models import iam_backends
    from moto.utilities.utils import get_partition

    backend = iam_backends[account_id][get_partition(region_name)]
    if policy.arn not in backend.managed_policies:
        return
    roles, groups, users = getattr(policy, _CFN_ATTACHMENTS, ([], [], []))
    for name in roles:
        role = next((role for role in backend.roles.values() if role.name == name), None)
        if role is not None and policy.arn in role.managed_policies:
            backend.detach_role_policy(policy.arn, name)
    for name in groups:
        group = backend.groups.get(name)
        if group is not None and policy.arn in group.managed_policies:
            backend.detach_group_policy(policy.arn, name)
    for name in users:
        user = backend.users.get(name)
        if user is not None and policy.arn in user.managed_policies:
            backend.detach_user_policy(policy.arn, name)
    if policy.attachment_count > 0:
        raise DeleteConflictException("Cannot delete a policy attached to entities.")
    backend.delete_policy(policy.arn)


def _update_policy_resource(policy, properties, account_id, region_name):
    """Bring a stack's managed policy to the template's document and attachments, keeping its ARN."""
    import json

    from moto.iam.models import iam_backends
    from moto.utilities.utils import get_partition

    backend = iam_backends[account_id][get_partition(region_name)]
    document = properties.get("PolicyDocument")
    if not isinstance(document, str):
        document = json.dumps(document)
    default = next(v for v in policy.versions if v.is_default)
    if json.loads(document) != json.loads(default.document):
        if len(policy.versions) >= 5:
            oldest = next(v for v in policy.versions if not v.is_default)
            backend.delete_policy_version(policy.arn, oldest.version_id)
        backend.create_policy_version(policy.arn, document, set_as_default=True)
    wanted = (
        list(properties.get("Roles") or []),
        list(properties.get("Groups") or []),
        list(properties.get("Users") or []),
    )
    had = getattr(policy, _CFN_ATTACHMENTS, ([], [], []))
    ops = (
        (backend.attach_role_policy, backend.detach_role_policy),
        (backend.attach_group_policy, backend.detach_group_policy),
        (backend.attach_user_policy, backend.detach_user_policy),
    )
    for (attach, detach), old, new in zip(ops, had, wanted):
        for name in set(old) - set(new):
            detach(policy.arn, name)
        for name in set(new) - set(old):
            attach(policy.arn, name)
    setattr(policy, _CFN_ATTACHMENTS, wanted)
    return policy


def apply():
    from moto.cloudformation.models import CloudFormationBackend, Stack
    from moto.iam.models import ManagedPolicy

    original_create = ManagedPolicy.create_from_cloudformation_json.__func__

    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        policy = original_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        properties = cloudformation_json.get("Properties", {})
        setattr(
            policy,
            _CFN_ATTACHMENTS,
            (
                list(properties.get("Roles") or []),
                list(properties.get("Groups") or []),
                list(properties.get("Users") or []),
            ),
        )
        return policy

    ManagedPolicy.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)

    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        properties = cloudformation_json.get("Properties", {})
        if properties.get("ManagedPolicyName", original_resource.name) != original_resource.name:
            _delete_policy_resource(original_resource, account_id, region_name)
            return create_from_cloudformation_json(cls, new_resource_name, cloudformation_json, account_id, region_name)
        return _update_policy_resource(original_resource, properties, account_id, region_name)

    ManagedPolicy.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)

    def delete(self, account_id, region_name):
        _delete_policy_resource(self, account_id, region_name)

    # moto's ResourceMap.delete() calls ``resource.delete(account_id, region)`` when it exists.
    ManagedPolicy.delete = delete

    original_stack_delete = Stack.delete

    @functools.wraps(original_stack_delete)
    def stack_delete(self):
        try:
            original_stack_delete(self)
        except Exception as err:  # any resource that could not be deleted, as CloudFormation reports it
            reason = getattr(err, "message", None) or str(err)
            self._add_stack_event("DELETE_FAILED", resource_status_reason=reason)
            self.status = "DELETE_FAILED"

    Stack.delete = stack_delete

    original_delete_stack = CloudFormationBackend.delete_stack

    @functools.wraps(original_delete_stack)
    def delete_stack(self, name_or_stack_id):
        stacks = [stack for stack in list(self.stacks.values()) if name_or_stack_id in (stack.stack_id, stack.name)]
        original_delete_stack(self, name_or_stack_id)
        for stack in stacks:
            if stack.status == "DELETE_FAILED":
                # CloudFormation keeps a stack whose deletion failed, listed under its name.
                self.deleted_stacks.pop(stack.stack_id, None)
                self.stacks[stack.stack_id] = stack

    CloudFormationBackend.delete_stack = delete_stack

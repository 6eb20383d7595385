"""CreateFleet instances get their launch template's security groups and instance profile, as on EC2.

moto 5.2.5 launches a fleet's instances, on-demand and spot, from the launch template's image and
instance type only: they come up in the VPC's ``default`` security group and without an
instance profile, whatever the template says. Karpenter notices both: it marks every
NodeClaim ``Drifted`` (``SecurityGroupDrift``) at once, and a node without the node role's
instance profile could not join the cluster.

Here each instance a fleet launches from a launch template (on-demand, or through a spot request)
gets, from the
template version (with the fleet's overrides merged, as EC2 does):

* the security groups of ``NetworkInterfaces[DeviceIndex 0].Groups``, else
  ``SecurityGroupIds``, on the instance and its primary network interface;
* the ``IamInstanceProfile`` (``Name`` or ``Arn``), associated as RunInstances would.
"""

import functools


def template_security_groups(data):
    for nic in data.get("NetworkInterfaces") or []:
        if int(nic.get("DeviceIndex", 0)) == 0 and nic.get("Groups"):
            return list(nic["Groups"])
    return list(data.get("SecurityGroupIds") or [])


def _apply(ec2, instance, launch_spec):
    spec = getattr(launch_spec, "launch_template_spec", None)
    if not spec:
        return
    data = dict(ec2._get_template_from_args(spec).data)
    data.update(getattr(launch_spec, "overrides", None) or {})
    group_ids = template_security_groups(data)
    if group_ids:
        groups = [ec2.get_security_group_from_id(group_id) for group_id in group_ids]
        groups = [group for group in groups if group is not None]
        instance.security_groups = groups
        for nic in instance.nics.values():
            if getattr(nic, "device_index", 0) == 0:
                nic._group_set = list(groups)
    profile = data.get("IamInstanceProfile") or {}
    if (profile.get("Name") or profile.get("Arn")) and instance.id not in ec2.iam_instance_profile_associations:
        ec2.associate_iam_instance_profile(
            instance_id=instance.id,
            iam_instance_profile_name=profile.get("Name"),
            iam_instance_profile_arn=profile.get("Arn"),
        )


def apply():
    from moto.ec2.models.fleets import Fleet

    original = Fleet.create_on_demand_requests

    @functools.wraps(original)
    def create_on_demand_requests(self, weight_to_add):
        before = len(self.on_demand_instances)
        result = original(self, weight_to_add)
        for launched in self.on_demand_instances[before:]:
            _apply(self.ec2_backend, launched["instance"], launched["launch_spec"])
        return result

    Fleet.create_on_demand_requests = create_on_demand_requests

    original_spot = Fleet.create_spot_requests

    @functools.wraps(original_spot)
    def create_spot_requests(self, weight_to_add):
        before = len(self.spot_requests)
        result = original_spot(self, weight_to_add)
        for request in self.spot_requests[before:]:
            _apply(self.ec2_backend, request.instance, request.launch_spec)
        return result

    Fleet.create_spot_requests = create_spot_requests

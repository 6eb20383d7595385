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

moto also launches the first launch specification that a fleet lists, whatever it costs: with
``lowest-price`` (Karpenter's on-demand strategy) EC2 launches the cheapest. Karpenter lists its
instance types in no price order, so moto's node was often one that Karpenter's consolidation then
replaced by a cheaper one, minutes later. With a price table (``load_prices``, from Karpenter's own
static on-demand prices, the ones it uses where the Pricing API cannot be reached), a fleet that is not
``diversified`` launches the cheapest of its specifications, the first listed among equals.
"""

import functools
import math
import re

# {region: {instance type: on-demand price per hour}}; empty: moto's choice.
PRICES = {}

_REGION = re.compile(r'^\s*"([a-z]{2}(?:-[a-z]+)+-[0-9])":\s*\{', re.M)
_PRICE = re.compile(r'"([a-z0-9][a-z0-9-]*\.[a-z0-9-]+)":\s*([0-9.]+)')


def parse_prices(text):
    """{region: {type: price}} from karpenter-provider-aws's ``zz_generated.pricing_aws.go``."""
    prices = {}
    starts = list(_REGION.finditer(text))
    for i, m in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        prices[m.group(1)] = {t: float(p) for t, p in _PRICE.findall(text, m.end(), end)}
    return prices


def load_prices(path):
    with open(path) as f:
        PRICES.update(parse_prices(f.read()))
    return PRICES


def price(region, instance_type):
    table = PRICES.get(region) or PRICES.get("us-east-1") or {}
    return table.get(instance_type, math.inf)


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

    original_counts = Fleet.get_launch_spec_counts

    @functools.wraps(original_counts)
    def get_launch_spec_counts(self, weight_to_add):
        diversified = (self.spot_options or {}).get("AllocationStrategy") == "diversified"
        if not PRICES or diversified or len(self.launch_specs) < 2:
            return original_counts(self, weight_to_add)
        listed = self.launch_specs
        region = self.ec2_backend.region_name
        # moto's lowest price: the first of the (stable) order by SpotPrice, which Karpenter never sets.
        self.launch_specs = sorted(listed, key=lambda spec: price(region, spec.instance_type))
        try:
            return original_counts(self, weight_to_add)
        finally:
            self.launch_specs = listed

    Fleet.get_launch_spec_counts = get_launch_spec_counts

"""Runtime fixes to moto's EKS emulation that the sandbox relies on.

moto is imported and extended here, never copied. ``apply()`` is idempotent.

* Every cluster gets its own OIDC issuer and API endpoint (moto draws both once per
  process, so all clusters share them).
* ``accessConfig`` (authentication mode) is stored from CreateCluster, changed by
  UpdateClusterConfig (one way only, as on EKS) and returned by DescribeCluster.
* CreateCluster creates the cluster security group EKS makes (``eks-cluster-sg-<name>-<n>``,
  tagged ``aws:eks:cluster-name`` and ``kubernetes.io/cluster/<name>=owned``, not with the
  cluster's tags, which EKS does not propagate) and reports it, with the VPC, in ``resourcesVpcConfig``. DeleteCluster
  removes it again.
* UpdateClusterConfig answers with an ``update`` object, as the EKS API does.
* Access entries and policies, Pod Identity associations and add-ons, which moto lacks,
  come from ``eks_extensions``.
* AssumeRoleWithWebIdentity verifies the token and the role's trust policy
  (``web_identity``).
* The EKS-optimised AMIs and their SSM parameters exist (``eks_amis``).
* CreateFleet instances get their launch template's security groups and instance profile, and
  a lowest-price fleet launches its cheapest type (``ec2_fleet``).
* DeleteStack deletes the stack's managed policies and keeps a stack it could not delete
  (``cfn_delete``).
* ListInstanceProfiles honours ``PathPrefix`` (``iam_instance_profiles``).
* UpdateStack keeps the region's export registry in step with the stack's outputs (moto registers
  exports only at CreateStack, so a stack updated to one more export fails DeleteStack with a 500 and
  leaves its exports behind, and the next CreateStack of that name is refused).
"""

import functools
import logging
import secrets

AUTHENTICATION_MODES = ("CONFIG_MAP", "API_AND_CONFIG_MAP", "API")
# EKS allows moving only rightwards along this list.
_MODE_ORDER = {mode: index for index, mode in enumerate(AUTHENTICATION_MODES)}

_APPLIED = False
log = logging.getLogger(__name__)


def new_issuer_id():
    """32 uppercase hex characters, the shape of a real EKS OIDC issuer ID."""
    return secrets.token_hex(16).upper()


def issuer_url(region, issuer_id=None):
    return f"https://oidc.eks.{region}.amazonaws.com/id/{issuer_id or new_issuer_id()}"


def endpoint_url(region):
    return f"https://{new_issuer_id()}.gr7.{region}.eks.amazonaws.com"


def access_config(authentication_mode="CONFIG_MAP", bootstrap=True):
    return {
        "authenticationMode": authentication_mode,
        "bootstrapClusterCreatorAdminPermissions": bootstrap,
    }


def apply():
    """Patch moto in this process (safe to call more than once)."""
    global _APPLIED
    if _APPLIED:
        return
    _APPLIED = True
    _patch_cluster_init()
    _patch_backend()
    _patch_responses()
    _patch_service_linked_role_names()
    _patch_cloudformation_exports()
    from . import cfn_delete, ec2_fleet, eks_amis, eks_extensions, iam_instance_profiles, web_identity

    eks_extensions.apply()
    web_identity.apply()
    eks_amis.apply()
    ec2_fleet.apply()
    cfn_delete.apply()
    iam_instance_profiles.apply()


def _patch_service_linked_role_names():
    """AWS names spot.amazonaws.com's service-linked role AWSServiceRoleForEC2Spot; moto says AWSServiceRoleForspot.

    moto derives the name from the service principal, with a table of exceptions; Spot's joins it here
    (AWS IAM User Guide, "AWS services that work with IAM"; EC2 User Guide, "Service-linked role for Spot
    Instance requests").
    """
    from moto.iam import models

    models.SERVICE_NAME_CONVERSION.setdefault("spot", "EC2Spot")


def _patch_cloudformation_exports():
    """UpdateStack: drop the stack's old exports from the registry, check and register its new ones.

    CloudFormation refuses an update whose export name another stack already exports, as at create.
    """
    from moto.cloudformation.exceptions import ValidationError
    from moto.cloudformation.models import CloudFormationBackend

    original = CloudFormationBackend.update_stack

    @functools.wraps(original)
    def update_stack(self, name, *args, **kwargs):
        before = {export.name for export in self.get_stack(name).exports}
        stack = original(self, name, *args, **kwargs)
        for export_name in before:
            self.exports.pop(export_name, None)
        taken = set(self.exports) & {export.name for export in stack.exports}
        if taken:
            raise ValidationError(stack.stack_id, message="Export names must be unique across a given region")
        for export in stack.exports:
            self.exports[export.name] = export
        return stack

    CloudFormationBackend.update_stack = update_stack


def _patch_cluster_init():
    from moto.eks.models import Cluster

    original = Cluster.__init__

    @functools.wraps(original)
    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        region = kwargs["region_name"]
        self.identity = {"oidc": {"issuer": issuer_url(region)}}
        self.endpoint = endpoint_url(region)
        self.access_config = access_config()

    Cluster.__init__ = __init__


def _ec2(backend):
    from moto.ec2.models import ec2_backends

    return ec2_backends[backend.account_id][backend.region_name]


def _patch_backend():
    from moto.ec2.exceptions import EC2ClientError
    from moto.eks.exceptions import InvalidParameterException
    from moto.eks.models import EKSBackend

    original_create = EKSBackend.create_cluster
    original_delete = EKSBackend.delete_cluster

    @functools.wraps(original_create)
    def create_cluster(self, name, role_arn, resources_vpc_config, **kwargs):
        ec2 = _ec2(self)
        subnet_ids = (resources_vpc_config or {}).get("subnetIds") or []
        try:
            vpcs = {ec2.get_subnet(subnet_id).vpc_id for subnet_id in subnet_ids}
        except EC2ClientError as err:
            raise InvalidParameterException(message=str(err)) from None
        if len(vpcs) > 1:
            raise InvalidParameterException(message="Subnets must be in the same VPC")
        vpc_id = vpcs.pop() if vpcs else None
        cluster = original_create(self, name, role_arn, resources_vpc_config, **kwargs)
        config = dict(cluster.resources_vpc_config or {})
        # Only EKS's own tags: the cluster's tags are not propagated to this group
        # (terraform-aws-modules/terraform-aws-eks#1957 tags it separately for that reason;
        # aws/containers-roadmap#977 asks for it).
        tags = {
            "Name": f"eks-cluster-sg-{cluster.name}-{secrets.randbelow(10**10)}",
            "aws:eks:cluster-name": cluster.name,
            f"kubernetes.io/cluster/{cluster.name}": "owned",
        }
        group = ec2.create_security_group(
            name=tags["Name"],
            description="EKS created security group applied to ENI that is attached to "
            "EKS Control Plane master nodes, as well as any managed workloads.",
            vpc_id=vpc_id,
            tags=tags,
        )
        config.setdefault("securityGroupIds", [])
        config.setdefault("endpointPublicAccess", True)
        config.setdefault("endpointPrivateAccess", False)
        config.setdefault("publicAccessCidrs", ["0.0.0.0/0"])
        config["clusterSecurityGroupId"] = group.id
        config["vpcId"] = group.vpc_id
        cluster.resources_vpc_config = config
        return cluster

    @functools.wraps(original_delete)
    def delete_cluster(self, name):
        cluster = original_delete(self, name)
        group_id = (cluster.resources_vpc_config or {}).get("clusterSecurityGroupId")
        if group_id:
            try:
                _ec2(self).delete_security_group(group_id=group_id)
            except EC2ClientError:  # already gone, or still in use (EKS would retry)
                log.warning("cluster security group %s not deleted", group_id)
        return cluster

    EKSBackend.create_cluster = create_cluster
    EKSBackend.delete_cluster = delete_cluster


def _caller_principal(response):
    """The IAM principal ARN of the credentials that signed ``response``'s request."""
    from moto.sts.models import sts_backends
    from moto.utilities.utils import get_partition

    from . import eks_extensions

    backend = sts_backends[response.current_account][get_partition(response.region)]
    _, arn, _ = backend.get_caller_identity(response.get_access_key(), response.region)
    return eks_extensions.principal_of_caller(arn)


def _patch_responses():
    from moto.core.responses import ActionResult
    from moto.eks.exceptions import InvalidParameterException
    from moto.eks.responses import EKSResponse
    from moto.moto_api._internal import mock_random

    original_create = EKSResponse.create_cluster
    original_update = EKSResponse.update_cluster_config

    def _check_mode(mode):
        if mode not in _MODE_ORDER:
            raise InvalidParameterException(message=f"Unsupported authentication mode: {mode}")

    @functools.wraps(original_create)
    def create_cluster(self):
        requested = self._get_param("accessConfig") or {}
        mode = requested.get("authenticationMode", "CONFIG_MAP")
        _check_mode(mode)
        result = original_create(self)
        cluster = self.eks_backend.clusters[self._get_param("name")]
        cluster.access_config = access_config(mode, requested.get("bootstrapClusterCreatorAdminPermissions", True))
        creator = _caller_principal(self)
        cluster.__dict__["_sandbox_creator_arn"] = creator
        if mode != "CONFIG_MAP" and cluster.access_config["bootstrapClusterCreatorAdminPermissions"] and creator:
            from . import eks_extensions

            eks_extensions.bootstrap_creator(cluster, creator, self.region, self.eks_backend.account_id)
        return result

    @functools.wraps(original_update)
    def update_cluster_config(self):
        name = self._get_param("name")
        requested = self._get_param("accessConfig")
        params = []
        update_type = "ConfigUpdate"
        if requested:
            cluster = self.eks_backend.describe_cluster(name=name)
            mode = requested.get("authenticationMode")
            if mode:
                _check_mode(mode)
                current = cluster.access_config["authenticationMode"]
                if _MODE_ORDER[mode] < _MODE_ORDER[current]:
                    raise InvalidParameterException(
                        message=f"Unsupported authentication mode update from {current} to {mode}"
                    )
                cluster.access_config["authenticationMode"] = mode
                params.append({"type": "AuthenticationMode", "value": mode})
            update_type = "AccessConfigUpdate"
        else:
            original_update(self)
            if self._get_param("resourcesVpcConfig"):
                update_type = "EndpointAccessUpdate"
            elif self._get_param("logging"):
                update_type = "LoggingUpdate"
        update = {
            "id": str(mock_random.uuid4()),
            "status": "Successful",
            "type": update_type,
            "params": params,
            "errors": [],
        }
        return ActionResult({"update": update})

    EKSResponse.create_cluster = create_cluster
    EKSResponse.update_cluster_config = update_cluster_config

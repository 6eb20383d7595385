"""What each sandbox profile's cluster has, as data: the tool that made it decides names and tags.

A profile is the state a real cluster is in after the tool that created it has finished, before
anything about Karpenter has been done to it (``sandbox.emulator.seed`` creates it in the
emulator). Each value below cites the source it was read from:

``eksctl`` (the default): ``eksctl create cluster`` as the walkthrough's cluster was made
  (eksctl-io/eksctl v0.230.0). Only the node group's subnets differ from eksctl's default:
  the walkthrough's cluster runs its managed node group in the private subnets
  (``privateNetworking: true``, ``--node-private-networking``), where eksctl's own default
  (``privateNetworking: false``, pkg/cfn/builder/nodegroup.go ``AssignSubnets``) puts it in the
  public ones. Its authentication mode is ``CONFIG_MAP``: the walkthrough's cluster (March 2023)
  predates access entries; eksctl has since defaulted to ``API_AND_CONFIG_MAP``
  (pkg/apis/eksctl.io/v1alpha5/defaults.go ``getDefaultAuthenticationMode``), which
  ``--authentication-mode`` gives.
``terraform``: terraform-aws-modules/terraform-aws-eks v21.19.0 with its defaults, paired with
  terraform-aws-modules/terraform-aws-vpc v6 as in its ``examples/eks-managed-node-group``
  (two zones here, where the example takes three).
``karpenter-guide``: the ClusterConfig of Karpenter's getting-started guide
  (aws/karpenter-provider-aws ``website/content/en/docs/getting-started/
  getting-started-with-karpenter/scripts/step02-create-cluster.sh``), made by eksctl, before
  Karpenter itself is installed.
"""

PROFILES = ("eksctl", "terraform", "karpenter-guide")
DEFAULT_PROFILE = "eksctl"

# The version eksctl writes into alpha.eksctl.io/eksctl-version (the release read).
EKSCTL_VERSION = "0.230.0"

# The EKS OIDC issuers' root CA thumbprint (what eksctl and terraform compute from the TLS chain
# of oidc.eks.<region>.amazonaws.com; the sandbox's issuer URL is not reachable, so it is fixed).
OIDC_THUMBPRINT = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"


def default_authentication_mode(profile):
    """The authentication mode a profile's cluster is created in unless one is asked for."""
    return {
        # The walkthrough's cluster, made before access entries existed.
        "eksctl": "CONFIG_MAP",
        # variables.tf: authentication_mode default "API_AND_CONFIG_MAP".
        "terraform": "API_AND_CONFIG_MAP",
        # The guide's ClusterConfig sets no accessConfig: eksctl's default applies.
        "karpenter-guide": "API_AND_CONFIG_MAP",
    }[check(profile)]


def check(profile):
    if profile not in PROFILES:
        raise ValueError("profile must be one of {}, not {!r}".format(", ".join(PROFILES), profile))
    return profile


def _az_name(zone):
    """eksctl's resource-name form of a zone (pkg/cfn/builder/vpc_ipv4.go makeAZResourceName)."""
    return zone.replace("-", "").upper()


def eksctl_stack_tags(cluster, metadata_tags=None, oidc=False):
    """The tags of eksctl's cluster stack, which CloudFormation puts on every resource it creates.

    pkg/cfn/manager/api.go ``NewStackCollection`` (cluster name, old cluster name, eksctl version,
    then ``metadata.tags``) and ``createClusterStack`` (``alpha.eksctl.io/cluster-oidc-enabled``).
    """
    tags = {
        "alpha.eksctl.io/cluster-name": cluster,
        "eksctl.cluster.k8s.io/v1alpha1/cluster-name": cluster,
        "alpha.eksctl.io/eksctl-version": EKSCTL_VERSION,
        "alpha.eksctl.io/cluster-oidc-enabled": "true" if oidc else "false",
    }
    tags.update(metadata_tags or {})
    return tags


def eksctl_nodegroup_stack_tags(cluster, nodegroup, metadata_tags=None):
    """Tags of the node group's stack ``eksctl-<cluster>-nodegroup-<name>`` (pkg/cfn/manager/
    nodegroup.go: the shared tags plus the node group's name and type)."""
    tags = {
        "alpha.eksctl.io/cluster-name": cluster,
        "eksctl.cluster.k8s.io/v1alpha1/cluster-name": cluster,
        "alpha.eksctl.io/eksctl-version": EKSCTL_VERSION,
        "alpha.eksctl.io/nodegroup-name": nodegroup,
        "alpha.eksctl.io/nodegroup-type": "managed",
    }
    tags.update(metadata_tags or {})
    return tags


def _eksctl_network(cluster, region, metadata_tags, oidc, nodes_private):
    """eksctl's dedicated VPC (pkg/cfn/builder/vpc_ipv4.go ``addResources``, defaults in
    pkg/apis/eksctl.io/v1alpha5: CIDR 192.168.0.0/16 split into /19s, public subnets first; one
    NAT gateway, ``ClusterSingleNAT``)."""
    stack = "eksctl-{}-cluster".format(cluster)
    base = eksctl_stack_tags(cluster, metadata_tags, oidc)

    def named(logical_id, **extra):
        # pkg/cfn/builder/api.go makeAutoNameTag: Name = "${AWS::StackName}/<logical ID>".
        return dict(base, Name="{}/{}".format(stack, logical_id), **extra)

    zones = [region + "a", region + "b"]
    public = [
        {
            "zone": zone,
            "cidr": cidr,
            # vpc_ipv4.go addSubnets, SubnetTopologyPublic.
            "tags": named("SubnetPublic" + _az_name(zone), **{"kubernetes.io/role/elb": "1"}),
            "map_public_ip_on_launch": True,
        }
        for zone, cidr in zip(zones, ("192.168.0.0/19", "192.168.32.0/19"))
    ]
    private = [
        {
            "zone": zone,
            "cidr": cidr,
            # vpc_ipv4.go addSubnets, SubnetTopologyPrivate.
            "tags": named("SubnetPrivate" + _az_name(zone), **{"kubernetes.io/role/internal-elb": "1"}),
            "map_public_ip_on_launch": False,
            # vpc_ipv4.go addPrivateRouteTables: one route table per private subnet.
            "route_table_tags": named("PrivateRouteTable" + _az_name(zone)),
        }
        for zone, cidr in zip(zones, ("192.168.64.0/19", "192.168.96.0/19"))
    ]
    return {
        "vpc": {"cidr": "192.168.0.0/16", "tags": named("VPC")},
        "internet_gateway_tags": named("InternetGateway"),
        "public_route_table_tags": named("PublicRouteTable"),
        # vpc_ipv4.go singleNAT: NATIP and NATGateway in the first zone's public subnet.
        "nat": {"eip_tags": named("NATIP"), "tags": named("NATGateway")},
        "public_subnets": public,
        "private_subnets": private,
        # One private route table per subnet (eksctl), or one for all (terraform's single NAT).
        "private_route_table": None,
        # vpc_ipv4.go ControlPlaneSubnetRefs: public then private, unless the control plane is
        # placed on private subnets.
        "cluster_subnets": "public+private",
        "nodegroup_subnets": "private" if nodes_private else "public",
        "security_groups": [
            {
                # cluster.go addResourcesForSecurityGroups: cfnControlPlaneSGResource.
                "role": "control-plane",
                "name": "{}-ControlPlaneSecurityGroup".format(stack),
                "description": "Communication between the control plane and worker nodegroups",
                "tags": named("ControlPlaneSecurityGroup"),
            },
            {
                # cluster.go: cfnSharedNodeSGResource, with the IngressInterNodeGroupSG rule.
                "role": "shared-node",
                "name": "{}-ClusterSharedNodeSecurityGroup".format(stack),
                "description": "Communication between all nodes in the cluster",
                "tags": named("ClusterSharedNodeSecurityGroup"),
                "self_ingress": True,
            },
        ],
        # The cluster's own security groups (resourcesVpcConfig.securityGroupIds).
        "cluster_security_groups": ["control-plane"],
        # Managed node groups' launch template: the cluster security group EKS made
        # (pkg/cfn/builder/managed_launch_template.go, pkg/vpc/importer.go SecurityGroups:
        # ClusterSecurityGroupId).
        "node_security_groups": ["eks-cluster"],
    }


def _terraform_network(cluster, region):
    """terraform-aws-modules/vpc v6 as terraform-aws-eks's examples/eks-managed-node-group/main.tf
    calls it (``cidrsubnet(10.0.0.0/16, 4, k)`` private, ``cidrsubnet(..., 8, k + 48)`` public,
    ``single_nat_gateway = true``, the ELB role tags), and the module's own security groups."""
    zones = [region + "a", region + "b"]
    # vpc main.tf: Name = format("${var.name}-public-%s", az) / "-private-%s"; map_public_ip_on_launch
    # defaults to false.
    public = [
        {
            "zone": zone,
            "cidr": cidr,
            "tags": {"Name": "{}-public-{}".format(cluster, zone), "kubernetes.io/role/elb": "1"},
            "map_public_ip_on_launch": False,
        }
        for zone, cidr in zip(zones, ("10.0.48.0/24", "10.0.49.0/24"))
    ]
    private = [
        {
            "zone": zone,
            "cidr": cidr,
            "tags": {
                "Name": "{}-private-{}".format(cluster, zone),
                "kubernetes.io/role/internal-elb": "1",
            },
            "map_public_ip_on_launch": False,
        }
        for zone, cidr in zip(zones, ("10.0.0.0/20", "10.0.16.0/20"))
    ]
    return {
        "vpc": {"cidr": "10.0.0.0/16", "tags": {"Name": cluster}},
        "internet_gateway_tags": {"Name": cluster},
        "public_route_table_tags": {"Name": "{}-public".format(cluster)},
        # vpc main.tf aws_nat_gateway / aws_eip: Name = format("${var.name}-%s", az).
        "nat": {
            "eip_tags": {"Name": "{}-{}".format(cluster, zones[0])},
            "tags": {"Name": "{}-{}".format(cluster, zones[0])},
        },
        "public_subnets": public,
        "private_subnets": private,
        # single_nat_gateway: one private route table named "${var.name}-private".
        "private_route_table": {"Name": "{}-private".format(cluster)},
        # eks main.tf: subnet_ids = coalescelist(var.control_plane_subnet_ids, var.subnet_ids), and
        # the example passes module.vpc.private_subnets.
        "cluster_subnets": "private",
        "nodegroup_subnets": "private",
        "security_groups": [
            {
                # eks main.tf aws_security_group.cluster: name_prefix "<name>-cluster-",
                # tags merge(var.tags, {Name = "<name>-cluster"}).
                "role": "control-plane",
                "name": "{}-cluster".format(cluster),
                "name_prefix": True,
                "description": "EKS cluster security group",
                "tags": {"Name": "{}-cluster".format(cluster)},
            },
            {
                # eks node_groups.tf aws_security_group.node: name_prefix "<name>-node-", tags
                # merge(var.tags, {Name = "<name>-node", "kubernetes.io/cluster/<name>" = "owned"}).
                "role": "shared-node",
                "name": "{}-node".format(cluster),
                "name_prefix": True,
                "description": "EKS node shared security group",
                "tags": {
                    "Name": "{}-node".format(cluster),
                    "kubernetes.io/cluster/{}".format(cluster): "owned",
                },
                "self_ingress": True,
            },
        ],
        "cluster_security_groups": ["control-plane"],
        # node_groups.tf: vpc_security_group_ids = [local.node_security_group_id] (the cluster
        # primary security group only with attach_cluster_primary_security_group, default false).
        "node_security_groups": ["shared-node"],
    }


def spec(profile, cluster, region):
    """Everything the seed creates for ``profile``, as plain data (names, tags, layout)."""
    check(profile)
    if profile == "terraform":
        # modules/eks-managed-node-group, key "example" as in examples/eks-managed-node-group.
        nodegroup = "example"
        return {
            "profile": profile,
            "network": _terraform_network(cluster, region),
            # main.tf aws_eks_cluster: tags = merge(var.tags, var.cluster_tags), both empty.
            "cluster_tags": {},
            # main.tf aws_iam_role.this: name_prefix "<name>-cluster-", tags var.tags.
            "cluster_role": {"name": "{}-cluster".format(cluster), "name_prefix": True, "tags": {}},
            "nodegroup": {
                # modules/eks-managed-node-group main.tf: use_name_prefix true -> "<key>-<id>".
                "name": nodegroup,
                "name_prefix": True,
                "instance_type": "m6i.large",
                "tags": {},
                "labels": {},
                # modules/eks-managed-node-group: iam_role_name "<key>-eks-node-group" as a prefix,
                # with AmazonEKSWorkerNodePolicy, AmazonEC2ContainerRegistryReadOnly and
                # AmazonEKS_CNI_Policy.
                "role": {
                    "name": "{}-eks-node-group".format(nodegroup),
                    "name_prefix": True,
                    "policies": (
                        "AmazonEKSWorkerNodePolicy",
                        "AmazonEC2ContainerRegistryReadOnly",
                        "AmazonEKS_CNI_Policy",
                    ),
                    "tags": {},
                },
                "instance_tags": {},
            },
            # main.tf: bootstrap_cluster_creator_admin_permissions = false; the creator's admin
            # entry comes from enable_cluster_creator_admin_permissions = true, which README.md's
            # usage and examples/karpenter set (the variable defaults to false).
            "bootstrap_creator_admin": False,
            "creator_admin_entry": True,
            # main.tf aws_iam_openid_connect_provider: enable_irsa defaults to true.
            "oidc_provider": {"tags": {"Name": "{}-eks-irsa".format(cluster)}},
            "addons": (),
            "aws_auth_extra_roles": (),
            "pod_identity": None,
        }
    metadata_tags = {}
    oidc = False
    nodes_private = True
    nodegroup = "ng-1"
    instance_type = "m5.large"
    if profile == "karpenter-guide":
        # step02-create-cluster.sh: metadata.tags karpenter.sh/discovery, iam.withOIDC, a managed
        # node group "<cluster>-ng" of m5.large with no privateNetworking (so eksctl's default:
        # the public subnets).
        metadata_tags = {"karpenter.sh/discovery": cluster}
        oidc = True
        nodes_private = False
        nodegroup = "{}-ng".format(cluster)
    stack_tags = eksctl_stack_tags(cluster, metadata_tags, oidc)
    ng_tags = eksctl_nodegroup_stack_tags(cluster, nodegroup, metadata_tags)
    result = {
        "profile": profile,
        "network": _eksctl_network(cluster, region, metadata_tags, oidc, nodes_private),
        # cluster.go makeCFNTags (metadata.tags) plus the stack's tags, which CloudFormation
        # propagates to AWS::EKS::Cluster.
        "cluster_tags": dict(stack_tags),
        # pkg/cfn/builder/iam.go: ServiceRole in the cluster stack, physical name
        # "<stack>-ServiceRole-<suffix>".
        "cluster_role": {
            "name": "eksctl-{}-cluster-ServiceRole".format(cluster),
            "tags": dict(stack_tags, Name="eksctl-{}-cluster/ServiceRole".format(cluster)),
        },
        "nodegroup": {
            "name": nodegroup,
            "instance_type": instance_type,
            # managed_nodegroup.go: the node group's tags are metadata.tags plus its own; the
            # stack's tags reach AWS::EKS::Nodegroup too.
            "tags": dict(ng_tags),
            # pkg/apis/eksctl.io/v1alpha5 ClusterNameLabel, NodeGroupNameLabel.
            "labels": {
                "alpha.eksctl.io/cluster-name": cluster,
                "alpha.eksctl.io/nodegroup-name": nodegroup,
            },
            # pkg/cfn/builder/iam.go createRole: NodeInstanceRole in the node group's stack with
            # the worker, CNI and ECR read-only policies (AmazonSSMManagedInstanceCore as the
            # walkthrough's cluster has it).
            "role": {
                "name": "eksctl-{}-nodegroup-{}-NodeInstanceRole".format(cluster, nodegroup),
                "policies": (
                    "AmazonEKSWorkerNodePolicy",
                    "AmazonEKS_CNI_Policy",
                    "AmazonEC2ContainerRegistryReadOnly",
                    "AmazonSSMManagedInstanceCore",
                ),
                "tags": dict(
                    ng_tags,
                    Name="eksctl-{}-nodegroup-{}/NodeInstanceRole".format(cluster, nodegroup),
                ),
            },
            # The node group's tags reach its instances through its launch template.
            "instance_tags": {
                "Name": "{}-{}-Node".format(cluster, nodegroup),
                "alpha.eksctl.io/nodegroup-name": nodegroup,
                "alpha.eksctl.io/nodegroup-type": "managed",
                **metadata_tags,
            },
        },
        # pkg/cfn/builder/cluster.go: BootstrapClusterCreatorAdminPermissions unless disabled.
        "bootstrap_creator_admin": True,
        "creator_admin_entry": False,
        "oidc_provider": None,
        "addons": (),
        "aws_auth_extra_roles": (),
        "pod_identity": None,
    }
    if profile == "karpenter-guide":
        # iam.withOIDC: eksctl associates the IAM OIDC provider (pkg/eks/eks.go sharedTags).
        result["oidc_provider"] = {
            "tags": {
                "alpha.eksctl.io/cluster-name": cluster,
                "alpha.eksctl.io/eksctl-version": EKSCTL_VERSION,
            }
        }
        # addons: eks-pod-identity-agent.
        result["addons"] = ("eks-pod-identity-agent",)
        # iamIdentityMappings: the Karpenter node role in aws-auth (eksctl writes it there in
        # every mode that reads aws-auth; the role itself comes from the guide's CloudFormation
        # stack, which is Karpenter's own install and not seeded).
        result["aws_auth_extra_roles"] = (
            {
                "role_name": "KarpenterNodeRole-{}".format(cluster),
                "username": "system:node:{{EC2PrivateDNSName}}",
                "groups": ["system:bootstrappers", "system:nodes"],
            },
        )
        # iam.podIdentityAssociations: role "<cluster>-karpenter" trusting Pod Identity, associated
        # with kube-system/karpenter. Its permissionPolicyARNs are the guide stack's six
        # controller policies, which exist only once Karpenter's stack does: seeded without them.
        result["pod_identity"] = {
            "namespace": "kube-system",
            "service_account": "karpenter",
            "role_name": "{}-karpenter".format(cluster),
            # Its own stack, eksctl-<cluster>-podidentityrole-kube-system-karpenter: the shared
            # tags plus PodIdentityAssociationNameTag.
            "tags": {
                **{k: v for k, v in stack_tags.items() if k != "alpha.eksctl.io/cluster-oidc-enabled"},
                "alpha.eksctl.io/podidentityassociation-name": "kube-system/karpenter",
            },
        }
    return result

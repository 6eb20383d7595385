"""The EKS-optimised AMIs and their public SSM parameters, which moto lacks.

On AWS, ``/aws/service/eks/optimized-ami/<k8s minor>/amazon-linux-2023/<arch>/<variant>/recommended/image_id``
names the current EKS-optimised Amazon Linux 2023 image for a Kubernetes minor version
(Karpenter's ``al2023@latest`` alias reads these), and ``.../recommended/release_version`` its
release. moto has neither the parameters nor the images.

Here the first read of a parameter under ``/aws/service/eks/optimized-ami/`` in an account and
region registers, for every Kubernetes minor in ``K8S_MINORS`` and every (architecture, variant)
in ``VARIANTS``, an image in that region's EC2 (owner ``amazon``, public, named as AWS names them:
``amazon-eks-node-al2023-<arch>-<variant>-<minor>-v<release>``) and the parameters pointing at it.
Other parameter paths (Bottlerocket, AL2, a pinned release) are not emulated and stay
``ParameterNotFound``.
"""

import datetime
import functools
import hashlib

K8S_MINORS = tuple("1.%d" % minor for minor in range(26, 37))
VARIANTS = (("x86_64", "standard"), ("x86_64", "nvidia"), ("arm64", "standard"), ("arm64", "nvidia"))
RELEASE = "20251120"
PREFIX = "/aws/service/eks/optimized-ami/"
AMAZON_OWNER = "amazon"


def image_name(minor, arch, variant):
    return "amazon-eks-node-al2023-%s-%s-%s-v%s" % (arch, variant, minor, RELEASE)


def image_id(region, minor, arch, variant):
    """A stable ``ami-`` + 17 hex id, so every emulator run names the same images."""
    digest = hashlib.sha256(("%s/%s" % (region, image_name(minor, arch, variant))).encode()).hexdigest()
    return "ami-" + digest[:17]


def parameter_path(minor, arch, variant, leaf="image_id"):
    return "%s%s/amazon-linux-2023/%s/%s/recommended/%s" % (PREFIX, minor, arch, variant, leaf)


def _register(parameters):
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.amis import Ami
    from moto.ssm.models import Parameter

    ec2 = ec2_backends[parameters.account_id][parameters.region_name]
    now = datetime.datetime(2025, 11, 20, tzinfo=datetime.timezone.utc)
    for minor in K8S_MINORS:
        for arch, variant in VARIANTS:
            ami_id = image_id(parameters.region_name, minor, arch, variant)
            if ami_id not in ec2.amis:
                ec2.amis[ami_id] = Ami(
                    ec2,
                    ami_id,
                    name=image_name(minor, arch, variant),
                    description="EKS-optimized Kubernetes node based on Amazon Linux 2023, (k8s: %s, containerd: 2.1.*)"
                    % minor,
                    owner_id="602401143452",
                    owner_alias=AMAZON_OWNER,
                    public=True,
                    virtualization_type="hvm",
                    architecture=arch,
                    root_device_type="ebs",
                    root_device_name="/dev/xvda",
                    hypervisor="xen",
                    boot_mode="uefi-preferred",
                    creation_date=now,
                    region_name=parameters.region_name,
                )
            values = {"image_id": ami_id, "release_version": "%s.0-%s" % (minor, RELEASE)}
            for leaf, value in values.items():
                name = parameter_path(minor, arch, variant, leaf)
                if not dict.get(parameters, name):
                    dict.__setitem__(
                        parameters,
                        name,
                        [
                            Parameter(
                                account_id=parameters.account_id,
                                name=name,
                                value=value,
                                parameter_type="String",
                                description=None,
                                allowed_pattern=None,
                                keyid=None,
                                last_modified_date=now,
                                version=1,
                                data_type="text",
                            )
                        ],
                    )


def apply():
    from moto.ssm.models import ParameterDict

    original = ParameterDict._check_loading_status

    @functools.wraps(original)
    def _check_loading_status(self, key):
        original(self, key)
        if str(key or "").startswith(PREFIX) and not getattr(self, "_eks_amis_loaded", False):
            self._eks_amis_loaded = True
            _register(self)

    ParameterDict._check_loading_status = _check_loading_status

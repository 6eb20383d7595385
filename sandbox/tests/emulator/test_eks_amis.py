"""The EKS-optimised AL2023 AMIs: SSM parameters under /aws/service/eks/optimized-ami/ and their images."""

import pytest
from botocore.exceptions import ClientError

from sandbox.emulator import eks_amis


@pytest.mark.parametrize("arch,variant", [("x86_64", "standard"), ("arm64", "standard"), ("x86_64", "nvidia")])
def test_recommended_image_id_names_an_available_image(emulator, arch, variant):
    ssm, ec2 = emulator.client("ssm"), emulator.client("ec2")
    name = "/aws/service/eks/optimized-ami/1.36/amazon-linux-2023/%s/%s/recommended/image_id" % (arch, variant)
    parameter = ssm.get_parameter(Name=name)["Parameter"]
    assert parameter["Type"] == "String"
    assert parameter["Value"].startswith("ami-") and len(parameter["Value"]) == 21
    images = ec2.describe_images(Filters=[{"Name": "image-id", "Values": [parameter["Value"]]}])["Images"]
    assert len(images) == 1
    image = images[0]
    assert image["State"] == "available"
    assert image["Architecture"] == arch
    assert image["Name"] == "amazon-eks-node-al2023-%s-%s-1.36-v%s" % (arch, variant, eks_amis.RELEASE)
    assert image["ImageOwnerAlias"] == "amazon"
    assert image["Public"] is True


def test_every_supported_minor_has_its_own_image(emulator):
    ssm = emulator.client("ssm")
    names = [
        "/aws/service/eks/optimized-ami/%s/amazon-linux-2023/x86_64/standard/recommended/image_id" % minor
        for minor in ("1.30", "1.35", "1.36")
    ]
    found = ssm.get_parameters(Names=names)
    assert found["InvalidParameters"] == []
    assert len({p["Value"] for p in found["Parameters"]}) == 3


def test_release_version(emulator):
    value = emulator.client("ssm").get_parameter(
        Name="/aws/service/eks/optimized-ami/1.36/amazon-linux-2023/arm64/standard/recommended/release_version"
    )["Parameter"]["Value"]
    assert value == "1.36.0-" + eks_amis.RELEASE


@pytest.mark.parametrize(
    "name",
    [
        "/aws/service/eks/optimized-ami/1.36/amazon-linux-2023/x86_64/neuron/recommended/image_id",
        "/aws/service/eks/optimized-ami/1.99/amazon-linux-2023/x86_64/standard/recommended/image_id",
        "/aws/service/eks/optimized-ami/1.36/amazon-linux-2/recommended/image_id",
    ],
)
def test_other_paths_are_not_found(emulator, name):
    with pytest.raises(ClientError) as err:
        emulator.client("ssm").get_parameter(Name=name)
    assert err.value.response["Error"]["Code"] == "ParameterNotFound"

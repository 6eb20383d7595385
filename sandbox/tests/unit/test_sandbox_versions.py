"""The sandbox's Karpenter releases: which it can build, which binary runs a pod, the charts' image tag."""

import pytest

from sandbox import charts, cluster, controller, tools
from sandbox.tools import SandboxError

VALUES = """\
replicas: 2
controller:
  # -- Distinguishing container name (containerName: karpenter-controller).
  containerName: controller
  image:
    # -- Repository path to the controller image.
    repository: public.ecr.aws/karpenter/controller
    # -- Tag of the controller image.
    tag: 1.13.0
    # -- SHA256 digest of the controller image.
    digest: sha256:ea731b0cd813add8b2947a76bfe861c38069d85922b01d0c1647d1466279b7fe
  env: []
postInstallHook:
  image:
    tag: 1.13.0
    digest: sha256:0000
"""


def test_the_pinned_release_and_each_further_module_are_buildable():
    groups = tools.karpenter_groups()
    pinned = tools.karpenter_version().lstrip("v")
    assert groups[pinned] == "karpenter"
    assert groups["1.9.3"] == "karpenter-1.9"
    assert tools.karpenter_group("v1.9.3") == "karpenter-1.9"
    # A further module builds the controller as the pinned one does.
    assert tools._spec("karpenter-1.9") == tools.GROUPS["karpenter"]


def test_an_unknown_release_is_refused_naming_those_there_are():
    with pytest.raises(SandboxError, match=r"builds Karpenter 1\.9\.3, 1\.14\.3, not 1\.2\.3"):
        tools.karpenter_group("1.2.3")
    with pytest.raises(SandboxError, match="no Go module sandbox/go/karpenter-0.1"):
        tools._spec("karpenter-0.1")


def test_the_watcher_takes_one_binary_per_release():
    pinned = tools.karpenter_version().lstrip("v")
    assert controller.binaries_by_version(
        ["/cache/pinned/karpenter-controller", "v1.9.3=/cache/old/karpenter-controller"]
    ) == {pinned: "/cache/pinned/karpenter-controller", "1.9.3": "/cache/old/karpenter-controller"}


@pytest.mark.parametrize(
    "image,version",
    [
        ("public.ecr.aws/karpenter/controller:1.9.3", "1.9.3"),
        ("public.ecr.aws/karpenter/controller:1.14.3@sha256:abc", "1.14.3"),
        ("public.ecr.aws/karpenter/controller:v0.16.3@sha256:abc", "0.16.3"),
    ],
)
def test_a_pods_release_is_its_image_tag(image, version):
    assert controller.image_version(image) == version


def test_the_packaged_chart_names_its_own_release_image_without_a_digest():
    out = charts.release_values(VALUES, "1.14.3")
    import yaml

    values = yaml.safe_load(out)
    assert values["controller"]["image"] == {
        "repository": "public.ecr.aws/karpenter/controller",
        "tag": "1.14.3",
        "digest": "",
    }
    # Only the controller's image; comments and everything else as they were.
    assert values["postInstallHook"] == yaml.safe_load(VALUES)["postInstallHook"]
    assert out.count("\n") == VALUES.count("\n") and "# -- Tag of the controller image." in out


def test_a_values_file_without_the_controller_image_is_refused():
    with pytest.raises(SandboxError, match="controller.image.tag"):
        charts.release_values("controller:\n  env: []\n", "1.14.3")


def test_further_releases_exclude_the_pinned_one(tmp_path):
    sb = cluster.Sandbox(
        state_dir=tmp_path / "sb",
        port_base=30000,
        extra_karpenter_versions=["v1.9.3", tools.karpenter_version(), "1.9.3"],
    )
    assert sb.requested_extra == ["1.9.3"]

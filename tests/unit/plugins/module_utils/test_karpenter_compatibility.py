import pytest

from ansible_collections.jit.karpenter.plugins.module_utils._karpenter_compatibility import api_generation, check


@pytest.mark.parametrize(
    "kube,karp,ok",
    [
        ("1.36", "1.14.3", True),
        ("1.36", "1.13.0", True),
        ("1.36", "1.12.9", False),
        ("1.35", "1.9.0", True),
        ("1.31", "1.0.4", False),
        ("1.31", "1.0.5", True),
        ("1.23", "0.16.0", True),
        ("1.24", "0.16.3", False),  # needs 0.21
        ("1.22", "0.16.0", False),  # older than the matrix
        ("1.37", "1.14.3", False),  # newer than the matrix
        ("v1.36.3", "v1.14.3", True),
    ],
)
def test_check(kube, karp, ok):
    supported, reason = check(kube, karp)
    assert supported is ok
    assert kube.lstrip("v")[:4] in reason


def test_reason_names_the_minimum():
    assert "1.13.0" in check("1.36", "1.10.0")[1]


def test_api_generation():
    assert api_generation("0.16.0") == "v1alpha5"
    assert api_generation("0.31.4") == "v1alpha5"
    assert api_generation("0.32.0") == "v1"
    assert api_generation("1.14.3") == "v1"


def test_garbage_version():
    with pytest.raises(ValueError, match="not a version"):
        check("1.36", "latest")

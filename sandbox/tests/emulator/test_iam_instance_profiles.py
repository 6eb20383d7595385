"""ListInstanceProfiles honours PathPrefix, as IAM does (sandbox/emulator/iam_instance_profiles.py).

Karpenter 1.7+ lists its profiles with PathPrefix=/karpenter/<region>/<cluster>/
(karpenter-provider-aws pkg/providers/instanceprofile/instanceprofile.go, ListClusterProfiles).
"""


def test_list_instance_profiles_path_prefix(emulator, unique):
    iam = emulator.client("iam")
    ours = "/karpenter/us-east-1/c-%s/uid-1/" % unique
    iam.create_instance_profile(InstanceProfileName="kp-" + unique, Path=ours)
    iam.create_instance_profile(InstanceProfileName="other-" + unique)

    def names(**kwargs):
        return {p["InstanceProfileName"] for p in iam.list_instance_profiles(**kwargs)["InstanceProfiles"]}

    assert names(PathPrefix="/karpenter/us-east-1/c-%s/" % unique) == {"kp-" + unique}
    assert names(PathPrefix="/karpenter/us-east-1/c-%s-2/" % unique) == set()
    assert {"kp-" + unique, "other-" + unique} <= names()
    assert {"kp-" + unique, "other-" + unique} <= names(PathPrefix="/")

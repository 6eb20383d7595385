"""ListInstanceProfiles honours ``PathPrefix``, as IAM does.

moto 5.2.5 returns every instance profile of the account whatever ``PathPrefix`` says. Karpenter
1.7+ lists its own profiles with ``PathPrefix=/karpenter/<region>/<cluster>/``
(``pkg/providers/instanceprofile/instanceprofile.go`` ``ListClusterProfiles``) for its
instance-profile garbage collection, so in the emulator it would see the node group's profiles as
its own. IAM returns only the profiles whose path starts with the prefix (default ``/``: all).
"""

import functools


def apply():
    from moto.iam.responses import IamResponse

    original = IamResponse.list_instance_profiles

    @functools.wraps(original)
    def list_instance_profiles(self):
        result = original(self)
        prefix = self._get_param("PathPrefix") or "/"
        body = getattr(result, "result", None)
        if isinstance(body, dict) and "InstanceProfiles" in body:
            body["InstanceProfiles"] = [p for p in body["InstanceProfiles"] if (p.path or "/").startswith(prefix)]
        return result

    IamResponse.list_instance_profiles = list_instance_profiles

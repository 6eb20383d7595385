"""API_AND_CONFIG_MAP: access entries first, aws-auth for principals without one. The playbook with no
kubeconfig at all (EKS tokens from the eks_token lookup) and Pod Identity."""

import base64
import hashlib
import stat

from conftest import no_token_in, node_role_arn

MODE = "API_AND_CONFIG_MAP"


def test_playbook_with_tokens_only_and_pod_identity(sb):
    sb.client("eks").create_addon(clusterName=sb.cluster, addonName="eks-pod-identity-agent")
    cache = sb.tmp / "eks-ca"  # karpenter_ca_cache_dir (conftest)
    args = ("karpenter_controller_identity=pod_identity",)
    check = sb.playbook(*args, kubeconfig=False, check=True)
    assert check.rc == 0 and check.changed > 0, check
    first = sb.playbook(*args, kubeconfig=False)
    assert first.rc == 0 and first.changed > 0, first

    # The cluster CA (public), which the modules and helm take as a file, is kept under its SHA-256, private.
    eks = sb.client("eks")
    ca = base64.b64decode(eks.describe_cluster(name=sb.cluster)["cluster"]["certificateAuthority"]["data"])
    (kept,) = cache.glob("*.pem")
    assert kept.name == hashlib.sha256(ca).hexdigest() + ".pem" and kept.read_bytes() == ca
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600 and stat.S_IMODE(cache.stat().st_mode) == 0o700
    kept.write_bytes(b"altered\n")  # the next run writes it again

    again = sb.playbook(*args, kubeconfig=False)
    assert again.rc == 0 and again.changed == 0, again
    assert kept.read_bytes() == ca and [p.name for p in cache.iterdir()] == [kept.name]
    for run in (check, first, again):
        no_token_in(run)

    entry = eks.describe_access_entry(clusterName=sb.cluster, principalArn=node_role_arn(sb))["accessEntry"]
    assert entry["type"] == "EC2_LINUX"
    (assoc,) = eks.list_pod_identity_associations(clusterName=sb.cluster)["associations"]
    assert assoc["serviceAccount"] == "karpenter"
    # The playbook's Kubernetes calls came with tokens of the cluster creator, through its access entry.
    assert "access entry arn:aws:iam::%s:user/moto (STANDARD)" % sb.seed["account_id"] in sb.webhook_log()
    status, user, created = sb.join(node_role_arn(sb))
    assert (status, created) == (201, 201) and user["groups"] == ["system:nodes", "system:authenticated"]


def test_access_entry_takes_precedence_over_aws_auth(sb):
    """A STANDARD entry for a node role (the wrong type) wins over a correct aws-auth mapping: the
    instance authenticates, but not as a node, and cannot register its Node."""
    eks = sb.client("eks")
    role = node_role_arn(sb)
    core = sb.kube()
    core.create_namespaced_config_map(
        "kube-system",
        {
            "metadata": {"name": "aws-auth", "namespace": "kube-system"},
            "data": {
                "mapRoles": "- rolearn: %s\n  username: system:node:{{EC2PrivateDNSName}}\n"
                "  groups: [system:bootstrappers, system:nodes]\n" % role
            },
        },
    )
    eks.delete_access_entry(clusterName=sb.cluster, principalArn=role)
    status, user, created = sb.join(role)  # no entry: aws-auth decides
    assert (status, created) == (201, 201) and "system:bootstrappers" in user["groups"]

    eks.create_access_entry(clusterName=sb.cluster, principalArn=role, type="STANDARD")
    status, user, created = sb.join(role)
    assert status == 201 and "system:nodes" not in user["groups"] and created == 403, (status, user, created)
    assert "(STANDARD) maps" in sb.webhook_log()

    # The playbook puts it right: an EC2_LINUX entry, and the node joins again.
    eks.delete_access_entry(clusterName=sb.cluster, principalArn=role)
    run = sb.playbook("karpenter_controller_identity=pod_identity", kubeconfig=False)
    assert run.rc == 0 and run.changed > 0, run
    assert sb.join(role)[2] == 201

"""CONFIG_MAP: aws-auth only. The playbook with a kubeconfig, IRSA, switched to Pod Identity and back."""

import json

from conftest import no_token_in, node_role_arn

MODE = "CONFIG_MAP"


def controller_identity(sb):
    from kubernetes import client, config

    apps = client.AppsV1Api(config.new_client_from_config(str(sb.state / "kubeconfig")))
    template = apps.read_namespaced_deployment("karpenter", "kube-system").spec.template
    return (template.metadata.annotations or {}).get("jit.karpenter/controller-identity")


POD_TRUST = {"Service": "pods.eks.amazonaws.com"}


def test_access_entry_is_refused_before_anything_is_written(sb):
    run = sb.playbook("karpenter_node_access=access_entry")
    assert run.rc != 0 and run.changed == 0, run
    assert "authentication mode is CONFIG_MAP" in run.out and "has no access entries" in run.out
    assert sb.client("cloudformation").list_stacks(StackStatusFilter=["CREATE_COMPLETE"])["StackSummaries"] == []


def test_playbook_lets_nodes_in_through_aws_auth(sb):
    assert sb.playbook(check=True).rc == 0
    first = sb.playbook()
    assert first.rc == 0 and first.changed > 0, first
    again = sb.playbook(check=True)
    assert again.rc == 0 and again.changed == 0, again
    again = sb.playbook()
    assert again.rc == 0 and again.changed == 0, again
    roles = sb.kube().read_namespaced_config_map("aws-auth", "kube-system").data["mapRoles"]
    assert node_role_arn(sb) in roles
    status, user, created = sb.join(node_role_arn(sb))
    assert status == 201 and "system:nodes" in user["groups"] and created == 201, (status, user, created)


def test_a_node_role_mapped_with_its_path_never_joins(sb):
    """aws-iam-authenticator compares the role ARN without its path: an aws-auth rolearn with a path matches
    nothing, so the node cannot even authenticate."""
    iam = sb.client("iam")
    role = iam.create_role(
        RoleName="PathNodeRole",
        Path="/karpenter/",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )["Role"]
    core = sb.kube()
    cm = core.read_namespaced_config_map("aws-auth", "kube-system")
    cm.data["mapRoles"] += (
        "- rolearn: %s\n  username: system:node:{{EC2PrivateDNSName}}\n"
        "  groups: [system:bootstrappers, system:nodes]\n" % role["Arn"]
    )
    core.replace_namespaced_config_map("aws-auth", "kube-system", cm)
    status, user, created = sb.join(role["Arn"])
    assert (status, user, created) == (401, None, 401)
    assert "with an IAM path" in sb.webhook_log()


def test_switch_to_pod_identity_and_back(sb):
    eks, iam = sb.client("eks"), sb.client("iam")
    role_name = sb.cluster + "-karpenter"

    missing = sb.playbook("karpenter_controller_identity=pod_identity")
    assert missing.rc != 0 and missing.changed == 0, missing
    assert "eks-pod-identity-agent" in missing.out and "create-addon" in missing.out
    eks.create_addon(clusterName=sb.cluster, addonName="eks-pod-identity-agent")

    run = sb.playbook("karpenter_controller_identity=pod_identity")
    assert run.rc == 0 and run.changed > 0, run
    assert sb.playbook("karpenter_controller_identity=pod_identity").changed == 0
    (assoc,) = eks.list_pod_identity_associations(clusterName=sb.cluster)["associations"]
    assert (assoc["namespace"], assoc["serviceAccount"]) == ("kube-system", "karpenter")
    trust = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]["Statement"]
    assert [(s["Principal"], sorted(s["Action"])) for s in trust] == [(POD_TRUST, ["sts:AssumeRole", "sts:TagSession"])]
    cluster_arn = sb.client("eks").describe_cluster(name=sb.cluster)["cluster"]["arn"]
    assert trust[0]["Condition"] == {
        "StringEquals": {
            "aws:RequestTag/eks-cluster-arn": cluster_arn,
            "aws:RequestTag/kubernetes-namespace": "kube-system",
            "aws:RequestTag/kubernetes-service-account": "karpenter",
        }
    }
    sa = sb.kube().read_namespaced_service_account("karpenter", "kube-system")
    assert "eks.amazonaws.com/role-arn" not in (sa.metadata.annotations or {})
    assert controller_identity(sb) == "pod_identity"  # a new pod template: the controller restarts

    back = sb.playbook()
    assert back.rc == 0 and back.changed > 0, back
    assert eks.list_pod_identity_associations(clusterName=sb.cluster)["associations"] == []
    trust = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Action"] for s in trust] == ["sts:AssumeRoleWithWebIdentity"]
    sa = sb.kube().read_namespaced_service_account("karpenter", "kube-system")
    assert sa.metadata.annotations["eks.amazonaws.com/role-arn"].endswith(":role/" + role_name)
    assert controller_identity(sb) == "irsa"
    no_token_in(back)

"""API: access entries only; aws-auth is ignored. The playbook with no kubeconfig at all, and IRSA."""

from conftest import NODE_ROLE, no_token_in, node_role_arn

MODE = "API"


def test_aws_auth_is_refused_before_anything_is_written(sb):
    run = sb.playbook("karpenter_node_access=aws_auth", kubeconfig=False)
    assert run.rc != 0 and run.changed == 0, run
    assert "authentication mode is API" in run.out and "ignores the aws-auth ConfigMap" in run.out
    assert sb.client("cloudformation").list_stacks(StackStatusFilter=["CREATE_COMPLETE"])["StackSummaries"] == []


def test_a_node_role_without_an_entry_never_joins(sb):
    """Before the playbook ran, the node role has no access entry: its instances cannot authenticate."""
    iam = sb.client("iam")
    role = iam.create_role(RoleName="KarpenterNodeRole-" + sb.cluster, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    assert sb.join(role) == (401, None, 401)
    assert "no access entry for %s (authentication mode API ignores aws-auth)" % role in sb.webhook_log()
    iam.delete_role(RoleName="KarpenterNodeRole-" + sb.cluster)


def test_playbook_with_tokens_only_lets_nodes_in_through_an_access_entry(sb):
    first = sb.playbook(kubeconfig=False)
    assert first.rc == 0 and first.changed > 0, first
    again = sb.playbook(kubeconfig=False)
    assert again.rc == 0 and again.changed == 0, again
    for run in (first, again):
        no_token_in(run)
    # The cluster CA, kept once by the refused run above (karpenter_ca_cache_dir, conftest) and taken as it is since.
    assert len(list((sb.tmp / "eks-ca").glob("*.pem"))) == 1
    entry = sb.client("eks").describe_access_entry(clusterName=sb.cluster, principalArn=node_role_arn(sb))
    assert entry["accessEntry"]["type"] == "EC2_LINUX"
    status, user, created = sb.join(node_role_arn(sb))
    assert (status, created) == (201, 201) and "system:nodes" in user["groups"]
    # API mode: no aws-auth was written.
    names = [cm.metadata.name for cm in sb.kube().list_namespaced_config_map("kube-system").items]
    assert "aws-auth" not in names


def test_karpenter_nodes_join_through_the_access_entry(sb):
    """Just in time in API mode: the real controller (run by the sandbox for the chart's pods) launches,
    the node agent lets the instance in through the node role's EC2_LINUX access entry (aws-auth does
    not exist here)."""
    try:
        up = sb.playbook("inflate_replicas=2", "inflate_wait_timeout=180", name="inflate.yml")
        assert up.rc == 0, up
        core = sb.kube()
        nodes = {n.metadata.name for n in core.list_node(label_selector="karpenter.sh/nodepool=default").items}
        pods = core.list_namespaced_pod("default", label_selector="app=inflate").items
        assert nodes and len(pods) == 2 and {p.spec.node_name for p in pods} <= nodes
        log = (sb.state / "logs" / "node-agent.log").read_text()
        joined = "assumed-role/%s/i-" % NODE_ROLE.format(cluster=sb.cluster)
        assert joined in log and "joins as system:node:" in log and "(access_entry)" in log, log[-2000:]
    finally:
        # The controller keeps running: teardown's NodePool deletion needs it to remove its nodes,
        # as on a real cluster; it stops with the chart's pods.
        sb.playbook("inflate_state=absent", name="inflate.yml")


def test_aws_auth_alone_does_not_let_nodes_in(sb):
    eks = sb.client("eks")
    role = node_role_arn(sb)
    sb.kube().create_namespaced_config_map(
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
    assert sb.join(role) == (401, None, 401)


def test_teardown_with_tokens_only_removes_the_access_entry(sb):
    assert sb.playbook(kubeconfig=False).rc == 0  # the entry deleted above comes back
    eks = sb.client("eks")
    down = sb.playbook(kubeconfig=False, name="teardown.yml")
    assert down.rc == 0 and down.changed > 0, down
    again = sb.playbook(kubeconfig=False, name="teardown.yml")
    assert again.rc == 0 and again.changed == 0, again
    no_token_in(down)
    assert node_role_arn(sb) not in eks.list_access_entries(clusterName=sb.cluster)["accessEntries"]
    # The cluster CA, kept once by the refused run above (karpenter_ca_cache_dir, conftest) and taken as it is since.
    assert len(list((sb.tmp / "eks-ca").glob("*.pem"))) == 1

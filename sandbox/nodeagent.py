"""The sandbox's node agent: it plays the kubelet of every instance Karpenter launches.

    python -m sandbox.nodeagent --kubeconfig KUBECONFIG --pki-dir PKI --cluster demo --endpoint-url URL --region us-east-1

For each NodeClaim whose instance is running in the AWS emulator and has no Node yet, the agent
decides, as EKS does, whether the instance may join: the instance's role (from its instance
profile) calls as ``arn:aws:sts::<account>:assumed-role/<role name>/<instance id>``, and
``sandbox.authn`` maps that caller through the cluster's access entries and
``kube-system/aws-auth`` according to the cluster's authentication mode. The instance joins only
as a member of ``system:nodes`` whose username is ``system:node:<its private DNS name>``
(the Node authorizer lets a kubelet register only its own Node).

A joining instance's "kubelet" then talks to the API server as the identity EKS gave it: a client
certificate (signed by the sandbox's CA) for the mapped username and groups, so the API server's
Node authorizer decides what it may write. It registers a Node like the kubelet's: named after its private DNS name,
``providerID aws:///<zone>/<instance id>``, the NodeClaim's labels and taints plus the
``karpenter.sh/unregistered`` taint the kubelet registers with (Karpenter removes it), capacity
and allocatable of the instance type (as Karpenter computed them on the NodeClaim), and
``kwok.x-k8s.io/node: fake`` so that kwok keeps the Node Ready and runs its pods.

When the instance may not join, the Node is never created, so the NodeClaim never registers
(as on EKS) and the agent logs why, once per instance and reason.
"""

import argparse
import logging
import signal
import sys
import time
from pathlib import Path

import boto3
import botocore.exceptions
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from sandbox import authn, pki

log = logging.getLogger("node-agent")
UNREGISTERED_TAINT = {"key": "karpenter.sh/unregistered", "effect": "NoExecute"}
KUBELET_VERSION = "v1.36.3"


def node_for(claim, instance, kubelet_version=KUBELET_VERSION):
    """The Node a kubelet on ``instance`` registers for ``claim`` (both as the APIs return them)."""
    name = instance["PrivateDnsName"]
    zone = instance["Placement"]["AvailabilityZone"]
    labels = dict(claim["metadata"].get("labels") or {})
    labels.update(
        {
            "kubernetes.io/hostname": name,
            "node.kubernetes.io/instance-type": instance["InstanceType"],
            "topology.kubernetes.io/zone": zone,
            "topology.kubernetes.io/region": zone[:-1],
        }
    )
    labels.setdefault("kubernetes.io/os", "linux")
    taints = [dict(t) for t in (claim["spec"].get("taints") or []) + (claim["spec"].get("startupTaints") or [])]
    if not any(t["key"] == UNREGISTERED_TAINT["key"] for t in taints):
        taints.append(dict(UNREGISTERED_TAINT))
    status = claim.get("status") or {}
    arch = labels.get("kubernetes.io/arch", "amd64")
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
        },
        "spec": {"providerID": "aws:///%s/%s" % (zone, instance["InstanceId"]), "taints": taints},
        "status": {
            "capacity": dict(status.get("capacity") or {}),
            "allocatable": dict(status.get("allocatable") or {}),
            "addresses": [
                {"type": "InternalIP", "address": instance.get("PrivateIpAddress", "")},
                {"type": "InternalDNS", "address": name},
                {"type": "Hostname", "address": name},
            ],
            "nodeInfo": {
                "architecture": arch,
                "operatingSystem": "linux",
                "kubeletVersion": kubelet_version,
                "containerRuntimeVersion": "containerd://2.1.0",
                "osImage": "Amazon Linux 2023",
                "kernelVersion": "6.12.0",
                "machineID": "",
                "systemUUID": "",
                "bootID": "",
                "kubeProxyVersion": "",
            },
        },
    }


def join_decision(caller_arn, node_name, *, authentication_mode, aws_auth, access_entries):
    """(may join, reason, decision): the instance may register Node ``node_name`` only as that node, in system:nodes."""
    decision = authn.resolve(
        caller_arn,
        authentication_mode=authentication_mode,
        aws_auth=aws_auth,
        access_entries=access_entries,
        private_dns_name=node_name,
    )
    if not decision.allowed:
        return False, "%s is not authorised in the cluster: %s" % (caller_arn, decision.reason), decision
    if not decision.is_node:
        return (
            False,
            "%s maps to %s in groups %s, not system:nodes (%s)"
            % (caller_arn, decision.username, decision.groups, decision.source),
            decision,
        )
    if decision.username != "system:node:" + node_name:
        return (
            False,
            "%s maps to username %s, which may not register Node %s (Node authorizer)"
            % (caller_arn, decision.username, node_name),
            decision,
        )
    return True, "%s joins as %s (%s)" % (caller_arn, decision.username, decision.source), decision


class Agent(object):
    def __init__(self, kubeconfig, pki_dir, cluster, endpoint_url, region, interval=1.0):
        api = config.new_client_from_config(kubeconfig)
        self.server = api.configuration.host
        self.pki_dir = Path(pki_dir)
        self.creds = self.pki_dir.parent / "node-agent"
        self.core = client.CoreV1Api(api)
        self.custom = client.CustomObjectsApi(api)
        session = boto3.session.Session(region_name=region)
        self.ec2 = session.client("ec2", endpoint_url=endpoint_url)
        self.iam = session.client("iam", endpoint_url=endpoint_url)
        self.eks = session.client("eks", endpoint_url=endpoint_url)
        self.cluster = cluster
        self.interval = interval
        self.said = {}
        self.kubelet_version = client.VersionApi(api).get_code().git_version or KUBELET_VERSION

    def say(self, key, message, level=logging.INFO):
        if self.said.get(key) != message:
            self.said[key] = message
            log.log(level, message)

    def _cluster_identity(self):
        cluster = self.eks.describe_cluster(name=self.cluster)["cluster"]
        mode = (cluster.get("accessConfig") or {}).get("authenticationMode", "CONFIG_MAP")
        try:
            aws_auth = self.core.read_namespaced_config_map("aws-auth", "kube-system").data or {}
        except ApiException as e:
            if e.status != 404:
                raise
            aws_auth = None
        entries = []
        if mode != "CONFIG_MAP":
            paginator = self.eks.get_paginator("list_access_entries")
            for page in paginator.paginate(clusterName=self.cluster):
                for arn in page["accessEntries"]:
                    entries.append(
                        self.eks.describe_access_entry(clusterName=self.cluster, principalArn=arn)["accessEntry"]
                    )
        return mode, aws_auth, entries

    def kubelet_client(self, decision, node_name):
        """A CoreV1Api authenticated as ``decision``'s user and groups (a client certificate)."""
        cert, key = pki.client_credentials(self.pki_dir, decision.username, decision.groups)
        self.creds.mkdir(mode=0o700, parents=True, exist_ok=True)
        paths = self.creds / (node_name + ".crt"), self.creds / (node_name + ".key")
        paths[0].write_bytes(cert)
        paths[1].write_bytes(key)
        paths[1].chmod(0o600)
        conf = client.Configuration()
        conf.host = self.server
        conf.ssl_ca_cert = str(self.pki_dir / "ca.crt")
        conf.cert_file, conf.key_file = str(paths[0]), str(paths[1])
        return client.CoreV1Api(client.ApiClient(conf))

    def _instance_role(self, instance):
        profile_arn = (instance.get("IamInstanceProfile") or {}).get("Arn")
        if not profile_arn:
            return None
        profile = self.iam.get_instance_profile(InstanceProfileName=profile_arn.rsplit("/", 1)[-1])["InstanceProfile"]
        roles = profile.get("Roles") or []
        return roles[0] if roles else None

    def reconcile(self):
        claims = self.custom.list_cluster_custom_object("karpenter.sh", "v1", "nodeclaims")["items"]
        registered = {n.spec.provider_id for n in self.core.list_node().items if n.spec.provider_id}
        pending = [
            c
            for c in claims
            if (c.get("status") or {}).get("providerID")
            and not c["metadata"].get("deletionTimestamp")
            and c["status"]["providerID"] not in registered
        ]
        if not pending:
            return 0
        ids = {c["status"]["providerID"].rsplit("/", 1)[-1]: c for c in pending}
        instances = []
        for page in self.ec2.get_paginator("describe_instances").paginate(InstanceIds=sorted(ids)):
            for reservation in page["Reservations"]:
                instances.extend(reservation["Instances"])
        identity = None
        joined = 0
        for instance in instances:
            claim = ids[instance["InstanceId"]]
            key = instance["InstanceId"]
            where = "NodeClaim %s (instance %s)" % (claim["metadata"]["name"], instance["InstanceId"])
            if instance["State"]["Name"] != "running":
                continue
            role = self._instance_role(instance)
            if role is None:
                self.say(
                    key, "%s: not joining: the instance has no instance profile with a role" % where, logging.WARNING
                )
                continue
            account = role["Arn"].split(":")[4]
            partition = role["Arn"].split(":")[1]
            caller = "arn:%s:sts::%s:assumed-role/%s/%s" % (
                partition,
                account,
                role["RoleName"],
                instance["InstanceId"],
            )
            if identity is None:
                identity = self._cluster_identity()
            mode, aws_auth, entries = identity
            ok, reason, decision = join_decision(
                caller, instance["PrivateDnsName"], authentication_mode=mode, aws_auth=aws_auth, access_entries=entries
            )
            if not ok:
                self.say(key, "%s: not joining: %s" % (where, reason), logging.WARNING)
                continue
            body = node_for(claim, instance, self.kubelet_version)
            status = body.pop("status")
            kubelet = self.kubelet_client(decision, body["metadata"]["name"])
            try:
                kubelet.create_node(body)
            except ApiException as e:
                if e.status == 403:
                    self.say(
                        key,
                        "%s: the API server refused Node %s to %s: %s"
                        % (where, body["metadata"]["name"], decision.username, e.reason),
                        logging.WARNING,
                    )
                    continue
                if e.status != 409:
                    raise
            kubelet.patch_node_status(body["metadata"]["name"], {"status": status})
            self.say(key, "%s: Node %s registered; %s" % (where, body["metadata"]["name"], reason))
            joined += 1
        return joined

    def run(self):
        log.info("node agent for cluster %s watching NodeClaims", self.cluster)
        while True:
            try:
                self.reconcile()
            except (ApiException, botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError, OSError) as e:
                self.say("error", "reconcile failed: %s" % e, logging.ERROR)
            time.sleep(self.interval)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kubeconfig", required=True)
    p.add_argument("--pki-dir", required=True, help="the sandbox's CA (ca.crt, ca.key) signs each node's credentials")
    p.add_argument("--cluster", required=True)
    p.add_argument("--endpoint-url", required=True)
    p.add_argument("--region", required=True)
    p.add_argument("--interval", type=float, default=1.0)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(levelname)s %(message)s")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    Agent(args.kubeconfig, args.pki_dir, args.cluster, args.endpoint_url, args.region, args.interval).run()


if __name__ == "__main__":
    sys.exit(main())

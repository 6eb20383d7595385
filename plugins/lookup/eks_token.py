# -*- coding: utf-8 -*-
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: eks_token
version_added: 0.1.0
short_description: Bearer token for an EKS cluster's API server, without the AWS CLI
description:
  - >-
    Returns the same token as C(aws eks get-token): a presigned STS C(GetCallerIdentity) URL (GET, signature
    valid 60 seconds) whose signature also covers the header C(x-k8s-aws-id) set to the cluster name, encoded
    as C(k8s-aws-v1.) followed by the URL-safe base64 of the URL without padding.
  - The API server accepts the token for about 15 minutes after it was made. Make it in the play that uses it.
  - Presigning is local; only O(include_cluster=true) calls AWS (EKS C(DescribeCluster)).
  - >-
    The token is a credential. Pass it only to options that Ansible does not log (such as
    O(kubernetes.core.k8s#module:api_key)), and set C(no_log: true) on any task
    that shows it or stores it with C(set_fact).
author:
  - jit.karpenter maintainers (@jit-karpenter)
options:
  _terms:
    description:
      - The cluster name, as an alternative to O(cluster_name).
    type: list
    elements: str
  cluster_name:
    description:
      - Name of the EKS cluster the token is for. Required unless given as the term.
    type: str
  include_cluster:
    description:
      - When V(true), also read the cluster and return a dictionary with C(token), C(endpoint) and C(ca_data)
        instead of the token alone.
    type: bool
    default: false
  sts_endpoint_url:
    description:
      - STS endpoint to presign against, for example a regional or FIPS endpoint.
      - Defaults to O(endpoint_url) when given, otherwise to what boto3 resolves (it reads
        E(AWS_ENDPOINT_URL_STS) and E(AWS_ENDPOINT_URL)), otherwise to the regional STS endpoint.
    type: str
    env:
      - name: AWS_ENDPOINT_URL_STS
extends_documentation_fragment:
  - amazon.aws.boto3
  - amazon.aws.common.plugins
  - amazon.aws.region.plugins
notes:
  - The token proves the identity of the credentials that signed it; the cluster maps that identity to
    Kubernetes users and groups through access entries or the C(aws-auth) ConfigMap.
seealso:
  - name: aws eks get-token
    description: The AWS CLI command this lookup reproduces.
    link: https://docs.aws.amazon.com/cli/latest/reference/eks/get-token.html
"""

EXAMPLES = r"""
- name: Read a namespace with a token from the current AWS credentials
  kubernetes.core.k8s_info:
    host: "{{ cluster.cluster.endpoint }}"
    api_key: "{{ lookup('jit.karpenter.eks_token', cluster_name='prod-1', region='eu-west-1') }}"
    ca_cert: "{{ ca_file.path }}"
    kind: Namespace
    name: kube-system

- name: Token, endpoint and CA in one call; keep them out of the log
  ansible.builtin.set_fact:
    eks_access: "{{ lookup('jit.karpenter.eks_token', 'prod-1', include_cluster=true, profile='admin') }}"
  no_log: true

- name: Write the cluster CA for the Kubernetes modules
  ansible.builtin.copy:
    content: "{{ eks_access.ca_data | b64decode }}"
    dest: "{{ ca_file.path }}"
    mode: "0600"
"""

RETURN = r"""
_raw:
  description:
    - The token (a string starting with C(k8s-aws-v1.)), or, with O(include_cluster=true), a dictionary.
  type: list
  elements: raw
  contains:
    token:
      description: The bearer token.
      type: str
    endpoint:
      description: URL of the cluster's API server.
      type: str
    ca_data:
      description: Base64-encoded PEM of the cluster CA, as EKS returns it.
      type: str
"""

try:
    import botocore.exceptions
except ImportError:  # reported by AWSLookupBase.run
    pass

from ansible.errors import AnsibleLookupError

from ansible_collections.amazon.aws.plugins.plugin_utils.lookup import AWSLookupBase
from ansible_collections.jit.karpenter.plugins.module_utils._eks import describe_cluster
from ansible_collections.jit.karpenter.plugins.module_utils._eks_token import (
    cluster_access,
    get_token,
    pick_cluster_name,
)
from ansible_collections.jit.karpenter.plugins.module_utils._errors import KarpenterError


class LookupModule(AWSLookupBase):
    def run(self, terms, variables=None, **kwargs):
        super(LookupModule, self).run(terms, variables, **kwargs)
        cluster_name = None
        try:
            cluster_name = pick_cluster_name(terms, self.get_option("cluster_name"))
            sts_endpoint = self.get_option("sts_endpoint_url")
            sts = self.client("sts", endpoint=sts_endpoint) if sts_endpoint else self.client("sts")
            token = get_token(sts, cluster_name)
            if not self.get_option("include_cluster"):
                return [token]
            cluster = describe_cluster(self.client("eks"), cluster_name, self.region)
        except KarpenterError as err:
            raise AnsibleLookupError(err.msg)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as err:
            raise AnsibleLookupError("Making the EKS token for '{0}' failed: {1}".format(cluster_name, err))
        return [cluster_access(token, cluster)]

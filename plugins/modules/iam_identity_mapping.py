#!/usr/bin/python
# Copyright: jit.karpenter contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: iam_identity_mapping
short_description: Map an IAM role, user or account in the EKS aws-auth ConfigMap
version_added: 0.1.0
description:
  - Adds, updates or removes one identity mapping in the C(kube-system/aws-auth) ConfigMap of an
    Amazon EKS cluster, like C(eksctl create iamidentitymapping) and C(eksctl delete iamidentitymapping).
  - Entries are read as EKS reads them (aws-iam-authenticator), field names in any case (C(rolearn),
    C(roleARN), C(RoleArn)) and ARNs compared without regard to case. A key holding C("") or C('') has no entries.
  - Entries are merged by ARN (or account ID). The same ARN is never written twice; when it is
    already mapped with other content, that entry is updated in place, and further duplicates are removed.
  - Before writing, the whole new text is parsed again and every entry that was not touched must read exactly
    as before (also where the text uses YAML anchors and aliases). Otherwise the key is rendered again as a whole
    and checked the same way; if that fails too, nothing is written.
  - Only the text of the touched entry changes. Every other entry, comment and ConfigMap key is kept
    byte for byte. When the stored text cannot be edited in place, the key is rendered again as a whole
    and a warning says so.
  - The write carries the ConfigMap's C(resourceVersion). If another writer changed it in between
    (HTTP 409), the module reads it again, merges again and retries with bounded backoff, so concurrent
    runs do not lose each other's entries.
  - If any of C(mapRoles), C(mapUsers) or C(mapAccounts) does not parse, the module fails and writes nothing.
  - The ConfigMap is created when it does not exist.
options:
  arn:
    description:
      - ARN of the IAM role (C(arn:<partition>:iam::<account>:role/<name>)) or IAM user
        (C(arn:<partition>:iam::<account>:user/<name>)) to map. The type decides the key,
        C(mapRoles) or C(mapUsers).
      - An IAM path in a role ARN is removed, with a warning, because aws-auth matches role ARNs without it.
      - Exactly one of O(arn) and O(account) is required.
    type: str
  account:
    description:
      - AWS account ID (12 digits) to add to or remove from C(mapAccounts).
      - Exactly one of O(arn) and O(account) is required.
    type: str
  mapped_username:
    description:
      - Kubernetes user name the identity maps to, for example V(system:node:{{EC2PrivateDNSName}}) for node roles.
      - Omit it to keep the user name of an existing entry, or to write a new entry without one.
      - Not used with O(account) or O(state=absent).
    type: str
  groups:
    description:
      - Kubernetes groups of the identity, for example V(system:bootstrappers) and V(system:nodes) for node roles.
      - Groups already on the entry are kept and the missing ones added, unless O(purge_groups=true).
      - The order does not matter when comparing with the existing entry.
      - With O(state=present), at least one of O(mapped_username) and O(groups) is required.
      - Not used with O(account) or O(state=absent).
    type: list
    elements: str
  purge_groups:
    description:
      - Set the entry's groups to exactly O(groups), removing the others.
      - By default groups already on the entry (for example C(eks:kube-proxy-windows) on a Windows node role) are kept.
    type: bool
    default: false
  state:
    description:
      - V(present) adds the mapping or updates the existing one to match; V(absent) removes every entry for O(arn) or O(account).
      - EKS looks every ARN up in C(mapRoles) and then in C(mapUsers), so V(absent) also removes entries for O(arn)
        under the other key; V(present) warns about them.
    type: str
    choices: [present, absent]
    default: present
  force:
    description:
      - Write even when, afterwards, no C(mapRoles) or C(mapUsers) entry has the group C(system:nodes).
      - Without it the module fails in that case, because nodes that join through aws-auth could no longer join.
        Set it when nodes join through EKS access entries instead.
    type: bool
    default: false
  backup:
    description:
      - Before writing, save the previous C(data) as a ConfigMap C(<name>-backup-<UTC timestamp>) in the same namespace.
      - Its name is returned as RV(backup_name).
    type: bool
    default: false
  namespace:
    description:
      - Namespace of the ConfigMap. EKS reads only C(kube-system).
    type: str
    default: kube-system
  name:
    description:
      - Name of the ConfigMap. EKS reads only C(aws-auth).
    type: str
    default: aws-auth
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - jit.karpenter._attributes
  - jit.karpenter._attributes.all
notes:
  - Check mode computes the result and sends the write as a server-side dry run.
  - With C(--diff), the diff shows the touched entries before and after, not the whole ConfigMap.
  - AWS recommends EKS access entries over aws-auth on clusters that support them.
requirements:
  - kubernetes >= 24.2.0
  - PyYAML >= 6.0
seealso:
  - name: Grant IAM users and roles access to Kubernetes APIs
    description: The aws-auth ConfigMap in the Amazon EKS user guide.
    link: https://docs.aws.amazon.com/eks/latest/userguide/auth-configmap.html
author:
  - jit.karpenter maintainers (@jit-karpenter)
"""

EXAMPLES = r"""
- name: Let Karpenter's nodes join the cluster
  jit.karpenter.iam_identity_mapping:
    arn: "arn:aws:iam::111122223333:role/KarpenterNodeRole-demo"
    mapped_username: !unsafe "system:node:{{EC2PrivateDNSName}}"  # not a template
    groups:
      - system:bootstrappers
      - system:nodes

- name: Give an administrators role cluster-admin rights, keeping a backup of aws-auth
  jit.karpenter.iam_identity_mapping:
    arn: "arn:aws:iam::111122223333:role/platform/Admins"  # the path is removed
    mapped_username: admin
    groups: [system:masters]
    backup: true

- name: Remove a user mapping
  jit.karpenter.iam_identity_mapping:
    arn: "arn:aws:iam::111122223333:user/alice"
    state: absent

- name: Map every IAM identity of a partner account
  jit.karpenter.iam_identity_mapping:
    account: "444455556666"
"""

RETURN = r"""
identity_mapping:
  description:
    - The resulting entry, as stored; for O(account), a dictionary with the key C(account).
    - V(null) with O(state=absent).
  returned: always
  type: dict
  sample:
    rolearn: arn:aws:iam::111122223333:role/KarpenterNodeRole-demo
    username: "system:node:{{EC2PrivateDNSName}}"
    groups: [system:bootstrappers, system:nodes]
changes:
  description:
    - What changed, one item per entry. Empty when nothing changed.
    - Each item has C(action) (V(added), V(updated) or V(removed)) and C(arn) or C(account).
  returned: always
  type: list
  elements: dict
  sample:
    - action: added
      arn: arn:aws:iam::111122223333:role/KarpenterNodeRole-demo
backup_name:
  description: Name of the backup ConfigMap written before the change, V(null) when none was written.
  returned: always
  type: str
  sample: aws-auth-backup-20250101120000
"""

from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.jit.karpenter.plugins.module_utils._runner import run_module
from ansible_collections.jit.karpenter.plugins.module_utils._iam_identity_mapping import run
from ansible_collections.jit.karpenter.plugins.module_utils._kube import kube_argument_spec


def main():
    argument_spec = kube_argument_spec()
    argument_spec.update(
        arn={"type": "str"},
        account={"type": "str"},
        mapped_username={"type": "str"},
        groups={"type": "list", "elements": "str"},
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        force={"type": "bool", "default": False},
        purge_groups={"type": "bool", "default": False},
        backup={"type": "bool", "default": False},
        namespace={"type": "str", "default": "kube-system"},
        name={"type": "str", "default": "aws-auth"},
    )
    # kubernetes.core's module class: fails without the kubernetes library or PyYAML (both required here).
    run_module(
        AnsibleK8SModule,
        argument_spec,
        run,
        mutually_exclusive=[["arn", "account"], ["account", "mapped_username"], ["account", "groups"]],
        required_one_of=[["arn", "account"]],
    )


if __name__ == "__main__":
    main()

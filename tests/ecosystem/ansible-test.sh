#!/usr/bin/env bash
# Run ansible-test on the collection as built (the tarball's content) at an
# ansible_collections/jit/karpenter path, with amazon.aws and kubernetes.core beside it.
#
#   tests/ecosystem/ansible-test.sh sanity [args...]
#   tests/ecosystem/ansible-test.sh units [args...]
#
# VENV (default .venv-sanity) provides ansible-test and the pinned sanity requirements; the tests
# run with --local on that virtualenv's Python, so nothing is fetched but from PyPI at install time.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${VENV:-$ROOT/.venv-sanity}"
TREE="$ROOT/.build/ansible-test"
DEST="$TREE/ansible_collections/jit/karpenter"
PY="$VENV/bin/python"
export PATH="$VENV/bin:$PATH"
unset ANSIBLE_CONFIG ANSIBLE_COLLECTIONS_PATH PYTHONPATH

# ansible-test bootstraps pip in its per-test virtualenvs with a get-pip script from a host other
# than PyPI, cached in ~/.ansible/test/cache. Unless a copy is cached already, cache a stand-in
# that installs the same pip from PyPI.
PIP_VERSION="$("$PY" -c 'from ansible_test._internal.python_requirements import get_venv_packages as g
class P: version = "%d.%d" % __import__("sys").version_info[:2]
print(g(P)["pip"])')"
GET_PIP="$HOME/.ansible/test/cache/get_pip_${PIP_VERSION//./_}.py"
if [[ ! -s "$GET_PIP" ]] || grep -q "Stand-in for ansible-test" "$GET_PIP"; then
  mkdir -p "$(dirname "$GET_PIP")"
  cp "$ROOT/tests/ecosystem/get_pip_from_pypi.py" "$GET_PIP"
  # The current pip settings (index, certificates, wheel links), for the stand-in to pass on.
  "$PY" -m pip config list 2>/dev/null | "$PY" -c '
import re, sys
settings = {}
for line in sys.stdin:
    m = re.match(r"^[^.]*\.([a-z-]+)=(.*)$", line.strip())
    if m:
        settings[m.group(1)] = m.group(2).strip("\x27\"")
print("[global]")
for key, value in settings.items():
    print("%s = %s" % (key, value))
' > "$(dirname "$GET_PIP")/pip-settings.conf"
fi

rm -rf "$TREE"
mkdir -p "$TREE/dist" "$DEST"
ansible-galaxy collection build --force --output-path "$TREE/dist" "$ROOT" >/dev/null
tar -xzf "$TREE"/dist/jit-karpenter-*.tar.gz -C "$DEST"
rm -f "$DEST/MANIFEST.json" "$DEST/FILES.json"
cp "$ROOT/galaxy.yml" "$DEST/galaxy.yml"
# A repository of its own, so that ansible-test lists these files, not the enclosing checkout's.
git -C "$DEST" init -q

# The dependencies, from wherever this virtualenv's ansible-galaxy finds them.
ansible-galaxy collection list --format json 2>/dev/null | "$PY" -c '
import json, os, sys
tree = sys.argv[1]
found = {}
for path, cols in json.load(sys.stdin).items():
    for name in cols:
        found.setdefault(name, os.path.join(path, *name.split(".")))
for dep in ("amazon.aws", "kubernetes.core"):
    ns, coll = dep.split(".")
    os.makedirs(os.path.join(tree, "ansible_collections", ns), exist_ok=True)
    os.symlink(found[dep], os.path.join(tree, "ansible_collections", ns, coll))
' "$TREE"

cd "$DEST"
PYVER="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
exec ansible-test "$1" --local --python "$PYVER" --color no "${@:2}"

#!/usr/bin/env bash
# Lint the collection's docs, then build the HTML docsite: plugin and role reference from
# antsibull-docs, the README as the usage guide.
#
#   docs/sphinx/build.sh [OUT]      (default OUT: .build/docs; the site is OUT/html)
#
# Needs the tools of requirements-ecosystem.txt on PATH. jit.karpenter and its dependencies are
# linked into OUT/collections, found where `ansible-galaxy collection list` finds them.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="$(mkdir -p "${1:-$ROOT/.build/docs}" && cd "${1:-$ROOT/.build/docs}" && pwd)"
HERE="$ROOT/docs/sphinx"

# A collections tree with only this collection and its dependencies (fast, reproducible).
rm -rf "$OUT/collections"
ANSIBLE_COLLECTIONS_PATH="${ANSIBLE_COLLECTIONS_PATH:-}" ansible-galaxy collection list --format json 2>/dev/null \
  | python3 -c '
import json, os, sys
root, out = sys.argv[1], sys.argv[2]
found = {}
for path, cols in json.load(sys.stdin).items():
    for name in cols:
        found.setdefault(name, os.path.join(path, *name.split(".")))
links = {"jit.karpenter": root}
for dep in ("amazon.aws", "kubernetes.core"):
    if dep not in found:
        sys.exit("docs: collection %s not found" % dep)
    links[dep] = found[dep]
for name, target in links.items():
    ns, coll = name.split(".")
    os.makedirs(os.path.join(out, "ansible_collections", ns), exist_ok=True)
    os.symlink(target, os.path.join(out, "ansible_collections", ns, coll))
' "$ROOT" "$OUT/collections"
export ANSIBLE_COLLECTIONS_PATH="$OUT/collections" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
unset ANSIBLE_CONFIG

echo "docs: antsibull-docs lint-collection-docs"
(cd "$OUT/collections/ansible_collections/jit/karpenter" &&
  antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs all --check-extra-docs-refs .)

echo "docs: building"
rm -rf "$OUT/rst" "$OUT/html"
mkdir -p "$OUT/rst"
chmod 700 "$OUT/rst"   # antsibull-docs wants the directory writable only by its owner
antsibull-docs --config-file "$HERE/antsibull-docs.cfg" collection --use-current \
  --cleanup everything --dest-dir "$OUT/rst" jit.karpenter
cp "$HERE/index.rst" "$OUT/rst/index.rst"
cp "$ROOT/README.md" "$OUT/rst/guide.md"
sphinx-build -q -b html -c "$HERE" -W --keep-going "$OUT/rst" "$OUT/html"
echo "docs: $OUT/html/index.html"

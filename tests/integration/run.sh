#!/usr/bin/env bash
# Run the integration targets (all, or the ones named) against the sandbox, then the
# pytest integration tests. Every target runs through the same wrapper playbook, with
# the sandbox's vars file. Prints one line per target and a final "N passed, M failed".
#
#   tests/integration/run.sh [target ...]
#
# With no arguments it runs every target and then pytest; name "pytest" to run the
# pytest integration tests alongside named targets.
# INTEGRATION_VARS overrides the vars file (default .sandbox/vars.yml).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT" || exit 2

TARGETS_DIR=tests/integration/targets
VARS_FILE="${INTEGRATION_VARS:-.sandbox/vars.yml}"
BIN="${VENV_BIN:-$ROOT/.venv/bin}"

if [[ -z "${AWS_ENDPOINT_URL:-}" && -f .sandbox/env ]]; then
  set -a
  # shellcheck disable=SC1091
  . .sandbox/env
  set +a
fi
if [[ ! -f "$VARS_FILE" ]]; then
  echo "error: $VARS_FILE not found; start the sandbox first (make sandbox)" >&2
  exit 2
fi

export ANSIBLE_COLLECTIONS_PATH="${ANSIBLE_COLLECTIONS_PATH:-$ROOT/.build/collections}"
if [[ ! -d "$ROOT/.build/collections/ansible_collections/jit/karpenter/plugins" ]]; then
  echo "error: the collection is not linked under .build/collections; run make link" >&2
  exit 2
fi
export ANSIBLE_CONFIG="${ANSIBLE_CONFIG:-$ROOT/ansible.cfg}"
export PYTHONPATH="${PYTHONPATH:-$ROOT}"
export ANSIBLE_ROLES_PATH="$ROOT/$TARGETS_DIR"
export ANSIBLE_FORCE_COLOR="${ANSIBLE_FORCE_COLOR:-false}"

run_pytest=true
if (($#)); then
  run_pytest=false
  targets=()
  for t in "$@"; do
    if [[ "$t" == pytest ]]; then run_pytest=true; else targets+=("${t%/}"); fi
  done
else
  targets=()
  for d in "$TARGETS_DIR"/*/; do
    targets+=("$(basename "$d")")
  done
fi

passed=0
failed=0
summary=()
start_all=$SECONDS

for t in ${targets[@]+"${targets[@]}"}; do
  if [[ ! -d "$TARGETS_DIR/$t/tasks" ]]; then
    summary+=("FAIL  $t (no such target)")
    failed=$((failed + 1))
    continue
  fi
  echo "=== target $t"
  start=$SECONDS
  if "$BIN/ansible-playbook" -i localhost, tests/integration/target.yml \
      -e @"$VARS_FILE" -e integration_target="$t"; then
    summary+=("PASS  $t ($((SECONDS - start))s)")
    passed=$((passed + 1))
  else
    summary+=("FAIL  $t ($((SECONDS - start))s)")
    failed=$((failed + 1))
  fi
done

if $run_pytest; then
  echo "=== pytest tests/integration/pytest"
  start=$SECONDS
  if "$BIN/pytest" -q tests/integration/pytest; then
    summary+=("PASS  pytest tests/integration/pytest ($((SECONDS - start))s)")
    passed=$((passed + 1))
  else
    summary+=("FAIL  pytest tests/integration/pytest ($((SECONDS - start))s)")
    failed=$((failed + 1))
  fi
fi

echo
echo "=== summary ($((SECONDS - start_all))s)"
printf '%s\n' "${summary[@]}"
echo "$passed passed, $failed failed"
((failed == 0))

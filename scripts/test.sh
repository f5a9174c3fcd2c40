#!/usr/bin/env bash
# The one test command: builds the workspace (profile `ci`), runs every cargo test
# (integration tests spawn the binary it built), the Python end-to-end tests with
# the official Python client, the official Rust client's own test suite, and the
# nemesis tests that need the server's fault-injection build (docs/jepsen.md).
#
# Stops at the first runner that fails. Prints each runner's summary line and, at
# the very end, one line `N passed, M failed` summing all of them.
#
# Usage: bash scripts/test.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TERM_COLOR=never
LOG_DIR="$(mktemp -d /tmp/aerie-test.XXXXXX)"

PASSED=0
FAILED=0

say() { printf '\n== %s\n' "$*"; }

finish() {
  if [[ "$1" -eq 0 ]]; then
    rm -rf "$LOG_DIR"
  else
    echo "logs: $LOG_DIR" >&2
  fi
  echo
  echo "$PASSED passed, $FAILED failed"
  exit "$1"
}

# Adds up every libtest `test result:` line of a log.
count_cargo() {
  local log="$1" p f
  p="$( (grep -E '^test result: ' "$log" || true) | sed -E 's/.* ([0-9]+) passed.*/\1/' | awk '{s+=$1} END {print s+0}')"
  f="$( (grep -E '^test result: ' "$log" || true) | sed -E 's/.* ([0-9]+) failed.*/\1/' | awk '{s+=$1} END {print s+0}')"
  PASSED=$((PASSED + p))
  FAILED=$((FAILED + f))
  grep -E '^test result: ' "$log" | tail -n 1 || true
  echo "cargo totals: $p passed, $f failed"
}

# Adds up pytest's closing line (`3 failed, 10 passed, 1 skipped in 2.1s`).
count_pytest() {
  local log="$1" last p f e
  last="$(grep -E '[0-9]+ (passed|failed|error|errors)' "$log" | tail -n 1 || true)"
  p="$(grep -oE '[0-9]+ passed' <<<"$last" | grep -oE '[0-9]+' || echo 0)"
  f="$(grep -oE '[0-9]+ failed' <<<"$last" | grep -oE '[0-9]+' || echo 0)"
  e="$(grep -oE '[0-9]+ errors?' <<<"$last" | grep -oE '[0-9]+' || echo 0)"
  PASSED=$((PASSED + p))
  FAILED=$((FAILED + f + e))
}

# --- 1. build -----------------------------------------------------------------
say "cargo build --profile ci --workspace"
cargo build --profile ci --workspace
export AERIE_BIN="$ROOT/target/ci/aerie"
if [[ ! -x "$AERIE_BIN" ]]; then
  echo "no server binary at $AERIE_BIN after the build" >&2
  finish 1
fi

# --- 2. cargo tests -------------------------------------------------------------
say "cargo test --workspace --profile ci --no-fail-fast"
set +e
cargo test --workspace --profile ci --no-fail-fast 2>&1 | tee "$LOG_DIR/cargo-test.log"
status=${PIPESTATUS[0]}
set -e
count_cargo "$LOG_DIR/cargo-test.log"
if [[ "$status" -ne 0 ]]; then
  echo "cargo test failed (exit $status)" >&2
  [[ "$FAILED" -gt 0 ]] || FAILED=$((FAILED + 1)) # a build error fails without a count
  finish 1
fi

# --- 3. Python end-to-end tests ---------------------------------------------------
# Each run has its own virtual environment with pinned versions (tests/python/requirements*.txt):
# the current official client for the whole suite, and the oldest release users still run
# (19.0) for the tests marked `client_19_0`.
run_pytest() {
  local label="$1" requirements="$2"
  shift 2
  local venv
  venv="$(bash "$ROOT/scripts/py-env.sh" "$label" "$requirements")"
  say "pytest ($label: $(grep -E '^aerospike==' "$requirements"))"
  set +e
  "$venv/bin/python" -m pytest -q -p no:cacheprovider "$@" 2>&1 | tee "$LOG_DIR/pytest-$label.log"
  status=${PIPESTATUS[0]}
  set -e
  count_pytest "$LOG_DIR/pytest-$label.log"
  if [[ "$status" -ne 0 ]]; then
    echo "pytest ($label) failed (exit $status)" >&2
    [[ "$FAILED" -gt 0 ]] || FAILED=$((FAILED + 1))
    finish 1
  fi
}
run_pytest main tests/python/requirements.txt tests/python
run_pytest client-19.0 tests/python/requirements-client-19.0.txt -m client_19_0 tests/python

# --- 4. the official Rust client's own suite ------------------------------------
say "scripts/client-suite.sh"
set +e
bash "$ROOT/scripts/client-suite.sh" 2>&1 | tee "$LOG_DIR/client-suite.log"
status=${PIPESTATUS[0]}
set -e
count_cargo "$LOG_DIR/client-suite.log" >/dev/null
if [[ "$status" -ne 0 ]]; then
  echo "client suite failed (exit $status)" >&2
  [[ "$FAILED" -gt 0 ]] || FAILED=$((FAILED + 1))
  finish 1
fi

# --- 5. nemesis tests that need the server's fault seams ------------------------------
# Last on purpose: building `aerie-server --features fault-injection` replaces target/ci/aerie
# (the next plain build restores it). AERIE_BIN is dropped so the tests spawn that build.
say "cargo test --profile ci -p aerie-server --features fault-injection --test it -- nemesis_fault"
set +e
env -u AERIE_BIN cargo test --profile ci -p aerie-server --features fault-injection --test it \
  -- nemesis_fault 2>&1 | tee "$LOG_DIR/nemesis-fault.log"
status=${PIPESTATUS[0]}
set -e
count_cargo "$LOG_DIR/nemesis-fault.log"
if [[ "$status" -ne 0 ]]; then
  echo "nemesis fault tests failed (exit $status)" >&2
  [[ "$FAILED" -gt 0 ]] || FAILED=$((FAILED + 1))
  finish 1
fi

finish 0

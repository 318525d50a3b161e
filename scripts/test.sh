#!/usr/bin/env bash
# carnet's test command (the README's, and CI's: .ci/run runs this script).
#
#   1. scripts/setup-interop.sh     third-party tools in .tools/ (idempotent, fast when up to date)
#   2. scripts/ensure-postgres.sh   PostgreSQL on 127.0.0.1:5432, database `test`
#   3. cargo fmt --all -- --check
#   4. cargo clippy --all-targets -- -D warnings
#   5. cargo test --all-targets     SQLite and PostgreSQL backends, interop tests included
#   6. scripts/schemathesis.sh      schemathesis against the OpenAPI document carnet serves, on a
#                                   live target/debug/carnet: no 5xx, every response as documented
#   7. tests/interop/selftest.sh    the interop scripts against third-party samples (../shared)
#
# env: TEST_DATABASE_URL      default postgres://postgres@127.0.0.1:5432/test
#      CARNET_SKIP_POSTGRES=1 skip PostgreSQL (the storage tests then run on SQLite only)
#      CARNET_SKIP_INTEROP=1  skip the interop tests (tests/interop.rs)
#      CARNET_SKIP_SCHEMATHESIS=1  skip the schemathesis step
# No release builds here: everything is a debug build, to stay fast.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

TIMINGS=()
CURRENT=""
STARTED=0

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

step() {
  CURRENT="$1"
  STARTED="$(now)"
  printf '\n==== %s\n' "$CURRENT"
}

done_step() {
  local t
  t="$(elapsed "$STARTED")"
  TIMINGS+=("$(printf '%7ss  %s' "$t" "$CURRENT")")
  printf '==== %s: ok (%ss)\n' "$CURRENT" "$t"
  CURRENT=""
}

summary() {
  local rc=$?
  if [ "${#TIMINGS[@]}" -gt 0 ]; then
    printf '\n==== timings\n'
    printf '%s\n' "${TIMINGS[@]}"
  fi
  if [ "$rc" != 0 ]; then
    if [ -n "$CURRENT" ]; then
      printf '\n==== FAILED: %s (exit %s, after %ss)\n' "$CURRENT" "$rc" "$(elapsed "$STARTED")" >&2
    else
      printf '\n==== FAILED (exit %s)\n' "$rc" >&2
    fi
  else
    printf '\n==== all steps passed\n'
  fi
}
trap summary EXIT

step "setup interop tools (scripts/setup-interop.sh)"
scripts/setup-interop.sh
done_step

step "PostgreSQL (scripts/ensure-postgres.sh)"
if [ "${CARNET_SKIP_POSTGRES:-}" = 1 ]; then
  echo "SKIP postgres: CARNET_SKIP_POSTGRES=1 - the storage tests run on SQLite only"
  unset TEST_DATABASE_URL
else
  scripts/ensure-postgres.sh
  export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
  echo "TEST_DATABASE_URL=$TEST_DATABASE_URL"
fi
done_step

step "cargo fmt --all -- --check"
cargo fmt --all -- --check
done_step

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings
done_step

step "cargo test --all-targets"
cargo test --all-targets
done_step

step "schemathesis against the OpenAPI document (scripts/schemathesis.sh)"
if [ "${CARNET_SKIP_SCHEMATHESIS:-}" = 1 ]; then
  echo "SKIP schemathesis: CARNET_SKIP_SCHEMATHESIS=1"
else
  scripts/schemathesis.sh
fi
done_step

step "interop selftest (tests/interop/selftest.sh)"
tests/interop/selftest.sh
done_step

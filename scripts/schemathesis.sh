#!/usr/bin/env bash
# schemathesis against carnet's own OpenAPI document (src/http/openapi.json), on a live server:
# no 5xx, and every response (status, content type, headers, body) as the document says.
#
#   1. target/debug/carnet (built by `cargo test --all-targets`; `cargo build --bin carnet`
#      only if it is missing), serving on 127.0.0.1 and a free port, from a temporary data
#      directory: SQLite database, fresh issuer keys, the repository's badge classes, one API
#      token; the settings of the HTTP tests (tests/integration/common/server.rs), plus an
#      issuer email so that awards carry their OB 2.0 assertion too; referentiels/rectec.json
#      imported through the API (the document's carnet examples use it)
#   2. `st run` (.tools/venv-schemathesis, installed by scripts/setup-interop.sh) on
#      /api/v1/openapi.json with the bearer token: every phase (examples, coverage, fuzzing,
#      stateful), a bounded number of cases per operation, a fixed seed, no example database
#   3. the server is stopped (SIGTERM) whatever happens; its log is kept in
#      target/schemathesis/server.log, schemathesis' JUnit report beside it
#
# Exits non-zero when schemathesis reports a failure or an error, or the server does not start.
#
# env: CARNET_BIN                   the carnet binary (default target/debug/carnet)
#      SCHEMATHESIS_MAX_EXAMPLES    cases per operation in the fuzzing phase (default 50)
#      SCHEMATHESIS_SEED            the seed (default 20240601)
#      SCHEMATHESIS_WORKERS         concurrent workers (default 2)
#      SCHEMATHESIS_STATEFUL_SCENARIOS, SCHEMATHESIS_STATEFUL_STEPS
#                                   stateful phase: scenarios (default 100) of at most so many
#                                   linked calls (default 12)
#      SCHEMATHESIS_SCHEMA          the document to test against (default: the one the server
#                                   serves; src/http/openapi.json tries an edit without a rebuild)
# Extra arguments are passed to `st run` (e.g. --include-operation-id=createAward).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

BIN="${CARNET_BIN:-$ROOT/target/debug/carnet}"
ST="$ROOT/.tools/venv-schemathesis/bin/st"
OUT="$ROOT/target/schemathesis"
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-50}"
SEED="${SCHEMATHESIS_SEED:-20240601}"
WORKERS="${SCHEMATHESIS_WORKERS:-2}"
STATEFUL_SCENARIOS="${SCHEMATHESIS_STATEFUL_SCENARIOS:-100}"
STATEFUL_STEPS="${SCHEMATHESIS_STATEFUL_STEPS:-12}"
# 32 characters, as in the HTTP tests; this server lives for one run, on 127.0.0.1
TOKEN="0123456789abcdefghijklmnopqrstuv"

say() { printf 'schemathesis: %s\n' "$*"; }
die() { printf 'schemathesis: ERROR: %s\n' "$*" >&2; exit 1; }

if [ ! -x "$BIN" ]; then
  say "$BIN is missing: cargo build --bin carnet"
  cargo build --bin carnet
  [ -x "$BIN" ] || die "$BIN is still missing after cargo build"
fi
if [ ! -x "$ST" ]; then
  say "$ST is missing: scripts/setup-interop.sh --python-only"
  scripts/setup-interop.sh --python-only
  [ -x "$ST" ] || die "$ST is still missing after scripts/setup-interop.sh"
fi

DIR="$(mktemp -d "${TMPDIR:-/tmp}/carnet-schemathesis.XXXXXX")"
SERVER_PID=""
cleanup() {
  local rc=$?
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    # a graceful stop finishes the requests under way; give it 10 s
    for _ in $(seq 1 100); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ -f "$DIR/server.log" ]; then
    mkdir -p "$OUT"
    cp "$DIR/server.log" "$OUT/server.log"
    if [ "$rc" != 0 ]; then
      say "the server's log is in $OUT/server.log; its errors:"
      grep -E '(ERROR|WARN)' "$OUT/server.log" | tail -n 20 >&2 || true
    fi
  fi
  rm -rf "$DIR"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A free port: the kernel picks one, the server binds it a moment later (retried if taken).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start_server() {
  local port="$1"
  BASE="http://127.0.0.1:$port"
  NO_COLOR=1 "$BIN" serve \
    --bind "127.0.0.1:$port" \
    --base-url "$BASE" \
    --database-url "sqlite://$DIR/carnet.db" \
    --keys-dir "$DIR/keys" \
    --badge-classes-dir "$ROOT/badge-classes" \
    --issuer-name "IME Les Tilleuls" \
    --issuer-email "contact@ime-les-tilleuls.example" \
    --api-tokens "schemathesis:$TOKEN" \
    --fetch-allow-http 127.0.0.1 \
    --fetch-allow-addresses 127.0.0.1 \
    --verify-rate-per-minute 0 \
    >>"$DIR/server.log" 2>&1 &
  SERVER_PID=$!
  # up to 60 s: the first start generates the issuer's keys
  for _ in $(seq 1 600); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      wait "$SERVER_PID" 2>/dev/null || true
      SERVER_PID=""
      return 1
    fi
    if curl -fsS -o /dev/null --max-time 2 "$BASE/health" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  die "carnet did not answer $BASE/health within 60 s (log: $DIR/server.log)"
}

started=0
for _ in 1 2 3; do
  port="$(free_port)"
  if start_server "$port"; then
    started=1
    break
  fi
  say "carnet did not start on port $port, trying another"
done
if [ "$started" != 1 ]; then
  cat "$DIR/server.log" >&2 || true
  die "carnet did not start"
fi
say "$("$BIN" --version 2>/dev/null | head -n1 || echo carnet) on $BASE (data in $DIR)"

# The RECTEC référentiel shipped in referentiels/, which the document's carnet examples use (and the
# badge class organiser-mon-activite-en-cuisine recognises): carnets, their proposals and their
# confirmations are then reached with real data, not only their 404s.
code="$(curl -sS -o "$DIR/seed.json" -w '%{http_code}' --max-time 60 \
  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  --data-binary @"$ROOT/referentiels/rectec.json" "$BASE/api/v1/referentiels")"
[ "$code" = 201 ] || die "importing referentiels/rectec.json answered $code: $(cat "$DIR/seed.json")"

# Longer scenarios for the stateful phase, which follows the document's links (an award, then
# its revocation and its endorsement invitations; a badge request, its evidence, its share links...).
cat >"$DIR/schemathesis.toml" <<TOML
[phases.stateful]
max-steps = ${STATEFUL_STEPS}

[phases.stateful.generation]
max-examples = ${STATEFUL_SCENARIOS}
TOML

mkdir -p "$OUT"
SCHEMA="${SCHEMATHESIS_SCHEMA:-$BASE/api/v1/openapi.json}"
[ -f "$SCHEMA" ] && SCHEMA="$(cd "$(dirname "$SCHEMA")" && pwd)/$(basename "$SCHEMA")"
# run from $OUT: schemathesis keeps its cache (`st replay ID`) in ./.schemathesis
cd "$OUT"
# NO_COLOR: plain output in CI logs; the example database is off so that a run depends only
# on the seed, not on failures found by earlier runs.
# `timeout`: a server that stops answering fails the step instead of holding it (each request
# would wait --request-timeout).
st_rc=0
NO_COLOR=1 timeout 900 "$ST" --config-file "$DIR/schemathesis.toml" run "$SCHEMA" \
  --url "$BASE" \
  --header "Authorization: Bearer $TOKEN" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --max-examples "$MAX_EXAMPLES" \
  --seed "$SEED" \
  --generation-database none \
  --workers "$WORKERS" \
  --request-timeout 30 \
  --report junit \
  --report-junit-path "$OUT/junit.xml" \
  --no-color \
  "$@" || st_rc=$?

# The server must still be up and answering after all that.
if ! curl -fsS -o /dev/null --max-time 10 "$BASE/health"; then
  die "carnet no longer answers $BASE/health after the run (see $OUT/server.log)"
fi
[ "$st_rc" = 124 ] && die "schemathesis did not finish within 15 minutes"
exit "$st_rc"

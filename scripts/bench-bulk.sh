#!/usr/bin/env bash
# Benchmark of bulk awards (issue #5 §11): one CSV of N recipients for one badge class through
# `carnet bulk issue`, each award in both versions: the OB 3.0 credential signed (Data Integrity
# eddsa-rdfc-2022) and the OB 2.0 hosted assertion, stored with its status slot; its RS256 forms
# (VC-JWT, OB 2.0 signed JWS) are signed on their first download, and its images baked on
# download: their cost is printed at the end (`carnet bench`). On SQLite (a fresh file), then on
# PostgreSQL (a fresh database `carnet_bench` on $BENCH_PG, default 127.0.0.1:5432, skipped when
# no server answers). Then the same file again, which must issue nothing. Then the crash test at
# full size: a fresh SQLite batch killed (SIGKILL) after KILL_AFTER seconds (default 4), resumed,
# and checked: every row issued exactly once, as many awards stored as rows. Not part of the tests.
#   scripts/bench-bulk.sh [ROWS]     (default 10000; BENCH_NO_BUILD=1 uses the release binary as built)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-10000}
pg=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
[ -n "${BENCH_NO_BUILD:-}" ] || cargo build --release --quiet
bin=$(realpath "${CARGO_TARGET_DIR:-target}")/release/carnet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$rows" > "$work/rows.csv" <<'PY'
import sys
print("email;name;narrative")
for i in range(int(sys.argv[1])):
    print(f"personne.{i}@example.org;Personne {i};J'ai suivi les consignes de sécurité à l'atelier {i % 7}.")
PY
export CARNET_KEYS_DIR="$work/keys" CARNET_ISSUER_EMAIL=contact@ime.example.org RUST_LOG=warn
echo "== machine"
echo "$(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
run() { # backend url
  local started ended
  started=$(date +%s.%N)
  CARNET_DATABASE_URL=$2 "$bin" bulk issue --badge-class securite-hygiene-au-travail "$work/rows.csv" \
    > "$work/out.txt" 2>/dev/null || { cat "$work/out.txt"; exit 1; }
  ended=$(date +%s.%N)
  local issued; issued=$(grep -E '^\s+issued:' "$work/out.txt" | awk '{print $2}')
  local already; already=$(grep -E '^\s+already issued:' "$work/out.txt" | awk '{print $3}')
  printf '%-10s %6s rows: %6.2f s (issued %s, already %s)\n' "$1" "$rows" \
    "$(echo "$ended - $started" | bc)" "$issued" "$already"
}
echo "== bulk issue (wall time of the whole command: read, check, seal and store the job, issue, mark)"
run sqlite "sqlite://$work/carnet.db"
run "sqlite rerun" "sqlite://$work/carnet.db"
echo "== killed after ${KILL_AFTER:-4} s, then resumed (SQLite)"
db="sqlite://$work/killed.db"
CARNET_DATABASE_URL=$db "$bin" bulk issue --badge-class securite-hygiene-au-travail "$work/rows.csv" \
  > "$work/killed.txt" 2>/dev/null & child=$!
sleep "${KILL_AFTER:-4}"; kill -9 "$child"; wait "$child" 2>/dev/null || true
job=$(head -1 "$work/killed.txt" | awk '{print $2}')
CARNET_DATABASE_URL=$db "$bin" bulk status --json "$job" > "$work/status.json"
python3 - "$work/status.json" <<'PY'
import json, sys
job = json.load(open(sys.argv[1]))
c = job["counts"]
print(f"at the kill: state {job['state']}, issued {c['issued']}, pending {c['pending']}")
PY
started=$(date +%s.%N)
CARNET_DATABASE_URL=$db "$bin" bulk resume "$job" > "$work/resumed.txt" 2>/dev/null
ended=$(date +%s.%N)
CARNET_DATABASE_URL=$db "$bin" bulk status --json "$job" > "$work/status.json"
CARNET_DATABASE_URL=$db "$bin" awards list --json > "$work/awards.json"
python3 - "$work/status.json" "$work/awards.json" "$rows" "$(echo "$ended - $started" | bc)" <<'PY'
import json, sys
job = json.load(open(sys.argv[1])); awards = json.load(open(sys.argv[2])); rows = int(sys.argv[3])
c = job["counts"]
ids = [a["id"] for a in awards]
ok = job["state"] == "done" and c["issued"] + c["already"] == rows and c["failed"] == 0 \
    and len(ids) == rows and len(set(ids)) == rows
print(f"resumed in {float(sys.argv[4]):.2f} s: state {job['state']}, issued {c['issued']}, already {c['already']}, "
      f"errors {c['failed']}; awards stored {len(ids)} ({len(set(ids))} distinct): {'OK' if ok else 'WRONG'}")
sys.exit(0 if ok else 1)
PY
if pg_isready -q -d "$pg/postgres" 2>/dev/null; then
  psql -q "$pg/postgres" -c 'DROP DATABASE IF EXISTS carnet_bench' -c 'CREATE DATABASE carnet_bench'
  run postgres "$pg/carnet_bench"
  run "pg rerun" "$pg/carnet_bench"
  psql -q "$pg/postgres" -c 'DROP DATABASE IF EXISTS carnet_bench'
else
  echo "postgres: no server answers at $pg, skipped"
fi
echo "== what a download adds (carnet bench): an RS256 signature the first time, baking each time"
"$bin" bench --iterations 200 2>/dev/null | grep -E "VC-JWT RS256 only|bake PNG \\(" || true
echo "openssl speed rsa2048 (sign time on this machine now): $(openssl speed -seconds 1 rsa2048 2>/dev/null | tail -1 | awk '{print $4}')"

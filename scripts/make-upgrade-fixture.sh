#!/usr/bin/env bash
# Makes the upgrade fixture (tests/fixtures/upgrade/, read by tests/integration/upgrade.rs): the
# data of an instance made by an EARLIER release, so that the tests prove a database and key
# directory made by that release open under this one and that its badges still verify.
#
#   scripts/make-upgrade-fixture.sh CARNET_BINARY_OF_THAT_RELEASE RELEASE_NAME
#
# It runs `carnet demo` (fictional people, example.org addresses) against SQLite and against a
# PostgreSQL schema (TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test), then
# `carnet serve` to download every award's published forms as that release served them (the
# RS256 forms are signed on their first download), and keeps:
#   test-only-issuer-keys/  the issuer's key files (throw-away keys made for this fixture only)
#   sqlite/carnet.db    the SQLite database
#   postgres.sql        the PostgreSQL schema's dump (plain SQL, no owner)
#   sqlite/awards.json, postgres/awards.json   every award: id, state, and its documents
#   sqlite/issued/, postgres/issued/           the documents, byte for byte (one valid award's
#                                              RS256 forms are left to be signed after the upgrade)
set -euo pipefail
BIN="$(realpath "${1:?usage: make-upgrade-fixture.sh CARNET_BINARY RELEASE_NAME}")"
RELEASE="${2:?usage: make-upgrade-fixture.sh CARNET_BINARY RELEASE_NAME}"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT="tests/fixtures/upgrade"
PG="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
SCHEMA=carnet_upgrade_fixture
rm -rf "$OUT/test-only-issuer-keys" "$OUT/sqlite" "$OUT/postgres" "$OUT/postgres.sql"
mkdir -p "$OUT/test-only-issuer-keys" "$OUT/sqlite/issued" "$OUT/postgres/issued"

export CARNET_BASE_URL="https://badges.ime-exemple.example.org"
export CARNET_ISSUER_NAME="IME Les Tilleuls (fictif)"
export CARNET_ISSUER_EMAIL="contact@ime-exemple.example.org"
export CARNET_ISSUER_URL="https://ime-exemple.example.org"
export CARNET_KEYS_DIR="$OUT/test-only-issuer-keys"
export CARNET_BADGE_CLASSES_DIR="badge-classes"
export CARNET_API_TOKENS="fixture:$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"

psql -q "$PG" -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE; CREATE SCHEMA $SCHEMA;"

run_backend() { # NAME DATABASE_URL
  local name="$1" url="$2" port log pid
  export CARNET_DATABASE_URL="$url"
  "$BIN" demo >/dev/null
  port=$((20000 + RANDOM % 20000))
  log="$(mktemp)"
  CARNET_BIND="127.0.0.1:$port" "$BIN" serve >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.2; done
  "$BIN" awards list --json >"$OUT/$name/awards-list.json"
  python3 - "$OUT/$name" "http://127.0.0.1:$port" <<'PY'
import json, sys, urllib.request
out, base = sys.argv[1], sys.argv[2]
listing = json.load(open(f"{out}/awards-list.json"))
awards = listing["awards"] if isinstance(listing, dict) else listing
kept = []
# One award's RS256 forms are left unsigned (they are signed on their first download): the
# upgraded version must sign them with the key the award names.
deferred = next((a["id"] for a in awards if a.get("state") == "valid"), None)
for a in awards:
    docs = {}
    for name, path in [("credential.json", f"/credentials/{a['id']}.json"),
                       ("credential.jwt", f"/credentials/{a['id']}.jwt"),
                       ("ob2.json", f"/ob2/assertions/{a['id']}"),
                       ("ob2.jws", f"/ob2/assertions/{a['id']}.jws")]:
        if a["id"] == deferred and name in ("credential.jwt", "ob2.jws"):
            docs[name] = {"status": "not downloaded"}
            continue
        try:
            with urllib.request.urlopen(base + path) as r:
                body = r.read()
        except urllib.error.HTTPError as e:
            docs[name] = {"status": e.code}
            continue
        file = f"issued/{a['id']}.{name}"
        open(f"{out}/{file}", "wb").write(body)
        docs[name] = {"status": 200, "file": file}
    kept.append({"id": a["id"], "state": a.get("state"), "badge_class": a.get("badge_class"),
                 "documents": docs})
for path, name in [("/.well-known/jwks.json", "jwks.json")]:
    with urllib.request.urlopen(base + path) as r:
        open(f"{out}/{name}", "wb").write(r.read())
json.dump({"awards": kept}, open(f"{out}/awards.json", "w"), indent=1, sort_keys=True)
PY
  rm "$OUT/$name/awards-list.json"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -f "$log"
}

run_backend sqlite "sqlite://$OUT/sqlite/carnet.db"
run_backend postgres "$PG?options=-c%20search_path%3D$SCHEMA"
pg_dump --no-owner --no-privileges --inserts --schema="$SCHEMA" "$PG" >"$OUT/postgres.sql"
psql -q "$PG" -c "DROP SCHEMA $SCHEMA CASCADE;"
printf '%s\n' "$RELEASE" >"$OUT/RELEASE"
echo "made $OUT from $RELEASE"

#!/usr/bin/env bash
# Benchmark: carnet (release build) and the DCC JavaScript stack on the same credential, in one run.
# Prints the figures recorded in docs/BENCHMARKS.md. Not part of the test command.
#   scripts/bench.sh [ITERATIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-300}
scripts/setup-interop.sh >/dev/null
cargo build --release --quiet
bin=target/release/carnet
work=$(mktemp -d)
trap 'kill "${server:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export CARNET_BASE_URL="http://127.0.0.1:$port" CARNET_BIND="127.0.0.1:$port" \
  CARNET_DATABASE_URL="sqlite://$work/carnet.db" CARNET_KEYS_DIR="$work/keys" RUST_LOG=warn \
  CARNET_ISSUER_EMAIL=contact@ime.example.org CARNET_FETCH_ALLOW_HTTP=127.0.0.1 \
  CARNET_FETCH_ALLOW_ADDRESSES=127.0.0.1
award=$("$bin" issue --badge-class securite-hygiene-au-travail --recipient lea.martin@example.org \
  --narrative "J'ai montré les gestes de sécurité à l'atelier." --out "$work/cred.json")
python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); c.pop("proof"); json.dump(c, open(sys.argv[2],"w"))' \
  "$work/cred.json" "$work/unsigned.json"
"$bin" serve & server=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done

echo "== machine"
echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr)"
echo "== carnet bench --iterations $n"
"$bin" bench --iterations "$n" --ob2-url "http://127.0.0.1:$port/ob2/assertions/$award"
echo "== DCC JS stack (@digitalbazaar/vc + eddsa-rdfc-2022-cryptosuite), same credential, $n iterations"
# --ignore-status: carnet bench times the proof and checks of a credential without a status list
# fetch, so the DCC side does the same work.
node tests/interop/dcc_bench.mjs --credential "$work/cred.json" --sign-unsigned "$work/unsigned.json" \
  --allow-fetch "http://127.0.0.1:$port/" --iterations "$n" --ignore-status
echo "== IMS OB 2.0 validator (hosted assertion, HTTP fetches included) and openbadges-bakery (PNG, in memory)"
.tools/venv-ob2/bin/python tests/interop/ob2_bench.py --url "http://127.0.0.1:$port/ob2/assertions/$award" \
  --allow-fetch "http://127.0.0.1:$port/" --png badge-classes/securite-hygiene-au-travail.png --iterations 50

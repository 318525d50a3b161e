#!/usr/bin/env bash
# Benchmark: carnet (release build) and the DCC JavaScript stack on the same credential, in one run.
# Prints the figures recorded in docs/BENCHMARKS.md. Not part of the test command.
#   scripts/bench.sh [ITERATIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-300}
scripts/setup-interop.sh --node-only >/dev/null
cargo build --release --quiet
bin=target/release/carnet
work=$(mktemp -d)
trap 'kill "${server:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export CARNET_BASE_URL="http://127.0.0.1:$port" CARNET_BIND="127.0.0.1:$port" \
  CARNET_DATABASE_URL="sqlite://$work/carnet.db" CARNET_KEYS_DIR="$work/keys" RUST_LOG=warn
"$bin" issue --badge-class securite-hygiene-au-travail --recipient lea.martin@example.org \
  --narrative "J'ai montré les gestes de sécurité à l'atelier." --out "$work/cred.json" >/dev/null
python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); c.pop("proof"); json.dump(c, open(sys.argv[2],"w"))' \
  "$work/cred.json" "$work/unsigned.json"
"$bin" serve & server=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done

echo "== machine"
echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr)"
echo "== carnet bench --iterations $n"
"$bin" bench --iterations "$n"
echo "== DCC JS stack (@digitalbazaar/vc + eddsa-rdfc-2022-cryptosuite), same credential, $n iterations"
node tests/interop/dcc_bench.mjs --credential "$work/cred.json" --sign-unsigned "$work/unsigned.json" \
  --allow-fetch "http://127.0.0.1:$port/" --iterations "$n"

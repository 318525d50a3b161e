#!/usr/bin/env bash
# Benchmark of the public verifier (issue #4): verifications per second through
# POST /api/v1/verify for a baked PNG from carnet's own issuer, with a load generator (wrk) on
# loopback; then latency at a fixed rate of about 1,000 requests/s. Not part of the test command.
#   scripts/bench-verify.sh [SECONDS]
# Installs wrk from Debian's packages if missing. The server runs the release build on SQLite,
# with its rate limit raised far above the load (the limiter still runs on every request).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
if ! command -v wrk >/dev/null; then
  sudo_=""; [ "$(id -u)" = 0 ] || sudo_=sudo
  $sudo_ apt-get install -y wrk >/dev/null 2>&1 || { $sudo_ apt-get update >/dev/null && $sudo_ apt-get install -y wrk >/dev/null; }
fi
cargo build --release --quiet
bin=target/release/carnet
work=$(mktemp -d)
trap 'kill "${server:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export CARNET_BASE_URL="http://127.0.0.1:$port" CARNET_BIND="127.0.0.1:$port" \
  CARNET_DATABASE_URL="sqlite://$work/carnet.db" CARNET_KEYS_DIR="$work/keys" RUST_LOG=warn \
  CARNET_ISSUER_EMAIL=contact@ime.example.org CARNET_VERIFY_RATE_PER_MINUTE=100000000 \
  CARNET_VERIFY_RATE_BURST=100000
"$bin" issue --badge-class securite-hygiene-au-travail --recipient lea.martin@example.org \
  --narrative "J'ai montré les gestes de sécurité à l'atelier." --out "$work/badge.png" >/dev/null
"$bin" serve & server=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
verdict=$(curl -sf -H 'content-type: image/png' --data-binary @"$work/badge.png" "http://127.0.0.1:$port/api/v1/verify" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["verdict"])')
[ "$verdict" = valid ] || { echo "the baked PNG does not verify: $verdict" >&2; exit 1; }
cat > "$work/post.lua" <<LUA
local f = assert(io.open("$work/badge.png", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "image/png"
local pause = tonumber(os.getenv("PAUSE_MS") or "0")
function delay() return pause end
LUA
echo "== machine"
echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr); PNG $(stat -c %s "$work/badge.png") bytes"
curl -s -o /dev/null -H 'content-type: image/png' --data-binary @"$work/badge.png" "http://127.0.0.1:$port/api/v1/verify"
echo "== warm-up 3 s"
wrk -t2 -c8 -d3s -s "$work/post.lua" "http://127.0.0.1:$port/api/v1/verify" >/dev/null
echo "== throughput: wrk -t2 -c16 -d${secs}s (as fast as the server answers)"
wrk -t2 -c16 -d"${secs}s" --latency -s "$work/post.lua" "http://127.0.0.1:$port/api/v1/verify"
echo "== fixed rate ≈ 1,000 req/s: 20 connections, each pausing 20 ms between requests"
PAUSE_MS=20 wrk -t2 -c20 -d"${secs}s" --latency -s "$work/post.lua" "http://127.0.0.1:$port/api/v1/verify"

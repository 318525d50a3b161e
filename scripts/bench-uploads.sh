#!/usr/bin/env bash
# Benchmark of the memory one burst of uploads costs the server: its peak resident memory (VmHWM,
# reset before each phase through /proc/PID/clear_refs, and VmRSS sampled every 5 ms) while N
# clients (64 by default) post at once, on loopback:
#   (a) idle, before any request;
#   (b) POST /api/v1/verify, a 5 MB PNG that bakes a credential of carnet's own issuer;
#   (b') POST /verify (the page's multipart form), the same PNG as its file field;
#   (c) POST /api/v1/badge-requests/{id}/evidence, 20 MiB, without credentials (401 expected);
#   (d) the same with the API token and 1 MiB over the evidence limit (413 expected).
# For each phase: the answers counted by status (and by verdict for the API), the resident memory
# before, the peak, and 2 s after the burst (what the allocator gave back). Each phase starts where
# the previous one left the process. Not part of the test command.
#   scripts/bench-uploads.sh [CLIENTS]
#   CARNET_BIN=/tmp/carnet-before scripts/bench-uploads.sh   # another build, e.g. the previous commit's
# The server is the release build on SQLite, its verification rate limit raised far above the load
# (the limiter still runs on every request).
set -euo pipefail
cd "$(dirname "$0")/.."
clients=${1:-64}
if [ -z "${CARNET_BIN:-}" ]; then cargo build --release --quiet --bin carnet; fi
bin=${CARNET_BIN:-target/release/carnet}
work=$(mktemp -d)
trap 'kill "${server:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
token=0123456789abcdefghijklmnopqrstuv
evidence_limit=$((20 * 1024 * 1024))
export CARNET_BASE_URL="http://127.0.0.1:$port" CARNET_BIND="127.0.0.1:$port" \
  CARNET_DATABASE_URL="sqlite://$work/carnet.db" CARNET_KEYS_DIR="$work/keys" RUST_LOG=warn \
  CARNET_ISSUER_EMAIL=contact@ime.example.org CARNET_VERIFY_RATE_PER_MINUTE=100000000 \
  CARNET_VERIFY_RATE_BURST=100000 CARNET_API_TOKENS="bench:$token" \
  CARNET_MAX_EVIDENCE_BYTES="$evidence_limit"
"$bin" issue --badge-class securite-hygiene-au-travail --recipient lea.martin@example.org \
  --narrative "J'ai montré les gestes de sécurité à l'atelier." --out "$work/badge.png" >/dev/null
# A 5,000,000-byte PNG: 1,290 × 1,290 pixels of noise (incompressible, so the file is that large),
# with the credential's iTXt chunk from carnet's baked PNG right after IHDR.
python3 - "$work/badge.png" "$work/big.png" <<'PY'
import os, struct, sys, zlib
def chunks(b):
    pos = 8
    while pos < len(b):
        n = struct.unpack(">I", b[pos:pos + 4])[0]
        yield b[pos + 4:pos + 8], b[pos:pos + 12 + n]
        pos += 12 + n
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
baked = open(sys.argv[1], "rb").read()
itxt = next(raw for kind, raw in chunks(baked) if kind == b"iTXt")
w = h = 1290
rows = b"".join(b"\0" + os.urandom(3 * w) for _ in range(h))
png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + itxt
       + chunk(b"IDAT", zlib.compress(rows, 0)))
pad = 5_000_000 - len(png) - 24  # the padding chunk, then IEND
png += chunk(b"tEXt", b"Comment\0" + b"x" * (pad - 8)) if pad > 8 else b""
png += chunk(b"IEND", b"")
open(sys.argv[2], "wb").write(png)
PY
"$bin" serve & server=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
idle_kib=$(awk '/^VmRSS:/ {print $2}' "/proc/$server/status")
verdict=$(curl -sf -H 'content-type: image/png' --data-binary @"$work/big.png" "http://127.0.0.1:$port/api/v1/verify" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["verdict"])')
[ "$verdict" = valid ] || { echo "the 5 MB PNG does not verify: $verdict" >&2; exit 1; }
request=$(curl -sf -H "Authorization: Bearer $token" -H 'content-type: application/json' \
  -d '{"badge_class":"securite-hygiene-au-travail","recipient_email":"lea.martin@example.org","requested_by":"Léa"}' \
  "http://127.0.0.1:$port/api/v1/badge-requests" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

echo "== machine"
echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/^Mem:/ {print $2}') GiB, $(uname -sr); $(rustc --version)"
echo "== $clients concurrent clients; PNG $(stat -c %s "$work/big.png") bytes (verdict alone: $verdict)"
python3 - "$server" "$port" "$work/big.png" "$token" "$request" "$clients" "$evidence_limit" "$idle_kib" <<'PY'
import collections, json, select, socket, sys, threading, time

pid, port, png_path, token, request, clients, evidence_limit, idle_kib = sys.argv[1:9]
port, clients, evidence_limit, idle_kib = int(port), int(clients), int(evidence_limit), int(idle_kib)
png = open(png_path, "rb").read()
MIB = 1024 * 1024

def status_kib(field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(field)

class Body:
    """`size` bytes made of `block` repeated (one object in memory, however many clients)."""
    def __init__(self, block, size):
        self.block, self.size = memoryview(block), size
    def piece(self, offset, n):
        start = offset % len(self.block)
        return self.block[start:start + min(n, self.size - offset)]

def post(path, headers, body):
    """Sends the request, stops sending as soon as an answer arrives; (status, answer body)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=120)
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {body.size}\r\nConnection: close\r\n"
    out = memoryview((head + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode())
    sent_head, offset, answer = 0, 0, b""
    try:
        s.setblocking(False)
        while True:
            want_write = sent_head < len(out) or offset < body.size
            r, w, _ = select.select([s], [s] if want_write else [], [], 120)
            if not r and not w:
                return "timeout", b""
            if r:
                data = s.recv(65536)
                if not data:
                    break
                answer += data
                if b"\r\n\r\n" in answer:
                    head_end = answer.index(b"\r\n\r\n") + 4
                    lengths = [l for l in answer[:head_end].split(b"\r\n") if l.lower().startswith(b"content-length:")]
                    if lengths and len(answer) >= head_end + int(lengths[0].split(b":")[1]):
                        break
                continue
            if sent_head < len(out):
                sent_head += s.send(out[sent_head:])
            else:
                offset += s.send(body.piece(offset, 256 * 1024))
    except (ConnectionResetError, BrokenPipeError) as e:
        # the server answered and closed while the body was still coming: its answer may be
        # waiting in the socket
        try:
            s.setblocking(True)
            while b"\r\n\r\n" not in answer:
                data = s.recv(65536)
                if not data:
                    break
                answer += data
        except OSError:
            pass
        if not answer:
            return type(e).__name__, b""
    finally:
        s.close()
    if not answer.startswith(b"HTTP/1.1 "):
        return "no answer", b""
    return answer[9:12].decode(), answer[answer.index(b"\r\n\r\n") + 4:]

def burst(path, headers, body, verdicts=False):
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current RSS
    before = status_kib("VmRSS")
    peak, done = [before], threading.Event()
    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], status_kib("VmRSS"))
            time.sleep(0.005)
    counts, lock = collections.Counter(), threading.Lock()
    def client():
        status, answer = post(path, headers, body)
        label = status
        if verdicts and status == "200":
            label += " " + json.loads(answer)["verdict"]
        with lock:
            counts[label] += 1
    sampler = threading.Thread(target=sample)
    sampler.start()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.monotonic() - start
    done.set()
    sampler.join()
    hwm = status_kib("VmHWM")
    time.sleep(2)
    return {"counts": counts, "before": before, "hwm": hwm, "sampled": peak[0],
            "after": status_kib("VmRSS"), "seconds": seconds}

rows = [("(a) idle, before any request", {"counts": {}, "before": idle_kib, "hwm": idle_kib,
          "sampled": idle_kib, "after": idle_kib, "seconds": 0})]
rows.append((f"(b) POST /api/v1/verify, {len(png):,} B PNG",
             burst("/api/v1/verify", {"Content-Type": "image/png"}, Body(png, len(png)), verdicts=True)))
boundary = "benchboundary7d93"
form = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"badge.png\"\r\n"
        f"Content-Type: image/png\r\n\r\n").encode() + png + f"\r\n--{boundary}--\r\n".encode()
rows.append((f"(b') POST /verify (form), the same PNG",
             burst("/verify", {"Content-Type": f"multipart/form-data; boundary={boundary}"}, Body(form, len(form)))))
zeros = bytes(MIB)
evidence = f"/api/v1/badge-requests/{request}/evidence?filename=big.png"
rows.append(("(c) evidence, 20 MiB, no token",
             burst(evidence, {"Content-Type": "image/png"}, Body(zeros, 20 * MIB))))
rows.append((f"(d) evidence, token, limit + 1 MiB ({evidence_limit + MIB:,} B)",
             burst(evidence, {"Content-Type": "image/png", "Authorization": f"Bearer {token}"},
                   Body(zeros, evidence_limit + MIB))))

mb = lambda kib: f"{kib / 1024:.0f} MiB"
print(f"| phase ({clients} clients at once) | RSS before | peak RSS (VmHWM) | peak RSS (sampled) | RSS 2 s after | wall | answers |")
print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
for name, r in rows:
    answers = ", ".join(f"{k} ×{v}" for k, v in sorted(r["counts"].items())) or "—"
    wall = f"{r['seconds']:.1f} s" if r["seconds"] else "—"
    print(f"| {name} | {mb(r['before'])} | {mb(r['hwm'])} | {mb(r['sampled'])} | {mb(r['after'])} | {wall} | {answers} |")
PY

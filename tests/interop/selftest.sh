#!/usr/bin/env bash
# Self-test of the interop scripts against third-party reference data
# (1EdTech test vectors and validator fixtures in shared/spec/data, read-only).
# Skips, with a visible message and exit 0, when that data is absent.
#
# usage: tests/interop/selftest.sh        (runs scripts/setup-interop.sh first)
# env:   CARNET_SPEC_DATA=DIR  location of spec/data (default ../shared/spec/data
#        beside the repository, then /work/shared/spec/data)
#        SELFTEST_BENCH_ITERATIONS=N  (default 100)
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

DATA="${CARNET_SPEC_DATA:-}"
if [ -z "$DATA" ]; then
  for d in "$ROOT/../shared/spec/data" /work/shared/spec/data; do
    if [ -d "$d/ob3" ]; then DATA="$d"; break; fi
  done
fi
if [ -z "$DATA" ] || [ ! -d "$DATA/ob3" ]; then
  echo "interop selftest: SKIPPED - reference data (shared/spec/data) not found"
  exit 0
fi
DATA="$(cd "$DATA" && pwd)"

"$ROOT/scripts/setup-interop.sh" || { echo "interop selftest: setup failed" >&2; exit 1; }

PY="$ROOT/.tools/venv/bin/python"
TV="$DATA/ob3/1edtech-spec-test-vector"
VT="$DATA/ob3/1edtech-validator-tests"
TMP="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

PASS=0
FAIL=0
# check NAME WANT_RC PATTERN CMD...: runs CMD, wants exit WANT_RC and PATTERN
# (extended regexp, may be empty) in its stdout.
check() {
  local name="$1" want="$2" pattern="$3"; shift 3
  local out rc
  out="$("$@" 2>"$TMP/stderr")"; rc=$?
  if [ "$rc" = "$want" ] && { [ -z "$pattern" ] || grep -Eq -- "$pattern" <<<"$out"; }; then
    PASS=$((PASS + 1)); echo "PASS  $name"
  else
    FAIL=$((FAIL + 1)); echo "FAIL  $name (exit $rc, wanted $want${pattern:+, output matching /$pattern/})"
    echo "      stdout: ${out:0:600}"; sed 's/^/      stderr: /' "$TMP/stderr" | head -5
  fi
  printf '%s' "$out" > "$TMP/last"
}

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Writes VM and controller documents for a credential whose verificationMethod is
# CONTROLLER#<publicKeyMultibase> (the 1EdTech fixtures' convention).
make_https_docs() { # CREDENTIAL OUTDIR -> prints "VM_URL CONTROLLER_URL"
  "$PY" - "$1" "$2" <<'EOF'
import json, os, sys
cred = json.load(open(sys.argv[1])); out = sys.argv[2]
proof = cred["proof"][0] if isinstance(cred["proof"], list) else cred["proof"]
vm_id = proof["verificationMethod"]; controller, mb = vm_id.split("#", 1)
vm = {"id": vm_id, "type": "Multikey", "controller": controller, "publicKeyMultibase": mb}
json.dump({"@context": "https://w3id.org/security/multikey/v1", **vm}, open(os.path.join(out, "vm.json"), "w"))
json.dump({"@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
           "id": controller, "verificationMethod": [vm], "assertionMethod": [vm_id]},
          open(os.path.join(out, "controller.json"), "w"))
print(vm_id, controller)
EOF
}

cd "$HERE"
echo "== dcc_verify.mjs: 1EdTech OB 3.0 test vector (eddsa-rdfc-2022, https VM)"
mkdir -p "$TMP/tv"
read -r VM CTL < <(make_https_docs "$TV/signed-credential.json" "$TMP/tv")
check "test vector verifies (--doc VM, --controller-doc)" 0 '"verified":true' \
  node dcc_verify.mjs --credential "$TV/signed-credential.json" \
    --doc "$VM=$TMP/tv/vm.json" --controller-doc "$TMP/tv/controller.json"
check "test vector verifies (--doc controller only: purpose dereferences it)" 0 '"issuer_matches_controller":true' \
  node dcc_verify.mjs --credential "$TV/signed-credential.json" --doc "$CTL=$TMP/tv/controller.json"
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); d["name"]="Teamwork Badge (edited)"; json.dump(d, open(sys.argv[2], "w"))' \
  "$TV/signed-credential.json" "$TMP/tv/tampered.json"
check "test vector with name changed is NOT verified" 1 '"verified":false.*Invalid signature' \
  node dcc_verify.mjs --credential "$TMP/tv/tampered.json" \
    --doc "$VM=$TMP/tv/vm.json" --controller-doc "$TMP/tv/controller.json"
check "test vector without key documents fails (network blocked)" 1 'network access blocked' \
  node dcc_verify.mjs --credential "$TV/signed-credential.json"

echo "== dcc_verify.mjs: 1EdTech validator fixture simple-did-key-method.json"
check "stock DCC stack rejects a fragment-less did:key VM" 1 'publicKeyMultibase' \
  node dcc_verify.mjs --credential "$VT/simple-did-key-method.json"
check "--bare-did-key: issuer urn:uuid != controller did:key is reported" 1 'issuer must match' \
  node dcc_verify.mjs --credential "$VT/simple-did-key-method.json" --bare-did-key
check "--bare-did-key --no-issuer-match (DCC verifier-core policy) verifies" 0 '"verified":true' \
  node dcc_verify.mjs --credential "$VT/simple-did-key-method.json" --bare-did-key --no-issuer-match

echo "== unbake.py + dcc_verify.mjs: simple-json.png"
check "unbake simple-json.png gives the credential JSON" 0 '"proof"' \
  "$PY" unbake.py "$VT/simple-json.png"
cp "$TMP/last" "$TMP/simple-json.json"
mkdir -p "$TMP/sj"
read -r VM2 CTL2 < <(make_https_docs "$TMP/simple-json.json" "$TMP/sj")
check "baked simple-json credential verifies" 0 '"verified":true' \
  node dcc_verify.mjs --credential "$TMP/simple-json.json" --doc "$CTL2=$TMP/sj/controller.json"
check "unbake --out writes the same payload" 0 '' \
  "$PY" unbake.py "$VT/simple-json.png" --out "$TMP/simple-json-out.json"
cmp -s "$TMP/simple-json.json" "$TMP/simple-json-out.json" \
  || { FAIL=$((FAIL + 1)); echo "FAIL  unbake --out differs from stdout"; }
check "unbake of a non-image exits 2" 2 '' "$PY" unbake.py "$VT/simple.json"
check "unbake --ob2 of an OB 3.0 PNG finds nothing (exit 1)" 1 '' "$PY" unbake.py "$VT/simple-jwt.png" --ob2

echo "== unbake.py + jwt_verify.py: simple-jwt.png"
check "unbake simple-jwt.png gives a compact JWS" 0 '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' \
  "$PY" unbake.py "$VT/simple-jwt.png"
cp "$TMP/last" "$TMP/simple.jws"
"$PY" -c 'import json,sys,jwt; json.dump(jwt.get_unverified_header(open(sys.argv[1]).read())["jwk"], open(sys.argv[2], "w"))' \
  "$TMP/simple.jws" "$TMP/header-jwk.json"
check "JWS signature verifies with the header jwk, claim check reports missing sub" 1 '"signature_valid": true.*claim sub is missing' \
  "$PY" jwt_verify.py --token "$TMP/simple.jws" --jwk "$TMP/header-jwk.json"
check "JWS is valid with --no-claims-check" 0 '"valid": true' \
  "$PY" jwt_verify.py --token "$TMP/simple.jws" --jwk "$TMP/header-jwk.json" --no-claims-check
"$PY" -c 'import sys; h,p,s=open(sys.argv[1]).read().strip().split("."); s=("B" if s[0]=="A" else "A")+s[1:]; open(sys.argv[2],"w").write(".".join([h,p,s]))' \
  "$TMP/simple.jws" "$TMP/bad.jws"
check "JWS with a changed signature is invalid" 1 'InvalidSignatureError' \
  "$PY" jwt_verify.py --token "$TMP/bad.jws" --jwk "$TMP/header-jwk.json" --no-claims-check

echo "== carnet's key layout over http://127.0.0.1 (keys made here, served by python http.server)"
PORT="$(free_port)"
BASE="http://127.0.0.1:$PORT"
mkdir -p "$TMP/web"
if node lib/make_didweb_fixture.mjs --unsigned "$TV/unsigned-credential.json" \
     --base "$BASE" --slug selftest --out "$TMP/web" > "$TMP/web/info.json"; then
  # a VC-JWT for the same issuer, ES256 and EdDSA keys published in a JWKS
  "$PY" - "$TMP/web" "$BASE" <<'EOF' || echo "FAIL  making the JWT fixtures"
import json, os, sys, jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
out, base = sys.argv[1], sys.argv[2]
cred = json.load(open(os.path.join(out, "signed.json")))
cred.pop("proof", None)
issuer = cred["issuer"]["id"]
from datetime import datetime
nbf = int(datetime.fromisoformat(cred["validFrom"].replace("Z", "+00:00")).timestamp())
claims = dict(cred, iss=issuer, jti=cred["id"], nbf=nbf, sub=cred["credentialSubject"]["id"])
keys = []
for name, alg, priv in (("es256", "ES256", ec.generate_private_key(ec.SECP256R1())),
                        ("eddsa", "EdDSA", ed25519.Ed25519PrivateKey.generate())):
    kid = f"{issuer}/keys/{name}"
    pub = json.loads(jwt.algorithms.get_default_algorithms()[alg].to_jwk(priv.public_key()))
    keys.append(dict(pub, kid=kid, alg=alg, use="sig"))
    keydir = os.path.join(out, "www", "issuers", "selftest", "keys")
    os.makedirs(keydir, exist_ok=True)
    json.dump(keys[-1], open(os.path.join(keydir, name), "w"))
    tok = jwt.encode(claims, priv, algorithm=alg, headers={"kid": kid, "typ": "JWT"})
    open(os.path.join(out, f"{name}.jwt"), "w").write(tok)
os.makedirs(os.path.join(out, "www", ".well-known"), exist_ok=True)
json.dump({"keys": keys}, open(os.path.join(out, "www", ".well-known", "jwks.json"), "w"))
EOF
  "$PY" -m http.server "$PORT" --bind 127.0.0.1 --directory "$TMP/web/www" > "$TMP/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 50); do
    "$PY" -c 'import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' "$BASE/.well-known/jwks.json" 2>/dev/null && break
    sleep 0.1
  done
  check "did:web VM (controller = issuer https id, alsoKnownAs) verifies" 0 '"verified":true,.*"issuer_matches_controller":true' \
    node dcc_verify.mjs --controller-via-did-web --credential "$TMP/web/signed.json" --allow-fetch "$BASE/"
  check "did:web credential without --allow-fetch fails (network blocked)" 1 'network access blocked' \
    node dcc_verify.mjs --controller-via-did-web --credential "$TMP/web/signed.json"
  "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); d["credentialSubject"]["achievement"]["name"]+="!"; json.dump(d, open(sys.argv[2], "w"))' \
    "$TMP/web/signed.json" "$TMP/web/tampered.json"
  check "did:web credential with a changed achievement name is NOT verified" 1 'Invalid signature' \
    node dcc_verify.mjs --controller-via-did-web --credential "$TMP/web/tampered.json" --allow-fetch "$BASE/"
  DIDJSON="$TMP/web/www/issuers/selftest/did.json"
  cp "$DIDJSON" "$TMP/web/did.json.orig"
  "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); d.pop("alsoKnownAs"); json.dump(d, open(sys.argv[1], "w"))' "$DIDJSON"
  check "did:web document without alsoKnownAs [issuer.id] is refused" 1 'neither the DID .* nor listed in its alsoKnownAs' \
    node dcc_verify.mjs --controller-via-did-web --credential "$TMP/web/signed.json" --allow-fetch "$BASE/"
  cp "$TMP/web/did.json.orig" "$DIDJSON"
  "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); d["assertionMethod"]=[]; json.dump(d, open(sys.argv[1], "w"))' "$DIDJSON"
  check "did:web key not listed in assertionMethod is refused" 1 'not authorized by controller' \
    node dcc_verify.mjs --controller-via-did-web --credential "$TMP/web/signed.json" --allow-fetch "$BASE/"
  cp "$TMP/web/did.json.orig" "$DIDJSON"
  for alg in es256 eddsa; do
    check "jwt_verify --jwks-url: $alg VC-JWT with all claims is valid" 0 '"valid": true' \
      "$PY" jwt_verify.py --token "$TMP/web/$alg.jwt" --jwks-url "$BASE/.well-known/jwks.json"
  done
  check "jwt_verify --fetch-kid: kid URL dereferences to the JWK" 0 '"valid": true' \
    "$PY" jwt_verify.py --token "$TMP/web/es256.jwt" --fetch-kid "$BASE/"
  check "jwt_verify --fetch-kid refuses a kid outside the prefix" 1 'is not a URL under' \
    "$PY" jwt_verify.py --token "$TMP/web/es256.jwt" --fetch-kid "http://example.invalid/"
else
  FAIL=$((FAIL + 1)); echo "FAIL  make_didweb_fixture.mjs"
fi

echo "== dcc_sign.mjs: sign the test vector with a fresh did:key"
check "dcc_sign: issuer.id set to the did:key controller, self-verified" 0 '"issuer_matches_controller":true,"self_verified":true' \
  node dcc_sign.mjs --unsigned "$TV/unsigned-credential.json" --out "$TMP/dcc-signed.json"
check "dcc_sign output verifies with dcc_verify (issuer == controller)" 0 '"verified":true,.*"issuer_matches_controller":true' \
  node dcc_verify.mjs --credential "$TMP/dcc-signed.json"
check "dcc_sign --keep-issuer: issuer != controller" 0 '"issuer_matches_controller":false' \
  node dcc_sign.mjs --unsigned "$TV/unsigned-credential.json" --keep-issuer --out "$TMP/dcc-signed-foreign.json"
check "dcc_verify refuses issuer != did:key controller" 1 'issuer must match' \
  node dcc_verify.mjs --credential "$TMP/dcc-signed-foreign.json"

echo "== dcc_verify.mjs: credentialStatus (a BitstringStatusList made by @digitalbazaar/vc-bitstring-status-list)"
LIST="https://status.example/lists/revocation/1"
if node lib/make_status_fixture.mjs --unsigned "$TV/unsigned-credential.json" --out "$TMP/st" \
     --list-url "$LIST" > /dev/null; then
  check "status bit clear: verified, the list's proof checked" 0 '"verified":true,.*"status":\{"checked":true,"revoked":false' \
    node dcc_verify.mjs --credential "$TMP/st/clear.json" --doc "$LIST=$TMP/st/status-list.json"
  check "status bit set: NOT verified, revoked" 1 '"verified":false,"error":"credential status: revocation .*"revoked":true' \
    node dcc_verify.mjs --credential "$TMP/st/revoked.json" --doc "$LIST=$TMP/st/status-list.json"
  check "status list whose encodedList was changed: status unknown (its proof fails)" 1 'credential status unknown: .*Invalid signature.*"revoked":null' \
    node dcc_verify.mjs --credential "$TMP/st/clear.json" --doc "$LIST=$TMP/st/bad-list.json"
  check "status list out of reach: status unknown, not \"not revoked\"" 1 'credential status unknown: Could not load.*network access blocked.*"revoked":null' \
    node dcc_verify.mjs --credential "$TMP/st/clear.json"
  check "--ignore-status (third-party samples only) skips the check" 0 '"verified":true,.*not checked' \
    node dcc_verify.mjs --credential "$TMP/st/revoked.json" --ignore-status
else
  FAIL=$((FAIL + 1)); echo "FAIL  make_status_fixture.mjs"
fi

echo "== ob2_validate.py (IMS OB 2.0 validator) on the 1EdTech OB 2.0 fixtures"
PY2="$ROOT/.tools/venv-ob2/bin/python"
OB2="$DATA/ob2/1edtech-validator-tests"
if [ -d "$OB2" ]; then
  # as the 1EdTech tests do: example.org URLs are answered from assets/
  MAPS=(--map "https://example.org/=$OB2/assets" --map "http://example.org/=$OB2/assets"
        --map "https://www.example.org/=$OB2/assets")
  check "simple.jwt is valid, the OB 2.0 context answered locally" 0 '"valid": true, "revoked": false.*"https://w3id.org/openbadges/v2": 200' \
    "$PY2" ob2_validate.py "$OB2/simple.jwt" "${MAPS[@]}"
  check "simple-not-revoked.jwt is valid (issuer has a RevocationList)" 0 '"valid": true, "revoked": false' \
    "$PY2" ob2_validate.py "$OB2/simple-not-revoked.jwt" "${MAPS[@]}"
  check "simple-revoked.jwt is reported revoked, with its reason" 1 '"valid": false, "revoked": true, "revocation_reason": "A good reason, for sure"' \
    "$PY2" ob2_validate.py "$OB2/simple-revoked.jwt" "${MAPS[@]}"
  "$PY" - "$OB2/simple.jwt" "$TMP/ob2-tampered.jwt" <<'EOF'
import base64, json, sys
h, p, s = open(sys.argv[1]).read().strip().split(".")
d = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
d["issuedOn"] = "2016-12-31T23:59:59Z"
p = base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")
open(sys.argv[2], "w").write(".".join([h, p, s]))
EOF
  check "simple.jwt with its issuedOn changed is NOT valid (signature)" 1 '"valid": false.*VERIFY_JWS: Signature .* failed verification' \
    "$PY2" ob2_validate.py "$TMP/ob2-tampered.jwt" "${MAPS[@]}"
  check "simple.jwt without the mapping: network blocked, NOT valid" 1 '"valid": false.*"blocked": \["GET https?://(www\.)?example\.org/' \
    "$PY2" ob2_validate.py "$OB2/simple.jwt"
  check "an input that is not a file or URL: exit 2" 2 '' "$PY2" ob2_validate.py "$TMP/no-such-file"

  echo "== bakery_unbake.py (openbadges-bakery 2.0.0)"
  check "simple-badge.png holds the assertion JSON" 0 '"type":"Assertion"' \
    "$PY2" bakery_unbake.py "$OB2/simple-badge.png"
  cp "$TMP/last" "$TMP/bakery-simple.json"
  check "openbadgeslib (unbake.py --ob2) reads the same payload" 0 '' \
    "$PY" unbake.py --ob2 "$OB2/simple-badge.png" --out "$TMP/obl-simple.json"
  cmp -s "$TMP/bakery-simple.json" "$TMP/obl-simple.json" \
    && { PASS=$((PASS + 1)); echo "PASS  openbadges-bakery and openbadgeslib agree on simple-badge.png"; } \
    || { FAIL=$((FAIL + 1)); echo "FAIL  openbadges-bakery and openbadgeslib disagree on simple-badge.png"; }
  LEG="$DATA/ob2/baked-legacy/concentricsky-openbadges-bakery"
  if [ -d "$LEG" ]; then
    check "legacy baked_heart.png: the 1.x assertion JSON" 0 '"uid":"123"' "$PY2" bakery_unbake.py "$LEG/baked_heart.png"
    check "legacy baked_example.svg: the verify URL" 0 '^https://example.org/assertion.json$' "$PY2" bakery_unbake.py "$LEG/baked_example.svg"
    check "unbaked PNG: no payload (exit 1)" 1 '' "$PY2" bakery_unbake.py "$LEG/public_domain_heart.png"
    check "unbaked SVG: no payload (exit 1)" 1 '' "$PY2" bakery_unbake.py "$LEG/unbaked_example.svg"
  fi
  check "not an image: exit 2" 2 '' "$PY2" bakery_unbake.py "$OB2/simple.jwt"
else
  echo "      (no ob2/1edtech-validator-tests in $DATA: OB 2.0 checks skipped)"
fi

echo "== dcc_bench.mjs on the test vector"
check "bench: verify and sign ms per op" 0 '"ok":true' \
  node dcc_bench.mjs --credential "$TV/signed-credential.json" \
    --doc "$VM=$TMP/tv/vm.json" --controller-doc "$TMP/tv/controller.json" \
    --sign-unsigned "$TV/unsigned-credential.json" --iterations "${SELFTEST_BENCH_ITERATIONS:-100}"
"$PY" -c 'import json,sys; d=json.loads(open(sys.argv[1]).read()); print("      verify_ms_per_op=%s sign_ms_per_op=%s (%s iterations)" % (d.get("verify_ms_per_op"), d.get("sign_ms_per_op"), d.get("iterations")))' "$TMP/last" 2>/dev/null

echo "selftest: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]

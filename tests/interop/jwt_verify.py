#!/usr/bin/env python3
"""Verify an Open Badges 3.0 VC-JWT (compact JWS) with PyJWT.

usage: jwt_verify.py --token FILE|- (--jwk FILE | --jwks-url URL | --fetch-kid PREFIX)
                     [--no-claims-check] [--now ISO|EPOCH] [--leeway SECONDS]

The key comes from --jwk FILE (a single JWK, or a JWK Set from which the key is
picked by the JOSE header's ``kid``), is fetched from --jwks-url URL (a JWK
Set or a single JWK; picked by ``kid``, which carnet sets to the key's URL), or,
with --fetch-kid PREFIX, is fetched from the ``kid`` URL itself (which must
start with PREFIX).
Only RS256, ES256 and EdDSA are accepted. The JOSE library checks the
signature; this script then checks (VC Data Model 2.0 shape; a VC 1.1 ``vc``
claim is also read):

  iss == issuer.id, jti == id, nbf == validFrom (required), sub ==
  credentialSubject.id (required when the subject has an id), exp == validUntil
  (required when validUntil is present); --no-claims-check reports these but
  does not fail on them. Always enforced: nbf <= now < exp.

Prints one JSON object; exit status 0 only when valid, 1 invalid, 2 usage or
input error.
"""

import argparse
import base64
import json
import sys
import time
import urllib.request
from datetime import datetime, timezone

ALLOWED_ALGS = ("RS256", "ES256", "EdDSA")
ALLOWED_HEADER_MEMBERS = {"alg", "kid", "jwk", "typ"}


def b64url_json(part: str):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def parse_time(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def numeric_date(value):
    """validFrom/validUntil (ISO 8601 with offset) -> seconds since the epoch."""
    if not isinstance(value, str):
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(dt.timestamp())


def load_key_set(text: str, source: str):
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{source} is not JSON: {exc}") from exc
    if isinstance(data, dict) and isinstance(data.get("keys"), list):
        return data["keys"]
    if isinstance(data, dict) and "kty" in data:
        return [data]
    raise ValueError(f"{source} is neither a JWK nor a JWK Set")


def pick_key(keys, kid):
    if kid is not None:
        matching = [k for k in keys if k.get("kid") == kid]
        if matching:
            return matching[0]
        if len(keys) == 1 and "kid" not in keys[0]:
            return keys[0]
        raise ValueError(f"no key with kid {kid!r} among {len(keys)} key(s)")
    if len(keys) == 1:
        return keys[0]
    raise ValueError("the header has no kid and the key set holds several keys")


def main() -> int:
    parser = argparse.ArgumentParser(description="Verify an OB 3.0 VC-JWT with PyJWT.")
    parser.add_argument("--token", required=True, help='file with the compact JWS, or "-"')
    keysrc = parser.add_mutually_exclusive_group(required=True)
    keysrc.add_argument("--jwk", help="file with a JWK or a JWK Set")
    keysrc.add_argument("--jwks-url", help="URL of a JWK Set (or a single JWK)")
    keysrc.add_argument("--fetch-kid", metavar="PREFIX",
                        help="dereference the header kid (must start with PREFIX) to get the JWK")
    parser.add_argument("--no-claims-check", action="store_true",
                        help="report the claim/credential mismatches without failing on them")
    parser.add_argument("--now", help="check times as of this instant (ISO 8601 or epoch seconds)")
    parser.add_argument("--leeway", type=float, default=0.0,
                        help="clock skew allowed for nbf/exp, in seconds (default 0)")
    args = parser.parse_args()

    try:
        import jwt  # PyJWT
    except ImportError as exc:
        print(json.dumps({"valid": False, "error": f"PyJWT is not installed ({exc}); "
                          "run scripts/setup-interop.sh and use .tools/venv/bin/python"}))
        return 2

    out = {"valid": False, "signature_valid": False, "alg": None, "kid": None,
           "claims_checked": not args.no_claims_check, "claim_errors": [],
           "errors": [], "warnings": [], "library": f"PyJWT {jwt.__version__}"}

    def finish(code=None):
        out["valid"] = out["signature_valid"] and not out["errors"] and (
            args.no_claims_check or not out["claim_errors"])
        msgs = out["errors"] + ([] if args.no_claims_check else out["claim_errors"])
        out["error"] = "; ".join(msgs) if msgs else None
        print(json.dumps(out))
        return code if code is not None else (0 if out["valid"] else 1)

    try:
        if args.token == "-":
            token = sys.stdin.read()
        else:
            with open(args.token, encoding="utf-8") as fh:
                token = fh.read()
    except OSError as exc:
        out["errors"].append(f"cannot read token: {exc}")
        return finish(2)
    token = token.strip()

    # --- header
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        out["errors"].append(f"not a compact JWS: {exc}")
        return finish()
    alg = header.get("alg")
    out["alg"], out["kid"] = alg, header.get("kid")
    if alg not in ALLOWED_ALGS:
        out["errors"].append(f"alg {alg!r} not allowed (only {', '.join(ALLOWED_ALGS)})")
        return finish()
    extra = sorted(set(header) - ALLOWED_HEADER_MEMBERS)
    if extra:
        out["warnings"].append(f"header members beyond alg/kid/jwk/typ: {extra}")
    if "typ" in header and header["typ"] != "JWT":
        out["warnings"].append(f"typ is {header['typ']!r}, OB 3.0 says \"JWT\"")
    if isinstance(header.get("jwk"), dict) and "d" in header["jwk"]:
        out["errors"].append("the header jwk contains a private key member \"d\"")

    # --- key
    try:
        if args.jwk:
            with open(args.jwk, encoding="utf-8") as fh:
                keys = load_key_set(fh.read(), args.jwk)
        else:
            url = args.jwks_url
            if args.fetch_kid is not None:
                url = header.get("kid")
                if not isinstance(url, str) or not url.startswith(args.fetch_kid):
                    raise ValueError(f"kid {url!r} is not a URL under {args.fetch_kid!r}")
            req = urllib.request.Request(
                url, headers={"Accept": "application/jwk+json, application/jwk-set+json, "
                              "application/json"})
            with urllib.request.urlopen(req, timeout=20) as resp:
                keys = load_key_set(resp.read().decode("utf-8"), url)
        jwk_dict = pick_key(keys, header.get("kid"))
        if "d" in jwk_dict:
            out["warnings"].append("the verification JWK contains a private member \"d\"")
        key = jwt.PyJWK(jwk_dict, algorithm=alg)
    except (OSError, ValueError, jwt.PyJWTError) as exc:
        out["errors"].append(f"key: {exc}")
        return finish()

    # --- signature (PyJWT); time and claim checks are done below
    try:
        payload = jwt.decode(
            token, key=key, algorithms=[alg],
            options={"verify_signature": True, "verify_exp": False,
                     "verify_nbf": False, "verify_iat": False, "verify_aud": False,
                     "verify_iss": False, "verify_sub": False, "verify_jti": False})
        out["signature_valid"] = True
    except jwt.PyJWTError as exc:
        out["errors"].append(f"signature: {type(exc).__name__}: {exc}")
        return finish()

    # --- times
    now = parse_time(args.now) if args.now else time.time()
    nbf, exp = payload.get("nbf"), payload.get("exp")
    if nbf is not None:
        if not isinstance(nbf, (int, float)):
            out["errors"].append("nbf is not a NumericDate")
        elif nbf > now + args.leeway:
            out["errors"].append(f"not yet valid: nbf {nbf} is after now {int(now)}")
    if exp is not None:
        if not isinstance(exp, (int, float)):
            out["errors"].append("exp is not a NumericDate")
        elif exp <= now - args.leeway:
            out["errors"].append(f"expired: exp {exp} is not after now {int(now)}")

    # --- claims vs credential
    claim_errors = out["claim_errors"]
    if "vc" in payload and isinstance(payload["vc"], dict):
        credential = payload["vc"]
        out["shape"] = "VCDM 1.1 (vc claim)"
    else:
        credential = payload
        out["shape"] = "VCDM 2.0 (credential is the payload)"
    issuer = credential.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    subject = credential.get("credentialSubject")
    if isinstance(subject, list):
        subject = subject[0] if subject else None
    subject_id = subject.get("id") if isinstance(subject, dict) else None

    def must_equal(claim, expected, required=True):
        if claim not in payload:
            if required:
                claim_errors.append(f"claim {claim} is missing")
            return
        if payload[claim] != expected:
            claim_errors.append(
                f"claim {claim} = {payload[claim]!r} but the credential says {expected!r}")

    must_equal("iss", issuer_id)
    must_equal("jti", credential.get("id"))
    valid_from = credential.get("validFrom", credential.get("issuanceDate"))
    must_equal("nbf", numeric_date(valid_from))
    if subject_id is not None:
        must_equal("sub", subject_id)
    elif "sub" in payload:
        out["warnings"].append("sub is set but credentialSubject has no id")
    valid_until = credential.get("validUntil", credential.get("expirationDate"))
    if valid_until is not None:
        must_equal("exp", numeric_date(valid_until))
    elif "exp" in payload:
        claim_errors.append("claim exp is set but the credential has no validUntil")
    if "aud" in payload:
        out["warnings"].append(f"aud is set ({payload['aud']!r}); OB 3.0 names sub, not aud")
    return finish()


if __name__ == "__main__":
    sys.exit(main())

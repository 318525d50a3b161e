#!/usr/bin/env python3
"""Issue Open Badges with openbadgeslib (its own keys, signers and baking), for carnet to verify.

usage: openbadgeslib_issue.py --out DIR [--email EMAIL] [--ob2-base URL]

Everything is made offline, with keys generated here (kept in a temporary
directory, deleted at exit; only public material is written to DIR):

- Open Badges 3.0 OpenBadgeCredential as VC-JWT (``OB3Signer``; the JOSE header
  carries the public key as ``jwk``, the library's only way), one per algorithm:
    * ``EdDSA`` (Ed25519); ``issuer.id`` is the key's ``did:key`` (``did_key_from_pem``);
    * ``ES256`` (P-256); ``issuer.id`` is the key's ``did:key`` (``zDn…``);
    * ``RS256`` (RSA 2048); ``issuer.id`` is an https URL (an RSA key has no did:key).
  The EdDSA token is also baked into a PNG and an SVG with openbadgeslib's own
  baking (``OB3Signer.sign_into_png`` / ``sign_into_svg``: PNG iTXt
  ``openbadgecredential``, SVG ``<openbadges:credential verify="…">``).
- OB 3.0 with an embedded Data Integrity proof, ``eddsa-rdfc-2022``
  (``ob3.ldp.OB3LdpSigner``, verificationMethod ``did:key:z6Mk…#z6Mk…``, issuer the
  same did:key), as JSON and baked (PNG iTXt, SVG element text). This needs the
  optional ``openbadgeslib[ldp]`` extra (PyLD); without it these outputs are
  listed under ``skipped`` with the reason.
- With ``--ob2-base URL`` (e.g. ``http://127.0.0.1:PORT/``): an Open Badges 2.0
  SignedBadge (``ob2.OB2Signer``, RS256 compact JWS) baked into a PNG and an SVG,
  and the documents its verification fetches, written under ``DIR/ob2-hosted/``
  for the caller to serve at URL: ``issuer.json`` (Profile, ``publicKey``,
  ``revocationList``), ``key.json`` (CryptographicKey), ``badge.json``
  (BadgeClass), ``badge.png`` (its image), ``revocations.json`` (RevocationList,
  listing a second signed assertion, ``ob2-revoked.jws``).

The recipient (``--email``, default ``ada.lovelace@example.org``) is identified
by a salted SHA-256 hash of the email, in ``credentialSubject.identifier`` (OB 3.0)
and ``recipient`` (OB 2.0).

Prints one JSON line and exits 0 when every output was made (1 on a failure,
2 on a usage error):

  {"ok": true, "openbadgeslib": "4.6.3", "email": "...", "outputs": [
     {"file": "ob3-eddsa.jwt", "proof": "vc-jwt", "container": "jwt", "alg": "EdDSA",
      "issuer": "did:key:z6Mk…", "expect": "valid"}, …],
   "skipped": [{"what": "data-integrity", "reason": "…"}],
   "ob2": {"base": "http://127.0.0.1:PORT/", "hosted_dir": "ob2-hosted", …} | null}

Run with ``.tools/venv/bin/python`` (scripts/setup-interop.sh). No network is used.
"""

import argparse
import json
import os
import sys
import tempfile
import traceback
import uuid
from datetime import datetime, timedelta, timezone

DEFAULT_EMAIL = "ada.lovelace@example.org"


def badge_png(width: int = 32, height: int = 32) -> bytes:
    """A plain RGB PNG (a green disc on white) written with pypng, openbadgeslib's PNG library."""
    import io

    import png

    rows = []
    cx, cy, r2 = width / 2, height / 2, (min(width, height) / 2 - 2) ** 2
    for y in range(height):
        row = []
        for x in range(width):
            inside = (x - cx) ** 2 + (y - cy) ** 2 <= r2
            row.extend((30, 140, 60) if inside else (255, 255, 255))
        rows.append(row)
    out = io.BytesIO()
    png.Writer(width, height, greyscale=False).write(out, rows)
    return out.getvalue()


BADGE_SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" width="120" height="120" viewBox="0 0 120 120">'
    b'<title>openbadgeslib interop badge</title>'
    b'<circle cx="60" cy="60" r="56" fill="#1e8c3c"/>'
    b'<text x="60" y="70" font-size="28" text-anchor="middle" fill="#fff">OB</text>'
    b"</svg>\n"
)


def public_pem_of(private_pem: bytes) -> bytes:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(private_pem, password=None)
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def make_keys(keydir: str):
    """Ed25519, P-256 and RSA key pairs from openbadgeslib's key factory, saved as PEM in keydir."""
    from openbadgeslib.keys import KeyFactory, KeyType

    keys = {}
    for name, kind in (("ed25519", KeyType.ED25519), ("p256", KeyType.ECC), ("rsa", KeyType.RSA)):
        private_pem, public_pem = KeyFactory(kind).generate_keypair()
        with open(os.path.join(keydir, f"{name}.pem"), "wb") as fh:
            fh.write(private_pem)
        os.chmod(os.path.join(keydir, f"{name}.pem"), 0o600)
        keys[name] = (private_pem, public_pem)
    return keys


def ob3_credential(issuer_id: str, email: str, salt: str, now: datetime):
    from openbadgeslib.ob3.credential import (
        Achievement,
        Evidence,
        IdentityObject,
        Issuer,
        OpenBadgeCredential,
    )

    issuer = Issuer(
        id=issuer_id,
        name="Atelier openbadgeslib",
        url="https://openbadgeslib.example.org",
        email="badges@openbadgeslib.example.org",
    )
    achievement = Achievement(
        id="urn:uuid:%s" % uuid.uuid4(),
        name="Interopérabilité des badges",
        description="Badge émis par openbadgeslib et vérifié par carnet.",
        criteria_narrative="A signé un badge avec une autre bibliothèque.",
        achievement_type="Badge",
        tags=["interop", "openbadgeslib"],
    )
    return OpenBadgeCredential(
        issuer=issuer,
        recipient_id=None,
        achievement=achievement,
        issuance_date=now,
        expiration_date=now + timedelta(days=365),
        evidence=[Evidence(id="https://openbadgeslib.example.org/evidence/1",
                           narrative="Preuve de test.")],
        identifiers=[IdentityObject.create(email, salt=salt)],
    )


def write(outdir: str, name: str, data) -> str:
    path = os.path.join(outdir, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(path, mode, **({} if mode == "wb" else {"encoding": "utf-8", "newline": ""})) as fh:
        fh.write(data)
    return name


def issue_ob3_jwt(outdir, keys, email, salt, now, png_bytes, outputs):
    from openbadgeslib.ob3.did import did_key_from_pem
    from openbadgeslib.ob3.signer import OB3Signer

    plan = (
        ("eddsa", "ed25519", "EdDSA", True),
        ("es256", "p256", "ES256", True),
        ("rs256", "rsa", "RS256", False),
    )
    for label, key, alg, did in plan:
        private_pem, public_pem = keys[key]
        issuer_id = (did_key_from_pem(public_pem) if did
                     else "https://openbadgeslib.example.org/issuers/rsa")
        credential = ob3_credential(issuer_id, email, salt, now)
        signer = OB3Signer(private_pem, algorithm=alg)
        token = signer.sign(credential)
        base = {"proof": "vc-jwt", "alg": alg, "issuer": issuer_id, "expect": "valid"}
        outputs.append(dict(base, file=write(outdir, f"ob3-{label}.jwt", token), container="jwt"))
        if label == "eddsa":
            outputs.append(dict(base, container="png",
                                file=write(outdir, "ob3-eddsa-jwt.png",
                                           signer.sign_into_png(credential, png_bytes))))
            outputs.append(dict(base, container="svg",
                                file=write(outdir, "ob3-eddsa-jwt.svg",
                                           signer.sign_into_svg(credential, BADGE_SVG))))


def issue_ob3_data_integrity(outdir, keys, email, salt, now, png_bytes, outputs, skipped):
    try:
        import pyld  # noqa: F401  (the [ldp] extra)
    except ImportError as exc:
        skipped.append({
            "what": "data-integrity",
            "reason": "openbadgeslib's eddsa-rdfc-2022 signer needs the optional [ldp] extra "
                      f"(PyLD >= 3.3), not installed in this Python ({exc})",
        })
        return
    from openbadgeslib.ob3.did import did_key_from_pem
    from openbadgeslib.ob3.ldp import OB3LdpSigner

    private_pem, public_pem = keys["ed25519"]
    issuer_id = did_key_from_pem(public_pem)
    credential = ob3_credential(issuer_id, email, salt, now)
    signer = OB3LdpSigner(private_pem)  # verificationMethod: did:key:X#X of the signing key
    base = {"proof": "data-integrity", "alg": "eddsa-rdfc-2022", "issuer": issuer_id,
            "verification_method": signer.verification_method, "expect": "valid"}
    outputs.append(dict(base, container="json",
                        file=write(outdir, "ob3-di.json", signer.sign_to_json(credential))))
    outputs.append(dict(base, container="png",
                        file=write(outdir, "ob3-di.png",
                                   signer.sign_into_png(credential, png_bytes))))
    outputs.append(dict(base, container="svg",
                        file=write(outdir, "ob3-di.svg",
                                   signer.sign_into_svg(credential, BADGE_SVG))))


def issue_ob2(outdir, keys, email, salt, now, png_bytes, base_url, outputs):
    from openbadgeslib.ob2.models import (
        Assertion,
        BadgeClass,
        CryptographicKey,
        IdentityObject,
        Profile,
        RevocationList,
        Verification,
    )
    from openbadgeslib.ob2.signer import OB2Signer

    if not base_url.endswith("/"):
        base_url += "/"
    hosted = "ob2-hosted"
    issuer_url = base_url + "issuer.json"
    key_url = base_url + "key.json"
    badge_url = base_url + "badge.json"
    image_url = base_url + "badge.png"
    revocations_url = base_url + "revocations.json"
    private_pem, public_pem = keys["rsa"]

    def assertion():
        return Assertion(
            recipient=IdentityObject.create(email, salt),
            badge=badge_url,
            verification=Verification(type="SignedBadge", creator=key_url),
            issued_on=now,
            expires=now + timedelta(days=365),
            narrative="Badge OB 2.0 signé par openbadgeslib.",
        )

    good, revoked = assertion(), assertion()
    documents = {
        "issuer.json": Profile(id=issuer_url, name="Atelier openbadgeslib",
                               url="https://openbadgeslib.example.org",
                               email="badges@openbadgeslib.example.org",
                               public_key=[key_url], revocation_list=revocations_url),
        "key.json": CryptographicKey(id=key_url, owner=issuer_url,
                                     public_key_pem=public_pem.decode("ascii")),
        "badge.json": BadgeClass(id=badge_url, name="Interopérabilité OB 2.0",
                                 description="Badge OB 2.0 émis par openbadgeslib.",
                                 image=image_url, criteria=base_url + "criteria.html",
                                 issuer=issuer_url, tags=["interop"]),
        "revocations.json": RevocationList(
            id=revocations_url, issuer=issuer_url,
            revoked_assertions=[{"id": revoked.id, "revocationReason": "Émis par erreur"}]),
    }
    for name, doc in documents.items():
        write(outdir, f"{hosted}/{name}", json.dumps(doc.to_dict(), ensure_ascii=False, indent=2))
    write(outdir, f"{hosted}/badge.png", png_bytes)
    write(outdir, f"{hosted}/criteria.html",
          "<!doctype html><title>Critères</title><p>Signer un badge OB 2.0.</p>\n")

    signer = OB2Signer(private_pem, algorithm="RS256")
    base = {"proof": "ob2-jws", "alg": "RS256", "issuer": issuer_url}
    outputs.append(dict(base, container="jws", expect="valid", assertion=good.id,
                        file=write(outdir, "ob2-signed.jws", signer.sign(good))))
    outputs.append(dict(base, container="png", expect="valid", assertion=good.id,
                        file=write(outdir, "ob2-signed.png", signer.sign_into_png(good, png_bytes))))
    outputs.append(dict(base, container="svg", expect="valid", assertion=good.id,
                        file=write(outdir, "ob2-signed.svg", signer.sign_into_svg(good, BADGE_SVG))))
    outputs.append(dict(base, container="jws", expect="revoked", assertion=revoked.id,
                        file=write(outdir, "ob2-revoked.jws", signer.sign(revoked))))
    return {"base": base_url, "hosted_dir": hosted, "issuer": issuer_url, "key": key_url,
            "badge": badge_url, "revocation_list": revocations_url}


def main() -> int:
    parser = argparse.ArgumentParser(description="Issue Open Badges with openbadgeslib.")
    parser.add_argument("--out", required=True, help="directory for the outputs")
    parser.add_argument("--email", default=DEFAULT_EMAIL, help="the recipient's email")
    parser.add_argument("--ob2-base", help="base URL the OB 2.0 documents will be served at")
    args = parser.parse_args()

    try:
        import openbadgeslib.util as obl_util
    except ImportError as exc:
        print(json.dumps({"ok": False, "error": f"openbadgeslib is not installed ({exc}); "
                          "run scripts/setup-interop.sh and use .tools/venv/bin/python"}))
        return 2

    os.makedirs(args.out, exist_ok=True)
    outputs, skipped, ob2 = [], [], None
    # Whole seconds, as openbadgeslib writes validFrom and nbf.
    now = datetime.now(timezone.utc).replace(microsecond=0)
    salt = uuid.uuid4().hex
    try:
        with tempfile.TemporaryDirectory(prefix="openbadgeslib-keys-") as keydir:
            keys = make_keys(keydir)
            png_bytes = badge_png()
            issue_ob3_jwt(args.out, keys, args.email, salt, now, png_bytes, outputs)
            issue_ob3_data_integrity(args.out, keys, args.email, salt, now, png_bytes,
                                     outputs, skipped)
            if args.ob2_base:
                ob2 = issue_ob2(args.out, keys, args.email, salt, now, png_bytes,
                                args.ob2_base, outputs)
    except Exception as exc:  # report, with the trace on stderr
        traceback.print_exc()
        print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}",
                          "outputs": outputs}))
        return 1
    print(json.dumps({"ok": True, "openbadgeslib": obl_util.__version__, "email": args.email,
                      "outputs": outputs, "skipped": skipped, "ob2": ob2}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

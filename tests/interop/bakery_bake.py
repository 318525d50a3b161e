#!/usr/bin/env python3
"""Bake an Open Badges 2.0 payload into an image with openbadges-bakery (PyPI 2.0.0, the
reference baker of Open Badges 2.0; installed in .tools/venv-ob2), so that carnet's verifier can
be checked on images another tool baked.

usage: .tools/venv-ob2/bin/python tests/interop/bakery_bake.py IMAGE PAYLOAD_FILE --out FILE

IMAGE is a PNG or an SVG (the bakery detects the type); PAYLOAD_FILE holds the assertion JSON
(hosted) or the compact JWS (signed), exactly as it is to be baked.
Exit status: 0 baked, 2 unreadable input or missing tools.
"""
import argparse
import sys


def main():
    parser = argparse.ArgumentParser(description="Bake an OB 2.0 payload (openbadges-bakery).")
    parser.add_argument("image")
    parser.add_argument("payload")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    try:
        from openbadges_bakery import bake
    except ImportError as exc:
        print("bakery_bake: openbadges-bakery is not installed (%s); run "
              "scripts/setup-interop.sh" % exc, file=sys.stderr)
        return 2
    with open(args.payload, "r", encoding="utf-8") as f:
        payload = f.read()
    try:
        with open(args.image, "rb") as image, open(args.out, "wb") as out:
            bake(image, payload, out)
    except Exception as exc:  # the bakery raises bare exceptions on odd images
        print("bakery_bake: cannot bake %s: %s" % (args.image, exc), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

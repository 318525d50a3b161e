#!/usr/bin/env python3
"""Extract the Open Badges 2.0 payload of a baked image with openbadges-bakery (PyPI 2.0.0,
the reference baker of Open Badges 2.0; installed in .tools/venv-ob2).

usage: .tools/venv-ob2/bin/python tests/interop/bakery_unbake.py IMAGE [--out FILE]

IMAGE is a PNG or an SVG ("-" reads stdin); the bakery detects the type itself. What it reads:
PNG: the first iTXt (else tEXt) chunk with the keyword `openbadges`; SVG: the first
`<openbadges:assertion>` element, its `verify` attribute if present, else its CDATA text. So a
signed badge gives the compact JWS, a hosted PNG the assertion JSON and a hosted SVG the
assertion URL (its `verify` attribute, as the bakery's own `bake` writes it).

The payload is written to stdout exactly as returned, with no newline added, or to --out FILE.
Exit status: 0 payload found, 1 no payload, 2 unreadable image or missing tools.
"""
import argparse
import io
import sys


def main():
    parser = argparse.ArgumentParser(
        description="Extract a baked Open Badges 2.0 payload (openbadges-bakery).")
    parser.add_argument("image", help='PNG or SVG file, or "-" for stdin')
    parser.add_argument("--out", help="write the payload here instead of stdout")
    args = parser.parse_args()
    try:
        from openbadges_bakery import check_image_type, unbake
    except ImportError as exc:
        print("bakery_unbake: openbadges-bakery is not installed (%s); run "
              "scripts/setup-interop.sh and use .tools/venv-ob2/bin/python" % exc, file=sys.stderr)
        return 2
    try:
        data = sys.stdin.buffer.read() if args.image == "-" else open(args.image, "rb").read()
    except OSError as exc:
        print("bakery_unbake: cannot read %s: %s" % (args.image, exc), file=sys.stderr)
        return 2
    if check_image_type(io.BytesIO(data)) not in ("PNG", "SVG"):
        print("bakery_unbake: %s is neither a PNG nor an SVG" % args.image, file=sys.stderr)
        return 2
    try:
        payload = unbake(io.BytesIO(data))
    except IndexError:
        # the SVG reader indexes the first <openbadges:assertion> without checking
        payload = None
    except Exception as exc:  # the bakery's PNG/XML readers raise their own errors
        print("bakery_unbake: unreadable image: %s: %s" % (type(exc).__name__, exc),
              file=sys.stderr)
        return 2
    if payload is None:
        print("bakery_unbake: no Open Badges 2.0 payload found", file=sys.stderr)
        return 1
    if isinstance(payload, bytes):
        payload = payload.decode("utf-8")
    if args.out:
        with open(args.out, "w", encoding="utf-8", newline="") as f:
            f.write(payload)
    else:
        sys.stdout.write(payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Extract the baked payload from a badge image with openbadgeslib's baking module.

usage: unbake.py IMAGE [--ob2] [--out FILE]

IMAGE is a PNG or an SVG (detected from its content; "-" reads stdin).
Default is Open Badges 3.0: PNG iTXt keyword ``openbadgecredential``, SVG
element ``openbadges:credential`` (its ``verify`` attribute, else its text).
``--ob2`` reads Open Badges 2.0 instead: PNG iTXt ``openbadges``, SVG
``openbadges:assertion``.

The payload text is written to stdout exactly as stored (no newline added),
or to --out FILE. Exit status: 0 payload found, 1 no payload, 2 error
(unreadable or malformed image, missing tools).
"""

import argparse
import sys


def main() -> int:
    parser = argparse.ArgumentParser(
        description="Extract a baked Open Badges payload (openbadgeslib).")
    parser.add_argument("image", help='PNG or SVG file, or "-" for stdin')
    parser.add_argument("--ob2", action="store_true",
                        help="read the OB 2.0 carrier (openbadges) instead of OB 3.0")
    parser.add_argument("--out", help="write the payload here instead of stdout")
    args = parser.parse_args()

    try:
        from openbadgeslib import baking
    except ImportError as exc:
        print(f"unbake: openbadgeslib is not installed ({exc}); "
              "run scripts/setup-interop.sh and use .tools/venv/bin/python",
              file=sys.stderr)
        return 2

    try:
        if args.image == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(args.image, "rb") as fh:
                data = fh.read()
    except OSError as exc:
        print(f"unbake: cannot read {args.image}: {exc}", file=sys.stderr)
        return 2

    if args.ob2:
        keyword, element = baking.ITXT_KEYWORD, baking.SVG_ELEMENT
    else:
        keyword, element = baking.ITXT_KEYWORD_OB3, baking.SVG_ELEMENT_OB3

    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n"):
            kind = "png"
            payload = baking.extract_png(data, keyword=keyword)
            count = _count_png_chunks(data, keyword)
            if count > 1:
                print(f"unbake: warning: {count} iTXt chunks with keyword "
                      f"{keyword.decode()} (the spec allows one); returned the first",
                      file=sys.stderr)
        elif data.lstrip()[:1] == b"<":
            kind = "svg"
            payload = baking.extract_svg(data, element=element, text_fallback=True)
        else:
            print("unbake: not a PNG or SVG image", file=sys.stderr)
            return 2
    except Exception as exc:  # malformed image: report, do not trace back
        print(f"unbake: cannot parse image: {type(exc).__name__}: {exc}",
              file=sys.stderr)
        return 2

    if payload is None or payload == "":
        what = f"iTXt keyword {keyword.decode()}" if kind == "png" else f"<{element}>"
        print(f"unbake: no baked payload ({what}) in {args.image}", file=sys.stderr)
        return 1

    if args.out:
        with open(args.out, "w", encoding="utf-8", newline="") as fh:
            fh.write(payload)
    else:
        sys.stdout.write(payload)
        sys.stdout.flush()
    return 0


def _count_png_chunks(data: bytes, keyword: bytes) -> int:
    """How many iTXt chunks carry this keyword (pypng, openbadgeslib's PNG reader)."""
    from png import Reader

    count = 0
    for tag, chunk in Reader(bytes=data).chunks():
        tag = tag.decode("ascii") if isinstance(tag, bytes) else tag
        if tag == "iTXt" and chunk.split(b"\x00", 1)[0] == keyword:
            count += 1
    return count


if __name__ == "__main__":
    sys.exit(main())

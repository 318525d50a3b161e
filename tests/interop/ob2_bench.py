#!/usr/bin/env python3
"""Benchmark baseline for docs/BENCHMARKS.md: the IMS OB 2.0 validator (openbadges-validator-core)
verifying a hosted assertion served by carnet, and openbadges-bakery baking a PNG in memory.

usage: .tools/venv-ob2/bin/python tests/interop/ob2_bench.py --url ASSERTION_URL --allow-fetch PREFIX
           --png IMAGE [--iterations N]
Prints one JSON line: {"validate_ms_per_op": x, "bake_png_ms_per_op": y, ...}.
The OB 2.0 context is answered locally (as in ob2_validate.py); the assertion, its BadgeClass and
issuer are fetched from carnet over HTTP on every validation (use_cache=False), as a verifier would.
"""
import argparse
import io
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ob2_validate  # noqa: E402  (the same network guard and local context)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--allow-fetch", action="append", default=[])
    p.add_argument("--png", required=True)
    p.add_argument("--iterations", type=int, default=50)
    args = p.parse_args()

    from openbadges.verifier.openbadges_context import (
        OPENBADGES_CONTEXT_V2_DICT, OPENBADGES_CONTEXT_V2_URI)
    guard = ob2_validate.Guard(args.allow_fetch, [], OPENBADGES_CONTEXT_V2_URI,
                               json.dumps(OPENBADGES_CONTEXT_V2_DICT).encode("utf-8"), False)
    guard.install()
    from openbadges.verifier import verify
    from openbadges_bakery.png_bakery import bake

    first = verify(args.url, None, use_cache=False)
    if not first.get("report", {}).get("valid"):
        print(json.dumps({"ok": False, "error": "the assertion does not validate", "report": first.get("report")}))
        return 1
    n = args.iterations
    start = time.perf_counter()
    for _ in range(n):
        verify(args.url, None, use_cache=False)
    validate_ms = (time.perf_counter() - start) * 1000 / n
    # With the validator's own cache (requests-cache), as a long-running validator would run.
    verify(args.url, None, use_cache=True)
    start = time.perf_counter()
    for _ in range(n):
        verify(args.url, None, use_cache=True)
    validate_cached_ms = (time.perf_counter() - start) * 1000 / n

    with open(args.png, "rb") as f:
        png = f.read()
    # The same text carnet bench bakes: the hosted assertion as the URL answers it.
    import requests
    assertion = requests.get(args.url, headers={"Accept": "application/ld+json"}, timeout=10).text
    # In memory on both sides: no temporary file.
    for _ in range(5):
        bake(io.BytesIO(png), assertion, io.BytesIO())
    start = time.perf_counter()
    for _ in range(n * 20):
        bake(io.BytesIO(png), assertion, io.BytesIO())
    bake_ms = (time.perf_counter() - start) * 1000 / (n * 20)
    print(json.dumps({"ok": True, "iterations": n, "validate_ms_per_op": round(validate_ms, 3),
                      "validate_with_cache_ms_per_op": round(validate_cached_ms, 3),
                      "bake_png_ms_per_op": round(bake_ms, 4), "png_bytes": len(png),
                      "assertion_bytes": len(assertion.encode("utf-8"))}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

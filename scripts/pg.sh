#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for development and tests.
#
# usage: scripts/pg.sh start | stop | status | url | destroy
#   start    initdb (first time), start on 127.0.0.1, create role and database `wsa`,
#            print the libpq conninfo on stdout. Already running: just print it.
#   stop     stop the cluster (fast shutdown). Not running: say so, exit 0.
#   status   exit 0 and print the conninfo when running, exit 3 when not.
#   url      print the conninfo of the running cluster (exit 3 when not running).
#   destroy  stop and delete the cluster's data directory.
#   crash    stop the server as a crash would (`pg_ctl -m immediate`), then start it again
#            (crash recovery); for the fault tests.
# env: WSA_PG_DATA (a data directory of its own, for a private cluster beside the usual one),
# WSA_PG_PORT (default 55432, or the next free port when that one is busy), WSA_PG_BIN (default: PostgreSQL 15's bindir).
# Only the conninfo goes to stdout, so `export WSA_TEST_DATABASE=$(scripts/pg.sh start)` works.
#
# The cluster lives at <working tree>/.wsa/pg. PostgreSQL refuses to run as root, so when this
# script runs as root it runs initdb/pg_ctl as the `postgres` system user (from the Debian
# package). That user cannot traverse /root, so the data directory is then
# /var/tmp/wsa-pg-<hash of the working tree path>, owned by postgres, and .wsa/pg is a symlink
# to it.
set -euo pipefail

PORT=${WSA_PG_PORT:-55432}
BIN=${WSA_PG_BIN:-/usr/lib/postgresql/15/bin}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
LINK=$ROOT/.wsa/pg
HASH=$(printf '%s' "$ROOT" | sha256sum | cut -c1-10)

die() { echo "pg.sh: $*" >&2; exit 1; }
note() { echo "pg.sh: $*" >&2; }

[[ $PORT =~ ^[0-9]+$ ]] && (( PORT > 0 && PORT < 65536 )) || die "WSA_PG_PORT must be a port number, not '$PORT'"
[ -x "$BIN/pg_ctl" ] || die "no PostgreSQL 15 at $BIN (install postgresql-15 and postgresql-15-q3c, or set WSA_PG_BIN)"

if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' system user (apt-get install postgresql-15)"
    DATA=/var/tmp/wsa-pg-$HASH
    PGOWN=1
    as_pg() { (cd / && runuser -u postgres -- "$@"); }
else
    DATA=$LINK
    PGOWN=
    as_pg() { "$@"; }
fi
if [ -n "${WSA_PG_DATA:-}" ]; then
    DATA=$WSA_PG_DATA
    LINK=$DATA
fi

# A Unix socket path must fit in sun_path (107 bytes + NUL); fall back to a short /tmp dir.
SOCKDIR=$DATA
if (( ${#SOCKDIR} + ${#PORT} + 12 > 107 )); then
    SOCKDIR=/tmp/wsa-pg-sock-$HASH
fi

conninfo() { echo "host=127.0.0.1 port=$1 dbname=wsa user=wsa"; }

# The pid of a live postmaster for $DATA, or nothing. A pid file left by a killed server may name
# a pid since reused by another program, so check that the process really is postgres.
live_pid() {
    local pidfile=$DATA/postmaster.pid pid
    [ -f "$pidfile" ] || return 0
    pid=$(head -n 1 "$pidfile" 2>/dev/null || true)
    [[ $pid =~ ^[0-9]+$ ]] || return 0
    [ -d "/proc/$pid" ] || return 0
    case "$(cat "/proc/$pid/comm" 2>/dev/null)" in
        postgres|postmaster) echo "$pid" ;;
    esac
}

running_port() { sed -n 4p "$DATA/postmaster.pid" 2>/dev/null; }

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

ensure_link() {
    mkdir -p "$ROOT/.wsa"
    if [ "$DATA" != "$LINK" ]; then
        if [ -L "$LINK" ]; then
            [ "$(readlink "$LINK")" = "$DATA" ] || ln -sfn "$DATA" "$LINK"
        elif [ -e "$LINK" ]; then
            die "$LINK exists and is not a symlink to $DATA; remove it (a cluster made by a non-root user?)"
        else
            ln -s "$DATA" "$LINK"
        fi
    fi
}

init_cluster() {
    [ -f "$DATA/PG_VERSION" ] && return 0
    mkdir -p "$DATA"
    [ -z "$PGOWN" ] || chown postgres:postgres "$DATA"
    chmod 700 "$DATA"
    note "initdb $DATA"
    # Trust authentication: this cluster is throwaway, holds only test data and listens on
    # loopback only, and the tests and scripts then need no password handling.
    as_pg "$BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
        >"$DATA.initdb.log" 2>&1 || { cat "$DATA.initdb.log" >&2; die "initdb failed"; }
    rm -f "$DATA.initdb.log"
    cat >"$DATA/pg_hba.conf" <<'EOF'
# Throwaway test cluster: trust, and only on the local socket and loopback.
local   all  all                trust
host    all  all  127.0.0.1/32  trust
host    all  all  ::1/128       trust
EOF
    echo "include_if_exists = 'wsa.conf'" >>"$DATA/postgresql.conf"
    [ -z "$PGOWN" ] || chown postgres:postgres "$DATA/pg_hba.conf"
}

write_settings() {
    cat >"$DATA/wsa.conf" <<EOF
# Written by scripts/pg.sh on every start.
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$SOCKDIR'
max_connections = 100
shared_buffers = 128MB
work_mem = 16MB
maintenance_work_mem = 128MB
# Throwaway cluster: durability is not wanted, speed is.
fsync = off
synchronous_commit = off
full_page_writes = off
max_wal_size = 2GB
# JIT makes q3c cone searches hundreds of times slower.
jit = off
logging_collector = off
log_min_messages = warning
EOF
    [ -z "$PGOWN" ] || chown postgres:postgres "$DATA/wsa.conf"
    if [ "$SOCKDIR" != "$DATA" ]; then
        mkdir -p "$SOCKDIR"
        [ -z "$PGOWN" ] || chown postgres:postgres "$SOCKDIR"
        chmod 700 "$SOCKDIR"
    fi
}

psql_admin() {
    "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tA "$@"
}

start() {
    ensure_link
    local pid
    pid=$(live_pid)
    if [ -n "$pid" ]; then
        conninfo "$(running_port)"
        return 0
    fi
    init_cluster
    if [ -f "$DATA/postmaster.pid" ]; then
        note "removing stale pid file left by a server that is gone"
        rm -f "$DATA/postmaster.pid"
    fi
    rm -f "$SOCKDIR/.s.PGSQL.$PORT" "$SOCKDIR/.s.PGSQL.$PORT.lock" 2>/dev/null || true
    if port_busy "$PORT"; then
        # With no port asked for, a busy default (another checkout's cluster, say) moves us on
        # to the next free port; an explicit WSA_PG_PORT is kept or refused.
        [ -z "${WSA_PG_PORT:-}" ] || die "port $PORT on 127.0.0.1 is in use by another program; set WSA_PG_PORT to a free port"
        local tried=$PORT
        while port_busy "$PORT"; do
            PORT=$((PORT + 1))
            (( PORT < tried + 50 )) || die "ports $tried-$PORT on 127.0.0.1 are all in use; set WSA_PG_PORT to a free port"
        done
        note "port $tried is in use; using $PORT"
    fi
    write_settings
    local log=$DATA/server.log
    if ! as_pg "$BIN/pg_ctl" -D "$DATA" -l "$log" -w -t 60 -s start; then
        tail -n 20 "$log" >&2 2>/dev/null || true
        die "the server did not start (log: $log)"
    fi
    if [ -z "$(psql_admin -c "select 1 from pg_roles where rolname = 'wsa'")" ]; then
        psql_admin -c "create role wsa login superuser"
    fi
    if [ -z "$(psql_admin -c "select 1 from pg_database where datname = 'wsa'")" ]; then
        psql_admin -c "create database wsa owner wsa"
    fi
    conninfo "$PORT"
}

stop() {
    if [ -z "$(live_pid)" ]; then
        note "not running"
        return 0
    fi
    as_pg "$BIN/pg_ctl" -D "$DATA" -m fast -w -t 60 -s stop || die "the server did not stop"
}

status() {
    if [ -n "$(live_pid)" ]; then
        conninfo "$(running_port)"
    else
        note "not running"
        exit 3
    fi
}

destroy() {
    stop
    if [ "$DATA" != "$LINK" ]; then
        rm -rf "$DATA"
        rm -f "$LINK"
    else
        rm -rf "$DATA"
    fi
    [ "$SOCKDIR" = "$DATA" ] || rm -rf "$SOCKDIR"
    note "removed the cluster"
}

crash() {
    [ -n "$(live_pid)" ] || die "not running"
    local port
    port=$(running_port)
    as_pg "$BIN/pg_ctl" -D "$DATA" -m immediate -w -t 60 -s stop || die "the server did not stop"
    as_pg "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 60 -s start || die "the server did not start again"
    conninfo "$port"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status|url) status ;;
    destroy) destroy ;;
    crash) crash ;;
    *) echo "usage: scripts/pg.sh start|stop|status|url|destroy|crash" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Start a private PostgreSQL cluster (Debian's server binaries) in DATA_DIR.
#
# Usage: infra/postgres/start.sh DATA_DIR [PORT]
#
# Prints the SQLAlchemy URL alone on stdout once the server accepts connections:
#   postgresql+psycopg://casestream@127.0.0.1:PORT/casestream
# Progress goes to stderr. Listens on 127.0.0.1 only; the unix socket lives in DATA_DIR.
# First start: installs PostgreSQL via apt if missing, runs initdb (trust auth) and creates the
# superuser role and database "casestream". Later starts with the same DATA_DIR keep the data and
# the port (a new free port is picked only if the recorded one is taken and no PORT was given).
# If the cluster is already running, just prints its URL.
#
# Run as root: the server runs as the OS user "postgres" (runuser), and DATA_DIR is chown'ed
# to it. Run as another user: the server runs as that user.
#
# Environment: CASESTREAM_PG_FAST=1 turns off fsync, synchronous_commit and full_page_writes
# (test speed only: a crash of the machine can corrupt the cluster).
set -euo pipefail

log() { echo "postgres/start: $*" >&2; }
die() { echo "postgres/start: ERROR: $*" >&2; exit 1; }

[[ $# -ge 1 && $# -le 2 && -n "$1" ]] || die "usage: $0 DATA_DIR [PORT]"
REQ_PORT="${2:-}"
if [[ -n "$REQ_PORT" ]] && ! [[ "$REQ_PORT" =~ ^[0-9]+$ && "$REQ_PORT" -ge 1 && "$REQ_PORT" -le 65535 ]]; then
    die "PORT must be a number 1-65535, got '$REQ_PORT'"
fi
FAST="${CASESTREAM_PG_FAST:-0}"
IS_ROOT=0
[[ "$(id -u)" == 0 ]] && IS_ROOT=1

# --- server binaries (install on a fresh machine) ---------------------------------------------
find_pg_bin() {
    local pg_ctl
    pg_ctl="$(ls -d /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V | tail -n1)"
    [[ -n "$pg_ctl" ]] && dirname "$pg_ctl"
}
PG_BIN="$(find_pg_bin || true)"
if [[ -z "$PG_BIN" ]]; then
    [[ $IS_ROOT == 1 ]] \
        || die "PostgreSQL server not installed; run: sudo apt-get update && sudo apt-get install -y postgresql"
    log "PostgreSQL server not found; installing it with apt-get ..."
    apt-get update >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2
    PG_BIN="$(find_pg_bin || true)"
    [[ -n "$PG_BIN" ]] || die "apt-get installed postgresql but no /usr/lib/postgresql/*/bin/pg_ctl exists; check 'dpkg -L postgresql-15'"
fi
for tool in initdb pg_ctl pg_isready psql; do
    [[ -x "$PG_BIN/$tool" ]] || die "$PG_BIN/$tool missing; reinstall: apt-get install --reinstall -y postgresql postgresql-client"
done

if [[ $IS_ROOT == 1 ]]; then
    id postgres >/dev/null 2>&1 \
        || die "OS user 'postgres' missing (it comes with the package): apt-get install --reinstall -y postgresql-common"
    PG_RUN=(runuser -u postgres --)
else
    PG_RUN=()
fi
as_pg() { "${PG_RUN[@]}" "$@"; }

# --- data dir ----------------------------------------------------------------------------------
mkdir -p "$1" || die "cannot create DATA_DIR '$1' (choose a writable path)"
DATA_DIR="$(cd "$1" && pwd)"
CONF="$DATA_DIR/casestream.conf"
cd /  # the postgres user may not be able to read the caller's cwd (e.g. /root)
SERVER_LOG="$DATA_DIR/server.log"

# Serialise concurrent start.sh runs for the same DATA_DIR: lock the directory itself (initdb
# needs it empty, so no lock file inside). fd 8 is closed for the server.
exec 8<"$DATA_DIR"
flock 8

if [[ $IS_ROOT == 1 ]]; then
    # The postgres user must be able to reach DATA_DIR: make every ancestor traversable.
    # (checked top-down, since a closed ancestor hides the ones below it)
    ancestors=()
    d="$(dirname "$DATA_DIR")"
    while [[ "$d" != "/" ]]; do ancestors=("$d" "${ancestors[@]}"); d="$(dirname "$d")"; done
    for d in "${ancestors[@]}"; do
        if ! runuser -u postgres -- test -x "$d" 2>/dev/null; then
            log "chmod o+x $d (so the postgres user can reach $DATA_DIR)"
            chmod o+x "$d"
        fi
    done
    if [[ "$(stat -c %U "$DATA_DIR")" != postgres ]]; then
        chown -R postgres:postgres "$DATA_DIR"
    fi
fi

url() { echo "postgresql+psycopg://casestream@127.0.0.1:$1/casestream"; }

# Already running? (pg_ctl status: 0 = running)
if [[ -f "$DATA_DIR/PG_VERSION" ]] && as_pg "$PG_BIN/pg_ctl" status -D "$DATA_DIR" >/dev/null 2>&1; then
    RUN_PORT="$(sed -n '4p' "$DATA_DIR/postmaster.pid" 2>/dev/null || true)"
    [[ "$RUN_PORT" =~ ^[0-9]+$ ]] || die "cluster in $DATA_DIR is running but its port is unknown; run infra/postgres/stop.sh $DATA_DIR and retry"
    log "cluster in $DATA_DIR already running on port $RUN_PORT"
    url "$RUN_PORT"
    exit 0
fi

# --- port --------------------------------------------------------------------------------------
port_free() {
    python3 - "$1" <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
PY
}
# A free port at random below the kernel's ephemeral range (so outgoing connections cannot
# grab it before the server binds it).
pick_port() {
    python3 - <<'PY'
import random, socket
lo_eph = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
hi = max(lo_eph - 1, 20100)
while True:
    p = random.randint(20000, hi)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break
PY
}
command -v python3 >/dev/null 2>&1 || die "python3 not found (apt-get install -y python3)"

RECORDED_PORT="$(sed -n "s/^port = \([0-9]*\).*/\1/p" "$CONF" 2>/dev/null || true)"
if [[ -n "$REQ_PORT" ]]; then
    PORT="$REQ_PORT"
    port_free "$PORT" || die "port $PORT on 127.0.0.1 is already in use; pick another PORT or omit it"
elif [[ -n "$RECORDED_PORT" ]] && port_free "$RECORDED_PORT"; then
    PORT="$RECORDED_PORT"
    log "reusing port $PORT recorded in $CONF"
else
    [[ -n "$RECORDED_PORT" ]] && log "recorded port $RECORDED_PORT is in use now; picking a new one"
    PORT="$(pick_port)"
fi

SOCKET_PATH="$DATA_DIR/.s.PGSQL.$PORT"
[[ ${#SOCKET_PATH} -le 107 ]] \
    || die "unix socket path $SOCKET_PATH is longer than 107 bytes; use a shorter DATA_DIR"

# --- initdb (first start only) ----------------------------------------------------------------
if [[ ! -f "$DATA_DIR/PG_VERSION" ]]; then
    if [[ -n "$(ls -A "$DATA_DIR")" ]]; then
        die "$DATA_DIR is not empty and holds no PostgreSQL cluster (no PG_VERSION); use an empty or new DATA_DIR"
    fi
    log "initdb $DATA_DIR ($("$PG_BIN/postgres" --version))"
    INITDB_OPTS=(-D "$DATA_DIR" -U postgres --auth-local=trust --auth-host=trust
                 --encoding=UTF8 --locale=C.UTF-8)
    [[ "$FAST" == 1 ]] && INITDB_OPTS+=(--no-sync)
    if ! INITDB_OUT="$(as_pg "$PG_BIN/initdb" "${INITDB_OPTS[@]}" 2>&1)"; then
        echo "$INITDB_OUT" >&2
        die "initdb failed (see above); empty or remove $DATA_DIR and retry"
    fi
    echo "include_if_exists = 'casestream.conf'	# written by infra/postgres/start.sh" \
        >>"$DATA_DIR/postgresql.conf"
fi

# --- config (rewritten on every start; port kept) ---------------------------------------------
{
    echo "# Written by infra/postgres/start.sh on every start (the port is kept across restarts)."
    echo "listen_addresses = '127.0.0.1'"
    echo "port = $PORT"
    echo "unix_socket_directories = '$DATA_DIR'"
    if [[ "$FAST" == 1 ]]; then
        echo "# CASESTREAM_PG_FAST=1: test speed only, not crash safe"
        echo "fsync = off"
        echo "synchronous_commit = off"
        echo "full_page_writes = off"
    fi
} >"$CONF"
[[ $IS_ROOT == 1 ]] && chown postgres:postgres "$CONF"

# --- start ---------------------------------------------------------------------------------------
log "starting PostgreSQL on 127.0.0.1:$PORT (data in $DATA_DIR, log $SERVER_LOG, CASESTREAM_PG_FAST=$FAST)"
# setsid -w: the server gets its own session (so signals to the caller's terminal or process
# group do not reach it) while we still wait for pg_ctl; pg_ctl -w waits until it is up.
if ! setsid -w "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$DATA_DIR" -l "$SERVER_LOG" -w -t 60 start \
        >&2 8<&- </dev/null; then
    echo "----- last 40 lines of $SERVER_LOG -----" >&2
    tail -n 40 "$SERVER_LOG" >&2 2>/dev/null || true
    die "PostgreSQL did not start (see the log above; a port clash: pass another PORT; a broken cluster: remove $DATA_DIR)"
fi

for i in $(seq 300); do
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres && break
    [[ $i == 300 ]] && die "server started but pg_isready still fails on 127.0.0.1:$PORT after 30 s; see $SERVER_LOG"
    sleep 0.1
done

# --- role + database (idempotent) ---------------------------------------------------------------
PSQL=("${PG_RUN[@]}" "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$DATA_DIR" -p "$PORT" -U postgres -d postgres)
if [[ "$("${PSQL[@]}" -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'casestream'")" != 1 ]]; then
    log "creating role casestream"
    "${PSQL[@]}" -c "CREATE ROLE casestream LOGIN SUPERUSER" >&2
fi
if [[ "$("${PSQL[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = 'casestream'")" != 1 ]]; then
    log "creating database casestream"
    "${PSQL[@]}" -c "CREATE DATABASE casestream OWNER casestream" >&2
fi

log "ready on 127.0.0.1:$PORT"
url "$PORT"

#!/usr/bin/env bash
# Stop the PostgreSQL cluster started by infra/postgres/start.sh in DATA_DIR.
#
# Usage: infra/postgres/stop.sh DATA_DIR
#
# pg_ctl stop -m fast (disconnects clients, clean shutdown). Exits 0 if it is not running.
# The data stays in DATA_DIR, so start.sh DATA_DIR brings the same cluster back.
set -euo pipefail

log() { echo "postgres/stop: $*" >&2; }
die() { echo "postgres/stop: ERROR: $*" >&2; exit 1; }

[[ $# -eq 1 && -n "$1" ]] || die "usage: $0 DATA_DIR"
if [[ ! -f "$1/PG_VERSION" ]]; then
    log "no PostgreSQL cluster in '$1'; nothing to stop"
    exit 0
fi
DATA_DIR="$(cd "$1" && pwd)"
cd /  # the postgres user may not be able to read the caller's cwd (e.g. /root)

PG_CTL="$(ls -d /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V | tail -n1 || true)"
[[ -n "$PG_CTL" ]] || die "pg_ctl not found (apt-get install -y postgresql)"

if [[ "$(id -u)" == 0 ]]; then
    PG_RUN=(runuser -u postgres --)
else
    PG_RUN=()
fi

if ! "${PG_RUN[@]}" "$PG_CTL" status -D "$DATA_DIR" >/dev/null 2>&1; then
    log "no server running for $DATA_DIR"
    exit 0
fi
log "stopping PostgreSQL in $DATA_DIR"
"${PG_RUN[@]}" "$PG_CTL" stop -D "$DATA_DIR" -m fast -w -t 60 >&2 \
    || die "pg_ctl stop failed; see $DATA_DIR/server.log (last resort: pg_ctl stop -m immediate -D $DATA_DIR)"

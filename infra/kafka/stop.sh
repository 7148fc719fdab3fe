#!/usr/bin/env bash
# Stop the Kafka broker started by infra/kafka/start.sh for DATA_DIR.
#
# Usage: infra/kafka/stop.sh DATA_DIR [TIMEOUT]
#
# SIGTERM (controlled shutdown), wait up to TIMEOUT seconds (default 30), then SIGKILL.
# Exits 0 if it is not running.
# Data stays in DATA_DIR, so start.sh DATA_DIR brings the same broker back.
set -euo pipefail

log() { echo "kafka/stop: $*" >&2; }
die() { echo "kafka/stop: ERROR: $*" >&2; exit 1; }

[[ ($# -eq 1 || $# -eq 2) && -n "$1" ]] || die "usage: $0 DATA_DIR [TIMEOUT]"
TIMEOUT="${2:-30}"
[[ "$TIMEOUT" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "TIMEOUT must be a number of seconds, not '$TIMEOUT'"
if [[ ! -d "$1" ]]; then
    log "no such DATA_DIR '$1'; nothing to stop"
    exit 0
fi
DATA_DIR="$(cd "$1" && pwd)"
PROPS="$DATA_DIR/server.properties"
PIDFILE="$DATA_DIR/kafka.pid"

# pid of this DATA_DIR's broker if it is alive (guards against a recycled pid)
broker_pid() {
    local pid
    [[ -s "$PIDFILE" ]] || return 1
    pid="$(cat "$PIDFILE")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [[ -r "/proc/$pid/cmdline" ]] || return 1
    [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != "Z" ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "kafka.Kafka $PROPS" || return 1
    echo "$pid"
}

if ! PID="$(broker_pid)"; then
    log "no broker running for $DATA_DIR"
    rm -f "$PIDFILE" "$DATA_DIR/bootstrap"
    exit 0
fi

log "stopping broker pid $PID ($DATA_DIR)"
kill -TERM "$PID" 2>/dev/null || true
now_ms() { date +%s%3N; }
DEADLINE_MS="$(awk -v now="$(now_ms)" -v t="$TIMEOUT" 'BEGIN { printf "%.0f", now + t * 1000 }')"
while broker_pid >/dev/null && (( $(now_ms) < DEADLINE_MS )); do
    sleep 0.1
done
if broker_pid >/dev/null; then
    log "broker pid $PID still running after $TIMEOUT s; sending SIGKILL"
    kill -KILL "$PID" 2>/dev/null || true
    for _ in $(seq 50); do broker_pid >/dev/null || break; sleep 0.1; done
fi
rm -f "$PIDFILE" "$DATA_DIR/bootstrap"
log "stopped"

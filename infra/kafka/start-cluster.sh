#!/usr/bin/env bash
# Start a private Apache Kafka cluster of BROKERS KRaft nodes on this machine, in DATA_DIR.
#
# Usage: infra/kafka/start-cluster.sh DATA_DIR [BROKERS]      (BROKERS default 3)
#
# Each node is started by start.sh in DATA_DIR/broker-N with its own ports; nodes 1-3 (or all,
# when fewer) are combined broker+controller nodes forming the controller quorum, any further
# ones are brokers only. The internal topics are replicated min(3, BROKERS) times. Prints the
# bootstrap address ("127.0.0.1:P1,127.0.0.1:P2,...") alone on stdout once every node serves
# requests; progress goes to stderr.
#
# Idempotent: nodes already running are left alone and the others started, so running it
# again brings back a node that was stopped or killed. Restarting keeps the data and the ports
# (DATA_DIR/cluster.env holds the cluster id and the ports). Stop it with stop-cluster.sh.
#
# Environment: as start.sh (CASESTREAM_KAFKA_DIST, CASESTREAM_KAFKA_START_TIMEOUT,
# CASESTREAM_KAFKA_HEAP_OPTS, default here -Xmx384m -Xms192m per node).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

log() { echo "kafka/start-cluster: $*" >&2; }
die() { echo "kafka/start-cluster: ERROR: $*" >&2; exit 1; }

[[ ($# -eq 1 || $# -eq 2) && -n "$1" ]] || die "usage: $0 DATA_DIR [BROKERS]"
BROKERS="${2:-3}"
[[ "$BROKERS" =~ ^[1-9][0-9]*$ ]] || die "BROKERS must be a positive number, not '$BROKERS'"
mkdir -p "$1" || die "cannot create DATA_DIR '$1' (choose a writable path)"
DATA_DIR="$(cd "$1" && pwd)"
CLUSTER_ENV="$DATA_DIR/cluster.env"
VOTERS_COUNT=$(( BROKERS < 3 ? BROKERS : 3 ))
export CASESTREAM_KAFKA_HEAP_OPTS="${CASESTREAM_KAFKA_HEAP_OPTS:--Xmx384m -Xms192m}"

exec 7>"$DATA_DIR/.cluster.lock"
flock 7

node_running() {  # node N's broker process is alive (the check of stop.sh, which prints nothing)
    local dir="$DATA_DIR/broker-$1" pid
    [[ -s "$dir/kafka.pid" ]] || return 1
    pid="$(cat "$dir/kafka.pid")"
    [[ "$pid" =~ ^[0-9]+$ && -r "/proc/$pid/cmdline" ]] || return 1
    [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != "Z" ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "kafka.Kafka $dir/server.properties"
}

# --- the cluster's id and ports, chosen once --------------------------------------------------
if [[ -f "$CLUSTER_ENV" ]]; then
    # shellcheck source=/dev/null
    source "$CLUSTER_ENV"
    [[ "${CLUSTER_BROKERS:-}" == "$BROKERS" ]] \
        || die "$DATA_DIR holds a cluster of ${CLUSTER_BROKERS:-?} brokers, not $BROKERS: start it with that number, or stop it and delete $DATA_DIR"
else
    CLUSTER_ID="$(python3 -c 'import base64, uuid; print(base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="))')"
    read -r -a PORTS <<<"$(python3 "$SCRIPT_DIR/free_ports.py" $(( 2 * BROKERS )))"
    {
        echo "# Written once by infra/kafka/start-cluster.sh: the cluster's id and its nodes' ports."
        echo "CLUSTER_BROKERS=$BROKERS"
        echo "CLUSTER_ID='$CLUSTER_ID'"
        echo "PORTS=(${PORTS[*]})"
    } >"$CLUSTER_ENV"
fi
(( ${#PORTS[@]} == 2 * BROKERS )) || die "$CLUSTER_ENV is damaged; stop the cluster and delete $DATA_DIR"

VOTERS=""
for (( n = 1; n <= VOTERS_COUNT; n++ )); do
    VOTERS+="${VOTERS:+,}$n@127.0.0.1:${PORTS[2 * n - 1]}"
done

"$SCRIPT_DIR/fetch.sh" "${CASESTREAM_KAFKA_DIST:-$REPO_ROOT/var/kafka-dist}"

# --- start every node at once: a controller is ready only once a majority of the quorum runs --
declare -A STARTING=()
for (( n = 1; n <= BROKERS; n++ )); do
    controller_port="${PORTS[2 * n - 1]}"
    (( n <= VOTERS_COUNT )) || controller_port=-
    if node_running "$n"; then
        continue
    fi
    log "starting node $n of $BROKERS"
    mkdir -p "$DATA_DIR/broker-$n"
    CASESTREAM_KAFKA_NODE_ID="$n" \
    CASESTREAM_KAFKA_NODE_PORTS="${PORTS[2 * n - 2]} $controller_port" \
    CASESTREAM_KAFKA_NODE_VOTERS="$VOTERS" \
    CASESTREAM_KAFKA_NODE_CLUSTER_ID="$CLUSTER_ID" \
    CASESTREAM_KAFKA_NODE_REPLICATION="$VOTERS_COUNT" \
        bash "$SCRIPT_DIR/start.sh" "$DATA_DIR/broker-$n" \
        >"$DATA_DIR/broker-$n/start.out" 2>"$DATA_DIR/broker-$n/start.err" 7>&- &
    STARTING[$n]=$!
done
failed=""
for n in "${!STARTING[@]}"; do
    if ! wait "${STARTING[$n]}"; then
        failed+=" $n"
        echo "----- node $n: start.sh said -----" >&2
        cat "$DATA_DIR/broker-$n/start.err" >&2
    fi
done
[[ -z "$failed" ]] || die "node(s)$failed did not start (see above); rerun $0 $DATA_DIR $BROKERS"

BOOTSTRAP=""
for (( n = 1; n <= BROKERS; n++ )); do
    BOOTSTRAP+="${BOOTSTRAP:+,}127.0.0.1:${PORTS[2 * n - 2]}"
done
log "cluster of $BROKERS ready: $BOOTSTRAP (data in $DATA_DIR)"
echo "$BOOTSTRAP"

#!/usr/bin/env bash
# Start a private single-node Apache Kafka broker (KRaft, broker+controller) for DATA_DIR, or
# one node of a local cluster (start-cluster.sh sets the CASESTREAM_KAFKA_NODE_* variables).
#
# Usage: infra/kafka/start.sh DATA_DIR
#
# Prints the bootstrap address ("127.0.0.1:PORT") alone on stdout once the broker really serves
# requests; progress goes to stderr. Restarting with the same DATA_DIR keeps the data and the
# ports. If the broker for DATA_DIR is already running, just prints its bootstrap address.
#
# Files in DATA_DIR: server.properties, logs/ (Kafka data), server.log (broker log),
# stdout.log (JVM stdout/stderr), kafka.pid, bootstrap.
#
# Environment (all optional):
#   CASESTREAM_KAFKA_DIST           jar dir for fetch.sh        (default <repo>/var/kafka-dist)
#   CASESTREAM_KAFKA_START_TIMEOUT  seconds to wait for ready   (default 90)
#   CASESTREAM_KAFKA_HEAP_OPTS      JVM heap options            (default -Xmx512m -Xms256m)
# Set by start-cluster.sh for one node of a cluster (all unset: a cluster of one):
#   CASESTREAM_KAFKA_NODE_ID               node.id                      (default 1)
#   CASESTREAM_KAFKA_NODE_PORTS            "BROKER_PORT CONTROLLER_PORT", CONTROLLER_PORT "-" for
#                                          a broker-only node (default: kept, or picked here)
#   CASESTREAM_KAFKA_NODE_VOTERS           controller.quorum.voters     (default: this node)
#   CASESTREAM_KAFKA_NODE_CLUSTER_ID       cluster id for the first format (default: random)
#   CASESTREAM_KAFKA_NODE_REPLICATION      replicas of the internal topics and the default
#                                          replication factor (default 1; min.insync one less)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

log() { echo "kafka/start: $*" >&2; }
die() { echo "kafka/start: ERROR: $*" >&2; exit 1; }

[[ $# -eq 1 && -n "$1" ]] || die "usage: $0 DATA_DIR"
mkdir -p "$1" || die "cannot create DATA_DIR '$1' (choose a writable path)"
DATA_DIR="$(cd "$1" && pwd)"
DIST_DIR="${CASESTREAM_KAFKA_DIST:-$REPO_ROOT/var/kafka-dist}"
TIMEOUT="${CASESTREAM_KAFKA_START_TIMEOUT:-90}"
HEAP_OPTS="${CASESTREAM_KAFKA_HEAP_OPTS:--Xmx512m -Xms256m}"
LOG4J_CONF="$SCRIPT_DIR/log4j2.xml"

PROPS="$DATA_DIR/server.properties"
PIDFILE="$DATA_DIR/kafka.pid"
BOOTFILE="$DATA_DIR/bootstrap"
SERVER_LOG="$DATA_DIR/server.log"
STDOUT_LOG="$DATA_DIR/stdout.log"

command -v python3 >/dev/null 2>&1 \
    || die "python3 not found (apt-get install -y python3)"

# Is the broker of this DATA_DIR running? (pid alive, not a zombie, and really our kafka.Kafka)
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

# Serialise concurrent start.sh runs for the same DATA_DIR (fd 8 is closed for the broker).
exec 8>"$DATA_DIR/.start.lock"
flock 8

if pid="$(broker_pid)" && [[ -s "$BOOTFILE" ]]; then
    log "broker for $DATA_DIR already running (pid $pid)"
    cat "$BOOTFILE"
    exit 0
fi
rm -f "$PIDFILE" "$BOOTFILE"

"$SCRIPT_DIR/fetch.sh" "$DIST_DIR"
DIST_DIR="$(cd "$DIST_DIR" && pwd)"
command -v java >/dev/null 2>&1 \
    || die "java not found (apt-get install -y default-jre-headless)"

NODE_ID="${CASESTREAM_KAFKA_NODE_ID:-1}"
NODE_PORTS="${CASESTREAM_KAFKA_NODE_PORTS:-}"
REPLICATION="${CASESTREAM_KAFKA_NODE_REPLICATION:-1}"
MIN_INSYNC=$(( REPLICATION > 1 ? REPLICATION - 1 : 1 ))
[[ "$NODE_ID" =~ ^[0-9]+$ && "$REPLICATION" =~ ^[0-9]+$ ]] \
    || die "CASESTREAM_KAFKA_NODE_ID and CASESTREAM_KAFKA_NODE_REPLICATION must be numbers"

# --- ports -----------------------------------------------------------------------------------
# port_free PORT: can we listen on 127.0.0.1:PORT? (SO_REUSEADDR like the JVM, so TIME_WAIT
# leftovers of a previous run do not count as busy)
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

# Two distinct free ports (infra/kafka/free_ports.py says how they are picked).
pick_ports() {
    python3 "$SCRIPT_DIR/free_ports.py" 2
}

BROKER_PORT=""
CONTROLLER_PORT=""
if [[ -n "$NODE_PORTS" ]]; then
    # a node of a cluster: the ports are the cluster's (its voters name them), never moved here
    read -r BROKER_PORT CONTROLLER_PORT <<<"$NODE_PORTS"
    [[ "$BROKER_PORT" =~ ^[0-9]+$ && ( "$CONTROLLER_PORT" =~ ^[0-9]+$ || "$CONTROLLER_PORT" == - ) ]] \
        || die "CASESTREAM_KAFKA_NODE_PORTS must be 'BROKER_PORT CONTROLLER_PORT', not '$NODE_PORTS'"
    for port in $BROKER_PORT ${CONTROLLER_PORT#-}; do
        port_free "$port" || die "port $port of node $NODE_ID is taken by another process; stop it, or stop the cluster and delete its cluster.env to pick new ports"
    done
elif [[ -f "$PROPS" ]]; then
    BROKER_PORT="$(sed -n 's|^listeners=PLAINTEXT://127\.0\.0\.1:\([0-9]*\),.*|\1|p' "$PROPS")"
    CONTROLLER_PORT="$(sed -n 's|^listeners=.*CONTROLLER://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$PROPS")"
    if [[ -n "$BROKER_PORT" && -n "$CONTROLLER_PORT" ]]; then
        if port_free "$BROKER_PORT" && port_free "$CONTROLLER_PORT"; then
            log "reusing ports from $PROPS: broker $BROKER_PORT, controller $CONTROLLER_PORT"
        else
            # Static quorum (controller.quorum.voters): the endpoints live only in the config,
            # so moving to new ports is safe for the stored data.
            log "stored ports $BROKER_PORT/$CONTROLLER_PORT are busy now; picking new ones"
            BROKER_PORT=""
        fi
    else
        BROKER_PORT=""
    fi
fi
if [[ -z "$BROKER_PORT" ]]; then
    PORTS="$(pick_ports)" || die "could not pick free TCP ports on 127.0.0.1"
    read -r BROKER_PORT CONTROLLER_PORT <<<"$PORTS"
    [[ -n "$CONTROLLER_PORT" ]] || die "could not pick free TCP ports on 127.0.0.1"
fi

# --- config (always rewritten, so changes to this script apply on restart) -------------------
if [[ "$CONTROLLER_PORT" == - ]]; then
    ROLES=broker
    LISTENERS="PLAINTEXT://127.0.0.1:$BROKER_PORT"
else
    ROLES=broker,controller
    LISTENERS="PLAINTEXT://127.0.0.1:$BROKER_PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT"
fi
VOTERS="${CASESTREAM_KAFKA_NODE_VOTERS:-$NODE_ID@127.0.0.1:$CONTROLLER_PORT}"
cat >"$PROPS" <<EOF
# Written by infra/kafka/start.sh; rewritten on every start (ports are kept).
process.roles=$ROLES
node.id=$NODE_ID
listeners=$LISTENERS
advertised.listeners=PLAINTEXT://127.0.0.1:$BROKER_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.quorum.voters=$VOTERS
log.dirs=$DATA_DIR/logs
num.partitions=3
default.replication.factor=$REPLICATION
min.insync.replicas=$MIN_INSYNC
offsets.topic.replication.factor=$REPLICATION
transaction.state.log.replication.factor=$REPLICATION
transaction.state.log.min.isr=$MIN_INSYNC
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
# Kafka is the source of truth: never delete data by age or size.
log.retention.ms=-1
log.retention.bytes=-1
EOF

JAVA_LOG_OPTS=(-Dlog4j2.configurationFile="$LOG4J_CONF" -Dkafka.logs.dir="$DATA_DIR")

# --- format (first start only) ---------------------------------------------------------------
if [[ ! -f "$DATA_DIR/logs/meta.properties" ]]; then
    # given as --cluster-id=ID: a random id may begin with "-", which a separate argument
    # would pass off as an option
    CLUSTER_ID="${CASESTREAM_KAFKA_NODE_CLUSTER_ID:-$(python3 -c 'import base64, uuid; print(base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="))')}"
    log "formatting $DATA_DIR/logs (cluster id $CLUSTER_ID)"
    java "${JAVA_LOG_OPTS[@]}" -cp "$DIST_DIR/lib/*" kafka.tools.StorageTool format \
        --ignore-formatted --cluster-id="$CLUSTER_ID" -c "$PROPS" >&2 \
        || die "kafka storage format failed for $DATA_DIR (see above; delete $DATA_DIR to start from scratch)"
fi

# --- launch ----------------------------------------------------------------------------------
LOG_OFFSET="$(stat -c %s "$SERVER_LOG" 2>/dev/null || echo 0)"
echo "=== $(date -Is) start.sh: starting broker on 127.0.0.1:$BROKER_PORT" >>"$STDOUT_LOG"
log "starting broker: 127.0.0.1:$BROKER_PORT (controller $CONTROLLER_PORT), data in $DATA_DIR"
# setsid: own session, so the broker survives the caller's terminal/process group.
# bash -c writes its own pid and then execs java, so kafka.pid is the JVM's pid.
# shellcheck disable=SC2086,SC2016  # word-split HEAP_OPTS; $$ is for the inner bash
setsid bash -c 'echo $$ >"$0"; exec "$@"' "$PIDFILE" \
    java $HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j2.shutdownHookEnabled=false \
    "${JAVA_LOG_OPTS[@]}" -cp "$DIST_DIR/lib/*" kafka.Kafka "$PROPS" \
    </dev/null >>"$STDOUT_LOG" 2>&1 8>&- &
for _ in $(seq 50); do [[ -s "$PIDFILE" ]] && break; sleep 0.02; done
PID="$(cat "$PIDFILE" 2>/dev/null || true)"
[[ -n "$PID" ]] || die "broker process did not start (see $STDOUT_LOG)"
echo "127.0.0.1:$BROKER_PORT" >"$BOOTFILE"

# --- wait until ready: 'Kafka Server started' logged AND a Metadata request is answered --------
set +e
python3 - "$PID" "$BROKER_PORT" "$SERVER_LOG" "$LOG_OFFSET" "$TIMEOUT" <<'PY'
import os, socket, struct, sys, time

pid, port, log_path, offset, timeout = (int(sys.argv[1]), int(sys.argv[2]), sys.argv[3],
                                        int(sys.argv[4]), float(sys.argv[5]))
deadline = time.monotonic() + timeout


def alive():
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def logged_started():
    try:
        with open(log_path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except OSError:
        return False
    return b"Kafka Server started" in data or b"started (kafka.server" in data


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise OSError("connection closed")
        buf += chunk
    return buf


def metadata_ok():
    """Send MetadataRequest v4 (all topics) and check the brokers listed include this one."""
    client_id = b"casestream-start"
    header = struct.pack(">hhih", 3, 4, 1, len(client_id)) + client_id
    body = struct.pack(">ib", -1, 0)  # topics=null (all), allow_auto_topic_creation=false
    req = header + body
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(struct.pack(">i", len(req)) + req)
            (size,) = struct.unpack(">i", recv_exact(s, 4))
            resp = recv_exact(s, size)
    except OSError:
        return False
    corr, _throttle, n_brokers = struct.unpack_from(">iii", resp, 0)
    if corr != 1:
        return False
    at, ports = 12, []
    for _ in range(n_brokers):  # node_id, host, port, rack (nullable)
        _node, hlen = struct.unpack_from(">ih", resp, at)
        (bport, rlen) = struct.unpack_from(">ih", resp, at + 6 + hlen)
        ports.append(bport)
        at += 6 + hlen + 6 + max(rlen, 0)
    return port in ports


while time.monotonic() < deadline:
    if not alive():
        sys.exit(2)
    if logged_started() and metadata_ok():
        sys.exit(0)
    time.sleep(0.1)
sys.exit(1)
PY
rc=$?
set -e

if [[ $rc -ne 0 ]]; then
    if [[ $rc -eq 2 ]]; then
        echo "kafka/start: ERROR: broker process $PID exited during startup" >&2
    else
        echo "kafka/start: ERROR: broker not ready after ${TIMEOUT}s; stopping it" >&2
        kill -TERM "$PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$PID" 2>/dev/null || true
    fi
    rm -f "$PIDFILE" "$BOOTFILE"
    echo "----- last 40 lines of $SERVER_LOG -----" >&2
    tail -n 40 "$SERVER_LOG" >&2 2>/dev/null || echo "(no server.log: logging is broken, check $LOG4J_CONF and the log4j jars in $DIST_DIR/lib)" >&2
    echo "----- last 20 lines of $STDOUT_LOG -----" >&2
    tail -n 20 "$STDOUT_LOG" >&2 || true
    echo "kafka/start: fix the cause above (a port clash or a corrupt $DATA_DIR/logs: delete $DATA_DIR to start fresh) and rerun" >&2
    exit 1
fi

log "broker ready (pid $PID)"
echo "127.0.0.1:$BROKER_PORT"

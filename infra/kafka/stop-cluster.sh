#!/usr/bin/env bash
# Stop every node of the cluster started by infra/kafka/start-cluster.sh for DATA_DIR.
#
# Usage: infra/kafka/stop-cluster.sh DATA_DIR [TIMEOUT]
#
# Each node as stop.sh does it (SIGTERM, SIGKILL after TIMEOUT seconds, default 30), all at
# once. Data and ports stay in DATA_DIR, so start-cluster.sh DATA_DIR brings the cluster back.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

die() { echo "kafka/stop-cluster: ERROR: $*" >&2; exit 1; }

[[ ($# -eq 1 || $# -eq 2) && -n "$1" ]] || die "usage: $0 DATA_DIR [TIMEOUT]"
[[ -d "$1" ]] || exit 0
pids=()
for dir in "$1"/broker-*/; do
    [[ -d "$dir" ]] || continue
    bash "$SCRIPT_DIR/stop.sh" "$dir" "${2:-30}" &
    pids+=($!)
done
for pid in "${pids[@]}"; do
    wait "$pid" || true
done

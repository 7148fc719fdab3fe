#!/usr/bin/env bash
# Fetch the Apache Kafka broker jars (version from pom.xml) from Maven Central into DIST_DIR/lib.
#
# Usage: infra/kafka/fetch.sh [DIST_DIR]     (default: <repo>/var/kafka-dist)
#
# Idempotent: DIST_DIR/.fetched records the Kafka version and a hash of pom.xml; when it matches,
# nothing is done. Otherwise the jars are fetched into a temporary directory and swapped in
# whole, so stale jars from an older pom (e.g. a wrong slf4j binding) never linger. Concurrent
# runs are serialised with flock. Progress goes to stderr; stdout stays empty.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
POM="$SCRIPT_DIR/pom.xml"
DIST_DIR="${1:-$REPO_ROOT/var/kafka-dist}"

log() { echo "kafka/fetch: $*" >&2; }
die() { echo "kafka/fetch: ERROR: $*" >&2; exit 1; }

[[ -f "$POM" ]] || die "missing $POM (restore it from git: infra/kafka/pom.xml)"

KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM" | head -n1)"
[[ -n "$KAFKA_VERSION" ]] || die "could not read <kafka.version> from $POM"
POM_HASH="$(sha256sum "$POM" | cut -d' ' -f1)"
WANT_MARKER="kafka.version=$KAFKA_VERSION pom.sha256=$POM_HASH"

mkdir -p "$DIST_DIR"
DIST_DIR="$(cd "$DIST_DIR" && pwd)"
MARKER="$DIST_DIR/.fetched"

is_current() {
    [[ -f "$MARKER" && "$(cat "$MARKER")" == "$WANT_MARKER" \
        && -f "$DIST_DIR/lib/kafka_2.13-$KAFKA_VERSION.jar" ]]
}

# Fast path: nothing to do (no lock, no JVM).
if is_current; then
    exit 0
fi

exec 9>"$DIST_DIR/.fetch.lock"
flock 9
if is_current; then  # another run fetched while we waited for the lock
    exit 0
fi

if ! command -v mvn >/dev/null 2>&1 || ! command -v java >/dev/null 2>&1; then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
        log "installing maven + java (apt-get) ..."
        apt-get update >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
            maven default-jre-headless >&2
    else
        die "mvn/java not found: install them (sudo apt-get install -y maven default-jre-headless)"
    fi
fi

log "fetching Apache Kafka $KAFKA_VERSION jars from Maven Central into $DIST_DIR/lib ..."
STAGE="$(mktemp -d "$DIST_DIR/.stage.XXXXXX")"
trap 'rm -rf "$STAGE"' EXIT

# (Debian's mvn 3.8 prints bare ESC[0m colour resets even with -B; strip them.)
if ! mvn -q -B -Dstyle.color=never -f "$POM" package -Dkafka.dist="$STAGE" 2>&1 \
        | sed 's/\x1b\[[0-9;]*m//g' >&2; then
    die "mvn failed to fetch the Kafka jars (needs network access to Maven Central, or a warm ~/.m2); rerun infra/kafka/fetch.sh"
fi
[[ -f "$STAGE/lib/kafka_2.13-$KAFKA_VERSION.jar" ]] \
    || die "mvn finished but $STAGE/lib/kafka_2.13-$KAFKA_VERSION.jar is missing; check $POM"

# Swap the new lib in whole (removes jars of an older pom).
rm -rf "$DIST_DIR/lib.old" "$MARKER"
[[ -d "$DIST_DIR/lib" ]] && mv "$DIST_DIR/lib" "$DIST_DIR/lib.old"
mv "$STAGE/lib" "$DIST_DIR/lib"
rm -rf "$DIST_DIR/lib.old"
echo "$WANT_MARKER" > "$MARKER"
log "Kafka $KAFKA_VERSION ready in $DIST_DIR/lib ($(ls "$DIST_DIR/lib" | wc -l) jars)"

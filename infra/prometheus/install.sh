#!/usr/bin/env bash
# Make Prometheus's `prometheus` and `promtool` available (Debian's package `prometheus`).
#
# Usage: infra/prometheus/install.sh
#
# Prints the path of promtool alone on stdout; progress goes to stderr. Idempotent: when both
# binaries are on PATH already, installs nothing. When one is missing, runs apt-get update and
# apt-get install (noninteractive, no recommended packages such as the node exporter) as root.
# The package's system service is NOT started: a temporary policy-rc.d refuses service starts
# during the install (unless the machine already has a policy-rc.d, which is then left as it is).
set -euo pipefail

log() { echo "prometheus/install: $*" >&2; }
die() { echo "prometheus/install: ERROR: $*" >&2; exit 1; }

if command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1; then
    command -v promtool
    exit 0
fi

[[ "$(id -u)" == 0 ]] \
    || die "promtool/prometheus not installed; run: sudo apt-get update && sudo apt-get install -y --no-install-recommends prometheus"
command -v apt-get >/dev/null 2>&1 \
    || die "no apt-get here; install Prometheus 2.x from https://prometheus.io/download/ and put promtool on PATH"

POLICY=/usr/sbin/policy-rc.d
if [[ ! -e "$POLICY" ]]; then
    # exit status 101 = "action forbidden": invoke-rc.d and deb-systemd-invoke start nothing
    printf '#!/bin/sh\nexit 101\n' >"$POLICY"
    chmod 755 "$POLICY"
    trap 'rm -f "$POLICY"' EXIT
fi

log "promtool/prometheus not found; installing Debian's prometheus package with apt-get ..."
apt-get update >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus >&2

command -v promtool >/dev/null 2>&1 \
    || die "apt-get installed prometheus but promtool is not on PATH; check 'dpkg -L prometheus'"
command -v prometheus >/dev/null 2>&1 \
    || die "apt-get installed prometheus but the prometheus binary is not on PATH; check 'dpkg -L prometheus'"
log "installed $(prometheus --version 2>&1 | head -n1)"
command -v promtool

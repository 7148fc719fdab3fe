#!/usr/bin/env bash
# Make a Chromium for the browser tests available (Debian's package `chromium`), with a font
# that has Chinese glyphs (Debian's `fonts-wqy-microhei`) so screenshots of the console's
# Chinese pages show text rather than empty boxes.
#
# Usage: infra/chromium/install.sh
#
# Prints the path of the chromium binary alone on stdout; progress goes to stderr. Idempotent:
# when `chromium` is on PATH and fontconfig knows a Chinese font, installs nothing. Otherwise
# runs apt-get update and apt-get install (noninteractive, no recommended packages) as root.
# The tests drive this binary through Playwright's `executable_path`; Playwright's own browser
# download (`playwright install`) is never used.
set -euo pipefail

log() { echo "chromium/install: $*" >&2; }
die() { echo "chromium/install: ERROR: $*" >&2; exit 1; }

has_chinese_font() { command -v fc-list >/dev/null 2>&1 && [[ -n "$(fc-list :lang=zh family)" ]]; }

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
has_chinese_font || missing+=(fonts-wqy-microhei)
if [[ ${#missing[@]} == 0 ]]; then
    command -v chromium
    exit 0
fi

[[ "$(id -u)" == 0 ]] \
    || die "${missing[*]} not installed; run: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}"
command -v apt-get >/dev/null 2>&1 \
    || die "no apt-get here; install Chromium (a \`chromium\` executable on PATH) and a font with Chinese glyphs"

log "installing Debian's ${missing[*]} with apt-get ..."
# wait (up to 10 min) rather than fail when another apt-get holds the dpkg lock
apt-get -o DPkg::Lock::Timeout=600 update >&2 \
    || die "apt-get update failed; check the network and /etc/apt/sources.list, then rerun $0"
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y \
    --no-install-recommends "${missing[@]}" >&2 \
    || die "apt-get install failed; run: apt-get install -y --no-install-recommends ${missing[*]}"

command -v chromium >/dev/null 2>&1 \
    || die "apt-get installed chromium but it is not on PATH; check 'dpkg -L chromium'"
has_chinese_font \
    || die "no font with Chinese glyphs after installing fonts-wqy-microhei; check 'fc-list :lang=zh'"
log "installed $(chromium --version 2>/dev/null | head -n1)"
command -v chromium

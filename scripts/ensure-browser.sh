#!/bin/sh
# The browser tests drive Debian's Chromium (no browser download is possible here).
set -eu
CHROMIUM="${KEYCARE_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's chromium for the browser tests…" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    exit 0
fi
echo "error: $CHROMIUM is missing; install it with: sudo apt-get install chromium" >&2
exit 1

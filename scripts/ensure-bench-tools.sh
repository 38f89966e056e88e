#!/bin/sh
# The HTTP benchmarks load the servers with wrk (Debian's package), in its own process.
set -eu
if command -v wrk >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's wrk for the benchmarks…" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
    exit 0
fi
echo "error: wrk is missing; install it with: sudo apt-get install wrk" >&2
exit 1

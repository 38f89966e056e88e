#!/bin/sh
# Serve the demo: the tick runner in the background (embedded mode: no Redis, no Celery
# worker) and the web server in the foreground. Ctrl-C stops both.
set -eu
PORT="${1:-8000}"
KEYCARE="${KEYCARE:-keycare}"
# links in emails and the calendar feed point at this server
KEYCARE_BASE_URL="${KEYCARE_BASE_URL:-http://127.0.0.1:$PORT}"
export KEYCARE_BASE_URL
$KEYCARE tick --loop &
TICK_PID=$!
trap 'kill "$TICK_PID" 2>/dev/null || true' EXIT INT TERM
echo ""
echo "KeyCare is running on http://127.0.0.1:$PORT/  (stop with Ctrl-C)"
$KEYCARE runserver "127.0.0.1:$PORT"

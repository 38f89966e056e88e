#!/bin/sh
# Print the path of a usable uv, installing it into ./.tools when missing.
# Works on a fresh Debian machine that has only python3 and make.
set -eu
if command -v uv >/dev/null 2>&1; then command -v uv; exit 0; fi
TOOLS="$(pwd)/.tools"
if [ -x "$TOOLS/bin/uv" ]; then echo "$TOOLS/bin/uv"; exit 0; fi
if ! python3 -m venv "$TOOLS" >/dev/null 2>&1; then
    rm -rf "$TOOLS"
    # Debian ships venv support separately (python3-venv).
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "Installing python3-venv with apt-get…" >&2
        apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2
        python3 -m venv "$TOOLS" >&2
    else
        echo "error: cannot create a virtual environment; install python3-venv (apt-get install python3-venv) or uv." >&2
        exit 1
    fi
fi
"$TOOLS/bin/python" -m pip install --quiet --disable-pip-version-check uv >&2
echo "$TOOLS/bin/uv"

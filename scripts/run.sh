#!/usr/bin/env bash
# Install the app in ./.venv (first time only) and start it; arguments go to the app.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/tcp-observatory ]; then
    "$PY" -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e .
fi
exec .venv/bin/tcp-observatory "$@"

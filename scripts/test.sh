#!/usr/bin/env bash
# Install the project and its test tools in ./.venv, then lint, type-check and run every test.
# The README's test command. Works from a fresh clone; needs Python >= 3.10 (and tmux for
# the one end-to-end terminal test, which is skipped without it).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"
.venv/bin/ruff check lab tui tests bench
scripts/typecheck.sh
# One and a half workers per core (tests/conftest.py; TEST_WORKERS=0: none, as a debugger
# wants); a file's tests stay on one worker, so a module's fixtures (the grading class) are
# built once.
exec .venv/bin/python -m pytest -n "${TEST_WORKERS:-auto}" --dist loadfile "$@"

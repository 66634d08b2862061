#!/usr/bin/env bash
# mypy on the code, the tests and the benchmarks, with the project's settings. The folders
# lab/ and tui/ are installed as the packages tcp_observatory.lab and tcp_observatory.tui
# (pyproject.toml): mypy reads them under those names through a tree of links, .typecheck/,
# made again at each run.
set -euo pipefail
cd "$(dirname "$0")/.."
MYPY="${MYPY:-.venv/bin/mypy}"
rm -rf .typecheck
mkdir -p .typecheck/tcp_observatory
ln -s ../../lab .typecheck/tcp_observatory/lab
ln -s ../../tui .typecheck/tcp_observatory/tui
MYPYPATH=".typecheck:tests:bench" exec "$MYPY" --explicit-package-bases \
    .typecheck/tcp_observatory tests bench

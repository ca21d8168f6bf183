#!/usr/bin/env bash
# `make lint` (and the start of `make test`): style (ruff), types (mypy) and the layers (import-linter).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
.venv/bin/ruff check .
.venv/bin/mypy --cache-dir var/mypy
.venv/bin/lint-imports --no-cache

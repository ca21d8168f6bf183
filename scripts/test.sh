#!/usr/bin/env bash
# `make test`: the whole suite (unit, SQLite and PostgreSQL, the real stack, the browser) plus the bot's own checks.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# System packages the tests use: Debian's chromium (browser tests) and docker-compose (validates the
# production compose file; no Docker engine runs here). Installed once, only when missing.
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 || need+=(docker-compose)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[test] installing ${need[*]} from Debian"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "[test] please install: ${need[*]} (Debian: sudo apt-get install ${need[*]})" >&2
    exit 1
  fi
fi

# The bot's data and rules are consistent: conflicting rules or undeclared intents fail. (Not --fail-on-warnings:
# Rasa warns about every response that only the form or an action uses.)
.venv-bot/bin/rasa data validate --data bot/data --domain domain.yml --config config.yml \
  >var-validate.log 2>&1 || { grep -v '^WARNING: Location' var-validate.log | tail -40; rm -f var-validate.log; exit 1; }
rm -f var-validate.log

# Style, types and layers first: a minute saved when they fail.
scripts/lint.sh

.venv/bin/python -m pytest "$@"

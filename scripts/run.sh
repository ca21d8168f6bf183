#!/usr/bin/env bash
# `make run`: Rasa, the action server, the router web app and a worker on this machine, on embedded
# defaults (SQLite, dry-run delivery). A process that dies is restarted (with a backoff) by scripts/supervise.py,
# which says so on this terminal. Ctrl-C stops them all.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
set -a; [ -f .env ] && . ./.env; set +a
port="${PORT:-5000}"
rasa_port="${RASA_PORT:-5005}"
actions_port="${ACTIONS_PORT:-5055}"
export RASA_URL="${RASA_URL:-http://127.0.0.1:$rasa_port}"
export ACTION_ENDPOINT_URL="${ACTION_ENDPOINT_URL:-http://127.0.0.1:$actions_port/webhook}"
export INTERNAL_PORT="${INTERNAL_PORT:-5001}"
export ROUTER_INTERNAL_URL="${ROUTER_INTERNAL_URL:-http://127.0.0.1:$INTERNAL_PORT}"
export INTERNAL_API_TOKEN="${INTERNAL_API_TOKEN:-dev-internal-token}"
# Rasa's HTTP API always runs with a token; locally a fresh one each run, passed by environment (bot/serve.py), not
# on a command line that `ps` shows. The action server listens on 127.0.0.1 only (SANIC_HOST): it has no
# authentication of its own.
export RASA_TOKEN="${RASA_TOKEN:-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')}"
export RASA_TRACKER_DB="${RASA_TRACKER_DB:-$root/var/rasa.db}"
export RASA_TRACKER_URL="${RASA_TRACKER_URL:-sqlite:///$RASA_TRACKER_DB}"  # the router removes refused details there
mkdir -p var/log

bin/router db upgrade
if ! bin/router directory count >/dev/null 2>&1; then
  bin/router directory load "${DIRECTORY_FILE:-directory.example.yml}"
fi
# A first local run gets one admin account to look at the staff pages with (its password is printed once).
admin_note=""
if bin/router users add admin@example.org --name "Kokeilu Admin" --role admin \
     --password "${DEV_ADMIN_PASSWORD:=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')}" >/dev/null 2>&1; then
  admin_note="    Staff http://127.0.0.1:$port/staff/  admin@example.org / $DEV_ADMIN_PASSWORD (shown once)"
fi

.venv/bin/python scripts/supervise.py var/log \
  "actions=env SANIC_HOST=127.0.0.1 .venv-bot/bin/rasa run actions --actions bot.actions --port $actions_port" \
  "rasa=.venv-bot/bin/python -m bot.serve run --model models/current.tar.gz --endpoints endpoints.yml \
--credentials credentials.yml --enable-api --port $rasa_port --interface 127.0.0.1" \
  "web=bin/router web --port $port" \
  "worker=bin/router worker" &
supervisor=$!
trap 'kill -TERM $supervisor 2>/dev/null; wait $supervisor' INT TERM

printf 'Waiting for Rasa to load the model'
for _ in $(seq 1 120); do
  if curl -fs "$RASA_URL/status?token=$RASA_TOKEN" >/dev/null 2>&1; then break; fi
  printf '.'; sleep 1
done
echo
cat <<MSG

  Luukku is running.
    Open  http://127.0.0.1:$port/          the agency's page with the chat
          http://127.0.0.1:$port/dev/outbox what the dry run would have sent
          http://127.0.0.1:$port/impact     the public impact page
$admin_note
    Logs  var/log/{web,worker,rasa,actions}.log
  Ctrl-C stops everything.
MSG
wait $supervisor

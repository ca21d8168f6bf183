#!/usr/bin/env bash
# Set-up on any machine: both virtual environments and the trained model, each cached outside the tree
# under a hash of what it depends on, so a second run (or a fresh clone on the same machine) takes seconds.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cache="${LUUKKU_CACHE:-$HOME/.cache/luukku}"
mkdir -p "$cache"
log() { printf '[setup] %s\n' "$*"; }
hash_of() { cat "$@" | sha256sum | cut -c1-16; }

find_python310() {
  for candidate in python3.10 "$(command -v pyenv >/dev/null 2>&1 && pyenv root)/versions/"3.10*/bin/python3.10 \
                   "$HOME"/.pyenv/versions/3.10*/bin/python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do
    if [ -n "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then
      command -v "$candidate" 2>/dev/null || echo "$candidate"; return 0
    fi
  done
  return 1
}

# make_venv LINK PYTHON LOCK: a venv for LOCK built once per hash and linked at LINK.
make_venv() {
  local link="$1" python="$2" lock="$3"
  local key; key="$(hash_of "$lock" <("$python" -VV))"
  local dir="$cache/$(basename "$link" | tr -d .)-$key"
  if [ ! -f "$dir/.complete" ]; then
    log "building $link from $lock (first time on this machine; a few minutes)"
    rm -rf "$dir"
    "$python" -m venv "$dir"
    "$dir/bin/python" -m pip install -q --disable-pip-version-check --upgrade "pip==$(grep -i '^pip==' "$lock" | cut -d= -f3 || echo 24.0)" 2>/dev/null \
      || "$dir/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
    "$dir/bin/python" -m pip install -q --disable-pip-version-check -r "$lock"
    touch "$dir/.complete"
  fi
  if [ "$(readlink "$link" 2>/dev/null)" != "$dir" ]; then
    rm -rf "$link"
    ln -s "$dir" "$link"
  fi
}

py311="${PYTHON:-python3}"
"$py311" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null || {
  echo "setup: the router needs Python 3.11 or newer as python3 (or set PYTHON=...)" >&2; exit 1; }
make_venv .venv "$py311" requirements/router.lock
# The message catalogue: router/locale/*/LC_MESSAGES/messages.po compiled beside itself (the .mo files are build output).
.venv/bin/pybabel compile -d router/locale -D messages

py310="$(find_python310)" || {
  cat >&2 <<'MSG'
setup: Rasa 3.6 needs Python 3.10, and no python3.10 was found.
  Install it, for example:  pyenv install 3.10.13   (or apt-get install python3.10 where Debian has it)
  or point to it:           PYTHON310=/path/to/python3.10 make run
MSG
  exit 1; }
py310="${PYTHON310:-$py310}"
make_venv .venv-bot "$py310" requirements/bot.lock

# The model: trained only when the data, the configuration or the bot's libraries changed.
model_key="$(hash_of config.yml domain.yml requirements/bot.lock $(find bot/data -type f -name '*.yml' | sort) $(find bot/components -name '*.py' | sort))"
model="$cache/models/$model_key.tar.gz"
if [ ! -f "$model" ]; then
  log "training the Rasa model ($model_key)"
  mkdir -p "$cache/models"
  # A link left to a removed model breaks Rasa's command line; and Rasa's training cache (.rasa/) can hand a
  # component another node's files when the pipeline's order changed, so every training starts without it.
  [ -e models/current.tar.gz ] || rm -f models/current.tar.gz
  rm -rf .rasa
  .venv-bot/bin/rasa train --quiet --data bot/data --config config.yml --domain domain.yml \
    --out "$cache/models" --fixed-model-name "partial-$model_key" >"$cache/models/train-$model_key.log" 2>&1 \
    || { tail -30 "$cache/models/train-$model_key.log" >&2; exit 1; }
  mv "$cache/models/partial-$model_key.tar.gz" "$model"
fi
mkdir -p models
ln -sfn "$model" models/current.tar.gz
log "ready: .venv, .venv-bot, models/current.tar.gz ($model_key)"

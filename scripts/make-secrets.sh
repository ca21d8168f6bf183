#!/usr/bin/env bash
# The files docker-compose.yml reads its secrets from (./secrets/NAME, mode 600): each missing one is made, with a
# random value for the service's own secrets and empty for the providers' (fill in SMTP, Twilio and IMAP yourself).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
umask 077
mkdir -p secrets
for name in postgres_password secret_key internal_api_token rasa_token redis_password; do
  [ -s "secrets/$name" ] || python3 -c 'import secrets; print(secrets.token_urlsafe(48))' >"secrets/$name"
done
for name in smtp_password twilio_auth_token imap_password; do
  [ -e "secrets/$name" ] || : >"secrets/$name"
done
echo "secrets/ is ready: $(ls secrets | tr '\n' ' ')"

"""Rasa's command line with its secrets from files and its API token from the environment, never from argv.

`python -m bot.serve run …` runs `rasa run …` and adds `--auth-token` from RASA_TOKEN; `python -m bot.serve run
actions …` runs the action server. First, each of SECRETS given as NAME_FILE=/run/secrets/… is read from that
file (Docker secrets), so RASA_DB_PASSWORD or REDIS_PASSWORD never sit in an environment variable of compose.
`ps` shows the command line of a process: a token there is readable by every user of the host.
"""
import os
import sys
from pathlib import Path

SECRETS = ("RASA_TOKEN", "RASA_DB_PASSWORD", "REDIS_PASSWORD", "INTERNAL_API_TOKEN")


def read_secret_files(environ) -> None:
    """NAME_FILE → NAME for the bot's secrets, unless NAME is set already."""
    for name in SECRETS:
        path = environ.get(f"{name}_FILE")
        if path and name not in environ:
            environ[name] = Path(path).read_text(encoding="utf-8").strip()


if __name__ == "__main__":
    read_secret_files(os.environ)
    args = sys.argv[1:]
    token = os.environ.get("RASA_TOKEN", "")
    server = args[:1] == ["run"] and args[1:2] != ["actions"]
    sys.argv = ["rasa", *args, *(["--auth-token", token] if server and token else [])]
    from rasa.__main__ import main

    main()

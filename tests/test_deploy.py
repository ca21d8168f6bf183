"""The production compose file is valid and describes the processes the architecture names."""
import os
import shutil
import subprocess

import pytest
import yaml

from .conftest import ROOT


SECRETS = {"POSTGRES_PASSWORD": "p" * 40, "SECRET_KEY": "s" * 40, "INTERNAL_API_TOKEN": "i" * 40,
           "RASA_TOKEN": "r" * 40, "PUBLIC_BASE_URL": "https://luukku.example.org"}


def compose(env: dict) -> subprocess.CompletedProcess:
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        cmd = ["docker", "compose", "-f", "docker-compose.yml", "config"]
    elif shutil.which("docker-compose"):
        cmd = ["docker-compose", "-f", "docker-compose.yml", "config"]
    else:
        pytest.fail("neither `docker compose` nor `docker-compose` is installed (make test installs it)")
    clean = {k: v for k, v in os.environ.items() if k not in SECRETS}
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env={**clean, **env})


def compose_config() -> dict:
    result = compose(SECRETS)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_compose_refuses_to_start_without_each_secret(missing):
    result = compose({k: v for k, v in SECRETS.items() if k != missing})
    assert result.returncode != 0 and missing in result.stderr


def test_compose_runs_production_settings_on_a_private_network():
    services = compose_config()["services"]
    for name in ("web", "internal", "worker-1", "worker-2", "migrate", "rasa-1", "rasa-2", "actions"):
        assert services[name]["environment"]["ENVIRONMENT"] == "production", name
    assert services["actions"]["environment"]["ROUTER_INTERNAL_URL"] == "http://internal:5001"
    for name in ("rasa-1", "rasa-2", "actions", "internal"):
        assert set(services[name]["networks"]) == {"private"}, name
    for name in ("rasa-1", "rasa-2"):
        assert "--auth-token" in " ".join(services[name]["command"])
        assert "endpoints.production.yml" in " ".join(services[name]["command"])
    assert services["web"]["environment"]["RATELIMIT_STORAGE_URI"].startswith("redis://")


def test_compose_validates_and_has_every_process_with_health_checks():
    services = compose_config()["services"]
    assert set(services) == {"db", "redis", "migrate", "web", "internal", "worker-1", "worker-2", "rasa-1", "rasa-2",
                             "actions"}
    for name in ("db", "redis", "web", "internal", "rasa-1", "rasa-2", "actions"):
        assert services[name]["healthcheck"]["test"], name
    # Only the router is published; Rasa's webhooks have no authentication.
    assert [s for s, v in services.items() if v.get("ports")] == ["web"]
    # Several web processes behind one port, and both Rasa replicas known to the router.
    assert "gunicorn" in services["web"]["command"] and int(services["web"]["environment"]["WEB_PROCESSES"]) >= 2
    assert services["web"]["environment"]["RASA_URL"] == "http://rasa-1:5005,http://rasa-2:5005"
    # Each replica's Sanic workers run the embedding on one OpenMP thread each (spinning threads starve them).
    for rasa in ("rasa-1", "rasa-2"):
        assert int(services[rasa]["environment"]["SANIC_WORKERS"]) >= 1
        assert services[rasa]["environment"]["OMP_NUM_THREADS"] == "1"


def test_every_setting_in_env_example_is_one_the_router_reads():
    from dataclasses import fields

    from router.config import Settings

    known = {f.name.upper() for f in fields(Settings)} | {"POSTGRES_PASSWORD", "ACTION_ENDPOINT_URL",
                                                          "ROUTER_INTERNAL_URL", "RASA_PORT", "ACTIONS_PORT",
                                                          "WEB_PROCESSES", "WEB_THREADS", "RASA_WORKERS"}
    names = [line.split("=", 1)[0] for line in (ROOT / ".env.example").read_text().splitlines()
             if line and not line.startswith("#")]
    assert names and set(names) <= known
    assert {f.name.upper() for f in fields(Settings) if f.name != "extra"} <= set(names)

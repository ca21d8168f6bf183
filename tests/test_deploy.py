"""The production compose file is valid and describes the processes the architecture names."""
import shutil
import subprocess

import pytest
import yaml

from .conftest import ROOT


def compose_config() -> dict:
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        cmd = ["docker", "compose", "-f", "docker-compose.yml", "config"]
    elif shutil.which("docker-compose"):
        cmd = ["docker-compose", "-f", "docker-compose.yml", "config"]
    else:
        pytest.fail("neither `docker compose` nor `docker-compose` is installed (make test installs it)")
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return yaml.safe_load(out)


def test_compose_validates_and_has_every_process_with_health_checks():
    services = compose_config()["services"]
    assert set(services) == {"db", "redis", "migrate", "web", "worker", "rasa", "actions"}
    for name in ("db", "redis", "web", "rasa", "actions"):
        assert services[name]["healthcheck"]["test"], name
    # Only the router is published; Rasa's webhooks have no authentication.
    assert [s for s, v in services.items() if v.get("ports")] == ["web"]
    assert services["web"]["environment"]["RASA_URL"] == "http://rasa:5005"
    assert services["actions"]["environment"]["ROUTER_INTERNAL_URL"] == "http://web:5000"


def test_every_setting_in_env_example_is_one_the_router_reads():
    from dataclasses import fields

    from router.config import Settings

    known = {f.name.upper() for f in fields(Settings)} | {"POSTGRES_PASSWORD", "ACTION_ENDPOINT_URL",
                                                          "ROUTER_INTERNAL_URL", "RASA_PORT", "ACTIONS_PORT"}
    names = [line.split("=", 1)[0] for line in (ROOT / ".env.example").read_text().splitlines()
             if line and not line.startswith("#")]
    assert names and set(names) <= known
    assert {f.name.upper() for f in fields(Settings) if f.name != "extra"} <= set(names)

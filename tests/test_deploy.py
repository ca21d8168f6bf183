"""The production compose file is valid and describes the processes the architecture names."""
import os
import shutil
import subprocess
import sys

import pytest
import yaml

from .conftest import ROOT

# Settings compose takes from the environment; every secret comes from a file under ./secrets/ instead.
REQUIRED = {"PUBLIC_BASE_URL": "https://luukku.example.org", "SITE_ADDRESS": "luukku.example.org"}
SECRET_FILES = {"postgres_password", "secret_key", "internal_api_token", "rasa_token", "redis_password",
                "smtp_password", "twilio_auth_token", "imap_password"}
SECRET_SETTINGS = {"POSTGRES_PASSWORD", "SECRET_KEY", "INTERNAL_API_TOKEN", "RASA_TOKEN", "REDIS_PASSWORD",
                   "SMTP_PASSWORD", "TWILIO_AUTH_TOKEN", "IMAP_PASSWORD", "RASA_DB_PASSWORD"}


def compose(env: dict) -> subprocess.CompletedProcess:
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        cmd = ["docker", "compose", "-f", "docker-compose.yml", "config"]
    elif shutil.which("docker-compose"):
        cmd = ["docker-compose", "-f", "docker-compose.yml", "config"]
    else:
        pytest.fail("neither `docker compose` nor `docker-compose` is installed (make test installs it)")
    clean = {k: v for k, v in os.environ.items() if k not in REQUIRED and k not in SECRET_SETTINGS}
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env={**clean, **env})


def compose_config() -> dict:
    result = compose(REQUIRED)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_compose_refuses_to_start_without_each_required_setting(missing):
    result = compose({k: v for k, v in REQUIRED.items() if k != missing})
    assert result.returncode != 0 and missing in result.stderr


def test_compose_hardening_secrets_digests_redis_password_and_the_token_off_argv():
    """Finding 16: images by tag, secrets in environment variables, RASA_TOKEN on Rasa's command line, Redis
    without a password."""
    config = compose_config()
    services = config["services"]
    assert {name for name in config["secrets"]} == SECRET_FILES
    for name, service in services.items():
        environment = service.get("environment") or {}
        # No secret's value in any environment: only NAME_FILE pointing at /run/secrets/.
        assert not SECRET_SETTINGS & set(environment), name
        for key, value in environment.items():
            if key.endswith("_FILE"):
                assert value.startswith("/run/secrets/"), (name, key)
                assert value.rsplit("/", 1)[1] in {s["source"] if isinstance(s, dict) else s
                                                    for s in service.get("secrets", [])}, (name, key)
        if "image" in service:
            assert "@sha256:" in service["image"] and len(service["image"].rsplit(":", 1)[1]) == 64, name
        command = " ".join(service.get("command") or [])
        assert "--auth-token" not in command and "requirepass " not in command.replace("requirepass %s", ""), name
    for dockerfile in ("Dockerfile.router", "Dockerfile.bot"):
        [base] = [line for line in (ROOT / "deploy" / dockerfile).read_text().splitlines() if line.startswith("FROM")]
        assert "@sha256:" in base, dockerfile
    # Redis asks for its password, and the clients have it: the limiter's URI gets it, Rasa's lock store too.
    assert "redis_password" in " ".join(services["redis"]["command"])
    assert services["web"]["environment"]["REDIS_PASSWORD_FILE"] == "/run/secrets/redis_password"
    assert "${REDIS_PASSWORD}" in (ROOT / "deploy" / "endpoints.production.yml").read_text()


def test_only_the_proxy_is_published_and_the_router_trusts_exactly_it():
    """Finding 2: the web port was published directly while PROXY_COUNT defaulted to 1, so X-Forwarded-For was
    trusted from anyone."""
    services = compose_config()["services"]
    assert [s for s, v in services.items() if v.get("ports")] == ["caddy"]
    assert services["web"]["environment"]["PROXY_COUNT"] == "1"
    assert set(services["web"]["networks"]) == {"edge", "private"}
    assert set(services["caddy"]["networks"]) == {"public", "edge"}
    assert services["internal"]["environment"]["PROXY_COUNT"] == "0"
    assert "reverse_proxy web:5000" in (ROOT / "deploy" / "Caddyfile").read_text()


def test_compose_runs_production_settings_on_a_private_network():
    services = compose_config()["services"]
    for name in ("web", "internal", "worker-1", "worker-2", "migrate", "rasa-1", "rasa-2", "actions"):
        assert services[name]["environment"]["ENVIRONMENT"] == "production", name
    assert services["actions"]["environment"]["ROUTER_INTERNAL_URL"] == "http://internal:5001"
    for name in ("rasa-1", "rasa-2", "actions", "internal", "redis", "db"):
        assert set(services[name]["networks"]) == {"private"}, name
    for name in ("rasa-1", "rasa-2"):
        # bot/serve.py adds --auth-token from RASA_TOKEN (read from its secret file) inside the process.
        assert services[name]["command"][:4] == ["python", "-m", "bot.serve", "run"]
        assert services[name]["environment"]["RASA_TOKEN_FILE"] == "/run/secrets/rasa_token"
        assert "endpoints.production.yml" in " ".join(services[name]["command"])
    assert services["web"]["environment"]["RATELIMIT_STORAGE_URI"].startswith("redis://")


def test_compose_validates_and_has_every_process_with_health_checks():
    services = compose_config()["services"]
    assert set(services) == {"db", "redis", "caddy", "migrate", "web", "internal", "worker-1", "worker-2", "rasa-1",
                             "rasa-2", "actions"}
    for name in ("db", "redis", "caddy", "web", "internal", "rasa-1", "rasa-2", "actions"):
        assert services[name]["healthcheck"]["test"], name
    # Several web processes behind one port, and both Rasa replicas known to the router.
    assert "gunicorn" in services["web"]["command"] and int(services["web"]["environment"]["WEB_PROCESSES"]) >= 2
    assert services["web"]["environment"]["RASA_URL"] == "http://rasa-1:5005,http://rasa-2:5005"
    # Each replica's Sanic workers run the embedding on one OpenMP thread each (spinning threads starve them).
    for rasa in ("rasa-1", "rasa-2"):
        assert int(services[rasa]["environment"]["SANIC_WORKERS"]) >= 1
        assert services[rasa]["environment"]["OMP_NUM_THREADS"] == "1"


def test_secret_files_are_read_by_the_router_and_the_bot(tmp_path, monkeypatch):
    """NAME_FILE sets NAME from the file, and the passwords go into the URLs that leave them out."""
    from router import config

    (tmp_path / "pw").write_text("s3cret/pass\n")
    (tmp_path / "key").write_text("k" * 40 + "\n")
    monkeypatch.setenv("POSTGRES_PASSWORD_FILE", str(tmp_path / "pw"))
    monkeypatch.setenv("REDIS_PASSWORD_FILE", str(tmp_path / "pw"))
    monkeypatch.setenv("SECRET_KEY_FILE", str(tmp_path / "key"))
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://luukku@db:5432/luukku")
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://redis:6379/2")
    settings = config.load(env_file=tmp_path / "none")
    assert settings.secret_key == "k" * 40 and settings.postgres_password == "s3cret/pass"
    assert settings.database_url == "postgresql+psycopg://luukku:s3cret%2Fpass@db:5432/luukku"
    assert settings.ratelimit_storage_uri == "redis://:s3cret%2Fpass@redis:6379/2"
    result = subprocess.run([sys.executable, "-c", "import os, runpy, sys; sys.argv = ['x']; "
                             "m = runpy.run_path('bot/serve.py'); env = {'RASA_DB_PASSWORD_FILE': sys.argv[0]}; "
                             f"env['RASA_DB_PASSWORD_FILE'] = {str(tmp_path / 'pw')!r}; m['read_secret_files'](env); "
                             "print(env['RASA_DB_PASSWORD'])"], cwd=ROOT, capture_output=True, text=True)
    assert result.stdout.strip() == "s3cret/pass", result.stderr


def test_every_setting_in_env_example_is_one_the_router_reads():
    from dataclasses import fields

    from router.config import Settings

    known = {f.name.upper() for f in fields(Settings)} | {"POSTGRES_PASSWORD", "ACTION_ENDPOINT_URL",
                                                          "ROUTER_INTERNAL_URL", "RASA_PORT", "ACTIONS_PORT",
                                                          "SITE_ADDRESS",
                                                          "WEB_PROCESSES", "WEB_THREADS", "RASA_WORKERS"}
    names = [line.split("=", 1)[0] for line in (ROOT / ".env.example").read_text().splitlines()
             if line and not line.startswith("#")]
    assert names and set(names) <= known
    assert {f.name.upper() for f in fields(Settings) if f.name != "extra"} <= set(names)


KUBERNETES = ROOT / "deploy" / "kubernetes"
# The oldest Kubernetes still in upstream support when this was written, and the newest the validator knows:
# the manifests must be valid for both.
KUBERNETES_VERSIONS = ("1.32.0", "1.35.0")


def _kubernetes_resources() -> list[dict]:
    listed = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())["resources"]
    assert sorted(listed) == sorted(p.name for p in KUBERNETES.glob("*.yaml") if p.name != "kustomization.yaml")
    return [doc for name in listed for doc in yaml.safe_load_all((KUBERNETES / name).read_text()) if doc]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_the_kubernetes_manifests_validate_against_the_api_schemas(version):
    import kubernetes_validate

    for resource in _kubernetes_resources():
        kubernetes_validate.validate(resource, version, strict=True)  # raises on any unknown or wrong field


def test_the_kubernetes_topology_is_compose_s_with_secrets_referenced_and_only_the_web_reachable():
    resources = _kubernetes_resources()
    kinds = {(r["kind"], r["metadata"]["name"]) for r in resources}
    for needed in [("Deployment", "web"), ("Deployment", "internal"), ("Deployment", "worker"),
                   ("StatefulSet", "rasa"), ("Deployment", "actions"), ("Job", "luukku-migrate"),
                   ("HorizontalPodAutoscaler", "web"), ("Ingress", "web"), ("NetworkPolicy", "default-deny-ingress")]:
        assert needed in kinds, needed
    assert not [r for r in resources if r["kind"] == "Secret"]  # referenced, never inlined
    text = "\n".join(p.read_text() for p in KUBERNETES.glob("*.yaml"))
    assert "password:" not in text.lower() and "whsec_" not in text
    workloads = [r for r in resources if r["kind"] in ("Deployment", "StatefulSet", "Job")]
    for workload in workloads:
        spec = workload["spec"]["template"]["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        for container in spec["containers"]:
            assert container["resources"]["requests"]["memory"], workload["metadata"]["name"]
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert {"name": "secrets", "secret": {"secretName": "luukku-secrets", "defaultMode": 0o400}} in spec["volumes"]
    probes = {w["metadata"]["name"]: w["spec"]["template"]["spec"]["containers"][0] for w in workloads}
    assert probes["web"]["startupProbe"]["httpGet"]["path"] == "/readyz"
    assert probes["web"]["livenessProbe"]["httpGet"]["path"] == "/healthz"
    # Only the web pods take traffic from the Ingress controller; the default denies the rest.
    policies = {r["metadata"]["name"]: r["spec"] for r in resources if r["kind"] == "NetworkPolicy"}
    from_outside = [name for name, spec in policies.items()
                    if any("namespaceSelector" in src for rule in spec.get("ingress", []) for src in rule["from"])]
    assert from_outside == ["web-from-ingress"]
    assert policies["web-from-ingress"]["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "web"}
    # The same settings as compose: the router's configuration names every secret as a file.
    config = next(r for r in resources if r["kind"] == "ConfigMap" and r["metadata"]["name"] == "luukku-config")
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    secrets = {k for k in compose["x-router-env"] if k.endswith("_FILE")}
    assert secrets <= set(config["data"]), secrets - set(config["data"])

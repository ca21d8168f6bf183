"""Settings: the only module that reads the environment (and `.env`, which the environment overrides)."""
from __future__ import annotations

import os
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path
from typing import Mapping

from dotenv import dotenv_values

ROOT = Path(__file__).resolve().parent.parent


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _dates(value: str) -> tuple[date, ...]:
    return tuple(date.fromisoformat(v.strip()) for v in value.split(",") if v.strip())


@dataclass(frozen=True)
class Settings:
    """Everything the router can be told; defaults run locally on SQLite in dry-run mode."""

    database_url: str = f"sqlite:///{ROOT / 'var' / 'luukku.sqlite'}"
    port: int = 5000
    secret_key: str = "dev-only-secret-change-me"
    public_base_url: str = "http://127.0.0.1:5000"
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_timeout: float = 8.0
    internal_api_token: str = "dev-internal-token"
    timezone: str = "Europe/Helsinki"
    closed_days: tuple[date, ...] = ()
    promise_working_days: int = 2
    working_day_ends: str = "16:00"
    service_name: str = "Luukku"
    service_email: str = "luukku@example.org"
    service_phone: str = "+358 40 000 0000"
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_security: str = "starttls"
    smtp_from: str = "Luukku <luukku@example.org>"
    smtp_timeout: float = 10.0
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_number: str = ""
    twilio_api_base_url: str = ""
    twilio_validate: bool = True
    sms_reply_budget: float = 8.0
    imap_host: str = ""
    imap_port: int = 993
    imap_security: str = "tls"
    imap_user: str = ""
    imap_password: str = ""
    imap_folder: str = "INBOX"
    imap_interval: float = 60.0
    attachment_max_bytes: int = 5_000_000
    survey_delay_hours: float = 2.0
    impact_min_count: int = 5
    outbox_max_attempts: int = 8
    worker_interval: float = 2.0
    dev_pages: bool = True
    log_level: str = "INFO"

    @property
    def smtp_dry_run(self) -> bool:
        return not self.smtp_host

    @property
    def twilio_dry_run(self) -> bool:
        return not (self.twilio_account_sid and self.twilio_auth_token)


_CONVERTERS = {int: int, float: float, bool: _bool, str: str}


def load(overrides: Mapping[str, object] | None = None, env_file: Path | None = None) -> Settings:
    """Settings from `.env`, then the environment, then explicit overrides (tests)."""
    source: dict[str, str] = {}
    env_path = env_file if env_file is not None else ROOT / ".env"
    if env_path.exists():
        source.update({k: v for k, v in dotenv_values(env_path).items() if v is not None})
    source.update(os.environ)
    values: dict[str, object] = {}
    for f in fields(Settings):
        raw = source.get(f.name.upper())
        if raw is None:
            continue
        if f.name == "closed_days":
            values[f.name] = _dates(raw)
        else:
            kind = {"int": int, "float": float, "bool": bool}.get(str(f.type), str)
            values[f.name] = _CONVERTERS[kind](raw)
    values.update(overrides or {})
    return Settings(**values)  # type: ignore[arg-type]

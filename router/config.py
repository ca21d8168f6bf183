"""Settings: the only module that reads the environment (and `.env`, which the environment overrides)."""
from __future__ import annotations

import os
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import quote

from dotenv import dotenv_values

ROOT = Path(__file__).resolve().parent.parent


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _dates(value: str) -> tuple[date, ...]:
    return tuple(date.fromisoformat(v.strip()) for v in value.split(",") if v.strip())


@dataclass(frozen=True)
class Settings:
    """Everything the router can be told; defaults run locally on SQLite in dry-run mode."""

    environment: str = "development"
    database_url: str = f"sqlite:///{ROOT / 'var' / 'luukku.sqlite'}"
    port: int = 5000
    secret_key: str = "dev-only-secret-change-me"
    public_base_url: str = "http://127.0.0.1:5000"
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_timeout: float = 8.0
    rasa_token: str = ""
    rasa_give_up_minutes: float = 10.0
    # Rasa's SQL tracker store (SQLAlchemy URL): where a refused consent's typed answers are removed from the
    # bot's events. `make run` keeps it in var/rasa.db; compose in PostgreSQL's `rasa` database.
    rasa_tracker_url: str = f"sqlite:///{ROOT / 'var' / 'rasa.db'}"
    internal_api_token: str = "dev-internal-token"
    internal_host: str = "127.0.0.1"
    internal_port: int = 5001
    postgres_password: str = ""
    timezone: str = "Europe/Helsinki"
    closed_days: tuple[date, ...] = ()
    promise_working_days: int = 2
    # The office's day (local time): a person answers between these on working days; out of them the widget, the
    # first SMS and a call say when people are back. The promise's due time is the day's end.
    working_day_starts: str = "09:00"
    working_day_ends: str = "16:00"
    service_name: str = "Luukku"
    service_email: str = "luukku@example.org"
    service_phone: str = "+358 40 000 0000"
    # What the assistant says about the agency itself until an admin words it (router/inbound/faq.py).
    service_address: str = "Esimerkkikatu 1, 00100 Kaupunki"
    service_hours: str = "9–16"
    # The directory key of the person who answers accessibility feedback (14 days); empty: the service desk.
    accessibility_contact: str = ""
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
    # WhatsApp through Twilio: the sender (E.164, without "whatsapp:") and the Content SIDs (HX…) of the approved
    # templates that may be sent outside 24 hours since the customer's last message.
    twilio_whatsapp_number: str = ""
    twilio_whatsapp_template_confirmation: str = ""
    twilio_whatsapp_template_reply: str = ""
    twilio_whatsapp_template_survey: str = ""
    imap_host: str = ""
    imap_port: int = 993
    imap_security: str = "tls"
    imap_user: str = ""
    imap_password: str = ""
    imap_folder: str = "INBOX"
    imap_interval: float = 60.0
    attachment_max_bytes: int = 5_000_000
    attachment_max_count: int = 20
    attachment_max_total_bytes: int = 20_000_000
    # The trade register's open data (YTJ, opendata-ytj-api v3): a business ID fills in the company; an answer is
    # kept this many days.
    company_registry_url: str = "https://avoindata.prh.fi/opendata-ytj-api/v3"
    company_registry_days: float = 30.0
    # A file a specialist sends: its link in the web chat, SMS or WhatsApp works this many days.
    file_link_days: float = 7.0
    survey_delay_hours: float = 2.0
    impact_min_count: int = 5
    # The board's report of the month before goes by email to every lead and admin in a month's first week.
    board_report_email: bool = True
    outbox_max_attempts: int = 12  # with the backoff: about 2.5 hours before a message is given up
    worker_interval: float = 2.0
    dev_pages: bool = True
    log_level: str = "INFO"
    log_format: str = "json"  # json: one JSON object per line (structlog); text: readable lines for a terminal
    ratelimit_storage_uri: str = "memory://"
    # Put into RATELIMIT_STORAGE_URI (redis://host…) when that has no password of its own.
    redis_password: str = ""
    proxy_count: int = 0
    rate_limit_chat: str = "20 per minute;300 per day"
    rate_limit_chat_address: str = "60 per minute;2000 per day"
    rate_limit_chat_poll: str = "600 per minute"
    rate_limit_login: str = "5 per 15 minutes;10 per hour;20 per day"
    rate_limit_login_account: str = "20 per hour;50 per day"
    rate_limit_login_address: str = "20 per 15 minutes;100 per day"
    rate_limit_survey: str = "20 per hour"
    rate_limit_file: str = "60 per minute;500 per day"
    rate_limit_feedback: str = "5 per hour;20 per day"
    rate_limit_api: str = "300 per minute"
    sms_allowed_countries: str = ("FI,SE,NO,DK,IS,EE,LV,LT,DE,AT,BE,BG,HR,CY,CZ,FR,GR,HU,IE,IT,LU,MT,NL,PL,PT,RO,"
                                  "SK,SI,ES")
    sms_per_number_per_day: int = 5
    sms_hourly_budget: int = 200
    email_per_address_per_day: int = 10
    chat_session_days: float = 30.0
    chat_seen_minutes: float = 5.0
    # Web Push to staff browsers (router/delivery/push.py): the VAPID private key (`bin/router push keys` makes one)
    # and the contact a push service may write to (default mailto:SERVICE_EMAIL). Without a key, no push.
    vapid_private_key: str = ""
    vapid_subject: str = ""
    session_hours: float = 8.0
    session_idle_minutes: float = 30.0
    # Retention (router/privacy/retention.py; the README's "Personal data" table gives the reason for each): how long
    # personal data is kept before the worker's daily purge removes it. What the impact page counts stays.
    retain_case_months: int = 24
    retain_chat_days: int = 30
    retain_call_speech_days: int = 90
    retain_attachment_days: int = 180
    retain_outbox_days: int = 30
    retain_survey_comment_months: int = 24
    retain_audit_months: int = 24
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_name: str = "Kirjaudu kaupungin tunnuksella / City sign-in"

    @property
    def smtp_dry_run(self) -> bool:
        return not self.smtp_host

    @property
    def twilio_dry_run(self) -> bool:
        return not (self.twilio_account_sid and self.twilio_auth_token)

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def sms_countries(self) -> frozenset[str]:
        return frozenset(c.strip().upper() for c in self.sms_allowed_countries.split(",") if c.strip())


# Values that appear in this repository's examples: anyone can read them, so production never accepts them.
DOCUMENTED_DEFAULTS = frozenset({"dev-only-secret-change-me", "dev-internal-token", "change-me", "change-me-too",
                                 "change-me-three", "rasa-dev-token"})
MIN_SECRET_LENGTH = 32


class UnsafeSettings(SystemExit):
    """Production refuses to start; the message names each setting to fix."""


def secret_problem(name: str, value: str) -> str | None:
    """Why a secret is unfit for production, or None."""
    if not value:
        return f"{name} is not set"
    if value in DOCUMENTED_DEFAULTS or "change-me" in value:
        return (f"{name} is a documented default; generate one: "
                "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'")
    if len(value) < MIN_SECRET_LENGTH:
        return f"{name} is shorter than {MIN_SECRET_LENGTH} characters"
    return None


def problems(settings: Settings) -> list[str]:
    """What makes these settings unsafe for production (empty when they are fine or not production)."""
    if settings.environment not in ("development", "production"):
        return [f"ENVIRONMENT must be development or production, not {settings.environment!r}"]
    if not settings.production:
        return []
    found = [secret_problem("SECRET_KEY", settings.secret_key),
             secret_problem("INTERNAL_API_TOKEN", settings.internal_api_token),
             secret_problem("RASA_TOKEN", settings.rasa_token)]
    if settings.postgres_password or settings.database_url.startswith("postgresql"):
        found.append(secret_problem("POSTGRES_PASSWORD", settings.postgres_password or _url_password(settings)))
    if not settings.twilio_validate:
        found.append("TWILIO_VALIDATE is false: anyone could post forged SMS and calls")
    if not settings.public_base_url.startswith("https://"):
        found.append("PUBLIC_BASE_URL must be an https:// address")
    if settings.dev_pages:
        found.append("DEV_PAGES must be false")
    if settings.ratelimit_storage_uri.startswith("memory://"):
        found.append("RATELIMIT_STORAGE_URI must be shared storage (redis://...), not memory://")
    if settings.smtp_security == "none" and settings.smtp_password:
        found.append("SMTP_SECURITY=none would send SMTP_PASSWORD in clear text: use starttls or tls")
    if settings.imap_security == "none" and settings.imap_password:
        found.append("IMAP_SECURITY=none would send IMAP_PASSWORD in clear text: use tls or starttls")
    if settings.oidc_issuer and not settings.oidc_issuer.startswith("https://"):
        found.append("OIDC_ISSUER must be an https:// address")
    if not 0 < settings.session_hours <= MAX_SESSION_HOURS:
        found.append(f"SESSION_HOURS must be between 0 and {MAX_SESSION_HOURS} (a working day)")
    if not 0 < settings.session_idle_minutes <= MAX_IDLE_MINUTES:
        found.append(f"SESSION_IDLE_MINUTES must be between 0 and {MAX_IDLE_MINUTES}")
    for name in ("rate_limit_login", "rate_limit_login_account", "rate_limit_login_address"):
        problem = _lax_limit(name.upper(), getattr(settings, name))
        if problem:
            found.append(problem)
    if not 0 <= settings.proxy_count <= MAX_PROXIES:
        found.append(f"PROXY_COUNT must be 0 (no proxy) to {MAX_PROXIES}: each one more lets a client choose its "
                     "own address by X-Forwarded-For")
    return [p for p in found if p]


MAX_SESSION_HOURS = 12
MAX_IDLE_MINUTES = 120
MAX_PROXIES = 2
# Failed sign-ins a limit may allow per hour in production: beyond it, guessing is no longer slow.
MAX_LOGIN_FAILURES_PER_HOUR = 100


def _lax_limit(name: str, value: str) -> str | None:
    """Why a sign-in limit is unfit for production (unparsable, or more than the bound an hour), or None."""
    from limits import parse_many

    try:
        items = parse_many(value)
    except ValueError:
        return f"{name} is not a limit (\"5 per 15 minutes;20 per day\")"
    # What one hour may hold: a shorter window repeats within it, a longer one caps it at its own amount.
    hourly = min(item.amount * max(1.0, 3600 / item.get_expiry()) for item in items) if items else float("inf")
    if hourly > MAX_LOGIN_FAILURES_PER_HOUR:
        return f"{name} allows {hourly:.0f} failed sign-ins an hour; at most {MAX_LOGIN_FAILURES_PER_HOUR}"
    return None


def _url_password(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(settings.database_url).password or ""
    except Exception:  # noqa: BLE001 - an unparsable URL has no usable password either
        return ""


def require_safe(settings: Settings, what: str = "luukku") -> Settings:
    """Stop with a clear message when production is configured unsafely."""
    found = problems(settings)
    if found:
        raise UnsafeSettings(f"{what} refuses to start (ENVIRONMENT={settings.environment}):\n  - "
                             + "\n  - ".join(found))
    return settings


_CONVERTERS: dict[type, Callable[[str], object]] = {int: int, float: float, bool: _bool, str: str}
_FIELDS = {f.name for f in fields(Settings)}


def load(overrides: Mapping[str, object] | None = None, env_file: Path | None = None) -> Settings:
    """Settings from `.env`, then the environment, then explicit overrides (tests)."""
    source: dict[str, str] = {}
    env_path = env_file if env_file is not None else ROOT / ".env"
    if env_path.exists():
        source.update({k: v for k, v in dotenv_values(env_path).items() if v is not None})
    source.update(os.environ)
    _read_secrets(source)
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
    return _with_passwords(Settings(**values))  # type: ignore[arg-type]


def _read_secrets(source: dict[str, str]) -> None:
    """NAME_FILE=/run/secrets/… sets NAME from the file (Docker secrets): a secret never sits in the environment."""
    for key, path in list(source.items()):
        name = key[:-5]
        if key.endswith("_FILE") and name.lower() in _FIELDS and name not in source:
            source[name] = Path(path).read_text(encoding="utf-8").strip()


def _with_passwords(settings: Settings) -> Settings:
    """The database and Redis passwords put into their URLs when the URLs leave them out (they come as secrets)."""
    from dataclasses import replace

    from sqlalchemy.engine import make_url

    changes: dict[str, Any] = {}
    for name in ("database_url", "rasa_tracker_url"):
        url = getattr(settings, name)
        if settings.postgres_password and url.startswith("postgresql"):
            parsed = make_url(url)
            if not parsed.password:
                changes[name] = parsed.set(password=settings.postgres_password).render_as_string(hide_password=False)
    uri = settings.ratelimit_storage_uri
    if settings.redis_password and uri.startswith(("redis://", "rediss://")) and "@" not in uri.split("/")[2]:
        scheme, rest = uri.split("://", 1)
        changes["ratelimit_storage_uri"] = f"{scheme}://:{quote(settings.redis_password, safe='')}@{rest}"
    return replace(settings, **changes) if changes else settings

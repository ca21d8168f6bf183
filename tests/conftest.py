"""Shared fixtures: databases (SQLite always, PostgreSQL wherever one answers, and always in CI)."""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from router.app import create_app
from router.casework import directory
from router.storage.db import make_engine, make_sessionmaker
from router.storage.migrate import upgrade

from .helpers import ScriptedRasa

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_DIRECTORY = ROOT / "directory.example.yml"
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("LUUKKU_REQUIRE_POSTGRES") == "1"


def _pg_available() -> bool:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - no server here
        return False


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The admin URL of a PostgreSQL server; skipped where none answers, an error in CI."""
    if not _pg_available():
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required (LUUKKU_REQUIRE_POSTGRES=1) but {PG_ADMIN_URL} does not answer")
        pytest.skip("no PostgreSQL server answers on 127.0.0.1:5432")
    return PG_ADMIN_URL


def _fresh_pg_database(admin_url: str, template: str | None = None) -> tuple[str, callable]:
    name = f"luukku_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    url = admin_url.rsplit("/", 1)[0] + "/" + name

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite file migrated once per session: each test gets a copy instead of running every migration again."""
    path = tmp_path_factory.mktemp("template") / "luukku.sqlite"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template(pg_server) -> str:
    """A PostgreSQL database migrated once per session, the template of each test's own (CREATE DATABASE ...
    TEMPLATE copies its files; migrations run once, not per test). Nothing connects to it after its migration."""
    url, drop = _fresh_pg_database(pg_server)
    upgrade(url)  # alembic's engine is a NullPool: no connection is left open to block the copies
    yield url.rsplit("/", 1)[1]
    drop()


# Every test that uses a database runs on SQLite; a test about the database's own behaviour (marked
# `both_databases`: locks, claims, leases, concurrency, erasure, VACUUM) runs again on PostgreSQL, and with
# LUUKKU_BOTH_DATABASES=1 every test does.
BOTH_DATABASES = os.environ.get("LUUKKU_BOTH_DATABASES") == "1"


def pytest_generate_tests(metafunc) -> None:
    chosen = any(m.args and m.args[0] == "database_url" for m in metafunc.definition.iter_markers("parametrize"))
    if "database_url" in metafunc.fixturenames and not chosen:
        both = BOTH_DATABASES or metafunc.definition.get_closest_marker("both_databases") is not None
        params = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)] if both else ["sqlite"]
        metafunc.parametrize("database_url", params, indirect=True)


@pytest.fixture
def database_url(request, tmp_path) -> str:
    """A migrated, empty database: SQLite, and PostgreSQL as a second run of a `both_databases` test."""
    if request.param == "sqlite":
        path = tmp_path / "luukku.sqlite"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url, drop = _fresh_pg_database(request.getfixturevalue("pg_server"), request.getfixturevalue("pg_template"))
    yield url
    drop()


@pytest.fixture
def pg_database_url(pg_server, pg_template) -> str:
    """A migrated, empty PostgreSQL database (for tests that only make sense there)."""
    url, drop = _fresh_pg_database(pg_server, pg_template)
    yield url
    drop()


@pytest.fixture
def sessions(database_url):
    engine = make_engine(database_url)
    maker = make_sessionmaker(engine)
    with maker() as session:
        directory.load(session, EXAMPLE_DIRECTORY)
        session.commit()
    yield maker
    engine.dispose()


@pytest.fixture
def rasa() -> ScriptedRasa:
    return ScriptedRasa()


@pytest.fixture
def tracker_url(tmp_path):
    """An empty Rasa tracker store for the test's app: erasures need one they can reach."""
    from .helpers import rasa_tracker_store

    return rasa_tracker_store(tmp_path / "rasa-tracker.db")


@pytest.fixture
def app(database_url, sessions, rasa, tracker_url):
    app = create_app({"database_url": database_url, "internal_api_token": "test-token", "smtp_host": "",
                      "twilio_account_sid": "", "dev_pages": True, "rasa_tracker_url": tracker_url}, rasa=rasa)
    app.config["TESTING"] = True
    yield app
    app.extensions["luukku"]["engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def internal(database_url, sessions, rasa):
    """A client of the internal API's own app (a separate private listener in production)."""
    from router.app import create_internal_app

    app = create_internal_app({"database_url": database_url, "internal_api_token": "test-token"}, rasa=rasa)
    yield app.test_client()
    app.extensions["luukku"]["engine"].dispose()


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """The real stack, started once per test session."""
    from .live_stack import Stack

    workdir = tmp_path_factory.mktemp("stack")
    url = f"sqlite:///{workdir / 'stack.sqlite'}"
    upgrade(url)
    running = Stack(workdir, url).start()
    yield running
    running.stop()


@pytest.fixture
def live(stack):
    """The stack with empty tables and the example directory."""
    stack.reset(EXAMPLE_DIRECTORY)
    return stack


PUBLIC = "https://luukku.example.org"
TWILIO_TOKEN = "test-twilio-token"


@pytest.fixture
def clock():
    """A settable clock; starts on Monday 30 Nov 2026 at 10:00 in Helsinki (08:00 UTC)."""
    from datetime import datetime

    class Clock:
        now = datetime(2026, 11, 30, 8, 0)

        def __call__(self):
            return self.now

    return Clock()


@pytest.fixture
def phone_settings() -> dict:
    """Settings a test module adds to the phone app's (WhatsApp's number and templates, say)."""
    return {}


@pytest.fixture
def phone_app(database_url, sessions, rasa, clock, phone_settings, tracker_url):
    app = create_app({"database_url": database_url, "internal_api_token": "test-token", "smtp_host": "",
                      "twilio_account_sid": "ACtest", "twilio_auth_token": TWILIO_TOKEN,
                      "rasa_tracker_url": tracker_url,
                      "twilio_number": "+358400000000", "public_base_url": PUBLIC, "sms_reply_budget": 2.0,
                      **phone_settings}, rasa=rasa, clock=clock)
    yield app
    app.extensions["luukku"]["engine"].dispose()


@pytest.fixture
def twilio(phone_app):
    from .helpers import TwilioWebhooks

    client = phone_app.test_client()
    return TwilioWebhooks(lambda path, data, headers: client.post(path, data=data, headers=headers), PUBLIC,
                          TWILIO_TOKEN)


@pytest.fixture
def smtp():
    """A real SMTP server on localhost that keeps what it receives (aiosmtpd)."""
    from .helpers import SmtpServer

    with SmtpServer() as server:
        yield server


@pytest.fixture
def imap():
    """A real IMAP server on localhost (pymap) with one mailbox."""
    from .helpers import ImapServer

    with ImapServer() as server:
        yield server


PASSWORD = "correct horse battery"


_HASHES: dict[str, str] = {}


@pytest.fixture
def staff(sessions):
    """Staff accounts: Maija and Matti (specialists), Leena (team lead), Aino (admin).

    Made with `users.create`, but the shared password's scrypt hash (about 0.1 s, on purpose) is computed once per
    test session and reused while the accounts are made; logins still check it for real.
    """
    from router.staff import users

    real = users.generate_password_hash
    with pytest.MonkeyPatch.context() as patch, sessions() as s:
        patch.setattr(users, "generate_password_hash",
                      lambda password: _HASHES.get(password) or _HASHES.setdefault(password, real(password)))
        made = {
            "maija": users.create(s, email="maija.esimerkki@example.org", name="Maija Esimerkki", password=PASSWORD,
                                  specialist_key="maija"),
            "matti": users.create(s, email="matti.esimerkki@example.org", name="Matti Esimerkki", password=PASSWORD,
                                  specialist_key="matti"),
            "lead": users.create(s, email="leena.lead@example.org", name="Leena Lead", password=PASSWORD, role="lead"),
            "admin": users.create(s, email="aino.admin@example.org", name="Aino Admin", password=PASSWORD,
                                  role="admin"),
        }
        s.commit()
        return {k: u.email for k, u in made.items()}


def csrf_from(html: str) -> str:
    import re

    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the form has no CSRF token"
    return match.group(1)


class StaffClient:
    """A Flask test client signed in as one member of staff, posting forms with their CSRF token."""

    def __init__(self, app, email: str) -> None:
        self.client = app.test_client()
        page = self.client.get("/staff/login").get_data(as_text=True)
        resp = self.client.post("/staff/login", data={"email": email, "password": PASSWORD,
                                                      "csrf_token": csrf_from(page)})
        assert resp.status_code == 302, resp.get_data(as_text=True)

    def get(self, path: str):
        return self.client.get(path)

    def post_form(self, page: str, action: str, data: dict):
        token = csrf_from(self.client.get(page).get_data(as_text=True))
        return self.client.post(action, data={**data, "csrf_token": token})


@pytest.fixture
def signed_in(phone_app, staff):
    return lambda who: StaffClient(phone_app, staff[who])


@pytest.fixture
def tokens(sessions, staff):
    """An API token for each staff account."""
    from router.staff import users
    from router.storage.models import User

    out = {}
    with sessions() as s:
        for who, email in staff.items():
            out[who] = users.issue_token(s, s.scalar(select(User).where(User.email == email)))
        s.commit()
    return out


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def make_case(sessions, clock):
    """Open a case the way a channel does: conversation, first message, handoff."""
    from router import config as config_mod
    from router.casework.handoff import HandoffRequest, hand_off
    from router.inbound import conversation

    def make(topic="founding", language="fi", channel="web", text="Haluaisin perustaa kahvilan", email=None,
             phone=None, name="Testi Asiakas", when=None, specialist=None):
        settings = config_mod.load({"public_base_url": PUBLIC})
        with sessions() as s:
            conv = conversation.start(s, channel=channel, language=language, address=phone or email,
                                      now=when or clock.now)
            conversation.record(s, conv, text, direction="in", author="customer", now=when or clock.now)
            result = hand_off(s, settings, HandoffRequest(
                idempotency_key=f"test:{conv.public_id}", topic=topic, language=language, channel=channel,
                conversation_id=conv.id, customer_name=name, email=email, phone=phone, summary=text,
                specialist_key=specialist or ("maija" if topic == "founding" else None)),
                when or clock.now)
            s.commit()
            return result.case.ref
    return make

"""Safe to open to the public: settings, roles, identity, sessions, limits and hostile input (docs/security.md)."""
from __future__ import annotations

import json
import os
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from router import config
from router.app import create_app
from router.inbound import turns as turn_locks
from router.staff import users
from router.storage.models import Case, Message, OutboxMessage, StaffSession, User

from ..conftest import PASSWORD, PUBLIC, ROOT, StaffClient, csrf_from
from ..helpers import second_factor_on

STRONG = "x" * 40
SAFE_PRODUCTION = {"environment": "production", "secret_key": "k" * 40, "internal_api_token": "i" * 40,
                   "rasa_token": "r" * 40, "public_base_url": "https://luukku.example.org", "dev_pages": False,
                   "twilio_validate": True, "ratelimit_storage_uri": "redis://127.0.0.1:6379/5",
                   "database_url": "sqlite:///:memory:"}


# --- production refuses what is unsafe -------------------------------------------------------------------------
@pytest.mark.parametrize("change, named", [
    ({"secret_key": "dev-only-secret-change-me"}, "SECRET_KEY"),
    ({"secret_key": "short"}, "SECRET_KEY"),
    ({"internal_api_token": "dev-internal-token"}, "INTERNAL_API_TOKEN"),
    ({"rasa_token": ""}, "RASA_TOKEN"),
    ({"database_url": "postgresql+psycopg://luukku:change-me@db/luukku"}, "POSTGRES_PASSWORD"),
    ({"twilio_validate": False}, "TWILIO_VALIDATE"),
    ({"public_base_url": "http://luukku.example.org"}, "PUBLIC_BASE_URL"),
    ({"dev_pages": True}, "DEV_PAGES"),
    ({"ratelimit_storage_uri": "memory://"}, "RATELIMIT_STORAGE_URI"),
])
def test_production_refuses_each_unsafe_setting_by_name(change, named):
    with pytest.raises(config.UnsafeSettings) as refused:
        create_app({**SAFE_PRODUCTION, **change})
    assert named in str(refused.value)


def test_production_with_safe_settings_starts_and_development_keeps_its_defaults():
    assert config.problems(config.load(SAFE_PRODUCTION)) == []
    assert config.problems(config.load({"database_url": "sqlite:///:memory:"})) == []  # development


def _run(args: list[str], env: dict, python=None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SECRET", "INTERNAL", "RASA", "ENVIRON"))}
    return subprocess.run(args, cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=60)


def test_the_web_app_the_worker_and_the_action_server_refuse_the_example_defaults(tmp_path):
    """Left at .env.example's values with ENVIRONMENT=production, nothing starts, and each says why."""
    env = {"ENVIRONMENT": "production", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}",
           "SECRET_KEY": "dev-only-secret-change-me", "INTERNAL_API_TOKEN": "dev-internal-token"}
    for command in (["web", "--port", "0"], ["worker", "--once"]):
        result = _run([str(ROOT / "bin" / "router"), *command], env)
        assert result.returncode != 0, command
        assert "SECRET_KEY" in result.stderr and "INTERNAL_API_TOKEN" in result.stderr, result.stderr
    bot_python = ROOT / ".venv-bot" / "bin" / "python"
    if bot_python.exists():
        result = _run([str(bot_python), "-c", "import bot.actions.router_api"], env)
        assert result.returncode != 0 and "INTERNAL_API_TOKEN" in result.stderr


# --- least privilege: one rule for pages and the API ------------------------------------------------------------
@pytest.fixture
def people(sessions, staff):
    """Besides the standard staff: a specialist account not linked to the directory, and a lead of another team."""
    with sessions() as s:
        users.create(s, email="uusi@example.org", name="Uusi Käyttäjä", password=PASSWORD)
        users.create(s, email="toinen.lead@example.org", name="Toinen Lead", password=PASSWORD, role="lead",
                     team="matkailu")
        tokens = {}
        for email in list(staff.values()) + ["uusi@example.org", "toinen.lead@example.org"]:
            tokens[email] = users.issue_token(s, s.scalar(select(User).where(User.email == email)))
        s.commit()
    return {**staff, "unlinked": "uusi@example.org", "other_lead": "toinen.lead@example.org"}, tokens


# who → (may read maija's case, may act on it)
MATRIX = {"maija": (True, True), "matti": (False, False), "unlinked": (False, False), "lead": (True, True),
          "other_lead": (False, False), "admin": (True, True)}


@pytest.mark.parametrize("who", sorted(MATRIX))
def test_the_role_matrix_holds_on_the_pages_and_the_api(phone_app, people, make_case, who):
    accounts, tokens = people
    ref = make_case(email="asiakas@example.org")  # Maija's founding case
    may_read, may_act = MATRIX[who]
    page = StaffClient(phone_app, accounts[who])
    assert page.get(f"/staff/cases/{ref}").status_code == (200 if may_read else 403)
    listed = page.get("/staff/?all=1").get_data(as_text=True)
    assert (ref in listed) == may_read
    api = phone_app.test_client()
    headers = {"Authorization": f"Bearer {tokens[accounts[who]]}"}
    assert api.get(f"/api/v1/cases/{ref}", headers=headers).status_code == (200 if may_read else 404)
    assert (ref in json.dumps(api.get("/api/v1/cases", headers=headers).get_json())) == may_read
    noted = api.post(f"/api/v1/cases/{ref}/notes", json={"text": "huomio"}, headers=headers)
    assert noted.status_code == (200 if may_act else 404)
    if may_read:
        token = csrf_from(page.get(f"/staff/cases/{ref}").get_data(as_text=True))
        status = page.client.post(f"/staff/cases/{ref}/note", data={"text": "sivulta", "csrf_token": token})
        assert status.status_code == 302


def test_a_specialist_loses_write_access_when_the_case_moves_away(phone_app, people, make_case, sessions):
    accounts, tokens = people
    ref = make_case(email="asiakas@example.org")
    maija = {"Authorization": f"Bearer {tokens[accounts['maija']]}"}
    api = phone_app.test_client()
    assert api.post(f"/api/v1/cases/{ref}/reassign", json={"specialist": "sanna"}, headers=maija).status_code == 200
    # Maija handed it on: she may still read it until Sanna takes it up, but never act on it again.
    assert api.get(f"/api/v1/cases/{ref}", headers=maija).status_code == 200
    for path, body in (("reassign", {"specialist": "maija"}), ("resolve", {}), ("notes", {"text": "x"})):
        assert api.post(f"/api/v1/cases/{ref}/{path}", json=body, headers=maija).status_code == 403, path
    page = StaffClient(phone_app, accounts["maija"])
    html = page.get(f"/staff/cases/{ref}").get_data(as_text=True)
    assert "take-up" not in html and "/resolve" not in html  # no action forms shown
    token = csrf_from(html)
    assert page.client.post(f"/staff/cases/{ref}/resolve", data={"csrf_token": token}).status_code == 403
    with sessions() as s:
        assert s.scalar(select(Case.status).where(Case.ref == ref)) == "open"


def test_a_deputy_sees_the_cases_of_the_colleague_they_cover_while_away(phone_app, people, make_case, sessions):
    accounts, tokens = people
    ref = make_case(email="asiakas@example.org")  # Maija's; Sanna is her deputy
    with sessions() as s:
        users.create(s, email="sanna.testinen@example.org", name="Sanna", password=PASSWORD, specialist_key="sanna")
        s.commit()
    sanna = StaffClient(phone_app, "sanna.testinen@example.org")
    assert sanna.get(f"/staff/cases/{ref}").status_code == 403
    from router.storage.models import Specialist

    with sessions() as s:
        maija = s.scalar(select(Specialist).where(Specialist.key == "maija"))
        maija.absences = [["2026-11-30", "2026-12-04"]]  # the test clock is Monday 30 Nov 2026
        s.commit()
    assert sanna.get(f"/staff/cases/{ref}").status_code == 200


# --- identity is proven, not typed ------------------------------------------------------------------------------
def test_typing_someone_else_s_number_does_not_show_their_sms_history(phone_app, twilio, signed_in, make_case,
                                                                      sessions):
    victim = "+358401110000"
    twilio.sms(victim, "Salainen: yrityksemme konkurssi lähestyy")
    ref = make_case(phone=victim, channel="web", text="Hei")  # a web chat customer *typed* the victim's number
    html = signed_in("maija").get(f"/staff/cases/{ref}").get_data(as_text=True)
    assert "konkurssi" not in html
    assert "ilmoittama" in html  # the typed number is labelled as stated by the customer, not verified


def test_an_sms_customer_s_own_history_on_their_signed_number_is_joined(phone_app, twilio, signed_in, make_case):
    caller = "+358401110000"
    twilio.sms(caller, "Aiempi viesti rahoituksesta")
    ref = make_case(phone=caller, channel="sms", text="Uusi asia")
    assert "Aiempi viesti rahoituksesta" in signed_in("maija").get(f"/staff/cases/{ref}").get_data(as_text=True)


# --- sessions and sign-in -----------------------------------------------------------------------------------------
def test_a_cookie_forged_with_the_secret_opens_nothing_without_a_server_session(phone_app, staff):
    from flask.sessions import SecureCookieSessionInterface

    serializer = SecureCookieSessionInterface().get_signing_serializer(phone_app)
    forged = serializer.dumps({"_user_id": "1", "_fresh": True})
    client = phone_app.test_client()
    client.set_cookie(phone_app.config["SESSION_COOKIE_NAME"], forged)
    assert client.get("/staff/admin/directory").status_code == 302  # to the sign-in page


def test_signing_out_kills_the_session_on_the_server(phone_app, staff):
    admin = StaffClient(phone_app, staff["admin"])
    saved = admin.client.get_cookie(phone_app.config["SESSION_COOKIE_NAME"]).value
    token = csrf_from(admin.get("/staff/").get_data(as_text=True))
    assert admin.client.post("/staff/logout", data={"csrf_token": token}).status_code == 302
    replay = phone_app.test_client()
    replay.set_cookie(phone_app.config["SESSION_COOKIE_NAME"], saved)
    assert replay.get("/staff/admin/directory").status_code == 302


def test_an_idle_session_ends_and_so_does_an_old_one(phone_app, staff, clock):
    admin = StaffClient(phone_app, staff["admin"])
    assert admin.get("/staff/").status_code == 200
    clock.now += timedelta(minutes=29)
    assert admin.get("/staff/").status_code == 200
    clock.now += timedelta(minutes=31)
    assert admin.get("/staff/").status_code == 302
    fresh = StaffClient(phone_app, staff["admin"])
    for _ in range(9):  # active all the time, but the session is older than SESSION_HOURS
        clock.now += timedelta(minutes=55)
        fresh.get("/staff/")
    assert fresh.get("/staff/").status_code == 302


def test_the_csrf_token_changes_at_sign_in(phone_app, staff):
    client = phone_app.test_client()
    before = csrf_from(client.get("/staff/login").get_data(as_text=True))
    client.post("/staff/login", data={"email": staff["maija"], "password": PASSWORD, "csrf_token": before})
    after = csrf_from(client.get("/staff/").get_data(as_text=True))
    assert client.get_cookie(phone_app.config["SESSION_COOKIE_NAME"]) is not None
    stale = client.post("/staff/logout", data={"csrf_token": before})
    assert stale.status_code == 400 and before != after  # the pre-login token no longer works


def test_an_unknown_account_costs_one_hash_check_like_a_known_one(sessions, staff, monkeypatch):
    calls = {"check": 0}
    real = users.check_password_hash

    def counting(hashed, password):
        calls["check"] += 1
        return real(hashed, password)

    users._dummy_hash()  # made once, at the first sign-in attempt of the process
    monkeypatch.setattr(users, "check_password_hash", counting)
    monkeypatch.setattr(users, "generate_password_hash", lambda *a, **k: pytest.fail("hashed a new password"))
    with sessions() as s:
        assert users.authenticate(s, "nobody@example.org", "guess guess") is None
        assert users.authenticate(s, staff["maija"], "guess guess") is None
    assert calls["check"] == 2


def test_login_is_limited_per_address_as_well_as_per_account(phone_app, staff):
    client = phone_app.test_client()
    token = csrf_from(client.get("/staff/login").get_data(as_text=True))
    statuses = [client.post("/staff/login", data={"email": f"arvaus{i}@example.org", "password": "x" * 12,
                                                  "csrf_token": token}).status_code for i in range(21)]
    assert statuses[:20] == [401] * 20 and statuses[20] == 429  # 20 different accounts, one address
    ok = client.post("/staff/login", data={"email": staff["maija"], "password": PASSWORD, "csrf_token": token})
    assert ok.status_code == 429  # the address is locked out, even with the right password


def test_the_lockout_lives_in_shared_storage_so_a_restart_does_not_clear_it(database_url, sessions, staff):
    import redis

    storage = "redis://127.0.0.1:6379/7"
    try:
        redis.Redis.from_url(storage).flushdb()
    except redis.exceptions.ConnectionError:
        pytest.fail("Redis is expected on 127.0.0.1:6379 (it runs on every machine of this kind)")
    settings = {"database_url": database_url, "ratelimit_storage_uri": storage, "public_base_url": PUBLIC}
    apps = [create_app(settings), create_app(settings)]  # a restart, or a second web process
    try:
        first = apps[0].test_client()
        token = csrf_from(first.get("/staff/login").get_data(as_text=True))
        for _ in range(5):
            first.post("/staff/login", data={"email": staff["matti"], "password": "wrong wrong", "csrf_token": token})
        restarted = apps[1].test_client()
        token = csrf_from(restarted.get("/staff/login").get_data(as_text=True))
        locked = restarted.post("/staff/login", data={"email": staff["matti"], "password": PASSWORD,
                                                      "csrf_token": token})
        assert locked.status_code == 429
    finally:
        redis.Redis.from_url(storage).flushdb()
        for app in apps:
            app.extensions["luukku"]["engine"].dispose()


def test_a_second_factor_is_asked_when_turned_on(phone_app, sessions, staff, clock):
    import pyotp

    secret = second_factor_on(sessions, staff["lead"])
    client = phone_app.test_client()
    token = csrf_from(client.get("/staff/login").get_data(as_text=True))
    step = client.post("/staff/login", data={"email": staff["lead"], "password": PASSWORD, "csrf_token": token})
    assert step.status_code == 302 and step.headers["Location"].endswith("/staff/second-factor")
    assert client.get("/staff/").status_code == 302  # not signed in yet
    page = client.get("/staff/second-factor").get_data(as_text=True)
    assert client.post("/staff/second-factor", data={"code": "000000", "csrf_token": csrf_from(page)}).status_code == 401
    code = pyotp.TOTP(secret).at(clock.now)
    done = client.post("/staff/second-factor", data={"code": code, "csrf_token": csrf_from(page)})
    assert done.status_code == 302 and client.get("/staff/").status_code == 200


# --- abuse limits on the anonymous chat ---------------------------------------------------------------------------
def test_one_chat_session_is_limited_and_others_go_on(client):
    session = client.post("/api/chat", json={"session": None, "text": "Hei"}).get_json()["session"]
    statuses = [client.post("/api/chat", json={"session": session, "text": f"viesti {i}"}).status_code
                for i in range(25)]
    assert statuses.count(429) >= 5 and 429 not in statuses[:19]
    refused = client.post("/api/chat", json={"session": session, "text": "vielä"})
    assert refused.status_code == 429 and "error" in refused.get_json() and refused.headers["Retry-After"]
    assert client.post("/api/chat", json={"session": None, "text": "Toinen asiakas"}).status_code == 200


def _redis_chat_apps(database_url, rasa, storage, **limits):
    return [create_app({"database_url": database_url, "ratelimit_storage_uri": storage, **limits}, rasa=rasa)
            for _ in range(2)]


def test_chat_limits_in_redis_hold_across_web_processes_per_session_and_per_address(database_url, sessions, rasa):
    """Two web processes share the windows: a session's minute and an address's minute, whichever app serves."""
    import redis

    storage = "redis://127.0.0.1:6379/8"
    store = redis.Redis.from_url(storage)
    store.flushdb()
    apps = _redis_chat_apps(database_url, rasa, storage, rate_limit_chat="4 per minute;300 per day",
                            rate_limit_chat_address="9 per minute;2000 per day")
    try:
        one, two = (a.test_client() for a in apps)
        first = {"REMOTE_ADDR": "192.0.2.10"}
        session = one.post("/api/chat", json={"session": None, "text": "Hei"}, environ_base=first).get_json()["session"]
        turns = [(one, two)[i % 2].post("/api/chat", json={"session": session, "text": f"viesti {i}"},
                                        environ_base=first).status_code for i in range(5)]
        assert turns == [200, 200, 200, 200, 429]  # the session's 4 a minute, counted by both processes together
        # The address's 9 a minute over sessions that each have room: three sessions begun elsewhere, then used
        # from one address three turns each; its tenth turn is refused, whichever session and process it uses.
        begun = [two.post("/api/chat", json={"session": None, "text": f"uusi {i}"},
                          environ_base={"REMOTE_ADDR": "192.0.2.20"}).get_json()["session"] for i in range(3)]
        busy = {"REMOTE_ADDR": "192.0.2.21"}
        spread = [(one, two)[i % 2].post("/api/chat", json={"session": begun[i % 3], "text": f"asia {i}"},
                                         environ_base=busy).status_code for i in range(10)]
        assert spread == [200] * 9 + [429]
        refused = two.post("/api/chat", json={"session": begun[0], "text": "vielä"}, environ_base=busy)
        assert refused.status_code == 429 and "error" in refused.get_json() and refused.headers["Retry-After"] == "60"
        # The refused turn took its conversation's turn while the limiter answered: it stored nothing and let go.
        with sessions() as s:
            assert s.scalar(select(func.count()).select_from(Message).where(Message.text == "vielä")) == 0
            if database_url.startswith("postgresql"):
                assert s.scalar(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")) == 0
        assert all(lock.acquire(blocking=False) and (lock.release() or True) for lock in turn_locks._LOCKS)
        assert one.post("/api/chat", json={"session": None, "text": "Toinen"},
                        environ_base={"REMOTE_ADDR": "192.0.2.12"}).status_code == 200
        # The windows are the shared store's, under the keys Flask-Limiter gives the view (a deploy keeps counts).
        assert store.keys("LIMITS:LIMITER/luukku/chat-session:*/chat.chat/4/1/minute")
        assert store.keys("LIMITS:LIMITER/luukku/addr:*/chat.chat/9/1/minute")
        # A flushed store (the script unknown to it) still counts: the library's own call loads the script.
        store.script_flush()
        assert one.post("/api/chat", json={"session": session, "text": "taas"},
                        environ_base=first).status_code == 429
    finally:
        store.flushdb()
        for app in apps:
            app.extensions["luukku"]["engine"].dispose()


def test_a_rate_limit_store_outage_does_not_turn_customers_away(database_url, sessions, rasa, caplog):
    """Redis unreachable: the turn is served and stored, the thread and the survey page answer, and the log says
    the limits were not checked (before, each was an HTML 500)."""
    from ..helpers import free_port

    app = create_app({"database_url": database_url, "ratelimit_storage_uri": f"redis://127.0.0.1:{free_port()}/0"},
                     rasa=rasa)
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        client = app.test_client()
        answer = client.post("/api/chat", json={"session": None, "text": "Tarvitsen rahoitusta"})
        assert answer.status_code == 200 and answer.get_json()["replies"]
        with sessions() as s:
            assert s.scalar(select(func.count()).select_from(Message).where(Message.text == "Tarvitsen rahoitusta")) == 1
        thread = client.get(f"/api/chat/{answer.get_json()['session']}")
        assert thread.status_code == 200 and thread.get_json()["messages"]
        assert client.post("/survey/no-such-token", data={"score": "5"}).status_code == 404
        assert "rate limit store unavailable" in caplog.text
    finally:
        app.extensions["luukku"]["engine"].dispose()


def test_survey_answers_are_limited_per_address_in_redis(database_url, sessions, rasa):
    """Only submitting counts; the 429 is a line of text with Retry-After, as on every page that is not the API."""
    import redis

    storage = "redis://127.0.0.1:6379/8"
    redis.Redis.from_url(storage).flushdb()
    app = create_app({"database_url": database_url, "ratelimit_storage_uri": storage, "rate_limit_survey": "3 per hour"},
                     rasa=rasa)
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        client = app.test_client()
        assert [client.get("/survey/no-such-token").status_code for _ in range(4)] == [404] * 4
        posts = [client.post("/survey/no-such-token", data={"score": "5"}) for _ in range(4)]
        assert [p.status_code for p in posts] == [404, 404, 404, 429]
        assert posts[-1].headers["Retry-After"] == "60" and posts[-1].mimetype == "text/plain"
    finally:
        redis.Redis.from_url(storage).flushdb()
        app.extensions["luukku"]["engine"].dispose()


# --- SMS pumping ---------------------------------------------------------------------------------------------------
def _deliver(sessions, settings, now):
    from router.delivery.outbox import deliver_due
    from router.delivery.senders import RecordingSender
    from router.delivery.sms_policy import SmsPolicy

    sms = RecordingSender()
    deliver_due(sessions, {"sms": sms, "email": RecordingSender()}, now, sms_policy=SmsPolicy.from_settings(settings))
    return sms.sent


def test_confirmations_go_only_to_allowed_countries_and_a_few_a_day(sessions, make_case, clock):
    settings = config.load({"public_base_url": PUBLIC, "sms_per_number_per_day": 2})
    for number in ("+88216123456", "+447700900123"):  # a satellite range and a UK number: pumping targets
        make_case(phone=number, channel="web")
    for _ in range(3):
        make_case(phone="+358401234567", channel="web")
    sent = _deliver(sessions, settings, clock.now)
    assert sorted(o.recipient for o in sent) == ["+358401234567", "+358401234567"]
    with sessions() as s:
        dead = s.scalars(select(OutboxMessage.last_error).where(OutboxMessage.status == "dead")).all()
    assert any("country" in e for e in dead) and any("SMS_PER_NUMBER_PER_DAY" in e for e in dead)


def test_the_hourly_budget_pauses_automated_sms_and_alerts_the_admins(sessions, make_case, clock, staff):
    settings = config.load({"public_base_url": PUBLIC, "sms_hourly_budget": 2})
    for i in range(4):
        make_case(phone=f"+35840123456{i}", channel="web")
    assert len(_deliver(sessions, settings, clock.now)) == 2
    with sessions() as s:
        waiting = s.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == "sms",
                                                                       OutboxMessage.status == "pending"))
        alerts = s.scalars(select(OutboxMessage.recipient).where(OutboxMessage.idempotency_key.like("sms-budget:%")))
        assert waiting == 2 and list(alerts) == [staff["admin"]]
    assert len(_deliver(sessions, settings, clock.now + timedelta(hours=1, minutes=1))) == 2  # the next hour


# --- hostile input: never a 500, never lost -------------------------------------------------------------------------
def test_nul_bytes_surrogates_and_deep_json_get_clear_answers_and_keep_the_message(client, sessions):
    nul = client.post("/api/chat", json={"session": None, "text": "Hei\x00 rahoitus"})
    assert nul.status_code == 200
    surrogate = client.post("/api/chat", data='{"session": null, "text": "Hei \\ud800 kahvila"}',
                            content_type="application/json")
    assert surrogate.status_code == 200
    deep = client.post("/api/chat", data="[" * 100_000 + "]" * 100_000, content_type="application/json")
    assert deep.status_code == 400 and "error" in deep.get_json()
    with sessions() as s:
        stored = s.scalars(select(Message.text).where(Message.author == "customer").order_by(Message.id)).all()
    assert stored == ["Hei rahoitus", "Hei  kahvila"]


def test_hostile_sms_fields_get_twiml_not_a_500(twilio, sessions):
    for body, extra in (("Hei\x00", {}), ("²", {}), ("kuva", {"NumMedia": "abc"}), ("\ud800".encode("utf-8",
                                                                                               "surrogatepass")
                                                                                     .decode("latin-1"), {})):
        resp = twilio.sms("+358401110000", body, **extra)
        assert resp.status_code == 200 and resp.mimetype == "text/xml", body
    with sessions() as s:
        assert s.scalar(select(func.count(Message.id)).where(Message.author == "customer")) == 4


@pytest.mark.parametrize("path, body", [
    ("resolve", "not json"), ("resolve", '{"outcome": 5}'), ("reassign", '{"specialist": "", "topic": {}}'),
    ("reassign", "{}"), ("notes", '{"text": "   "}'), ("notes", '{"text": "x", "extra": 1}'),
])
def test_invalid_api_bodies_are_refused_and_change_nothing(phone_app, people, make_case, sessions, path, body):
    accounts, tokens = people
    ref = make_case(email="asiakas@example.org")
    resp = phone_app.test_client().post(f"/api/v1/cases/{ref}/{path}", data=body, content_type="application/json",
                                        headers={"Authorization": f"Bearer {tokens[accounts['admin']]}"})
    assert resp.status_code == 400 and "error" in resp.get_json()
    with sessions() as s:
        case = s.scalar(select(Case).where(Case.ref == ref))
        assert (case.status, case.specialist.key) == ("open", "maija")


def test_security_headers_on_every_kind_of_page(phone_app):
    client = phone_app.test_client()
    for path in ("/", "/staff/login", "/impact", "/api/v1/openapi.json"):
        headers = client.get(path).headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], path
        assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["Strict-Transport-Security"].startswith("max-age=")  # PUBLIC is https


def test_the_internal_api_is_not_served_by_the_public_app(client, internal):
    assert client.get("/internal/menu", headers={"Authorization": "Bearer test-token"}).status_code == 404
    assert internal.get("/internal/menu", headers={"Authorization": "Bearer test-token"}).status_code == 200


def test_every_staff_page_keeps_its_session_out_of_shared_caches(phone_app, staff):
    admin = StaffClient(phone_app, staff["admin"])
    assert admin.get("/staff/").headers["Cache-Control"] == "no-store"


def test_sessions_table_holds_only_digests(phone_app, staff, sessions):
    admin = StaffClient(phone_app, staff["admin"])
    admin.get("/staff/")
    with sessions() as s:
        [row] = s.scalars(select(StaffSession)).all()
    assert len(row.id) == 64 and all(c in "0123456789abcdef" for c in row.id)


# --- the city's identity provider (OpenID Connect) ------------------------------------------------------------------
def _oidc_sign_in(app, provider, client=None, link: str | None = None):
    from urllib.parse import urlsplit

    import requests

    client = client or app.test_client()
    page = client.get("/staff/login").get_data(as_text=True)
    assert 'id="oidc-login"' in page
    start = client.get(link) if link else client.get("/staff/login/oidc")
    if link:
        assert start.status_code == 302
        start = client.get(start.headers["Location"])
    assert start.status_code == 302 and start.headers["Location"].startswith(provider.issuer + "/authorize")
    back = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)  # the provider's real answer
    callback = urlsplit(back.headers["Location"])
    return client, client.get(f"{callback.path}?{callback.query}")


def _oidc_link(sessions, email: str) -> str:
    from datetime import datetime

    from router.staff import users

    with sessions() as s:
        token = users.oidc_link(users.by_email(s, email), datetime.utcnow())
        s.commit()
    return f"/staff/login/oidc/link/{token}"


def test_staff_sign_in_through_openid_connect(database_url, sessions, staff):
    from ..oidc_provider import OidcProvider

    with OidcProvider() as provider:
        app = create_app({"database_url": database_url, "public_base_url": PUBLIC, **provider.settings()})
        client, done = _oidc_sign_in(app, provider, link=_oidc_link(sessions, staff["admin"]))
        assert done.status_code == 302
        assert client.get("/staff/admin/directory").status_code == 200  # signed in as the admin the provider named
        # Bound now: the next sign-in needs no link.
        client, again = _oidc_sign_in(app, provider)
        assert again.status_code == 302 and client.get("/staff/admin/directory").status_code == 200
        provider.email, provider.subject = "stranger@example.org", "user-2"  # vouched for, but no staff account here
        client, refused = _oidc_sign_in(app, provider)
        assert refused.status_code == 401 and client.get("/staff/").status_code == 302
        app.extensions["luukku"]["engine"].dispose()


def test_oidc_sign_in_requires_a_verified_email_and_an_admin_made_link(database_url, sessions, staff):
    """Finding 8: a missing `email_verified` was taken as verified, and any account (admins too) was matched by
    email alone."""
    from ..oidc_provider import OidcProvider

    with OidcProvider() as provider:
        app = create_app({"database_url": database_url, "public_base_url": PUBLIC, **provider.settings()})
        provider.email = staff["maija"]
        client, unbound = _oidc_sign_in(app, provider)  # the right email, verified, but never linked by an admin
        assert unbound.status_code == 401 and client.get("/staff/").status_code == 302
        provider.email_verified = None  # the claim left out: not verified, even with a link
        client, unverified = _oidc_sign_in(app, provider, link=_oidc_link(sessions, staff["maija"]))
        assert unverified.status_code == 401 and client.get("/staff/").status_code == 302
        provider.email_verified, provider.email = True, staff["matti"]  # Maija's link cannot bind Matti's email
        client, other = _oidc_sign_in(app, provider, link=_oidc_link(sessions, staff["maija"]))
        assert other.status_code == 401
        provider.email = staff["maija"]
        link = _oidc_link(sessions, staff["maija"])
        client, done = _oidc_sign_in(app, provider, link=link)
        assert done.status_code == 302 and client.get("/staff/").status_code == 200
        client, reused = _oidc_sign_in(app, provider, link=link)  # a link is good once; the binding stays
        assert reused.status_code == 302
        provider.subject = "someone-else"  # another account at the provider with the same email: not Maija
        client, impostor = _oidc_sign_in(app, provider)
        assert impostor.status_code == 401 and client.get("/staff/").status_code == 302
        app.extensions["luukku"]["engine"].dispose()


def test_an_oidc_admin_still_gives_the_second_factor_unless_the_provider_asserts_mfa(database_url, sessions, staff):
    """Finding 8: OIDC sign-in skipped the second factor, admins included."""
    import pyotp

    from ..oidc_provider import OidcProvider

    secret = second_factor_on(sessions, staff["admin"])
    with OidcProvider() as provider:
        app = create_app({"database_url": database_url, "public_base_url": PUBLIC, **provider.settings()})
        provider.amr = ["pwd"]
        client, asked = _oidc_sign_in(app, provider, link=_oidc_link(sessions, staff["admin"]))
        assert asked.status_code == 302 and asked.headers["Location"].endswith("/staff/second-factor")
        assert client.get("/staff/admin/directory").status_code == 302  # not signed in yet
        page = client.get("/staff/second-factor").get_data(as_text=True)
        done = client.post("/staff/second-factor", data={"csrf_token": csrf_from(page),
                                                          "code": pyotp.TOTP(secret).now()})
        assert done.status_code == 302 and client.get("/staff/admin/directory").status_code == 200
        provider.amr = ["pwd", "mfa"]
        client, direct = _oidc_sign_in(app, provider)
        assert direct.status_code == 302 and client.get("/staff/admin/directory").status_code == 200
        app.extensions["luukku"]["engine"].dispose()


def test_a_forged_oidc_callback_signs_nobody_in(database_url, sessions, staff):
    from ..oidc_provider import OidcProvider

    with OidcProvider() as provider:
        app = create_app({"database_url": database_url, "public_base_url": PUBLIC, **provider.settings()})
        client = app.test_client()
        client.get("/staff/login/oidc")
        forged = client.get("/staff/login/oidc/callback?code=made-up&state=made-up")
        assert forged.status_code == 401 and client.get("/staff/").status_code == 302
        app.extensions["luukku"]["engine"].dispose()


def test_every_public_page_declares_a_real_language(client):
    import re

    for path, expected in (("/", "fi"), ("/impact?lang=sv", "sv"), ("/contacts?lang=en", "en")):
        html = client.get(path).get_data(as_text=True)
        assert re.search(r'<html lang="([a-z]{2})">', html).group(1) == expected, path

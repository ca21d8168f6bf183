"""The second security review's findings (issue 29), each a test named after it; docs/security.md lists them."""
from __future__ import annotations

import logging
import socket
import threading
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import event, select

from router import config, sanitize
from router.app import create_app
from router.inbound import turns
from router.staff import users
from router.storage.models import Case, Message, OutboxMessage, User

from ..conftest import PASSWORD, PUBLIC, csrf_from
from ..helpers import ScriptedRasa, consent_given, free_port, second_factor_on


class HungServer:
    """A TCP server that accepts connections and never answers: a hung Redis. Counts the connections it took."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


def _login(client, email: str, password: str, address: str):
    token = csrf_from(client.get("/staff/login", environ_base={"REMOTE_ADDR": address}).get_data(as_text=True))
    return client.post("/staff/login", data={"email": email, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


# --- 1. one client cannot stall the chat -------------------------------------------------------------------------
class SlowBot(ScriptedRasa):
    """A bot that holds every turn after the first until `go` is set: the turn keeps its conversation's lock."""

    def __init__(self) -> None:
        super().__init__()
        self.go = threading.Event()
        self.calls = 0

    def send(self, sender, text, metadata, timeout=None):
        self.calls += 1
        if self.calls > 1:
            self.go.wait(30)
        return super().send(sender, text, metadata, timeout)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
@pytest.mark.postgres
def test_a_one_session_flood_with_a_slow_bot_never_drains_the_pool(database_url, sessions, monkeypatch):
    """Finding 1: 500 requests a minute into one chat session, with the bot slow, each took a pooled connection and
    waited up to 25 s for the conversation's lock before the rate limit was settled: the pool ran dry, other pages
    waited 14-62 s, and the flood got 500s. Now the limit is settled before any lock or connection, a process holds
    or waits for at most SLOTS turns, and a turn that cannot get its lock quickly is kept for the worker."""
    monkeypatch.setattr(turns, "WAIT_SECONDS", 0.3)
    bot = SlowBot()
    app = create_app({"database_url": database_url, "rate_limit_chat": "8 per minute",
                      "rate_limit_chat_address": "1000 per minute"}, rasa=bot)
    engine = app.extensions["luukku"]["engine"]
    out = {"now": 0, "most": 0, "total": 0}

    @event.listens_for(engine, "checkout")
    def _out(*_args):  # noqa: ANN001
        out["now"] += 1
        out["total"] += 1
        out["most"] = max(out["most"], out["now"])

    @event.listens_for(engine, "checkin")
    def _in(*_args):  # noqa: ANN001
        out["now"] -= 1

    client = app.test_client()
    statuses: list[int] = []
    done = threading.Condition()

    def customer(n: int) -> None:
        resp = app.test_client().post("/api/chat", json={"session": session, "text": f"viesti {n}"})
        with done:
            statuses.append(resp.status_code)
            done.notify_all()

    try:
        session = client.post("/api/chat", json={"session": None, "text": "Hei"}).get_json()["session"]
        out["total"] = 0
        flood = [threading.Thread(target=customer, args=(n,)) for n in range(40)]
        for t in flood:
            t.start()
        # Every request but the one the bot holds comes back while it holds its turn: refused, or kept.
        with done:
            assert done.wait_for(lambda: len(statuses) >= 39, timeout=30), statuses
        held_meanwhile = out["most"]
        assert client.get("/contacts").status_code == 200  # another visitor's page: the pool has room for it
        bot.go.set()
        for t in flood:
            t.join(timeout=30)
    finally:
        bot.go.set()
        engine.dispose()
    assert len(statuses) == 40 and set(statuses) <= {200, 429}, statuses
    assert statuses.count(429) == 40 - 8  # the session's minute, settled before anything else
    assert held_meanwhile <= turns.SLOTS + 8  # turns never take more than their slots: the pool (20) kept room
    # The refused requests never touched the database: the 8 allowed ones account for every checkout.
    assert out["total"] <= 8 * 4, out
    with sessions() as s:
        kept = s.scalars(select(Message.text).where(Message.direction == "in")).all()
    assert len(kept) == 1 + 8  # every allowed message stored once: answered, or kept for the worker


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
@pytest.mark.postgres
def test_a_turn_that_finds_no_free_slot_is_kept_at_once(database_url, sessions, rasa, monkeypatch):
    """Finding 1, by design: no turn ever waits for a connection; past the slots it is kept for the worker."""
    monkeypatch.setattr(turns, "_SLOTS", threading.BoundedSemaphore(1))
    app = create_app({"database_url": database_url}, rasa=rasa)
    client = app.test_client()
    try:
        session = client.post("/api/chat", json={"session": None, "text": "Hei"}).get_json()["session"]
        assert turns._SLOTS.acquire(blocking=False)  # another conversation's turn holds the only slot
        try:
            resp = client.post("/api/chat", json={"session": session, "text": "Tarvitsen rahoitusta"})
        finally:
            turns._SLOTS.release()
        assert resp.status_code == 200
        with sessions() as s:
            waiting = s.scalar(select(Message).where(Message.text == "Tarvitsen rahoitusta"))
            assert waiting.awaiting_bot is True  # kept: the worker replays it in order
        assert len(rasa.sent) == 1  # only the first message reached the bot
    finally:
        app.extensions["luukku"]["engine"].dispose()


# --- 2. proxies and the second factor ----------------------------------------------------------------------------
def test_forwarded_for_is_not_trusted_without_a_proxy(database_url, sessions, staff):
    """Finding 2: with PROXY_COUNT=1 and no proxy, X-Forwarded-For was trusted from anyone: 25 sign-ins over 25
    accounts from rotating addresses went unlimited. With no proxy (PROXY_COUNT=0, the default) the header is
    ignored and the one socket address is limited."""
    assert config.Settings().proxy_count == 0
    app = create_app({"database_url": database_url, "public_base_url": PUBLIC})
    client = app.test_client()
    token = csrf_from(client.get("/staff/login").get_data(as_text=True))
    statuses = [client.post("/staff/login", data={"email": f"arvaus{i}@example.org", "password": "x" * 12,
                                                  "csrf_token": token},
                            headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code for i in range(25)]
    assert statuses[:20] == [401] * 20 and set(statuses[20:]) == {429}
    app.extensions["luukku"]["engine"].dispose()


def test_second_factor_guesses_are_limited_per_account_whatever_address_they_claim(database_url, sessions, staff,
                                                                                    monkeypatch):
    """Finding 2: 40 TOTP guesses with rotating X-Forwarded-For were all checked; the second factor was limited
    per address only. Now wrong codes count on the account, with its wrong passwords, behind a real proxy too."""
    second_factor_on(sessions, staff["lead"])
    app = create_app({"database_url": database_url, "public_base_url": PUBLIC, "proxy_count": 1,
                      "rate_limit_login": "5 per 15 minutes", "rate_limit_login_account": "8 per hour",
                      "rate_limit_login_address": "1000 per hour"})
    client = app.test_client()
    token = csrf_from(client.get("/staff/login").get_data(as_text=True))
    # Three wrong passwords first: they count on the same account.
    for i in range(3):
        client.post("/staff/login", data={"email": staff["lead"], "password": "väärin väärin", "csrf_token": token},
                    headers={"X-Forwarded-For": f"203.0.113.{i}"})
    assert client.post("/staff/login", data={"email": staff["lead"], "password": PASSWORD, "csrf_token": token},
                       headers={"X-Forwarded-For": "203.0.113.50"}).status_code == 302
    statuses = []
    for i in range(40):
        page = client.get("/staff/second-factor").get_data(as_text=True)
        statuses.append(client.post("/staff/second-factor", data={"code": f"{i:06d}", "csrf_token": csrf_from(page)},
                                    headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code)
    assert statuses[:5] == [401] * 5 and statuses.count(401) == 5 and statuses.count(429) == 35
    app.extensions["luukku"]["engine"].dispose()


def test_wrong_passwords_from_elsewhere_never_lock_the_owner_out(phone_app, staff):
    """Finding 10: five wrong passwords locked the real owner out for 15 minutes. The tight ladder counts an
    account from one address; the owner, elsewhere, signs in."""
    client = phone_app.test_client()
    for _ in range(8):
        _login(client, staff["matti"], "väärin väärin", "192.0.2.66")
    assert _login(client, staff["matti"], PASSWORD, "192.0.2.66").status_code == 429
    owner = phone_app.test_client()
    assert _login(owner, staff["matti"], PASSWORD, "192.0.2.7").status_code == 302


# --- 3. every SMS under the policy ---------------------------------------------------------------------------------
def test_staff_messages_to_customer_typed_numbers_are_under_the_sms_policy(phone_app, people_tokens, make_case,
                                                                           sessions, clock, twilio):
    """Finding 3: 15 texts went to +882… and 3 to +252… through POST /api/v1/cases/{ref}/messages: the policy
    applied only to automated rows. Now every text to a number the service has not verified is under it."""
    from .test_security import _deliver

    settings = config.load({"public_base_url": PUBLIC, "sms_per_number_per_day": 3})
    satellite = make_case(phone="+88216123456", channel="web")
    finnish = make_case(phone="+358401234999", channel="web")
    api = phone_app.test_client()
    headers = {"Authorization": f"Bearer {people_tokens[0]}"}
    for ref in (satellite, finnish):
        for i in range(5):
            assert api.post(f"/api/v1/cases/{ref}/messages", json={"text": f"viesti {i}"},
                            headers=headers).status_code == 201
    later = clock.now + timedelta(minutes=10)  # past CHAT_SEEN_MINUTES: a web customer who left gets the SMS copy
    _deliver(sessions, settings, later)
    with sessions() as s:
        rows = s.execute(select(OutboxMessage.recipient, OutboxMessage.status, OutboxMessage.last_error)
                         .where(OutboxMessage.kind == "sms")).all()
    to_satellite = [r for r in rows if r.recipient == "+88216123456"]
    assert to_satellite and all(r.status == "dead" and "country" in r.last_error for r in to_satellite)
    to_finnish = [r.status for r in rows if r.recipient == "+358401234999"]
    assert to_finnish.count("sent") == 3 and to_finnish.count("dead") == len(to_finnish) - 3  # the daily cap
    # A number that texted us (Twilio-signed) is verified: the specialist's replies to it are not capped.
    twilio.sms("+358405550001", "Hei, tarvitsen rahoitusta")
    verified = make_case(phone="+358405550001", channel="web")
    for i in range(5):
        api.post(f"/api/v1/cases/{verified}/messages", json={"text": f"vastaus {i}"}, headers=headers)
    _deliver(sessions, settings, later)
    with sessions() as s:
        statuses = s.scalars(select(OutboxMessage.status).where(OutboxMessage.recipient == "+358405550001",
                                                                OutboxMessage.kind == "sms")).all()
    assert statuses and set(statuses) == {"sent"}


def test_confirmation_emails_to_one_typed_address_are_capped_per_day(sessions, make_case, clock):
    """Finding 17: no per-recipient cap on confirmation emails to typed addresses (a mail bomb through the chat)."""
    from .test_security import _deliver

    settings = config.load({"public_base_url": PUBLIC, "email_per_address_per_day": 3})
    for _ in range(6):
        make_case(email="kohde@example.org", channel="web")
    _deliver(sessions, settings, clock.now)
    with sessions() as s:
        statuses = s.scalars(select(OutboxMessage.status).where(OutboxMessage.recipient == "kohde@example.org")).all()
        to_staff = s.scalars(select(OutboxMessage.status).where(OutboxMessage.recipient.like("maija%"))).all()
    assert statuses.count("sent") == 3 and statuses.count("dead") == 3
    assert set(to_staff) == {"sent"}  # staff addresses are never capped


@pytest.fixture
def people_tokens(sessions, staff):
    with sessions() as s:
        admin = s.scalar(select(User).where(User.email == staff["admin"]))
        token = users.issue_token(s, admin)
        s.commit()
    return [token]


# --- 4. each TOTP step once ---------------------------------------------------------------------------------------
def test_a_totp_code_is_accepted_once(phone_app, sessions, staff, clock):
    """Finding 4: a TOTP code was accepted three times in a row."""
    secret = second_factor_on(sessions, staff["lead"])
    code = pyotp.TOTP(secret).at(clock.now)
    results = []
    for _ in range(3):
        client = phone_app.test_client()
        token = csrf_from(client.get("/staff/login").get_data(as_text=True))
        client.post("/staff/login", data={"email": staff["lead"], "password": PASSWORD, "csrf_token": token})
        page = client.get("/staff/second-factor").get_data(as_text=True)
        assert "Vahvistuskoodi" in page  # its own label, not the campaign form's "Koodi (/?c=KOODI)"
        results.append(client.post("/staff/second-factor", data={"code": code,
                                                                  "csrf_token": csrf_from(page)}).status_code)
    assert results == [302, 401, 401]
    # The next step's code is good (once).
    with sessions() as s:
        user = s.scalar(select(User).where(User.email == staff["lead"]))
        assert users.totp_ok(user, pyotp.TOTP(secret).at(clock.now + timedelta(seconds=30)), clock.now)
        assert not users.totp_ok(user, pyotp.TOTP(secret).at(clock.now + timedelta(seconds=30)), clock.now)


# --- 5. NUL bytes and out-of-range ids ---------------------------------------------------------------------------
def test_nul_bytes_and_out_of_range_ids_are_clear_400s_never_500s(phone_app, people_tokens, make_case, caplog):
    """Finding 5: on PostgreSQL these were 500s (503 for a session id with NUL), and the error line logged the
    request path with the session id."""
    ref = make_case(email="asiakas@example.org")
    client = phone_app.test_client()
    session = client.post("/api/chat", json={"session": None, "text": "Hei"}).get_json()["session"]
    headers = {"Authorization": f"Bearer {people_tokens[0]}"}
    for path in (f"/api/chat/{session}?after=2147483648", f"/api/chat/{session}?after=9223372036854775807",
                 "/api/chat/abc%00def", f"/api/v1/audit?case={ref}%00", "/api/v1/cases/LK-%00",
                 "/api/v1/cases/LK-ABC%00DEF"):
        resp = client.get(path, headers=headers)
        assert resp.status_code in (400, 404) and resp.is_json, (path, resp.status_code)
    assert client.get(f"/api/chat/{session}?after=2147483647").status_code == 200
    resp = client.post("/api/chat", json={"session": "abc\x00def", "text": "Hei"})
    assert resp.status_code == 404 and resp.is_json
    assert client.get("/staff/cases/LK-%00").status_code == 404
    assert session not in caplog.text


# --- 6. the thread's credential ------------------------------------------------------------------------------------
def test_the_thread_is_never_kept_by_a_browser_or_a_shared_cache(client):
    """Finding 6: GET /api/chat/* had no Cache-Control: no-store (and the widget kept the id for 30 days in
    localStorage; the browser test covers sessionStorage and "end conversation")."""
    session = client.post("/api/chat", json={"session": None, "text": "Hei"})
    assert session.headers["Cache-Control"] == "no-store"
    thread = client.get(f"/api/chat/{session.get_json()['session']}")
    assert thread.status_code == 200 and thread.headers["Cache-Control"] == "no-store"


# --- 7. customer text in reports ----------------------------------------------------------------------------------
def test_a_survey_comment_cannot_inject_markup_into_the_board_report(sessions, make_case, clock):
    """Finding 7: a survey comment injected a heading, a link and raw HTML into the board report's Markdown and its
    monthly email."""
    from router.plan import report

    hostile = "hyvä\n# Otsikko\n[klikkaa](https://evil.example.org) <img src=x onerror=alert(1)> **lihava**"
    data = {"comments": [{"score": 2, "topic": "founding", "comment": hostile}],
            "low_scores": [{"ref": "LK-ABC123", "score": 1, "comment": hostile, "done": ["<b>x</b>"]}]}
    text = sanitize.quoted(hostile)
    assert "\n" not in text and "<" not in text and "](" not in text and "**" not in text
    with sessions() as s:
        settings = config.load({"public_base_url": PUBLIC})
        full = report.build(s, settings, "2026-11", clock.now)
    full.update(data)
    md = report.markdown(full, "fi")
    lines = md.splitlines()
    assert not any(line.startswith("# Otsikko") for line in lines)
    assert "<img" not in md and "](https://evil" not in md and "**lihava**" not in md
    assert f"{sanitize.quoted(hostile)}" in md


# --- 9. the action server and the internal handoff -----------------------------------------------------------------
def test_a_direct_handoff_without_the_customer_s_consent_or_typed_contact_is_refused(client, internal, rasa, sessions):
    """Finding 9: a direct POST /webhook to the action server with next_action=action_handoff created a case and
    mailed an arbitrary address without consent; /internal/handoffs trusted the slots it was given."""
    auth = {"Authorization": "Bearer test-token"}
    first = client.post("/api/chat", json={"session": None, "text": "Haluan perustaa yrityksen"})
    session = first.get_json()["session"]
    body = {"conversation": session, "idempotency_key": f"{session}:1", "topic": "founding", "language": "fi",
            "customer_name": "Kuka Tahansa", "contact": "uhri@example.org", "consent": True}
    refused = internal.post("/internal/handoffs", json=body, headers=auth)
    assert refused.status_code == 409 and "consent" in refused.get_json()["error"]
    consent_given(client.post, rasa, session, "oma@example.org")  # consent given, but for another address
    refused = internal.post("/internal/handoffs", json=body, headers=auth)
    assert refused.status_code == 409 and "email" in refused.get_json()["error"]
    with sessions() as s:
        assert s.scalar(select(Case.id)) is None
        assert s.scalar(select(OutboxMessage.id)) is None
    made = internal.post("/internal/handoffs", json={**body, "contact": "oma@example.org"}, headers=auth)
    assert made.status_code == 200


def test_make_run_binds_the_action_server_to_loopback_and_keeps_the_token_off_argv():
    """Finding 9 (and 16): `make run`'s action server listened on 0.0.0.0 without authentication."""
    from ..conftest import ROOT

    run = (ROOT / "scripts" / "run.sh").read_text()
    [actions] = [line for line in run.splitlines() if '"actions=' in line]
    assert "SANIC_HOST=127.0.0.1" in actions
    [rasa] = [line for line in run.splitlines() if '"rasa=' in line]
    assert "--auth-token" not in run and "-m bot.serve run --model" in rasa


# --- 11. CR/LF in next= ------------------------------------------------------------------------------------------
def test_a_next_with_cr_lf_is_a_clear_400_and_never_reaches_a_redirect(phone_app, staff):
    """Finding 11: CR/LF in next= made a successful sign-in return 500. A control character in the query is now a
    clear 400 before anything runs, and a next= that is no plain local path sends the signed-in user home."""
    from router.web.auth import _safe_next

    for target in ("/staff/\r\nSet-Cookie: x=1", "/staff/\nLocation: https://evil.example.org"):
        client = phone_app.test_client()
        token = csrf_from(client.get("/staff/login").get_data(as_text=True))
        resp = client.post("/staff/login", query_string={"next": target},
                           data={"email": staff["maija"], "password": PASSWORD, "csrf_token": token})
        assert resp.status_code == 400, target
    client = phone_app.test_client()
    token = csrf_from(client.get("/staff/login").get_data(as_text=True))
    resp = client.post("/staff/login", query_string={"next": "/\\evil.example.org"},
                       data={"email": staff["maija"], "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/staff/")
    with phone_app.test_request_context():
        assert _safe_next("/staff/\r\nx") == _safe_next("//evil.example.org") == "/staff/"
        assert _safe_next("/staff/cases/LK-ABC123") == "/staff/cases/LK-ABC123"


# --- 12. phone numbers in the twilio library's log -----------------------------------------------------------------
def test_the_twilio_library_logs_no_phone_number(database_url, sessions, make_case, clock, caplog):
    """Finding 12: twilio.http_client logged phone numbers at INFO when an SMS was retried."""
    from router.delivery.outbox import deliver_due
    from router.delivery.twilio_sms import TwilioSmsSender

    from ..twilio_standin import TwilioStandIn

    create_app({"database_url": database_url}).extensions["luukku"]["engine"].dispose()  # logging set up
    assert logging.getLogger("twilio.http_client").getEffectiveLevel() >= logging.WARNING
    with TwilioStandIn() as standin:
        settings = config.load({"twilio_account_sid": "ACtest", "twilio_auth_token": "t" * 32,
                                "twilio_number": "+358400000000", "twilio_api_base_url": standin.base_url,
                                "public_base_url": PUBLIC})
        standin.failures.append((500, 20500))  # the first try fails: the retry is what logged the number
        make_case(phone="+358401112233", channel="web")
        with caplog.at_level(logging.INFO):
            deliver_due(sessions, {"sms": TwilioSmsSender(settings)}, clock.now)
            deliver_due(sessions, {"sms": TwilioSmsSender(settings)}, clock.now + timedelta(minutes=1))
        assert [m["To"] for m in standin.received] == ["+358401112233"]
    assert "401112233" not in caplog.text


# --- 14. spreadsheet formulas in the public CSV -------------------------------------------------------------------
def test_public_csv_cells_never_start_a_formula():
    """Finding 14: the public impact CSV wrote cells starting with =, +, -, @ as they are."""
    for hostile in ("=HYPERLINK(\"https://evil.example.org\")", "+1+1", "-2+3", "@SUM(A1)", "\tx"):
        assert sanitize.csv_cell(hostile).startswith("'")
    assert sanitize.csv_cell("-5") == "-5" and sanitize.csv_cell(12) == 12 and sanitize.csv_cell("Tontit") == "Tontit"


def test_a_campaign_named_like_a_formula_is_quoted_in_the_public_csv(phone_app, people_tokens, clock):
    api = phone_app.test_client()
    headers = {"Authorization": f"Bearer {people_tokens[0]}"}
    made = api.post("/api/v1/campaigns", headers=headers, json={
        "code": "KAAVA", "name": "=HYPERLINK(\"https://evil.example.org\")", "starts": "2026-11-01",
        "ends": "2026-12-31", "cost": 100})
    assert made.status_code == 201, made.get_json()
    api.post("/api/chat", json={"session": None, "text": "Hei", "campaign": "KAAVA"})
    csv = api.get("/api/impact?from=2026-11&to=2026-11&group=campaign&format=csv").get_data(as_text=True)
    assert "'=HYPERLINK" in csv and ",=HYPERLINK" not in csv


# --- 15. the production check ------------------------------------------------------------------------------------
SAFE = {"environment": "production", "secret_key": "k" * 40, "internal_api_token": "i" * 40, "rasa_token": "r" * 40,
        "public_base_url": "https://luukku.example.org", "dev_pages": False, "twilio_validate": True,
        "ratelimit_storage_uri": "redis://127.0.0.1:6379/5", "database_url": "sqlite:///:memory:"}


@pytest.mark.parametrize("change, named", [
    ({"smtp_security": "none", "smtp_password": "x" * 20}, "SMTP_SECURITY"),
    ({"imap_security": "none", "imap_password": "x" * 20}, "IMAP_SECURITY"),
    ({"oidc_issuer": "http://idp.example.org"}, "OIDC_ISSUER"),
    ({"session_hours": 10000.0}, "SESSION_HOURS"),
    ({"rate_limit_login": "1000000 per minute"}, "RATE_LIMIT_LOGIN"),
    ({"rate_limit_login_address": "500 per hour"}, "RATE_LIMIT_LOGIN_ADDRESS"),
    ({"proxy_count": 5}, "PROXY_COUNT"),
])
def test_production_refuses_the_second_review_s_unsafe_settings(change, named):
    """Finding 15: the production check let these through."""
    with pytest.raises(config.UnsafeSettings) as refused:
        create_app({**SAFE, **change})
    assert named in str(refused.value)
    assert config.problems(config.load(SAFE)) == []


# --- 18. HTTP method errors ---------------------------------------------------------------------------------------
def test_a_405_keeps_its_allow_header_and_trace_with_a_query_is_a_405(client):
    """Finding 18: a 405 lost its Allow header; TRACE with a query string gave 400."""
    for method, path in (("DELETE", "/api/chat"), ("TRACE", "/api/chat?x=1"), ("PUT", "/api/impact?from=2026-01")):
        resp = client.open(path, method=method)
        assert resp.status_code == 405 and resp.is_json, (method, path)
        assert "Allow" in resp.headers and resp.headers["Allow"], (method, path)


# --- 19, 20. a shared store that is down or hung -----------------------------------------------------------------
def test_sign_in_with_the_rate_limit_store_down_is_a_clear_503_page(database_url, sessions, staff):
    """Finding 19: with Redis down every staff sign-in was an HTTP 500 (an unhandled ConnectionError)."""
    app = create_app({"database_url": database_url, "ratelimit_storage_uri": f"redis://127.0.0.1:{free_port()}/0"})
    client = app.test_client()
    for lang, words in (("fi", "Kirjautuminen ei ole juuri nyt käytettävissä"), ("en", "Sign-in is unavailable")):
        client.get(f"/staff/lang/{lang}")
        token = csrf_from(client.get("/staff/login").get_data(as_text=True))
        resp = client.post("/staff/login", data={"email": staff["maija"], "password": PASSWORD, "csrf_token": token})
        assert resp.status_code == 503 and words in resp.get_data(as_text=True) and resp.headers["Retry-After"]
    app.extensions["luukku"]["engine"].dispose()


def test_a_hung_rate_limit_store_is_noticed_once_and_skipped_for_a_while(database_url, sessions, staff, rasa):
    """Findings 19 and 20: with Redis hung, sign-in failed after 7-10 s and every chat turn waited the store's
    timeout again (4.4-5.3 s instead of 0.1-0.3 s). Now one call notices it (STORE_TIMEOUT), the breaker opens, and
    the store is not asked again for a while: customers' turns go on, sign-in answers 503 at once."""
    hung = HungServer()
    app = create_app({"database_url": database_url, "ratelimit_storage_uri": f"redis://127.0.0.1:{hung.port}/0"},
                     rasa=rasa)
    client = app.test_client()
    try:
        first = client.post("/api/chat", json={"session": None, "text": "Hei"})
        assert first.status_code == 200
        asked = len(hung.accepted)
        assert asked >= 1
        session = first.get_json()["session"]
        for i in range(5):
            assert client.post("/api/chat", json={"session": session, "text": f"viesti {i}"}).status_code == 200
        token = csrf_from(client.get("/staff/login").get_data(as_text=True))
        resp = client.post("/staff/login", data={"email": staff["maija"], "password": PASSWORD, "csrf_token": token})
        assert resp.status_code == 503
        assert len(hung.accepted) == asked  # the hung store was not asked again while the breaker is open
        breaker = app.extensions["luukku"]["limit_breaker"]
        breaker.clock = lambda: 10 ** 9  # the break is over: the next request asks the store again
        client.post("/api/chat", json={"session": session, "text": "taas"})
        assert len(hung.accepted) > asked
    finally:
        hung.close()
        app.extensions["luukku"]["engine"].dispose()


# --- 22. a mail without a Message-ID -------------------------------------------------------------------------------
def test_a_mail_without_a_message_id_is_handled_once_when_uidvalidity_changes(sessions, rasa, clock):
    """Finding 22: a mail without a Message-ID was handled again, as a second case, when the mailbox's UIDVALIDITY
    changed (receipts keyed on folder, UIDVALIDITY and UID only)."""
    from router.channels.mailbox import MailboxPoller

    raw = (b"From: Asiakas <asiakas@example.org>\r\nTo: luukku@example.org\r\nSubject: Tontti\r\n"
           b"Date: Mon, 30 Nov 2026 10:00:00 +0200\r\n\r\nEtsimme tonttia tehtaalle.\r\n")
    settings = config.load({"public_base_url": PUBLIC, "imap_host": "127.0.0.1"})
    poller = MailboxPoller(settings, sessions, rasa, clock)
    assert poller._handle("1001", "7", raw) == "case"
    assert poller._handle("2002", "1", raw) == "duplicate"  # the server renumbered its mailbox
    other = raw.replace(b"tehtaalle", b"varastolle")
    assert poller._handle("2002", "2", other) == "case"  # a different mail is a different mail
    with sessions() as s:
        assert len(s.scalars(select(Case.id)).all()) == 2
        assert all(p and p.startswith("<sha256.") for p in s.scalars(
            select(Message.provider_id).where(Message.channel == "email")))


def test_conversation_public_ids_are_checked_before_any_query():
    from router.inbound.conversation import is_public_id, new_public_id

    assert is_public_id(new_public_id())
    for bad in ("abc\x00def", "", "x" * 65, "../etc", None, 5):
        assert not is_public_id(bad)

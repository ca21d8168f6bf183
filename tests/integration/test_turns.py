"""Turn order across processes, a slow bot's SMS answer that survives a restart, and a dropped connection."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import event, select, text

from router import texts
from router.app import create_app
from router.inbound import turns
from router.storage.db import make_engine
from router.storage.models import Message, utcnow

from ..helpers import CONSENT_QUESTION, ScriptedRasa

# About the database's own behaviour: runs on SQLite and PostgreSQL.
pytestmark = pytest.mark.both_databases

CUSTOMER = "+358401234567"


def test_a_turn_is_held_across_engines_and_a_waiter_gives_up_in_time(database_url):
    """Two engines are two processes on PostgreSQL; on SQLite the lock is the process's own."""
    first, second = make_engine(database_url), make_engine(database_url)
    other = second if first.dialect.name == "postgresql" else first
    try:
        hold = turns.acquire(first, "conv-a")
        started = time.monotonic()
        with pytest.raises(turns.TurnBusy):
            turns.acquire(other, "conv-a", wait=0.3)
        assert 0.25 < time.monotonic() - started < 3
        with turns.turn(other, "conv-b", wait=0.3):  # another conversation is not held up
            pass
        hold.release()
        with turns.turn(other, "conv-a", wait=0.3):
            pass
    finally:
        first.dispose()
        second.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_waiter_gets_the_turn_after_the_holder_and_reads_its_last_write(database_url):
    """The holder commits its last write before it lets go: the waiter, granted the turn next, reads it."""
    first, second = make_engine(database_url), make_engine(database_url)
    try:
        with first.begin() as conn:
            conn.execute(text("CREATE TABLE turn_probe (n int)"))
        hold = turns.acquire(first, "conv-r")
        waiter: dict = {}
        queued = threading.Event()

        def wait_for_the_turn() -> None:
            queued.set()
            waiter["hold"] = turns.acquire(second, "conv-r", wait=5)
            with second.connect() as conn:
                waiter["seen"] = conn.execute(text("SELECT count(*) FROM turn_probe")).scalar()

        thread = threading.Thread(target=wait_for_the_turn)
        thread.start()
        queued.wait(5)
        with first.begin() as conn:  # the holder's last write, committed before it lets go
            conn.execute(text("INSERT INTO turn_probe VALUES (1)"))
        hold.release()
        thread.join(5)
        assert waiter["seen"] == 1
        waiter["hold"].release()
        turns.acquire(first, "conv-r", wait=0.5).release()  # nothing left held
    finally:
        with first.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS turn_probe"))
        first.dispose()
        second.dispose()


class OrderedRasa(ScriptedRasa):
    """Answers each message with its own text, and records the order it saw them in. A turn's answer waits until
    the other process's message is waiting for the turn (PostgreSQL shows its advisory lock not granted), so the two
    messages really are at the router at once."""

    def __init__(self, database_url: str) -> None:
        super().__init__()
        self.engine = make_engine(database_url)
        self.rounds: set[str] = set()

    def send(self, sender, text_, metadata, timeout=None):
        round_ = text_.partition("-")[0] if "-" in text_ else None
        if round_ is not None and round_ not in self.rounds:  # the round's first turn: the other one must wait
            self.rounds.add(round_)
            deadline = time.monotonic() + 5
            with self.engine.connect() as conn:
                while time.monotonic() < deadline and not conn.execute(text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")).scalar():
                    conn.rollback()
        self.sent.append((sender, text_, metadata))
        return [{"text": f"sain: {text_}"}]


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_messages_at_once_on_two_web_processes_keep_the_customer_s_order(database_url, sessions):
    rasa = OrderedRasa(database_url)
    apps = [create_app({"database_url": database_url, "internal_api_token": "t"}, rasa=rasa) for _ in range(2)]
    try:
        clients = [a.test_client() for a in apps]
        session = clients[0].post("/api/chat", json={"session": None, "text": "hei"}).get_json()["session"]
        for round_ in range(5):
            answers = {}

            def say(i, answers=answers, round_=round_):
                answers[i] = clients[i].post("/api/chat", json={"session": session, "text": f"{round_}-{i}"})

            threads = [threading.Thread(target=say, args=(i,)) for i in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            for i, resp in answers.items():  # each customer message got its own answer, never a blank one
                assert resp.status_code == 200 and resp.get_json()["replies"][0]["text"] == f"sain: {round_}-{i}"
        with sessions() as s:
            stored = s.scalars(select(Message.text).where(Message.direction == "in").order_by(Message.id)).all()
        # The bot saw the messages in the order they were stored: one turn at a time, never interleaved.
        assert [t for _, t, _ in rasa.sent] == stored
        with sessions() as s:
            transcript = s.scalars(select(Message.text).order_by(Message.id)).all()
        assert all(transcript[i + 1] == f"sain: {transcript[i]}" for i in range(0, len(transcript), 2))
    finally:
        rasa.engine.dispose()
        for a in apps:
            a.extensions["luukku"]["engine"].dispose()


@pytest.fixture
def dropping_app(database_url, sessions, rasa):
    """An app whose connection PostgreSQL kills in the middle of storing a message, `times` times (a real fault)."""
    from contextlib import contextmanager

    @contextmanager
    def make(times: int):
        app = create_app({"database_url": database_url, "internal_api_token": "t"}, rasa=rasa)
        engine = app.extensions["luukku"]["engine"]
        killer = make_engine(database_url)
        killed: list[int] = []

        @event.listens_for(engine, "before_cursor_execute")
        def _drop(conn, cursor, statement, *args):  # noqa: ANN001
            if statement.startswith("INSERT INTO messages") and len(killed) < times:
                killed.append(conn.connection.dbapi_connection.info.backend_pid)
                with killer.begin() as k:
                    k.execute(text("SELECT pg_terminate_backend(:p)"), {"p": killed[-1]})

        try:
            yield app.test_client(), killed
        finally:
            engine.dispose()
            killer.dispose()

    return make


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_connection_dropped_while_storing_is_retried_and_the_message_kept_once(dropping_app, sessions):
    """The database server kills the connection in the middle of the INSERT: JSON, stored once, answered."""
    with dropping_app(times=1) as (client, killed):
        resp = client.post("/api/chat", json={"session": None, "text": "Tarvitsen rahoitusta"})
    assert killed and resp.status_code == 200 and resp.is_json
    assert resp.get_json()["replies"][0]["text"] == "Mikä on nimesi?"
    with sessions() as s:
        assert s.scalars(select(Message.text).where(Message.direction == "in")).all() == ["Tarvitsen rahoitusta"]


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
@pytest.mark.parametrize("which", ["message", "answer"])
def test_a_turn_whose_own_connection_drops_keeps_the_message_and_the_answer_once(database_url, rasa, sessions, which):
    """A resumed web turn writes on the connection that holds its lock; PostgreSQL kills it in the middle of the
    message's (or the answer's) INSERT: the message is stored on a second try, the answer on a pooled connection,
    each once, the customer gets JSON, and the conversation's next turn is not held up."""
    app = create_app({"database_url": database_url, "internal_api_token": "t"}, rasa=rasa)
    engine, killer = app.extensions["luukku"]["engine"], make_engine(database_url)
    client = app.test_client()
    try:
        session_id = client.post("/api/chat", json={"session": None, "text": "Tarvitsen rahoitusta"}).get_json()["session"]
        inserts, killed = [], []

        @event.listens_for(engine, "before_cursor_execute")
        def _drop(conn, cursor, statement, *args):  # noqa: ANN001
            if not statement.startswith("INSERT INTO messages") or killed:
                return
            inserts.append(statement)
            if len(inserts) == (1 if which == "message" else 2):
                pid = conn.connection.dbapi_connection.info.backend_pid
                with killer.begin() as k:
                    held = k.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = :p"),
                                     {"p": pid}).scalar()
                    k.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
                killed.append(held)

        resp = client.post("/api/chat", json={"session": session_id, "text": "Maija Virtanen"})
        assert killed == [1]  # the INSERT ran on the connection holding the turn's lock, and that one was killed
        assert resp.status_code == 200 and resp.is_json and resp.get_json()["replies"][0]["text"] == "Mikä on nimesi?"
        event.remove(engine, "before_cursor_execute", _drop)
        with sessions() as s:
            stored = s.execute(select(Message.direction, Message.text).order_by(Message.id)).all()
        assert [m for m in stored if m.text == "Maija Virtanen"] == [("in", "Maija Virtanen")]
        assert [m.direction for m in stored] == ["in", "out", "in", "out"]  # each answer stored once too
        started = time.monotonic()
        assert client.post("/api/chat", json={"session": session_id, "text": "maija@example.org"}).status_code == 200
        assert time.monotonic() - started < 5  # the killed turn's lock died with its connection
        with killer.begin() as k:
            assert k.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")).scalar() == 0
    finally:
        engine.dispose()
        killer.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_database_that_stays_down_gets_a_json_error_never_html(dropping_app):
    with dropping_app(times=100) as (client, killed):
        resp = client.post("/api/chat", json={"session": None, "text": "Tarvitsen rahoitusta"})
    assert len(killed) == 2  # the first attempt and the one retry
    # Finding 21: a sentence for the customer in their language, and the widget told when to send it again.
    assert resp.status_code == 503 and resp.is_json and resp.headers["Retry-After"] == "5"
    assert resp.get_json()["error"] == texts.say("chat_not_stored", "fi") and resp.get_json()["retry"] is True


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_pooled_connection_that_died_while_idle_is_replaced_before_use(database_url, rasa, sessions, monkeypatch,
                                                                       caplog):
    """PostgreSQL restarted (every backend killed) while the web process was idle: the next turn never sees it."""
    from router.storage import db

    monkeypatch.setattr(db, "IDLE_PING", 0.05)
    app = create_app({"database_url": database_url, "internal_api_token": "t"}, rasa=rasa)
    engine, killer = app.extensions["luukku"]["engine"], make_engine(database_url)
    try:
        client = app.test_client()
        first = client.post("/api/chat", json={"session": None, "text": "Tarvitsen rahoitusta"}).get_json()
        pids = [c.dbapi_connection.info.backend_pid for c in list(engine.pool._pool.queue)]
        assert pids  # the turn's connections went back to the pool
        with killer.begin() as k:
            for pid in pids:
                k.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        time.sleep(0.1)
        resp = client.post("/api/chat", json={"session": first["session"], "text": "Maija Meikäläinen"})
        assert resp.status_code == 200 and resp.get_json()["replies"][0]["text"] == "Mikä on nimesi?"
        assert "not stored" not in caplog.text  # replaced on checkout, not caught by the retry
    finally:
        engine.dispose()
        killer.dispose()
    with sessions() as s:
        assert s.scalars(select(Message.text).where(Message.direction == "in").order_by(Message.id)).all() == [
            "Tarvitsen rahoitusta", "Maija Meikäläinen"]


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_the_turn_taken_before_reading_is_given_back_for_an_unknown_or_expired_session(database_url, rasa, sessions):
    """The web turn is locked before the conversation is read; a 404 must not leave the lock behind."""
    from datetime import timedelta

    from router.storage.models import Conversation

    app = create_app({"database_url": database_url, "internal_api_token": "t"}, rasa=rasa)
    engine = app.extensions["luukku"]["engine"]

    def advisory_locks() -> int:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "
                                     "(SELECT oid FROM pg_database WHERE datname = current_database())")).scalar()

    try:
        client = app.test_client()
        live = client.post("/api/chat", json={"session": None, "text": "Tarvitsen rahoitusta"}).get_json()["session"]
        stale = client.post("/api/chat", json={"session": None, "text": "Tarvitsen rahoitusta"}).get_json()["session"]
        with sessions() as s:
            s.query(Conversation).filter_by(public_id=stale).update(
                {"last_message_at": utcnow() - timedelta(days=400)})
            s.commit()
        for session_id in ("no-such-session", stale):
            resp = client.post("/api/chat", json={"session": session_id, "text": "Maija Meikäläinen"})
            assert resp.status_code == 404 and resp.is_json
            assert advisory_locks() == 0
        resp = client.post("/api/chat", json={"session": live, "text": "Maija Meikäläinen"})
        assert resp.status_code == 200 and resp.get_json()["replies"] and advisory_locks() == 0
    finally:
        engine.dispose()


def test_a_clicked_button_kept_for_the_worker_keeps_its_title_and_its_payload(client, rasa, sessions, monkeypatch,
                                                                             database_url):
    rasa.replies = [CONSENT_QUESTION]
    sid = client.post("/api/chat", json={"session": None, "text": "Tarvitsen rahoitusta"}).get_json()["session"]
    monkeypatch.setattr(turns, "WAIT_SECONDS", 0.2)
    engine = make_engine(database_url)
    hold = turns.acquire(engine, turns.key_for("web", None, sid))  # an earlier turn of this conversation runs on
    try:
        body = client.post("/api/chat", json={"session": sid, "text": "/affirm"}).get_json()
    finally:
        hold.release()
        engine.dispose()
    assert body["replies"] == [{"text": texts.say("bot_busy", "fi"), "buttons": []}]
    with sessions() as s:
        kept = s.scalar(select(Message).where(Message.awaiting_bot.is_(True)))
    # The transcript shows what the customer saw; the worker's replay gives the bot what the button meant.
    assert (kept.text, kept.payload["bot_text"]) == ("Kyllä", "/affirm")

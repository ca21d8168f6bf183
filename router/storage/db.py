"""Engine and session factory; the request or command that opens a session owns it."""
from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

# Seconds a pooled connection may have been back in the pool and still be used without a ping.
IDLE_PING = 1.0


def make_engine(url: str) -> Engine:
    """An engine tuned for the backend: SQLite gets WAL and a busy timeout so the worker and web share it."""
    # hide_parameters: a database error never puts a customer's number, address or words into the logs.
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            # Deleted and overwritten content is zeroed, so a purge or an erasure leaves nothing readable behind.
            cur.execute("PRAGMA secure_delete=ON")
            cur.close()

        return engine
    # LIFO: the connection handed back last is used next, so a light load keeps reusing a few warm connections
    # (no idle ping, below) and the rest may sit idle, instead of every connection in turn going idle for a while.
    engine = create_engine(url, pool_size=10, max_overflow=10, pool_use_lifo=True, hide_parameters=True)
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Pessimistic disconnect handling, for connections that sat in the pool: a dead one is replaced on checkout.

    Like `pool_pre_ping`, but a connection handed back less than IDLE_PING seconds ago is used without the extra
    round trip (a busy turn checks out two or three; the ping was a fifth of its time in the database). A
    connection that died in that second fails its statement; SQLAlchemy then invalidates the pool's older
    connections, and the inbound path stores the message on a second try (router/inbound/conversation.py).
    """

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _fresh(_dbapi_conn, record, *_args) -> None:  # noqa: ANN001
        record.info["used_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn, record, _proxy) -> None:  # noqa: ANN001
        if time.monotonic() - record.info.get("used_at", 0.0) < IDLE_PING:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # any failure: the pool discards it and checks out another (up to three times)
            raise DisconnectionError() from exc


def make_sessionmaker(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(sessions: sessionmaker) -> Iterator[Session]:
    """A command's or a worker job's one transaction: committed when the block ends, rolled back if it raises.

    (A web request's is the app's: router/app.py commits after the view. Services never commit; the exceptions
    are listed in docs/architecture.md.)
    """
    with sessions() as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        session.commit()


# `Session.info` key: the connection holding the conversation's turn this request took (router/inbound/turns.py).
TURN_CONNECTION = "turn_connection"


def statement_at_a_time(session: Session) -> None:
    """Run the session's next transaction in autocommit on PostgreSQL: each statement is its own transaction.

    For the chat turn, whose writes are single statements (the message, the answer): it saves the BEGIN and
    COMMIT round trips, about a millisecond each on a loaded machine. `session.commit()` still flushes and ends it.
    While the request holds a conversation's turn, the statements go on the turn's own connection (autocommit
    already): they follow the lock's statements on the same server process, which is awake, and the turn needs
    no second connection.
    """
    if session.get_bind().dialect.name != "postgresql" or session.in_transaction():
        return
    held = session.info.get(TURN_CONNECTION)
    if held is not None:
        session.connection(bind_arguments={"bind": held})
    else:
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})

"""One conversation's turns one at a time, in arrival order, across every web process and worker.

On PostgreSQL the lock is a session-level advisory lock on a connection of its own, so it outlives the commits
made while the turn runs (the message is stored, the bot answers, the answer is stored) and dies with the
process if that process is killed. Waiters are granted the lock in the order they asked for it.

A process holds or waits for at most SLOTS turns at once (their connections are pooled, like the pages'): however
many turns wait or however slow the bot is, the rest of the pool stays the pages'. A turn that finds no free slot,
or whose wait runs out, is TurnBusy: its message is kept for the worker. Waiters keep their order (PostgreSQL
grants the lock first come, first served), which is why a waiter holds its connection rather than polling. On
SQLite (one machine, `make run`) an in-process lock does the same for the web process.
"""
from __future__ import annotations

import hashlib
import threading
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

# A customer waits at most this long behind their own previous message; then it is kept and waits for the worker.
WAIT_SECONDS = 3
# Turns one process holds or waits for at once: half of the engine's pool (router/storage/db.py: 10 + 10 overflow).
SLOTS = 10
_SLOTS = threading.BoundedSemaphore(SLOTS)
_LOCKS = [threading.Lock() for _ in range(64)]


class TurnBusy(Exception):
    """An earlier turn of this conversation did not finish in time."""


def lock_key(public_id: str) -> int:
    """A signed 64-bit key for pg_advisory_lock from the conversation's public id."""
    return int.from_bytes(hashlib.sha256(public_id.encode()).digest()[:8], "big", signed=True)


def key_for(channel: str, sender: str | None, public_id: str | None) -> str:
    """What a turn is keyed on: the Twilio-signed sender where the channel threads by it (one number, one
    thread), else the conversation's public id."""
    return f"{channel}:{sender}" if sender else str(public_id)


class Hold:
    """A held turn; `release` may be called from another thread than the one that acquired it."""

    def __init__(self, lock: threading.Lock | None = None, conn=None, key: int = 0) -> None:
        self.lock, self.conn, self.key = lock, conn, key

    def _closed(self, conn) -> None:
        """The turn's connection goes back to the pool, and its slot with it."""
        try:
            conn.close()
        finally:
            _SLOTS.release()

    def release(self) -> None:
        if self.lock is not None:
            self.lock.release()
            self.lock = None
            return
        if self.conn is None:
            return
        conn, self.conn = self.conn, None
        if conn.invalidated:  # dropped already, and the lock with it
            self._closed(conn)
            return
        try:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
        except DBAPIError:
            # The connection is gone, and the lock with it; never hand a possibly locked connection back.
            conn.invalidate()
        finally:
            self._closed(conn)


def acquire(engine: Engine, key: str, wait: float | None = None) -> Hold:
    """Wait for the turn (up to `wait` seconds, else TurnBusy) and hold it until `release`."""
    wait = WAIT_SECONDS if wait is None else wait
    if engine.dialect.name != "postgresql":
        lock = _LOCKS[int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % len(_LOCKS)]
        if not lock.acquire(timeout=wait):
            raise TurnBusy(key)
        return Hold(lock=lock)
    if not _SLOTS.acquire(blocking=False):
        raise TurnBusy(key)  # never a wait for a slot: the message is kept instead
    try:
        return _acquire(engine, key, wait)
    except BaseException:
        _SLOTS.release()
        raise


def _acquire(engine: Engine, key: str, wait: float) -> Hold:
    number = lock_key(key)
    # Autocommit: the lock is the session's, not a transaction's, and no COMMIT round trips are needed.
    conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        # The usual case, nobody else has the turn: one round trip.
        if conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": number}).scalar():
            return Hold(conn=conn, key=number)
        # lock_timeout bounds the wait (set for this connection's use only, reset before it goes back).
        conn.execute(text("SELECT set_config('lock_timeout', :t, false)"), {"t": f"{int(wait * 1000)}ms"})
        try:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": number})
        finally:
            conn.execute(text("RESET lock_timeout"))
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) == "55P03":  # lock_not_available: the connection is fine
            conn.close()
            raise TurnBusy(key) from exc
        conn.invalidate()  # a dropped connection: never back into the pool, and a rollback would fail too
        conn.close()
        raise
    return Hold(conn=conn, key=number)


@contextmanager
def turn(engine: Engine, key: str, wait: float | None = None) -> Iterator[None]:
    """Hold the turn for the block; TurnBusy when the wait runs out."""
    hold = acquire(engine, key, wait)
    try:
        yield
    finally:
        hold.release()

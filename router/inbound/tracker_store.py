"""Rasa's SQL tracker store, seen from the router: to take a customer's words out of the bot's events.

Rasa has no API that deletes or rewrites stored events (replacing a tracker appends to an SQL store), so the
router edits the `events` rows directly: a refused consent's typed values (`redact`), and every event of a
conversation that is erased or past its retention time (`forget`).
"""
from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any, Optional

from sqlalchemy import bindparam, create_engine, inspect, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from router.storage.store import changed

_ENGINES: dict[str, Engine] = {}
_LOCK = threading.Lock()


def _engine(url: str) -> Engine:
    with _LOCK:
        if url not in _ENGINES:
            _ENGINES[url] = create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=2, hide_parameters=True)
        return _ENGINES[url]


def _scrub(event: dict[str, Any], typed: re.Pattern[str], replacement: str,
           customer: Optional[re.Pattern[str]] = None) -> bool:
    """Take the typed details out of one event: what the customer and the bot said, and the slots that held them;
    `customer` is taken out of the customer's own words as well."""
    changed = False
    if event.get("event") in ("user", "bot") and isinstance(event.get("text"), str):
        cleaned = typed.sub(replacement, event["text"])
        if customer is not None and event["event"] == "user":
            cleaned = customer.sub(replacement, cleaned)
        if cleaned != event["text"]:
            event["text"], changed = cleaned, True
        if isinstance(event.get("parse_data"), dict) and isinstance(event["parse_data"].get("text"), str):
            event["parse_data"]["text"] = cleaned
            for entity in event["parse_data"].get("entities") or []:
                if isinstance(entity, dict) and isinstance(entity.get("value"), str) and typed.search(entity["value"]):
                    entity["value"], changed = replacement, True
    if event.get("event") == "slot" and isinstance(event.get("value"), str) and typed.search(event["value"]):
        event["value"], changed = None, True
    return changed


def redact(url: str, sender: str, typed: re.Pattern[str], replacement: str,
           customer: Optional[re.Pattern[str]] = None) -> int:
    """Take the typed details (`consent.details`) out of one conversation's events; how many events changed."""
    changed = 0
    with _engine(url).begin() as conn:
        rows = conn.execute(text("SELECT id, data FROM events WHERE sender_id = :s AND type_name IN "
                                 "('user', 'bot', 'slot')"), {"s": sender}).all()
        for row_id, data in rows:
            event = json.loads(data)
            if _scrub(event, typed, replacement, customer):
                conn.execute(text("UPDATE events SET data = :d WHERE id = :i"),
                             {"d": json.dumps(event, ensure_ascii=False), "i": row_id})
                changed += 1
    return changed


class Unreachable(RuntimeError):
    """Rasa's tracker store cannot be read: an erasure or a purge would leave the person's words in it."""


def reach(url: str) -> None:
    """Make sure Rasa's tracker store is there (its `events` table), before anything is erased or purged.

    Once the router's rows lose a person's address nothing could find their events again, so a store that cannot be
    reached (a wrong RASA_TRACKER_URL, a database that is down) stops the erasure before it changes anything.
    """
    if not url:
        raise Unreachable("RASA_TRACKER_URL is not set")
    where = make_url(url).render_as_string(hide_password=True)
    if not _exists(url):
        raise Unreachable(f"no Rasa tracker store at {where} (RASA_TRACKER_URL)")
    try:
        with _engine(url).connect() as conn:
            if not inspect(conn).has_table("events"):
                raise Unreachable(f"{where} has no Rasa events table (RASA_TRACKER_URL)")
    except SQLAlchemyError as exc:
        raise Unreachable(f"Rasa's tracker store at {where} cannot be read: {type(exc).__name__}") from exc


def _exists(url: str) -> bool:
    """A SQLite tracker store that Rasa never created holds nothing (and must not be created by looking)."""
    parsed = make_url(url)
    return not parsed.get_backend_name() == "sqlite" or bool(parsed.database and Path(parsed.database).exists())


def forget(url: str, senders: list[str]) -> int:
    """Delete every stored event of these conversations (an erasure or the retention purge); how many went.

    A tracker store that was never written (no `events` table yet) holds nothing to forget.
    """
    if not senders or not _exists(url):
        return 0
    engine = _engine(url)
    removed = 0
    with engine.begin() as conn:
        if not inspect(conn).has_table("events"):
            return 0
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA secure_delete = ON")  # the freed pages are zeroed, not left readable
        for start in range(0, len(senders), 500):
            removed += changed(conn, text("DELETE FROM events WHERE sender_id IN :s").bindparams(
                bindparam("s", expanding=True)), {"s": senders[start:start + 500]})
    return removed


def compact(url: str) -> None:
    """Rewrite the tracker store's table so deleted events leave no readable copy in its files."""
    if not _exists(url):
        return
    engine = _engine(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if not inspect(conn).has_table("events"):
            return
        conn.exec_driver_sql("VACUUM" if engine.dialect.name == "sqlite" else "VACUUM FULL events")

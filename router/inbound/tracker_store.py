"""Rasa's SQL tracker store, seen from the router: only to take a customer's typed words out of the bot's events.

Rasa has no API that deletes or rewrites stored events (replacing a tracker appends to an SQL store), so the
router edits the `events` rows of one conversation directly: the user messages' text and the slots' values.
"""
from __future__ import annotations

import json
import threading
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

_ENGINES: dict[str, Engine] = {}
_LOCK = threading.Lock()


def _engine(url: str) -> Engine:
    with _LOCK:
        if url not in _ENGINES:
            _ENGINES[url] = create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=2, hide_parameters=True)
        return _ENGINES[url]


def _scrub(event: dict[str, Any], values: set[str], replacement: str) -> bool:
    changed = False
    if event.get("event") == "user" and isinstance(event.get("text"), str) and event["text"] in values:
        event["text"], changed = replacement, True
        if isinstance(event.get("parse_data"), dict):
            event["parse_data"]["text"] = replacement
    if event.get("event") == "slot" and isinstance(event.get("value"), str) and event["value"] in values:
        event["value"], changed = None, True
    return changed


def redact(url: str, sender: str, values: list[str], replacement: str) -> int:
    """Replace these typed values in one conversation's events; how many events changed."""
    wanted = set(values)
    changed = 0
    with _engine(url).begin() as conn:
        rows = conn.execute(text("SELECT id, data FROM events WHERE sender_id = :s AND type_name IN ('user', 'slot')"),
                            {"s": sender}).all()
        for row_id, data in rows:
            event = json.loads(data)
            if _scrub(event, wanted, replacement):
                conn.execute(text("UPDATE events SET data = :d WHERE id = :i"),
                             {"d": json.dumps(event, ensure_ascii=False), "i": row_id})
                changed += 1
    return changed

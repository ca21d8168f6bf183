"""Storing messages: below both the inbound path and casework, so neither has to import the other."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy.orm import Session

from router.storage.models import Conversation, Message, utcnow
from router.storage.store import insert_ignore

# `last_message_at` only decides when a conversation has gone quiet (hours, days): it moves in steps of a
# minute, which saves an UPDATE on most turns of a lively conversation.
ACTIVITY_GRAIN = 60


def record(session: Session, conv: Conversation, text: str, *, direction: str, author: str,
           provider_id: Optional[str] = None, payload: Optional[dict[str, Any]] = None,
           now: Optional[datetime] = None) -> Optional[int]:
    """Store a message; with a provider id, a second delivery of the same message stores nothing (None)."""
    now = now or utcnow()
    message_id = insert_ignore(session, Message, values(conv, text, direction=direction, author=author,
                                                        provider_id=provider_id, payload=payload, now=now))
    if message_id is not None:
        touch(conv, now)
    return message_id


def values(conv: Conversation, text: str, *, direction: str, author: str, provider_id: Optional[str] = None,
           payload: Optional[dict[str, Any]] = None, now: datetime) -> dict[str, Any]:
    """A message row's columns."""
    return dict(conversation_id=conv.id, direction=direction, channel=conv.channel, provider_id=provider_id,
                author=author, text=text, payload=payload, created_at=now)


def touch(conv: Conversation, now: datetime) -> None:
    """Move the conversation's `last_message_at` to a new message's time, in ACTIVITY_GRAIN steps."""
    if not 0 <= (now - conv.last_message_at).total_seconds() < ACTIVITY_GRAIN:
        conv.last_message_at = now

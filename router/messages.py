"""Storing messages: below both the inbound path and casework, so neither has to import the other."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy.orm import Session

from router.models import Conversation, Message, utcnow
from router.store import insert_ignore

# `last_message_at` only decides when a conversation has gone quiet (hours, days): it moves in steps of a
# minute, which saves an UPDATE on most turns of a lively conversation.
ACTIVITY_GRAIN = 60


def record(session: Session, conv: Conversation, text: str, *, direction: str, author: str,
           provider_id: Optional[str] = None, payload: Optional[dict[str, Any]] = None,
           now: Optional[datetime] = None) -> Optional[int]:
    """Store a message; with a provider id, a second delivery of the same message stores nothing (None)."""
    now = now or utcnow()
    message_id = insert_ignore(session, Message, dict(
        conversation_id=conv.id, direction=direction, channel=conv.channel, provider_id=provider_id,
        author=author, text=text, payload=payload, created_at=now))
    if message_id is not None and not 0 <= (now - conv.last_message_at).total_seconds() < ACTIVITY_GRAIN:
        conv.last_message_at = now
    return message_id

"""Conversations: store each inbound message first, then ask Rasa, one message at a time per conversation."""
from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from router import metrics, texts
from router.casework import directory
from router.inbound import keywords, language as lang_mod
from router.inbound.rasa_client import RasaUnavailable
from router.messages import record  # noqa: F401 - the channels store through conversation.record
from router.models import Conversation, Message, utcnow

log = logging.getLogger(__name__)

# Rasa can lose a turn when two messages of one conversation arrive at once; striped locks serialise them.
_LOCKS = [threading.Lock() for _ in range(64)]


def _lock_for(public_id: str) -> threading.Lock:
    return _LOCKS[hash(public_id) % len(_LOCKS)]


@dataclass
class Reply:
    """One bot reply with its buttons."""

    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "buttons": self.buttons}


def new_public_id() -> str:
    """A random conversation id: it names the conversation to Rasa and to the widget, and nothing else."""
    return secrets.token_urlsafe(18)


def start(session: Session, channel: str, language: str = "fi", address: Optional[str] = None,
          now: Optional[datetime] = None) -> Conversation:
    now = now or utcnow()
    conv = Conversation(public_id=new_public_id(), channel=channel, language=language, address=address,
                        created_at=now, last_message_at=now)
    session.add(conv)
    session.flush()
    return conv


def find(session: Session, public_id: str) -> Optional[Conversation]:
    return session.scalar(select(Conversation).where(Conversation.public_id == public_id))


def _from_rasa(raw: list[dict[str, Any]]) -> list[Reply]:
    replies = []
    for item in raw:
        if item.get("text"):
            buttons = [{"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                       for b in item.get("buttons") or []]
            replies.append(Reply(str(item["text"]), buttons))
    return replies


def fallback_replies(session: Session, text: str, language: str) -> list[Reply]:
    """Rasa is away: name who helps with the topic the keywords suggest, or the service desk."""
    guess = keywords.classify(text)
    people = directory.candidates(session)
    if not people:
        return [Reply(texts.say("rasa_down", language, name="-", title="-", topic="-", email="-", phone="-"))]
    today = utcnow().date()
    person = directory.choose_for(people, guess.topic, language, (today, today), {})
    labels = {t.key: t.labels for t in directory.topic_labels(session)}
    topic = labels.get(guess.topic, {}).get(language, guess.topic)
    return [Reply(texts.say("rasa_down", language, name=person.name, title=person.title(language), topic=topic,
                            email=person.email, phone=person.phone or ""))]


def converse(session: Session, rasa, conv: Conversation, text: str, *, provider_id: Optional[str] = None,
             timeout: Optional[float] = None, settings=None, now: Optional[datetime] = None) -> Optional[list[Reply]]:
    """Store the customer's message, commit, then route it: to its open case, or to the bot (replies stored too).

    Returns None when the message was a duplicate delivery (already stored and answered).
    A clicked button's payload ("/affirm") goes to Rasa; the transcript keeps what the customer saw ("Kyllä").
    """
    shown = next((b["title"] for b in last_buttons(session, conv) if b["payload"] == text), text) \
        if text.startswith("/") and conv.id else text
    message_id = receive(session, conv, shown, provider_id=provider_id, now=now)
    if message_id is None:
        return None
    if settings is not None:
        from router.inbound import receive as inbound

        decision = inbound.decide(session, settings, rasa, conv, session.get(Message, message_id), text,
                                  now or utcnow())
        if decision.to_bot is None:
            return store_replies(session, conv, decision.replies, now)
        text = decision.to_bot
    return ask_bot(session, rasa, conv, text, timeout=timeout, now=now, message_id=message_id)


def store_replies(session: Session, conv: Conversation, replies: list[dict[str, Any]],
                  now: Optional[datetime] = None) -> list[Reply]:
    """Keep the service's own answers (not the bot's) in the transcript and commit; the replies to show."""
    shown = []
    for reply in replies:
        payload = {k: v for k, v in reply.items() if k != "text" and v} or None
        record(session, conv, reply["text"], direction="out", author="system", payload=payload, now=now)
        shown.append(Reply(reply["text"], list(reply.get("buttons") or [])))
    session.commit()
    return shown


def receive(session: Session, conv: Conversation, text: str, *, provider_id: Optional[str] = None,
            now: Optional[datetime] = None) -> Optional[int]:
    """Store an inbound message and commit (persist first); None for a duplicate delivery."""
    if not conv.messages and conv.channel != "voice":
        conv.language = lang_mod.detect(text, default=conv.language)
    message_id = record(session, conv, text, direction="in", author="customer", provider_id=provider_id, now=now)
    if message_id is None:
        session.rollback()
        return None
    session.commit()
    return message_id


def ask_bot(session: Session, rasa, conv: Conversation, text: str, *, timeout: Optional[float] = None,
            now: Optional[datetime] = None, message_id: Optional[int] = None) -> list[Reply]:
    """Send a stored message's text to Rasa and store the replies.

    When Rasa is away, the message waits (`awaiting_bot`) for the worker to replay it, in order, once Rasa is back
    (router/inbound/replay.py); the customer hears that it is kept and who helps meanwhile. A message behind one
    that waits waits too, so the bot never sees a conversation out of order.
    """
    metadata = {"language": conv.language, "channel": conv.channel}
    waiting = session.scalar(select(Message.id).where(Message.conversation_id == conv.id, Message.awaiting_bot.is_(True),
                                                      Message.id != (message_id or -1)).limit(1))
    with _lock_for(conv.public_id):
        try:
            if waiting is not None:
                raise RasaUnavailable("an earlier message of this conversation is still waiting for the bot")
            with metrics.RASA_SECONDS.time():
                raw = rasa.send(conv.public_id, text, metadata, timeout=timeout) if timeout else \
                    rasa.send(conv.public_id, text, metadata)
            replies = _from_rasa(raw)
            metrics.TURNS.labels(conv.channel, "bot").inc()
        except RasaUnavailable as exc:
            log.warning("rasa unavailable (%s); conversation %s waits for it", exc, conv.id)
            metrics.FALLBACKS.labels(conv.channel).inc()
            metrics.TURNS.labels(conv.channel, "fallback").inc()
            replies = fallback_replies(session, text, conv.language)
            if message_id is not None:
                _wait_for_bot(session, message_id, text)
    for reply in replies:
        record(session, conv, reply.text, direction="out", author="bot",
               payload={"buttons": reply.buttons} if reply.buttons else None, now=now)
    session.commit()
    return replies


def _wait_for_bot(session: Session, message_id: int, text: str) -> None:
    message = session.get(Message, message_id)
    if message is None:
        return
    message.awaiting_bot = True
    if text != message.text:  # a clicked button: the bot needs its payload, the transcript keeps its title
        message.payload = {**(message.payload or {}), "bot_text": text}


def last_buttons(session: Session, conv: Conversation) -> list[dict[str, str]]:
    """The buttons of the bot's latest message, for numbered answers on SMS."""
    latest = session.scalar(select(Message).where(Message.conversation_id == conv.id, Message.direction == "out")
                            .order_by(Message.id.desc()).limit(1))
    return list((latest.payload or {}).get("buttons", [])) if latest and latest.payload else []

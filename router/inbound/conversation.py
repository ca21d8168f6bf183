"""Conversations: store each inbound message first, then ask Rasa, one message at a time per conversation."""
from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from router import logs, metrics, texts
from router.casework import customer, directory
from router.inbound import keywords, turns
from router.inbound import language as lang_mod
from router.inbound.consent import forget_refused
from router.inbound.rasa_client import RasaLate, RasaUnavailable
from router.storage.db import TURN_CONNECTION, statement_at_a_time
from router.storage.messages import record  # noqa: F401 - the channels store through conversation.record
from router.storage.models import Conversation, Message, utcnow

log = logging.getLogger(__name__)


class NotStored(Exception):
    """The database did not take the customer's message (a dropped connection): nothing was answered either."""


@dataclass
class Reply:
    """One bot reply with its buttons."""

    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)
    asking: Optional[str] = None  # the contact form's question this reply asks (a name, a contact, a company)

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "buttons": self.buttons}


_PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def is_public_id(value: object) -> bool:
    """Whether a value can be a conversation's public id (checked before any query: no NUL, nothing longer)."""
    return isinstance(value, str) and _PUBLIC_ID.fullmatch(value) is not None


def new_public_id() -> str:
    """A random conversation id: it names the conversation to Rasa and to the widget, and nothing else."""
    return secrets.token_urlsafe(18)


def start(session: Session, channel: str, language: str = "fi", address: Optional[str] = None,
          now: Optional[datetime] = None, campaign: Optional[str] = None) -> Conversation:
    now = now or utcnow()
    conv = Conversation(public_id=new_public_id(), channel=channel, language=language, address=address,
                        created_at=now, last_message_at=now, campaign=campaign)
    session.add(conv)
    session.flush()
    customer.phone_verified(session, conv, now)  # a number Twilio signed is that number's customer's
    conv.fresh = True  # no message yet: its first one sets the language, and it has no case or backlog to look up
    return conv


def find(session: Session, public_id: str) -> Optional[Conversation]:
    return session.scalar(select(Conversation).where(Conversation.public_id == public_id))


@dataclass
class Turn:
    """A web conversation's turn taken before it was read: the lock (None: busy) and what was read under it."""

    hold: Optional[turns.Hold]
    arrival: Optional[tuple[Any, bool]] = None  # (open case, an earlier message still waits for the bot)
    session: Optional[Session] = None  # whose single-statement writes use the turn's connection while it is held

    def lend(self, session: Session) -> None:
        """Let the session's single-statement writes use the turn's connection (router/storage/db.py)."""
        if self.hold is not None and self.hold.conn is not None:
            session.info[TURN_CONNECTION] = self.hold.conn
            self.session = session

    def release(self) -> None:
        if self.session is not None:
            self.session.info.pop(TURN_CONNECTION, None)
            # A turn given back with its transaction still open (a 404 after the read, an error): it ends before
            # the connection it may run on goes back to the pool.
            if self.session.in_transaction():
                self.session.rollback()
            self.session = None
        if self.hold is not None:
            self.hold.release()
            self.hold = None


def from_rasa(raw: list[dict[str, Any]]) -> list[Reply]:
    """The replies with text in Rasa's answer, each with its buttons and the form question it asks (a response's
    `custom: {asking: …}` comes as an item of its own right after its text)."""
    replies: list[Reply] = []
    for item in raw:
        if item.get("text"):
            buttons = [{"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                       for b in item.get("buttons") or []]
            replies.append(Reply(str(item["text"]), buttons))
        elif isinstance(item.get("custom"), dict) and item["custom"].get("asking") and replies:
            replies[-1].asking = str(item["custom"]["asking"])[:40]
    return replies


def reply_payload(reply: Reply) -> Optional[dict[str, Any]]:
    """What a stored bot reply keeps beside its text."""
    payload = {k: v for k, v in (("buttons", reply.buttons), ("asking", reply.asking)) if v}
    return payload or None


# Shorter than this, a message typed at the form's question is an answer (a name, a company), not a sentence that
# switches the language ("Sorry, I don't speak Finnish" is five words).
FORM_ANSWER_WORDS = 5


def answering_form(session: Session, conv: Conversation) -> bool:
    """Whether the service's latest message asked one of the contact form's questions."""
    payload = session.scalar(select(Message.payload).where(Message.conversation_id == conv.id,
                                                           Message.direction == "out")
                             .order_by(Message.id.desc()).limit(1))
    return bool((payload or {}).get("asking"))


def fallback_replies(session: Session, text: str, language: str, minutes: float = 10) -> list[Reply]:
    """Rasa is away: the message is kept, by when a person takes over, and who helps with the topic meanwhile."""
    minutes = max(1, round(minutes))  # "10 minuutin", never "10.0"
    guess = keywords.classify(text)
    people = directory.candidates(session)
    if not people:
        return [Reply(texts.say("rasa_down", language, name="-", title="-", topic="-", email="-", phone="-",
                                minutes=minutes))]
    today = utcnow().date()
    person = directory.choose_for(people, guess.topic, language, (today, today), {})
    labels = {t.key: t.labels for t in directory.topic_labels(session)}
    topic = labels.get(guess.topic, {}).get(language, guess.topic)
    return [Reply(texts.say("rasa_down", language, name=person.name, title=person.title(language), topic=topic,
                            email=person.email, phone=person.phone or "", minutes=minutes))]


def shown(session: Session, conv: Conversation, text: str) -> str:
    """A clicked button's payload ("/affirm") goes to Rasa; the transcript keeps what the customer saw ("Kyllä")."""
    if not text.startswith("/") or not conv.id:
        return text
    return next((b["title"] for b in last_buttons(session, conv) if b["payload"] == text), text)


def unserved_language(conv: Conversation, text: str) -> bool:
    """A message for the bot in a language the service does not serve: the answer is in English, says which
    languages are served, and the conversation goes on in English."""
    if lang_mod.identify(text) != "other":
        return False
    conv.language = "en"
    return True


def behind(session: Session, conv: Conversation, message_id: Optional[int] = None) -> bool:
    """Whether another message of this conversation still waits for the bot (this one must wait behind it)."""
    return session.scalar(select(Message.id).where(Message.conversation_id == conv.id, Message.awaiting_bot.is_(True),
                                                   Message.id != (message_id or -1)).limit(1)) is not None


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
    if conv.channel != "voice":  # a call's language is chosen from its menu
        # The first message's short-text guess never overrides a language the customer chose on the page.
        first = conv.fresh and not conv.chosen_language
        language = lang_mod.follow(text, conv.language, first=first)
        if language != conv.language and not first and len(text.split()) < FORM_ANSWER_WORDS \
                and not lang_mod.requested(text) and answering_form(session, conv):
            # A name, an address or a company typed at the form's question ("Glassbaren på torget") is no
            # switch of language: once switched, the conversation stays in the customer's language.
            language = conv.language
        if language != conv.language:  # assigning the same value still sends the ORM through a flush (0.3 ms)
            conv.language = language
        conv.fresh = False
    try:
        message_id = record(session, conv, text, direction="in", author="customer", provider_id=provider_id,
                            now=now)
        if message_id is None:
            session.rollback()
            return None
        session.commit()
    except DBAPIError as exc:
        session.rollback()
        raise NotStored() from exc
    return message_id


def bot_metadata(conv: Conversation, text: str, message_id: Optional[int]) -> dict[str, Any]:
    """What Rasa gets beside the text, the same on a first try and on the worker's replay."""
    metadata: dict[str, Any] = {"language": conv.language, "channel": conv.channel}
    if lang_mod.requested(text):  # "can I write in Swedish": the bot must not read a topic into it
        metadata["language_request"] = True
    if logs.request_id():  # the action server sends it back, so one turn reads as one story in the logs
        metadata["request_id"] = logs.request_id()
    if message_id is not None:  # so a replay can tell a turn Rasa finished after the router stopped waiting
        metadata["message_id"] = message_id
    return metadata


def ask_bot(session: Session, rasa, conv: Conversation, text: str, *, timeout: Optional[float] = None,
            now: Optional[datetime] = None, message_id: Optional[int] = None,
            outcome: Optional[dict] = None, give_up_minutes: float = 10, settings=None,
            waiting_before: Optional[bool] = None, quiet_when_late: bool = False) -> list[Reply]:
    """Send a stored message's text to Rasa and store the replies; the caller holds the conversation's turn.

    When Rasa is away, the message waits (`awaiting_bot`) for the worker to replay it, in order, once Rasa is back
    (router/inbound/replay.py); the customer hears that it is kept and who helps meanwhile. A message behind one
    that waits waits too, so the bot never sees a conversation out of order (`waiting_before`: the caller already
    looked). `quiet_when_late`: a bot that took the message but did not answer in time is not "away": the customer
    hears nothing now, and the replay sends the answer when it comes (channels whose answers the outbox sends).
    """
    metadata = bot_metadata(conv, text, message_id)
    late = False
    if waiting_before is None:
        waiting_before = behind(session, conv, message_id)
    try:
        if waiting_before:
            raise RasaUnavailable("an earlier message of this conversation is still waiting for the bot")
        with metrics.RASA_SECONDS.time():
            raw = rasa.send(conv.public_id, text, metadata, timeout=timeout) if timeout else \
                rasa.send(conv.public_id, text, metadata)
        replies = from_rasa(forget_refused(session, settings, rasa, conv, complete_handoff(session, settings, conv,
                                                                                            raw, now)))
        if not replies:
            # Rasa answers 200 with nothing when a custom action failed (action server down or timed out) and
            # then forgets the turn: the message waits and is replayed, never a blank reply.
            raise RasaUnavailable("the bot gave no answer")
        metrics.TURNS.labels(conv.channel, "bot").inc()
        answered = True
    except RasaUnavailable as exc:
        late = isinstance(exc, RasaLate)
        log.warning("rasa %s (%s); conversation %s waits for it", "late" if late else "unavailable", exc, conv.id)
        metrics.FALLBACKS.labels(conv.channel).inc()
        metrics.TURNS.labels(conv.channel, "fallback").inc()
        # One holding message while the bot is away or slow: when another message of the conversation waits (an
        # earlier one, or a later one that found this turn busy), the customer has been told already.
        quiet = (late and quiet_when_late) or waiting_before or behind(session, conv, message_id)
        replies = [] if quiet else fallback_replies(session, text, conv.language, give_up_minutes)
        answered = False
    if outcome is not None:
        outcome["answered"] = answered
    try:
        _store_answer(session, conv, message_id, text, replies, answered, now, late)
    except DBAPIError:
        # The bot has taken this turn: its answer must be kept, so once more on a fresh connection (a pooled one:
        # the turn's own may be the one that dropped).
        session.rollback()
        session.info.pop(TURN_CONNECTION, None)
        log.warning("storing the bot's answer failed for conversation %s; retrying once", conv.id)
        _store_answer(session, conv, message_id, text, replies, answered, now, late)
    return replies


def complete_handoff(session: Session, settings, conv: Conversation, raw: list[dict[str, Any]],
                     now: Optional[datetime]) -> list[dict[str, Any]]:
    """The action server could not reach the internal API and passed its handoff back: the router makes it.

    Same idempotency key as the action's attempt, so one that did get through meanwhile gives the same case. The
    customer hears the confirmation instead of "something went wrong".
    """
    wanted = [item["custom"]["handoff"] for item in raw
              if isinstance(item.get("custom"), dict) and isinstance(item["custom"].get("handoff"), dict)]
    if not wanted or settings is None or not wanted[-1].get("idempotency_key"):
        return raw
    from router.casework.handoff import HandoffError, from_bot

    try:
        result = from_bot(session, settings, conv, wanted[-1], now or utcnow())
    except HandoffError:
        session.rollback()
        return raw
    log.warning("the action server could not reach the internal API; the router made case %s", result.case.ref)
    return [{"text": result.text}]


def _store_answer(session: Session, conv: Conversation, message_id: Optional[int], text: str, replies: list[Reply],
                  answered: bool, now: Optional[datetime], late: bool = False) -> None:
    """The bot's replies and the message's waiting mark, in one commit (the caller lets the turn go after it)."""
    if answered and len(replies) == 1:  # the usual answer is one INSERT: a transaction of its own needs no BEGIN
        statement_at_a_time(session)
    # An answered message needs no update: nothing marks it waiting while its turn is held.
    if message_id is not None and not answered:
        wait_for_bot(session, message_id, text, late=late)
    for reply in replies:
        record(session, conv, reply.text, direction="out", author="bot", payload=reply_payload(reply), now=now)
    session.commit()


def wait_for_bot(session: Session, message_id: int, text: str, late: bool = False) -> None:
    """Mark a stored message as waiting for the bot (the worker replays it); `late`: Rasa may still answer it."""
    message = session.get(Message, message_id)
    if message is None:
        return
    message.awaiting_bot = True
    extra: dict[str, Any] = {}
    if text != message.text:  # a clicked button: the bot needs its payload, the transcript keeps its title
        extra["bot_text"] = text
    if late:
        extra["late"] = True
    if extra:
        message.payload = {**(message.payload or {}), **extra}


def last_buttons(session: Session, conv: Conversation) -> list[dict[str, str]]:
    """The buttons of the bot's latest message, for numbered answers on SMS."""
    latest = session.scalar(select(Message).where(Message.conversation_id == conv.id, Message.direction == "out")
                            .order_by(Message.id.desc()).limit(1))
    return list((latest.payload or {}).get("buttons", [])) if latest and latest.payload else []

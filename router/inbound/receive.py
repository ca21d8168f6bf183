"""The one inbound path: a stored customer message goes to its open case, to a waiting survey, or to the bot.

Every channel adapter (web chat, SMS; email threads and calls have their own entry into the same rules) stores
the message first and then asks `decide` what it is for. A message in a conversation with an open case goes to
that case and its specialist hears of it; only a clearly new matter, confirmed by the customer, goes back to
the bot.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Optional
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import Session, make_transient_to_detached

from router import texts
from router.casework import directory
from router.config import Settings
from router.delivery import events, notify, push
from router.delivery.outbox import enqueue
from router.inbound.classification import classify
from router.inbound.conversation import answering_form
from router.storage.models import Case, CaseEvent, Conversation, Message, OutboxMessage

OPEN = ("open", "taken_up")
NEW_MATTER, SAME_MATTER = "/new_matter", "/same_matter"


@dataclass
class Decision:
    """What became of a customer's message: replies to show, or text for the bot."""

    replies: list[dict] = field(default_factory=list)  # {"text", "buttons"}
    to_bot: Optional[str] = None
    case: Optional[Case] = None


def open_case(session: Session, conv: Conversation) -> Optional[Case]:
    """The open case this conversation's messages belong to.

    The conversation's own case, or on SMS, voice and WhatsApp the newest open case of the same Twilio-verified
    number (a text the next week starts a new conversation but is still about the same matter).
    """
    case = session.scalar(select(Case).where(Case.conversation_id == conv.id, Case.status.in_(OPEN))
                          .order_by(Case.id.desc()).limit(1))
    if case is None and conv.proven_phone and conv.address:
        case = open_case_for_number(session, conv.address, conv.channel)
    return case


def _arrival(conversation_id) -> tuple:
    """Columns for a conversation's open case id and whether a message of it still waits for the bot."""
    case_id = (select(Case.id).where(Case.conversation_id == conversation_id, Case.status.in_(OPEN))
               .order_by(Case.id.desc()).limit(1).scalar_subquery())
    return case_id, exists().where(Message.conversation_id == conversation_id, Message.awaiting_bot.is_(True))


def on_arrival(session: Session, conv: Conversation) -> tuple[Optional[Case], bool]:
    """The conversation's open case, and whether an earlier message still waits for the bot, in one round trip."""
    found, behind = session.execute(select(*_arrival(conv.id))).one()
    case = session.get(Case, found) if found is not None else None
    if case is None and conv.proven_phone and conv.address:
        case = open_case_for_number(session, conv.address, conv.channel)
    return case, bool(behind)


_CONVERSATION = list(Conversation.__table__.c)
_ARRIVED = (select(*_CONVERSATION, *_arrival(Conversation.id))
            .where(Conversation.public_id == bindparam("public_id", required=False)))


def find_arrived(session: Session, public_id: str) -> Optional[tuple[Conversation, Optional[Case], bool]]:
    """A web conversation by its public id, with `on_arrival`'s two answers, in one round trip (None if unknown).

    For a caller that holds the turn already: read after the lock, so what is read is what the last turn left.
    """
    rows = session.execute(_ARRIVED, {"public_id": public_id}).all()
    if not rows:
        return None
    row = tuple(rows[0])
    conv = Conversation(**{c.key: value for c, value in zip(_CONVERSATION, row)})
    make_transient_to_detached(conv)  # as if loaded: no history, so nothing is written back unless changed
    conv = session.merge(conv, load=False)
    found, behind = row[len(_CONVERSATION):]
    return conv, (session.get(Case, found) if found is not None else None), bool(behind)


def threaded_with(channel: str) -> tuple[str, ...]:
    """The channels whose conversations share a Twilio-signed address with this one's: a number's texts and
    calls are one customer; WhatsApp addresses ("whatsapp:+…") are their own."""
    return ("whatsapp",) if channel == "whatsapp" else ("sms", "voice")


def open_case_for_number(session: Session, address: str, channel: str = "sms") -> Optional[Case]:
    """The newest open case whose conversation came from this Twilio-signed address (SMS and voice, or WhatsApp)."""
    return session.scalar(
        select(Case).join(Conversation, Case.conversation_id == Conversation.id)
        .where(Conversation.channel.in_(threaded_with(channel)), Conversation.address == address,
               Case.status.in_(OPEN)).order_by(Case.id.desc()).limit(1))


def _pending_question(session: Session, conv: Conversation) -> Optional[Message]:
    """The customer message we asked about ("a new matter?"), if that question is the latest thing we said."""
    latest = session.scalar(select(Message).where(Message.conversation_id == conv.id, Message.direction == "out")
                            .order_by(Message.id.desc()).limit(1))
    pending_id = (latest.payload or {}).get("new_matter_for") if latest is not None and latest.payload else None
    return session.get(Message, pending_id) if pending_id else None


def decide(session: Session, settings: Settings, rasa, conv: Conversation, message_id: int, text: str,
           now: datetime, case: Optional[Case] = None) -> Decision:
    """Route a stored customer message (`text` is what the bot would get: a clicked button's payload).

    `case`: the conversation's open case when the caller has already looked it up.
    """
    case = case or open_case(session, conv)
    if case is None:
        return Decision(to_bot=text)
    message = session.get_one(Message, message_id)
    pending = _pending_question(session, conv)
    if pending is not None and text == NEW_MATTER:
        return Decision(to_bot=pending.text)
    if pending is not None and text == SAME_MATTER:
        return Decision(replies=to_case(session, settings, case, pending, now), case=case)
    topics = [t.key for t in directory.topic_labels(session)]
    if (text.startswith("/") and text[1:] in topics) or answering_form(session, conv):
        # A topic's button the bot offered (the other topic of a message that asked for two), or an answer to
        # the form of that new matter: the bot's.
        return Decision(to_bot=text)
    found = classify(text, rasa, topics, lang=conv.language, timeout=3.0) if not text.startswith("/") else None
    if found is not None and found.confident and found.topic != case.topic:
        labels = {t.key: t.labels for t in directory.topic_labels(session)}
        topic = labels.get(found.topic, {}).get(conv.language, found.topic)
        question = texts.say("new_matter_question", conv.language, topic=topic, name=case.specialist.name,
                             ref=case.ref)
        buttons = [{"title": texts.say("new_matter_yes", conv.language), "payload": NEW_MATTER},
                   {"title": texts.say("new_matter_no", conv.language, name=case.specialist.name),
                    "payload": SAME_MATTER}]
        return Decision(replies=[{"text": question, "buttons": buttons, "new_matter_for": message.id}], case=case)
    return Decision(replies=to_case(session, settings, case, message, now), case=case)


def to_case(session: Session, settings: Settings, case: Case, message: Message, now: datetime) -> list[dict]:
    """Put a customer's message on their case and tell the specialist; the customer hears it once per case."""
    first = session.scalar(select(CaseEvent.id).where(CaseEvent.case_id == case.id,
                                                      CaseEvent.kind == "customer_message").limit(1)) is None
    event = CaseEvent(case_id=case.id, kind="customer_message", text=message.text[:5000], created_at=now,
                      data={"message": message.id})
    session.add(event)
    session.flush()
    events.emit(session, "message.created", {"case": case.ref, "message": message.id, "author": "customer",
                                              "channel": message.channel}, now, words={"text": message.text},
                case_id=case.id)
    push.tell(session, settings, case, event.id, now)
    _notify_specialist(session, settings, case, message.text, event.id, now)
    if not first:
        return []
    return [{"text": texts.say("follow_up_ack", case.language, name=case.specialist.name, ref=case.ref),
             "buttons": []}]


def _notify_specialist(session: Session, settings: Settings, case: Case, text: str, event_id: int,
                       now: datetime) -> None:
    """The specialist's email (or SMS, as they chose), sent only if the case page has not shown the message within
    CHAT_SEEN_MINUTES (the push and the open page come first); later messages of the window join it."""
    wait = timedelta(minutes=settings.chat_seen_minutes)
    window = int(now.timestamp() // max(60.0, wait.total_seconds()))
    key = f"case:{case.ref}:follow-up:{window}"
    unless = {"unless_case_seen": f"{case.id}:{event_id}"}
    row = session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
    local = now.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(settings.timezone))
    stamp = f"[{local:%H.%M}] {text}"
    person = case.specialist
    if row is not None and row.status == "pending":
        if row.kind == "sms":
            row.body = f"{row.body} / {text}"[:640]
        else:
            row.body = row.body.replace("\n\n--\n", f"\n{stamp}\n\n--\n", 1)
        row.headers = {**(row.headers or {}), **unless}  # seen up to the newest, or it goes
        row.next_attempt_at = max(row.next_attempt_at, now + wait)
        return
    link = f"{settings.public_base_url.rstrip('/')}/staff/cases/{case.ref}"
    if person.notify_by == "sms" and person.phone:
        enqueue(session, key=key, kind="sms", recipient=person.phone.replace(" ", ""), case_id=case.id,
                body=f"{settings.service_name} {case.ref}, {case.customer_name or case.customer_phone or '-'}: "
                     f"{text}"[:640], not_before=now + wait, headers=unless)
        return
    language = notify.staff_language(session, person=person)
    wrote = texts.say("mail.customer_wrote", language)
    enqueue(session, key=key, kind="email", recipient=person.email, case_id=case.id,
            subject=notify.staff_subject(session, settings, case, wrote, language),
            body=f"{wrote}:\n\n{stamp}\n\n--\n{notify.case_facts(session, settings, case, language)}\n\n{link}",
            headers={**notify.staff_headers(settings, case), **unless}, not_before=now + wait)

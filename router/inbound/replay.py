"""Messages that waited for the bot: replayed in order once Rasa is back, or handed to a person if it stays away."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from router import texts
from router.casework.handoff import HandoffRequest, hand_off
from router.config import Settings
from router.delivery import notify
from router.delivery.outbox import enqueue
from router.inbound import keywords, turns
from router.inbound.consent import forget_refused
from router.inbound.conversation import bot_metadata, complete_handoff, from_rasa, reply_payload
from router.inbound.menu import numbered
from router.inbound.pipeline import SENT_BY_OUTBOX
from router.inbound.rasa_client import RasaUnavailable
from router.storage import messages
from router.storage.models import Case, Conversation, Message, OutboxMessage
from router.storage.store import changed

log = logging.getLogger(__name__)
# A message whose bot call timed out is looked up in Rasa's tracker, but sent again only after this long: Rasa
# may still be working on it, and a second send would make a second turn.
LATE_GRACE = timedelta(seconds=30)


def replay(sessions: sessionmaker, settings: Settings, rasa, now: datetime) -> dict[str, int]:
    """One pass: per conversation, the oldest waiting message first; counts of what happened."""
    counts = {"replayed": 0, "handed_over": 0}
    with sessions() as session:
        oldest = session.execute(select(Message.conversation_id, func.min(Message.created_at))
                                 .where(Message.awaiting_bot.is_(True)).group_by(Message.conversation_id)).all()
    if not oldest:
        return counts
    give_up = timedelta(minutes=settings.rasa_give_up_minutes)
    up = rasa.ready()
    for conv_id, since in oldest:
        with sessions() as session:
            conv = session.get(Conversation, conv_id)
            if up:
                counts["replayed"] += _replay_conversation(session, settings, rasa, conv, now)
            still = session.scalar(select(Message.id).where(Message.conversation_id == conv_id,
                                                            Message.awaiting_bot.is_(True)).limit(1))
            # Rasa away, or up but unable to answer (its action server away): a person takes over in time.
            if still is not None and now - since >= give_up:
                counts["handed_over"] += _hand_over(session, settings, conv, now)
    return counts


def _replay_conversation(session: Session, settings: Settings, rasa, conv: Conversation, now: datetime) -> int:
    """Replay under the conversation's turn; a message stays waiting until its answer is stored with it."""
    sender = conv.address if conv.channel in SENT_BY_OUTBOX else None
    try:
        hold = turns.acquire(session.get_bind().engine, turns.key_for(conv.channel, sender, conv.public_id), wait=1)
    except turns.TurnBusy:
        return 0  # a web process or another worker has the turn; the next pass looks again
    try:
        return _replay_held(session, settings, rasa, conv, now)
    finally:
        hold.release()


def _replay_held(session: Session, settings: Settings, rasa, conv: Conversation, now: datetime) -> int:
    """Each waiting message's answer is stored with its cleared mark (one commit each); the answers of one pass
    reach the customer as one message, in order, instead of a burst: on a text channel as one outgoing text (only
    the last answer's choices numbered: they are the ones a digit answers), in the web chat's thread as one message
    (its replies carry the pass's mark, `replayed`)."""
    done = 0
    session.expire_all()
    waiting = session.scalars(select(Message).where(Message.conversation_id == conv.id,
                                                    Message.awaiting_bot.is_(True)).order_by(Message.id)).all()
    said: list = []
    row_id: Optional[int] = None
    for message in waiting:
        text = (message.payload or {}).get("bot_text") or message.text
        try:
            # Rasa may have finished this turn after the router stopped waiting: its answer is used, the message
            # is not sent twice (the tracker store is shared by every replica).
            raw = rasa.answered(conv.public_id, message.id) if hasattr(rasa, "answered") else None
            if not raw and (message.payload or {}).get("late") and now - message.created_at < LATE_GRACE:
                return done  # Rasa may still be on it: sent again only once it has had time to answer
            if not raw:
                raw = rasa.send(conv.public_id, text, bot_metadata(conv, text, message.id))
            raw = forget_refused(session, settings, rasa, conv, complete_handoff(session, settings, conv, raw, now))
            if not from_rasa(raw):
                raise RasaUnavailable("the bot gave no answer")  # its action server is away: wait longer
        except RasaUnavailable:
            return done
        # Compare-and-set as well as the turn: on SQLite the turn lock does not reach across processes.
        if changed(session, update(Message).where(Message.id == message.id, Message.awaiting_bot.is_(True))
                   .values(awaiting_bot=False)) != 1:
            session.rollback()
            return done
        replies = from_rasa(raw)
        for reply in replies:  # kept one by one (the staff transcript); the widget's thread shows a pass as one
            payload = {**(reply_payload(reply) or {}), "replayed": waiting[0].id}
            messages.record(session, conv, reply.text, direction="out", author="bot", payload=payload, now=now)
        if conv.channel in SENT_BY_OUTBOX and conv.address:
            row = session.get(OutboxMessage, row_id) if row_id is not None else None
            if row is None or row.status != "pending":  # none yet, or already on its way: a new text
                row, said = None, []
            said.extend(replies)
            body = "\n\n".join([r.text for r in said[:-1]] + [numbered(said[-1], conv.language)])
            if row is not None:
                row.body = body
            else:
                row_id = enqueue(session, key=f"replay:{message.id}", kind=conv.channel, recipient=conv.address,
                                 body=body, now=now)
        session.commit()
        done += 1
    return done


def _hand_over(session: Session, settings: Settings, conv: Conversation, now: datetime) -> int:
    """Rasa stayed away: a person gets the whole conversation as a case, and the customer hears who."""
    said = [m.text for m in conv.messages if m.direction == "in"]
    topic = keywords.classify(" ".join(said)).topic
    phone = conv.address if conv.channel in ("sms", "voice") else None
    if conv.channel == "whatsapp" and conv.address:
        phone = conv.address.removeprefix("whatsapp:")
    email = conv.address if conv.channel == "email" else None
    result = hand_off(session, settings, HandoffRequest(
        idempotency_key=f"bot-away:{conv.public_id}", topic=topic, language=conv.language, channel=conv.channel,
        conversation_id=conv.id, phone=phone, email=email, summary="\n".join(said)[:5000]), now)
    session.execute(update(Message).where(Message.conversation_id == conv.id, Message.awaiting_bot.is_(True))
                    .values(awaiting_bot=False))
    case: Case = result.case
    text = texts.say("bot_away_case", case.language, name=result.specialist.name,
                     title=result.specialist.title(case.language), date=result.due_text, ref=case.ref)
    messages.record(session, conv, text, direction="out", author="system", now=now)
    if conv.channel in SENT_BY_OUTBOX and conv.address:
        enqueue(session, key=f"case:{case.ref}:bot-away", kind=conv.channel, recipient=conv.address, body=text,
                case_id=case.id, now=now,
                headers=notify.whatsapp_template("confirmation", result.specialist.name,
                                                 result.specialist.title(case.language), result.due_text, case.ref)
                if conv.channel == "whatsapp" else None)
    session.commit()
    log.warning("rasa away for %s min: conversation %s handed to a person as %s", settings.rasa_give_up_minutes,
                conv.id, case.ref)
    return 1

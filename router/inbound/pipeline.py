"""The one inbound path: a customer's message on any channel, from its arrival to the answer.

A channel parses its provider's request into an `InboundMessage`, names its `Profile` and renders the `Outcome`
(JSON for the widget, TwiML for Twilio). Everything in between happens here, in this order, under the
conversation's turn (router/inbound/turns.py), so every channel behaves alike:

1. the turn, keyed on the Twilio-signed sender or on the conversation's public id; busy: kept for the worker;
2. the conversation found or started (a number's texts within a day are one), with its campaign on a first touch;
3. the message stored first, once per provider id (a provider's retry is a duplicate and nothing more happens);
4. the channel's own commands (STOP, START, HELP) and its answer to a message with no text;
5. a survey answer, on a channel that carried the survey;
6. a number answering the bot's buttons, on a channel that shows them as a numbered list;
7. the open case (router/inbound/receive.py): the message goes to it and its specialist hears by one policy;
8. a language the service does not serve;
9. out of office hours, a new text conversation first hears that the office is closed and when people are back;
10. the bot, within the channel's deadline. An answer later than that waits (`awaiting_bot`) and the worker's
   replay stores it and, on a channel with no page to show it, sends it through the outbox.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Optional

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from router import texts
from router.casework import hours, promise, survey
from router.config import Settings
from router.inbound import conversation, receive, turns
from router.inbound import language as lang_mod
from router.inbound.conversation import NotStored, Reply
from router.inbound.menu import numbered
from router.plan import campaign
from router.storage.db import statement_at_a_time
from router.storage.models import Conversation

log = logging.getLogger(__name__)

# Channels whose answers no page shows: what the bot says after the request is over goes through the outbox, as
# the outbox kind of the same name, to the conversation's address.
SENT_BY_OUTBOX = frozenset({"sms", "whatsapp"})
# A text within a day continues the same conversation; later it starts a new one.
CONVERSATION_GAP = timedelta(hours=24)

# (session, settings, conversation, the text, now) -> the service's answer, or None when it is no command.
Command = Callable[[Session, Settings, Conversation, str, datetime], Optional[str]]


@dataclass(frozen=True)
class Profile:
    """What a channel declares about its messages; the path does the rest."""

    name: str  # the conversation's channel: "web", "sms", "whatsapp"
    by_sender: bool = False  # one thread per Twilio-signed sender (else per conversation id, named by the client)
    commands: Optional[Command] = None
    no_text: str = ""  # the text id answering a message with media and no text
    surveys: bool = False  # the survey goes out on this channel, so a score sent back answers it
    numbered: bool = False  # buttons are shown as "1 Kyllä, 2 Ei": a digit answers them


@dataclass(frozen=True)
class InboundMessage:
    """One customer message as its channel parsed it."""

    text: str
    provider_id: Optional[str] = None  # Twilio's MessageSid: a retry of the same message is stored once
    sender: Optional[str] = None  # the Twilio-signed address (by_sender channels)
    session: Optional[str] = None  # the conversation's public id the widget names; None starts one
    language: Optional[str] = None  # chosen on the page
    campaign: Optional[str] = None  # the page's ?c=CODE
    to: str = ""  # the number written to (a campaign's own)
    media: int = 0


@dataclass
class Outcome:
    """What became of it: `answered`, `duplicate` (stored before), `waiting` (kept for the worker) or `unknown`
    (no such conversation)."""

    status: str
    replies: list[Reply] = field(default_factory=list)
    conversation: Optional[str] = None  # its public id
    language: str = "fi"

    def texts(self, profile: Profile) -> list[str]:
        """The replies as text-only channels show them."""
        return [numbered(r, self.language) if profile.numbered else r.text for r in self.replies]


@dataclass
class Context:
    """What the path needs beside the database."""

    settings: Settings
    rasa: object
    deadline: Optional[float] = None  # seconds the bot may take before its answer goes the late way
    session_days: float = 30  # a web conversation idle longer is unknown


def handle(session: Session, ctx: Context, profile: Profile, msg: InboundMessage, now: datetime) -> Outcome:
    """Take one message through the path; the caller's session, committed here at each step that must last.

    Raises NotStored when the database could not take the message (nothing was stored or answered then); one
    retry on a fresh connection happens here first.
    """
    for attempt in (1, 2):
        try:
            return _handle(session, ctx, profile, msg, now)
        except NotStored:
            session.rollback()
            log.warning("%s message not stored on attempt %s; %s", profile.name, attempt,
                        "retrying" if attempt == 1 else "giving up")
    raise NotStored()


def _handle(session: Session, ctx: Context, profile: Profile, msg: InboundMessage, now: datetime) -> Outcome:
    if not profile.by_sender and msg.session is None:
        # A new web conversation: its id is known to no one else yet, so no other turn can exist to wait for.
        try:
            statement_at_a_time(session)
            conv = conversation.start(session, channel=profile.name,
                                      language=msg.language or lang_mod.follow(msg.text, "fi", first=True),
                                      campaign=_campaign(session, ctx, profile, msg, now), now=now)
        except DBAPIError as exc:
            raise NotStored() from exc
        conv.chosen_language = bool(msg.language)
        return _turn(session, ctx, profile, msg, conv, (None, False), now)
    key = turns.key_for(profile.name, msg.sender if profile.by_sender else None, msg.session)
    try:
        hold = turns.acquire(session.get_bind().engine, key, wait=ctx.deadline / 2 if ctx.deadline else None)
    except turns.TurnBusy:
        return _busy(session, ctx, profile, msg, now)
    except DBAPIError as exc:
        raise NotStored() from exc
    turn = conversation.Turn(hold)
    try:
        turn.lend(session)
        try:
            found = _find(session, ctx, profile, msg, now)
        except DBAPIError as exc:
            raise NotStored() from exc
        if found is None:
            return Outcome("unknown")
        conv, arrival = found
        return _turn(session, ctx, profile, msg, conv, arrival, now)
    finally:
        turn.release()


def _find(session: Session, ctx: Context, profile: Profile, msg: InboundMessage, now: datetime):
    """(conversation, (open case, an earlier message waits)) as the last turn left them; None for an unknown
    web conversation."""
    statement_at_a_time(session)
    if profile.by_sender:
        conv = _of_the_day(session, profile, msg.sender, now)
        if conv is None:
            return conversation.start(session, channel=profile.name, address=msg.sender, now=now,
                                      campaign=_campaign(session, ctx, profile, msg, now)), None
        return conv, None
    found = receive.find_arrived(session, msg.session or "")
    if found is None or not current(found[0], profile.name, now, ctx.session_days):
        return None
    conv = found[0]
    if msg.language and msg.language != conv.language:
        conv.language = msg.language
    conv.chosen_language = bool(msg.language)
    return conv, found[1:]


def _of_the_day(session: Session, profile: Profile, sender: Optional[str], now: datetime) -> Optional[Conversation]:
    return session.scalar(select(Conversation).where(Conversation.channel == profile.name,
                                                     Conversation.address == sender,
                                                     Conversation.last_message_at >= now - CONVERSATION_GAP)
                          .order_by(Conversation.last_message_at.desc()).limit(1))


def current(conv: Conversation, channel: str, now: datetime, session_days: float) -> bool:
    """A conversation of this channel that has not been idle for longer than CHAT_SESSION_DAYS."""
    return conv.channel == channel and now - conv.last_message_at <= timedelta(days=session_days)


def _campaign(session: Session, ctx: Context, profile: Profile, msg: InboundMessage, now: datetime) -> Optional[str]:
    """A first touch's campaign: the page's code, or a text's keyword or the campaign's own number."""
    day = promise.local_date(now, ctx.settings.timezone)
    if profile.by_sender:
        return campaign.from_sms(campaign.markers(session), msg.text, msg.to, day)[0]
    return campaign.from_link(campaign.markers(session), msg.campaign, day) if msg.campaign else None


def _stored_text(msg: InboundMessage) -> str:
    return msg.text.strip() or f"[{msg.media} media]"


def _busy(session: Session, ctx: Context, profile: Profile, msg: InboundMessage, now: datetime) -> Outcome:
    """An earlier message of this thread is still with the bot: this one is stored and waits its turn."""
    try:
        statement_at_a_time(session)
        conv = _of_the_day(session, profile, msg.sender, now) if profile.by_sender else \
            conversation.find(session, msg.session or "")
        if conv is None or (not profile.by_sender and not current(conv, profile.name, now, ctx.session_days)):
            return Outcome("unknown")
        body = msg.text.strip()
        # As in a turn: the transcript keeps a clicked button's title, the bot later gets its payload.
        shown = conversation.shown(session, conv, body) if body else _stored_text(msg)
        stored = conversation.receive(session, conv, shown, provider_id=msg.provider_id, now=now)
    except DBAPIError as exc:
        raise NotStored() from exc
    if stored is None:
        return Outcome("duplicate", conversation=conv.public_id, language=conv.language)
    told = conversation.behind(session, conv, stored)  # an earlier message waits: its holding message stands
    conversation.wait_for_bot(session, stored, body)
    log.warning("conversation %s busy; its message waits for the worker", conv.id)
    holding = [] if told else [{"text": texts.say("bot_busy", conv.language)}]
    replies = conversation.store_replies(session, conv, holding, now)
    return Outcome("waiting", replies, conv.public_id, conv.language)


def _turn(session: Session, ctx: Context, profile: Profile, msg: InboundMessage, conv: Conversation,
          arrival, now: datetime) -> Outcome:
    """Steps 3–9, holding the turn."""
    body = msg.text.strip()
    if arrival is None:  # a texter's new conversation of the day may still belong to an older one's open case
        arrival = receive.on_arrival(session, conv)
    case, behind = arrival
    fresh = conv.fresh
    shown = conversation.shown(session, conv, body) if body else _stored_text(msg)
    stored = conversation.receive(session, conv, shown, provider_id=msg.provider_id, now=now)
    if stored is None:
        return Outcome("duplicate", conversation=conv.public_id, language=conv.language)

    def reply(replies: list[dict], status: str = "answered") -> Outcome:
        return Outcome(status, conversation.store_replies(session, conv, replies, now), conv.public_id,
                       conv.language)

    if profile.commands is not None:
        answer = profile.commands(session, ctx.settings, conv, body, now)
        if answer is not None:
            return reply([{"text": answer}])
    if not body:
        return reply([{"text": texts.say(profile.no_text or "chat_empty", conv.language)}])
    if fresh and conv.campaign and profile.by_sender:
        # The campaign's keyword is kept as the customer sent it, but the bot gets what followed it; a keyword
        # alone is a hello.
        rest = _without_keyword(session, ctx, body, now)
        if rest != body:
            body = rest or "/greet"
    if profile.surveys:
        waiting = survey.awaiting_answer(session, profile.name, conv.address or "", now)
        score, comment = survey.parse_score(body) if waiting is not None else (None, None)
        if waiting is not None and score is not None:
            # A survey answer is a text that reads as a score; anything else is a new message for the case or
            # the bot, never a comment by accident.
            survey.record(session, ctx.settings, waiting, score, comment, now)
            return reply([{"text": texts.say("survey_thanks_sms", waiting.case.language, **_service(ctx.settings))}])
    if profile.numbered:
        word = body.lower().strip(" .!")
        buttons = conversation.last_buttons(session, conv)
        # Only ASCII digits: "²".isdigit() is true, but int("²") is an error.
        if word.isascii() and word.isdigit() and 1 <= int(word) <= len(buttons):
            body = buttons[int(word) - 1]["payload"]
    if case is not None:
        decision = receive.decide(session, ctx.settings, ctx.rasa, conv, stored, body, now, case=case)
        if decision.to_bot is None:
            return reply(decision.replies)
        body = decision.to_bot
        behind = conversation.behind(session, conv, stored)
    if conversation.unserved_language(conv, body):
        return reply([{"text": texts.say("unserved_language", "en")}])
    # A page shows the widget's own notice (templates/index.html); a text thread hears it in its first answer.
    closed = hours.closed_notice(ctx.settings, conv.language, now) if fresh and profile.by_sender else None
    notice = conversation.store_replies(session, conv, [{"text": closed}], now) if closed else []
    outcome: dict = {}
    replies = notice + conversation.ask_bot(
        session, ctx.rasa, conv, body, timeout=ctx.deadline, now=now, message_id=stored, waiting_before=behind,
        outcome=outcome, settings=ctx.settings, give_up_minutes=ctx.settings.rasa_give_up_minutes,
        quiet_when_late=profile.name in SENT_BY_OUTBOX)
    status = "answered" if outcome.get("answered") else "waiting"
    return Outcome(status, replies, conv.public_id, conv.language)


def _without_keyword(session: Session, ctx: Context, body: str, now: datetime) -> str:
    return campaign.from_sms(campaign.markers(session), body, None,
                             promise.local_date(now, ctx.settings.timezone))[1].strip()


def _service(settings: Settings) -> dict[str, str]:
    return dict(service=settings.service_name, phone=settings.service_phone, email=settings.service_email)


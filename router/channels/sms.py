"""The SMS channel: keywords, numbered answers, and the bot within Twilio's time budget."""
from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor, TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from router import campaign, texts
from router.casework import promise, survey
from router.config import Settings
from router.delivery.outbox import enqueue
from router.inbound import conversation, receive as inbound, turns
from router.inbound.conversation import Reply
from router.inbound.menu import numbered
from router.models import Conversation, Message, OptOut
from router.store import insert_ignore

log = logging.getLogger(__name__)

STOP = {"stop", "lopeta", "sluta", "stopp", "unsubscribe"}
START = {"start", "aloita", "börja", "unstop"}
HELP = {"help", "apua", "hjälp", "hjalp", "info"}
KEYWORD_LANGUAGE = {"lopeta": "fi", "aloita": "fi", "apua": "fi", "sluta": "sv", "stopp": "sv", "börja": "sv",
                    "hjälp": "sv", "hjalp": "sv"}
# A text within a day continues the same conversation; later it starts a new one.
CONVERSATION_GAP = timedelta(hours=24)


@dataclass(frozen=True)
class InboundSms:
    """What Twilio posts for an incoming message."""

    message_sid: str
    sender: str
    body: str
    num_media: int = 0
    to: str = ""  # the number texted: the service's own, or a campaign's


def _conversation_for(session: Session, sms: InboundSms, now: datetime, tz: str) -> tuple[Conversation, str]:
    """The sender's conversation of the day, and the text for the bot (a new one's campaign keyword removed)."""
    conv = session.scalar(select(Conversation).where(Conversation.channel == "sms", Conversation.address == sms.sender,
                                                     Conversation.last_message_at >= now - CONVERSATION_GAP)
                          .order_by(Conversation.last_message_at.desc()).limit(1))
    if conv is not None:
        return conv, sms.body.strip()
    # First touch: only a conversation's first text can carry a campaign's keyword or come to its number.
    source, text = campaign.from_sms(campaign.markers(session), sms.body, sms.to, promise.local_date(now, tz))
    return conversation.start(session, channel="sms", address=sms.sender, now=now, campaign=source), text.strip()


class SmsChannel:
    """Handles inbound SMS; the bot runs in a thread so a slow Rasa never holds Twilio's request.

    The sender's turn is held from storing the text until the answer is stored. An answer later than Twilio's
    budget goes through the outbox: the message is marked as waiting (in the database, so a restart replays it)
    and the bot's thread enqueues the answer when it comes.
    """

    def __init__(self, settings: Settings, sessions: sessionmaker, rasa, budget: float = 8.0) -> None:
        self.settings = settings
        self.sessions = sessions
        self.rasa = rasa
        self.budget = budget
        self.pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="sms-bot")
        # message id -> "answered" or "late", decided under one lock so exactly one side sends the answer.
        self._fate: dict[int, str] = {}
        self._fate_lock = threading.Lock()

    def receive(self, sms: InboundSms, now: datetime) -> list[str]:
        """Texts to answer in TwiML now; empty for a duplicate, or when the answer will come via the outbox."""
        engine = self.sessions.kw["bind"]
        try:
            hold = turns.acquire(engine, turns.key_for("sms", sms.sender, ""), wait=self.budget / 2)
        except turns.TurnBusy:
            return self._busy(sms, now)
        handed = False
        try:
            handed, result = self._store_and_route(sms, now, hold)
        finally:
            if not handed:
                hold.release()
        if not handed:
            return result
        future, conv_id, stored, language = result
        try:
            replies = future.result(timeout=self.budget)
            with self._fate_lock:
                self._fate.pop(stored, None)
            return [numbered(r, language) for r in replies]
        except FutureTimeout:
            with self._fate_lock:
                late = self._fate.pop(stored, None) != "answered"
                if late:
                    self._fate[stored] = "late"
                    with self.sessions() as session:  # a restart before the answer: the worker replays it
                        session.execute(update(Message).where(Message.id == stored).values(awaiting_bot=True))
                        session.commit()
            if not late:
                return [numbered(r, language) for r in future.result()]
            log.warning("rasa slower than the SMS budget; conversation %s answered through the outbox", conv_id)
            return []

    def _busy(self, sms: InboundSms, now: datetime) -> list[str]:
        """An earlier text of this number is still with the bot: this one is stored and waits its turn."""
        with self.sessions() as session:
            conv, _ = _conversation_for(session, sms, now, self.settings.timezone)
            stored = conversation.receive(session, conv, sms.body.strip() or f"[{sms.num_media} media]",
                                          provider_id=sms.message_sid, now=now)
            if stored is None:
                return []
            session.execute(update(Message).where(Message.id == stored).values(awaiting_bot=True))
            return self._system(session, conv, now, texts.say("bot_busy", conv.language))

    def _store_and_route(self, sms: InboundSms, now: datetime, hold) -> tuple[bool, object]:
        """(False, texts) when answered here; (True, (future, …)) when the bot's thread now owns the turn."""
        with self.sessions() as session:
            conv, for_bot = _conversation_for(session, sms, now, self.settings.timezone)
            body = sms.body.strip()
            stored = conversation.receive(session, conv, body or f"[{sms.num_media} media]",
                                          provider_id=sms.message_sid, now=now)
            if stored is None:
                return False, []  # Twilio retried: this message was stored and answered already
            word = body.lower().strip(" .!")
            language = KEYWORD_LANGUAGE.get(word) or conv.language
            values = dict(service=self.settings.service_name, phone=self.settings.service_phone,
                          email=self.settings.service_email)
            if word in STOP:
                insert_ignore(session, OptOut, {"phone": sms.sender, "opted_out_at": now}, returning="phone")
                return False, self._system(session, conv, now, texts.say("sms_stopped", language, **values))
            if word in START:
                session.execute(delete(OptOut).where(OptOut.phone == sms.sender))
                return False, self._system(session, conv, now, texts.say("sms_started", language, **values))
            if word in HELP:
                privacy = f"{self.settings.public_base_url.rstrip('/')}/privacy?lang={language}"
                return False, self._system(session, conv, now, texts.say("sms_help", language, privacy=privacy,
                                                                         **values))
            if not body:
                return False, self._system(session, conv, now, texts.say("sms_media_only", conv.language))
            if conv.campaign and for_bot != body:
                # The campaign's keyword is kept as the customer sent it, but the bot gets what followed it; a
                # keyword alone is a hello.
                body = for_bot or "/greet"
            waiting = survey.awaiting_sms_answer(session, sms.sender, now)
            score, comment = survey.parse_score(body) if waiting is not None else (None, None)
            if waiting is not None and score is not None:
                # A survey answer is a text that reads as a score; anything else is a new message for the case
                # or the bot, never a comment by accident.
                survey.record(session, self.settings, waiting, score, comment, now)
                return False, self._system(session, conv, now, texts.say("survey_thanks_sms", waiting.case.language,
                                                                    **values))
            buttons = conversation.last_buttons(session, conv)
            # Only ASCII digits: "²".isdigit() is true, but int("²") is an error.
            if word.isascii() and word.isdigit() and 1 <= int(word) <= len(buttons):
                body = buttons[int(word) - 1]["payload"]
            decision = inbound.decide(session, self.settings, self.rasa, conv, stored, body,
                                      now)
            if decision.to_bot is None:
                return False, [numbered(r, conv.language)
                               for r in conversation.store_replies(session, conv, decision.replies, now)]
            body = decision.to_bot
            if conversation.unserved_language(conv, body):
                return False, self._system(session, conv, now, texts.say("unserved_language", "en"))
            conv_id, language = conv.id, conv.language
        future = self.pool.submit(self._ask, conv_id, body, now, stored, sms, hold)
        return True, (future, conv_id, stored, language)

    def _system(self, session: Session, conv: Conversation, now: datetime, text: str) -> list[str]:
        conversation.record(session, conv, text, direction="out", author="system", now=now)
        session.commit()
        return [text]

    def _ask(self, conv_id: int, text: str, now: datetime, message_id: int, sms: InboundSms, hold) -> list[Reply]:
        """The bot's turn, in its own thread; it releases the sender's turn when the answer is stored or sent."""
        try:
            with self.sessions() as session:
                conv = session.get(Conversation, conv_id)
                outcome: dict = {}
                replies = conversation.ask_bot(session, self.rasa, conv, text,
                                               timeout=max(self.settings.rasa_timeout, 20), now=now,
                                               message_id=message_id, outcome=outcome,
                                               give_up_minutes=self.settings.rasa_give_up_minutes,
                                               settings=self.settings)
                with self._fate_lock:
                    late = self._fate.pop(message_id, None) == "late"
                    if not late:
                        self._fate[message_id] = "answered"
                if late:
                    if outcome.get("answered"):  # the mark the request thread left for a restart is done with
                        session.execute(update(Message).where(Message.id == message_id).values(awaiting_bot=False))
                    for i, reply in enumerate(replies):
                        enqueue(session, key=f"sms-reply:{sms.message_sid}:{i}", kind="sms", recipient=sms.sender,
                                body=numbered(reply, conv.language), now=now)
                    session.commit()
                return replies
        finally:
            hold.release()

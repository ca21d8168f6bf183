"""The SMS channel: keywords, numbered answers, and the bot within Twilio's time budget."""
from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor, TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from router import texts
from router.casework import survey
from router.config import Settings
from router.delivery.outbox import enqueue
from router.inbound import conversation, receive as inbound
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


def _conversation_for(session: Session, phone: str, now: datetime) -> Conversation:
    conv = session.scalar(select(Conversation).where(Conversation.channel == "sms", Conversation.address == phone,
                                                     Conversation.last_message_at >= now - CONVERSATION_GAP)
                          .order_by(Conversation.last_message_at.desc()).limit(1))
    return conv or conversation.start(session, channel="sms", address=phone, now=now)


class SmsChannel:
    """Handles inbound SMS; the bot runs in a thread so a slow Rasa never holds Twilio's request."""

    def __init__(self, settings: Settings, sessions: sessionmaker, rasa, budget: float = 8.0) -> None:
        self.settings = settings
        self.sessions = sessions
        self.rasa = rasa
        self.budget = budget
        self.pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="sms-bot")

    def receive(self, sms: InboundSms, now: datetime) -> list[str]:
        """Texts to answer in TwiML now; empty for a duplicate, or when the answer will come via the outbox."""
        with self.sessions() as session:
            conv = _conversation_for(session, sms.sender, now)
            body = sms.body.strip()
            stored = conversation.receive(session, conv, body or f"[{sms.num_media} media]",
                                          provider_id=sms.message_sid, now=now)
            if stored is None:
                return []  # Twilio retried: this message was stored and answered already
            word = body.lower().strip(" .!")
            language = KEYWORD_LANGUAGE.get(word) or conv.language
            values = dict(service=self.settings.service_name, phone=self.settings.service_phone,
                          email=self.settings.service_email)
            if word in STOP:
                insert_ignore(session, OptOut, {"phone": sms.sender, "opted_out_at": now}, returning="phone")
                return self._system(session, conv, texts.say("sms_stopped", language, **values))
            if word in START:
                session.execute(delete(OptOut).where(OptOut.phone == sms.sender))
                return self._system(session, conv, texts.say("sms_started", language, **values))
            if word in HELP:
                return self._system(session, conv, texts.say("sms_help", language, **values))
            if not body:
                return self._system(session, conv, texts.say("sms_media_only", conv.language))
            waiting = survey.awaiting_sms_answer(session, sms.sender, now)
            score, comment = survey.parse_score(body) if waiting is not None else (None, None)
            if waiting is not None and score is not None:
                # A survey answer is a text that reads as a score; anything else is a new message for the case
                # or the bot, never a comment by accident.
                survey.record(session, self.settings, waiting, score, comment, now)
                return self._system(session, conv, texts.say("survey_thanks_sms", waiting.case.language, **values))
            buttons = conversation.last_buttons(session, conv)
            # Only ASCII digits: "²".isdigit() is true, but int("²") is an error.
            if word.isascii() and word.isdigit() and 1 <= int(word) <= len(buttons):
                body = buttons[int(word) - 1]["payload"]
            decision = inbound.decide(session, self.settings, self.rasa, conv, session.get(Message, stored), body,
                                      now)
            if decision.to_bot is None:
                return [numbered(r, conv.language) for r in conversation.store_replies(session, conv,
                                                                                       decision.replies, now)]
            body = decision.to_bot
            conv_id, language = conv.id, conv.language
        future = self.pool.submit(self._ask, conv_id, body, now, stored)
        try:
            return [numbered(r, language) for r in future.result(timeout=self.budget)]
        except FutureTimeout:
            log.warning("rasa slower than the SMS budget; conversation %s answered through the outbox", conv_id)
            future.add_done_callback(lambda f: self._send_later(f, conv_id, sms, language))
            return []

    def _system(self, session: Session, conv: Conversation, text: str) -> list[str]:
        conversation.record(session, conv, text, direction="out", author="system", now=conv.last_message_at)
        session.commit()
        return [text]

    def _ask(self, conv_id: int, text: str, now: datetime, message_id: int) -> list[Reply]:
        with self.sessions() as session:
            conv = session.get(Conversation, conv_id)
            return conversation.ask_bot(session, self.rasa, conv, text, timeout=max(self.settings.rasa_timeout, 20),
                                        now=now, message_id=message_id)

    def _send_later(self, future: Future, conv_id: int, sms: InboundSms, language: str) -> None:
        if future.exception() is not None:
            log.error("deferred SMS reply failed for conversation %s: %s", conv_id, type(future.exception()).__name__)
            return
        with self.sessions() as session:
            for i, reply in enumerate(future.result()):
                enqueue(session, key=f"sms-reply:{sms.message_sid}:{i}", kind="sms", recipient=sms.sender,
                        body=numbered(reply, language))
            session.commit()

"""The voice channel: understand the caller, put them through to the named specialist, or promise a callback."""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Optional
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from . import conversation, directory, menu, promise, texts, twiml
from .classification import classify
from .config import Settings
from .handoff import HandoffRequest, hand_off
from .models import Call, Conversation, Specialist
from .outbox import enqueue
from .routing import is_working_now
from .store import insert_ignore

log = logging.getLogger(__name__)
LANGUAGES = ("fi", "sv", "en")
LANGUAGE_DIGITS = {"8": "sv", "9": "en"}
NOT_CONNECTED = {"no-answer", "busy", "failed", "canceled"}


def gather_url(language: str, stage: str) -> str:
    return f"/twilio/voice/gather?lang={language}&stage={stage}"


class VoiceChannel:
    """One method per Twilio request of a call; state lives in the `calls` table, keyed by CallSid."""

    def __init__(self, settings: Settings, sessions: sessionmaker, rasa) -> None:
        self.settings = settings
        self.sessions = sessions
        self.rasa = rasa

    # --- requests -------------------------------------------------------------------------------
    def welcome(self, call_sid: str, caller: Optional[str], now: datetime) -> str:
        with self.sessions() as session:
            insert_ignore(session, Call, {"call_sid": call_sid, "caller": caller, "language": "fi", "created_at": now})
            session.commit()
        s = self.settings.service_name
        prompts = [(texts.say("voice_welcome", lang, service=s), lang) for lang in LANGUAGES]
        return twiml.say_and_gather(prompts, action=gather_url("fi", "start"), language="fi",
                                    then=(texts.say("voice_no_input", "fi"), "fi"))

    def gathered(self, call_sid: str, language: str, stage: str, speech: str, digits: str, now: datetime) -> str:
        language = language if language in LANGUAGES else "fi"
        with self.sessions() as session:
            call = self._call(session, call_sid, now)
            if stage == "start" and digits in LANGUAGE_DIGITS:
                call.language = LANGUAGE_DIGITS[digits]
                session.commit()
                return self._ask(call.language)
            call.language = language
            topics = directory.topic_labels(session)
            topic = menu.pick(topics, digits) if digits else None
            if topic is None and speech:
                call.speech = (call.speech + " | " if call.speech else "") + speech[:2000]
                result = classify(speech, self.rasa, [t.key for t in topics], lang=language, timeout=4.0)
                if result.confident:
                    topic = result.topic
            if topic is None:
                session.commit()
                if stage == "menu":  # asked twice: the service desk takes it rather than a third menu
                    topic = "general"
                else:
                    return self._menu(topics, language)
            call.topic = topic
            session.commit()
            return self._route(session, call, now)

    def dial_status(self, call_sid: str, status: str, now: datetime) -> str:
        with self.sessions() as session:
            call = self._call(session, call_sid, now)
            if status in NOT_CONNECTED and call.outcome != "callback":
                specialist = session.get(Specialist, call.specialist_id) if call.specialist_id else None
                return self._callback(session, call, now, specialist.key if specialist else None)
            if status not in NOT_CONNECTED:
                call.outcome = "connected"
                session.commit()
            return twiml.say_and_hang_up(texts.say("voice_goodbye", call.language), call.language)

    def fallback(self, call_sid: Optional[str], caller: Optional[str], now: datetime) -> str:
        """Twilio's fallback URL: record the call if the database answers, and always say something safe."""
        try:
            with self.sessions() as session:
                if call_sid:
                    insert_ignore(session, Call, {"call_sid": call_sid, "caller": caller, "language": "fi",
                                                  "outcome": "fallback", "created_at": now})
                    session.commit()
        except Exception:  # noqa: BLE001 - the caller must hear something whatever is broken
            log.exception("fallback could not record call")
        return twiml.say_and_hang_up(" ".join(texts.say("voice_fallback", lang) for lang in LANGUAGES), "fi")

    # --- steps ----------------------------------------------------------------------------------
    def _call(self, session: Session, call_sid: str, now: datetime) -> Call:
        call = session.scalar(select(Call).where(Call.call_sid == call_sid))
        if call is None:  # a gather without a recorded welcome (e.g. after a restart): record it now
            insert_ignore(session, Call, {"call_sid": call_sid, "language": "fi", "created_at": now})
            call = session.scalar(select(Call).where(Call.call_sid == call_sid))
        return call

    def _ask(self, language: str) -> str:
        return twiml.say_and_gather([(texts.say("voice_ask", language), language)],
                                    action=gather_url(language, "topic"), language=language,
                                    then=(texts.say("voice_no_input", language), language))

    def _menu(self, topics, language: str) -> str:
        prompts = [(texts.say("voice_menu_intro", language), language)]
        prompts += [(texts.say("voice_menu_item", language, label=menu.label(t, language), digit=i), language)
                    for i, t in enumerate(menu.choices(topics), start=1)]
        return twiml.say_and_gather(prompts, action=gather_url(language, "menu"), language=language, speech=False,
                                    then=(texts.say("voice_no_input", language), language))

    def _route(self, session: Session, call: Call, now: datetime) -> str:
        people = directory.candidates(session)
        today = promise.local_date(now, self.settings.timezone)
        person = directory.choose_for(people, call.topic or "general", call.language, (today, today),
                                      directory.open_case_counts(session))
        chosen = directory.to_candidate(person)
        local_now = now.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(self.settings.timezone)).replace(tzinfo=None)
        call.specialist_id = person.id
        session.commit()
        if person.phone and is_working_now(chosen, local_now):
            text = texts.say("voice_connect", call.language, name=person.name, title=person.title(call.language))
            return twiml.connect(text, call.language, number=person.phone.replace(" ", ""),
                                 caller_id=self.settings.twilio_number,
                                 action=f"/twilio/voice/dial-status?lang={call.language}")
        return self._callback(session, call, now, person.key)

    def _callback(self, session: Session, call: Call, now: datetime, specialist_key: Optional[str]) -> str:
        conv = Conversation(public_id=conversation.new_public_id(), channel="voice", language=call.language,
                            address=call.caller)
        session.add(conv)
        session.flush()
        said = call.speech or f"({menu_label(session, call.topic, call.language)})"
        conversation.record(session, conv, said, direction="in", author="customer", provider_id=call.call_sid, now=now)
        result = hand_off(session, self.settings, HandoffRequest(
            idempotency_key=f"call:{call.call_sid}", topic=call.topic or "general", language=call.language,
            channel="voice", conversation_id=conv.id, phone=call.caller, summary=said, kind="callback",
            specialist_key=specialist_key), now)
        person, case = result.specialist, result.case
        if person.phone:
            enqueue(session, key=f"case:{case.ref}:specialist-sms", kind="sms", recipient=person.phone.replace(" ", ""),
                    body=texts.say("callback_specialist_sms", "fi", service=self.settings.service_name, ref=case.ref,
                                   topic=menu_label(session, case.topic, "fi"), phone=call.caller or "-",
                                   date=promise.format_day(promise.local_date(case.due_at, self.settings.timezone), "fi")),
                    case_id=case.id, headers={"validity_period": "14400"})
        call.outcome, call.case_id, call.specialist_id = "callback", case.id, person.id
        session.commit()
        text = texts.say("voice_callback", call.language, name=person.name, title=person.title(call.language),
                         date=result.due_text)
        return twiml.say_and_hang_up(text, call.language)


def menu_label(session: Session, topic: Optional[str], language: str) -> str:
    labels = {t.key: t for t in directory.topic_labels(session)}
    return menu.label(labels[topic], language) if topic in labels else (topic or "general")

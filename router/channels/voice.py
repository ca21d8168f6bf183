"""The voice channel: understand the caller, put them through to the named specialist, or promise a callback."""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Optional
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from router import texts
from router.casework import directory, hours, promise
from router.casework.handoff import HandoffRequest, hand_off
from router.casework.routing import is_working_now, next_working
from router.channels import twiml
from router.config import Settings
from router.delivery.outbox import enqueue
from router.inbound import conversation, menu
from router.inbound import receive as inbound
from router.inbound.classification import classify
from router.plan import campaign
from router.storage.models import Call, Case, Conversation, Message, Specialist
from router.storage.store import insert_ignore

log = logging.getLogger(__name__)
LANGUAGES = ("fi", "sv", "en")
LANGUAGE_DIGITS = {"8": "sv", "9": "en"}
NOT_CONNECTED = {"no-answer", "busy", "failed", "canceled"}


def gather_url(language: str, stage: str, attempt: int = 0) -> str:
    return f"/twilio/voice/gather?lang={language}&stage={stage}" + (f"&try={attempt}" if attempt else "")


class VoiceChannel:
    """One method per Twilio request of a call, in the request's session (the request commits); state lives in the
    `calls` table, keyed by CallSid."""

    def __init__(self, settings: Settings, rasa) -> None:
        self.settings = settings
        self.rasa = rasa

    # --- requests -------------------------------------------------------------------------------
    def welcome(self, session: Session, call_sid: str, caller: Optional[str], now: datetime,
                called: Optional[str] = None) -> str:
        """`called`: the number dialled (Twilio's To); a campaign's own number attributes the call to it."""
        source = campaign.from_call(campaign.markers(session), called,
                                    promise.local_date(now, self.settings.timezone)) if called else None
        insert_ignore(session, Call, {"call_sid": call_sid, "caller": caller, "language": "fi", "created_at": now,
                                      "campaign": source})
        case = self._open_case(session, caller)
        if case is not None:  # someone we already know: their matter and its person first
            language = case.language if case.language in LANGUAGES else "fi"
            text = texts.say("voice_open_case", language, spelled=twiml.spell(case.ref), name=case.specialist.name)
            return twiml.say_and_gather([(self._closed(language, now) + text, language)],
                                        action=gather_url(language, "case"),
                                        language=language, then=(texts.say("voice_no_input", language), language))
        s = self.settings.service_name
        prompts = [(self._closed(lang, now) + texts.say("voice_welcome", lang, service=s), lang) for lang in LANGUAGES]
        return twiml.say_and_gather(prompts, action=gather_url("fi", "start"), language="fi",
                                    then=(texts.say("voice_no_input", "fi"), "fi"))

    def gathered(self, session: Session, call_sid: str, language: str, stage: str, speech: str, digits: str,
                 now: datetime, attempt: int = 0) -> str:
        """One answer of the caller; silence, an unclear answer or a wrong key gets one more try, then a person."""
        language = language if language in LANGUAGES else "fi"
        call = self._call(session, call_sid, now)
        call.language = language
        if speech:
            call.speech = (call.speech + " | " if call.speech else "") + speech[:2000]
        if digits == "0":  # the service desk, from any prompt
            call.topic = "general"
            return self._route(session, call, now)
        if stage == "case":
            return self._about_case(session, call, speech, digits, now, attempt)
        if stage == "message":
            if digits == "3":
                return self._callback_on_case(session, call, now)
            return self._take_message(session, call, speech, now, attempt)
        if stage == "start" and digits in LANGUAGE_DIGITS:
            call.language = LANGUAGE_DIGITS[digits]
            return self._ask(call.language)
        topics = directory.topic_labels(session)
        topic = menu.pick(topics, digits) if digits else None
        if topic is None and speech:
            result = classify(speech, self.rasa, [t.key for t in topics], lang=language, timeout=4.0)
            if result.confident:
                topic = result.topic
        if topic is None:
            if stage == "menu":  # a wrong key or silence at the menu: once more, then the service desk
                if attempt < 1:
                    return self._menu(topics, language, attempt + 1)
                topic = "general"
            elif speech:  # said something we could not place: the menu
                return self._menu(topics, language)
            elif attempt < 1:  # silence: one more prompt
                return self._ask(language, attempt + 1, again=True)
            else:
                topic = "general"
        call.topic = topic
        return self._route(session, call, now)

    def dial_status(self, session: Session, call_sid: str, status: str, now: datetime) -> str:
        call = self._call(session, call_sid, now)
        if status in NOT_CONNECTED and call.outcome != "callback":
            specialist = session.get(Specialist, call.specialist_id) if call.specialist_id else None
            return self._callback(session, call, now, specialist.key if specialist else None)
        if status not in NOT_CONNECTED:
            call.outcome = "connected"
        return twiml.say_and_hang_up(texts.say("voice_goodbye", call.language), call.language)

    def fallback(self, session: Session, call_sid: Optional[str], caller: Optional[str], now: datetime) -> str:
        """Twilio's fallback URL: the promised callback is a case for the service desk whenever the database answers;
        the caller always hears something safe."""
        try:
            if call_sid:
                insert_ignore(session, Call, {"call_sid": call_sid, "caller": caller, "language": "fi",
                                              "created_at": now})
                call = self._call(session, call_sid, now)
                if caller and call.outcome != "callback":
                    call.topic = call.topic or "general"
                    self._callback(session, call, now, None)
                elif call.outcome is None:
                    call.outcome = "fallback"
            session.flush()  # a database that refuses it refuses here, inside the guard
        except Exception:  # noqa: BLE001 - the caller must hear something whatever is broken
            session.rollback()
            log.exception("fallback could not record the call")
        return twiml.say_and_hang_up(" ".join(texts.say("voice_fallback", lang) for lang in LANGUAGES), "fi")

    def ended(self, session: Session, call_sid: str, status: str, now: datetime) -> None:
        """Twilio's call status callback: a caller who hung up after saying or choosing something still gets a
        named callback; a silent hang-up is kept as "abandoned"."""
        if status not in ("completed", "busy", "no-answer", "failed", "canceled"):
            return
        call = session.scalar(select(Call).where(Call.call_sid == call_sid))
        if call is None or call.outcome is not None:
            return
        if (call.speech or call.topic) and call.caller:
            self._callback(session, call, now, None)
        else:
            call.outcome = "abandoned"

    # --- steps ----------------------------------------------------------------------------------
    def _call(self, session: Session, call_sid: str, now: datetime) -> Call:
        call = session.scalar(select(Call).where(Call.call_sid == call_sid))
        if call is None:  # a gather without a recorded welcome (e.g. after a restart): record it now
            insert_ignore(session, Call, {"call_sid": call_sid, "language": "fi", "created_at": now})
            call = session.scalars(select(Call).where(Call.call_sid == call_sid)).one()
        return call

    def _ask(self, language: str, attempt: int = 0, again: bool = False) -> str:
        prompt = texts.say("voice_again", language) if again else texts.say("voice_ask", language)
        return twiml.say_and_gather([(prompt, language)],
                                    action=gather_url(language, "topic", attempt), language=language,
                                    then=(texts.say("voice_no_input", language), language))

    def _menu(self, topics, language: str, attempt: int = 0) -> str:
        prompts = [(texts.say("voice_menu_intro", language), language)]
        prompts += [(texts.say("voice_menu_item", language, label=menu.label(t, language), digit=i), language)
                    for i, t in enumerate(menu.choices(topics), start=1)]
        return twiml.say_and_gather(prompts, action=gather_url(language, "menu", attempt), language=language,
                                    speech=False, then=(texts.say("voice_no_input", language), language))

    def _open_case(self, session: Session, caller: Optional[str]) -> Optional[Case]:
        """The newest open case on this (Twilio-verified) number."""
        if not caller:
            return None
        return inbound.open_case_for_number(session, caller)

    def _about_case(self, session: Session, call: Call, speech: str, digits: str, now: datetime,
                    attempt: int) -> str:
        case = self._open_case(session, call.caller)
        if case is None:
            return self._ask(call.language)
        person = case.specialist
        local_now = now.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(self.settings.timezone)).replace(tzinfo=None)
        if digits == "1" and person.phone and is_working_now(directory.to_candidate(person), local_now):
            call.topic, call.specialist_id, call.case_id = case.topic, person.id, case.id
            text = texts.say("voice_connect", call.language, name=person.name, title=person.title(call.language))
            return twiml.connect(text, call.language, number=person.phone.replace(" ", ""),
                                 caller_id=self.settings.twilio_number,
                                 action=f"/twilio/voice/dial-status?lang={call.language}")
        if digits in ("1", "2"):  # away (said so, with when they are back), or asked for: a message for the person
            call.case_id = case.id
            prompt = self._away(person, local_now, call.language) if digits == "1" else \
                texts.say("voice_leave_message", call.language, name=person.name)
            return twiml.say_and_gather([(prompt, call.language)], action=gather_url(call.language, "message"),
                                        language=call.language, timeout=8,
                                        then=(texts.say("voice_goodbye", call.language), call.language))
        if speech:  # about this matter, unless it clearly names another topic
            topics = directory.topic_labels(session)
            result = classify(speech, self.rasa, [t.key for t in topics], lang=call.language, timeout=4.0)
            if result.confident and result.topic != case.topic:
                call.topic = result.topic
                return self._route(session, call, now)
            return self._message_on_case(session, call, case, speech, now)
        if attempt < 1:
            text = texts.say("voice_open_case", call.language, spelled=twiml.spell(case.ref), name=person.name)
            return twiml.say_and_gather([(text, call.language)], action=gather_url(call.language, "case", 1),
                                        language=call.language,
                                        then=(texts.say("voice_no_input", call.language), call.language))
        call.case_id = case.id  # silent twice: they can still text or call; the case is where it was
        call.outcome = "case-known"
        return twiml.say_and_hang_up(texts.say("voice_goodbye", call.language), call.language)

    def _new_matter(self, session: Session, call: Call, speech: str, now: datetime) -> str:
        topics = directory.topic_labels(session)
        result = classify(speech, self.rasa, [t.key for t in topics], lang=call.language, timeout=4.0)
        if not result.confident:
            return self._menu(topics, call.language)
        call.topic = result.topic
        return self._route(session, call, now)

    def _take_message(self, session: Session, call: Call, speech: str, now: datetime, attempt: int) -> str:
        case = session.get(Case, call.case_id) if call.case_id else self._open_case(session, call.caller)
        if case is None:
            return self._ask(call.language)
        if not speech:
            if attempt < 1:
                return twiml.say_and_gather([(texts.say("voice_leave_message", call.language,
                                                        name=case.specialist.name), call.language)],
                                            action=gather_url(call.language, "message", 1), language=call.language,
                                            timeout=8, then=(texts.say("voice_goodbye", call.language), call.language))
            call.outcome = "case-known"
            return twiml.say_and_hang_up(texts.say("voice_goodbye", call.language), call.language)
        return self._message_on_case(session, call, case, speech, now)

    def _message_on_case(self, session: Session, call: Call, case: Case, speech: str, now: datetime) -> str:
        """What the caller said goes on their open case, and its specialist hears of it."""
        self._put_on_case(session, call, case, speech, now, "message")
        call.outcome, call.case_id = "message", case.id
        return twiml.say_and_hang_up(texts.say("voice_message_taken", call.language, name=case.specialist.name,
                                               spelled=twiml.spell(case.ref)), call.language)

    def _callback_on_case(self, session: Session, call: Call, now: datetime) -> str:
        """"Call me back" about the open case: a request on that case, not a second case."""
        case = session.get(Case, call.case_id) if call.case_id else self._open_case(session, call.caller)
        if case is None:
            return self._callback(session, call, now, None)
        self._put_on_case(session, call, case, texts.say("callback_requested", case.language), now, "callback")
        call.outcome, call.case_id, call.specialist_id = "callback", case.id, case.specialist_id
        return twiml.say_and_hang_up(texts.say("voice_callback_on_case", call.language, name=case.specialist.name,
                                               spelled=twiml.spell(case.ref)), call.language)

    def _put_on_case(self, session: Session, call: Call, case: Case, text: str, now: datetime, what: str) -> None:
        conv = conversation.start(session, channel="voice", language=call.language, address=call.caller, now=now)
        message_id = conversation.record(session, conv, text, direction="in", author="customer",
                                         provider_id=f"{call.call_sid}:{what}", now=now)
        if message_id is not None:
            inbound.to_case(session, self.settings, case, session.get_one(Message, message_id), now)

    def _closed(self, language: str, now: datetime) -> str:
        """The office-closed sentence (with a space after it) while the office is closed, else nothing."""
        notice = hours.closed_notice(self.settings, language, now)
        return f"{notice} " if notice else ""

    def _away(self, person: Specialist, local_now: datetime, language: str) -> str:
        """The person is not at work now: when they are back, and what the caller can do meanwhile."""
        def open_day(day):
            return promise.is_working_day(day, self.settings.closed_days)

        back = next_working(directory.to_candidate(person), local_now, open_day)
        if back is None:
            return texts.say("voice_person_away_later", language, name=person.name)
        back_utc = back.replace(tzinfo=ZoneInfo(self.settings.timezone)).astimezone(timezone.utc).replace(tzinfo=None)
        return texts.say("voice_person_away", language, name=person.name,
                         **hours.when_text(self.settings, back_utc, language))

    def _route(self, session: Session, call: Call, now: datetime) -> str:
        people = directory.candidates(session)
        today = promise.local_date(now, self.settings.timezone)
        person = directory.choose_for(people, call.topic or "general", call.language, (today, today),
                                      directory.open_case_counts(session))
        chosen = directory.to_candidate(person)
        local_now = now.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(self.settings.timezone)).replace(tzinfo=None)
        call.specialist_id = person.id
        if person.phone and is_working_now(chosen, local_now):
            text = texts.say("voice_connect", call.language, name=person.name, title=person.title(call.language))
            return twiml.connect(text, call.language, number=person.phone.replace(" ", ""),
                                 caller_id=self.settings.twilio_number,
                                 action=f"/twilio/voice/dial-status?lang={call.language}")
        return self._callback(session, call, now, person.key)

    def _callback(self, session: Session, call: Call, now: datetime, specialist_key: Optional[str]) -> str:
        if not call.caller:  # a hidden number cannot be called back: say how to reach us instead
            call.outcome = "no-number"
            return twiml.say_and_hang_up(texts.say("voice_no_number", call.language,
                                                   email=self.settings.service_email), call.language)
        open_case = self._open_case(session, call.caller)
        if open_case is not None and open_case.topic == (call.topic or "general"):
            # The same number about the same matter: the call joins the case it already has.
            call.case_id = open_case.id
            if call.speech:
                self._put_on_case(session, call, open_case, call.speech, now, "message")
            return self._callback_on_case(session, call, now)
        conv = Conversation(public_id=conversation.new_public_id(), channel="voice", language=call.language,
                            address=call.caller, campaign=call.campaign)
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
                                   date=promise.format_day(promise.local_date(case.due_at, self.settings.timezone),
                                                           "fi")),
                    case_id=case.id, headers={"validity_period": "14400"}, now=now)
        call.outcome, call.case_id, call.specialist_id = "callback", case.id, person.id
        text = texts.say("voice_callback", call.language, name=person.name, title=person.title(call.language),
                         date=result.due_text, spelled=twiml.spell(case.ref))
        return twiml.say_and_hang_up(text, call.language)


def menu_label(session: Session, topic: Optional[str], language: str) -> str:
    labels = {t.key: t for t in directory.topic_labels(session)}
    return menu.label(labels[topic], language) if topic in labels else (topic or "general")

"""The handoff: choose the named specialist, open the case with its promise, queue the notifications."""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Optional
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from router import texts
from router.casework import directory, promise
from router.config import Settings
from router.delivery import events, notify
from router.delivery.outbox import enqueue
from router.plan import activity
from router.storage.models import Case, Conversation, Specialist

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_REF_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class HandoffError(ValueError):
    """The handoff cannot be made as asked; the message says why."""


# Not a directory topic: feedback on the service's accessibility, with the law's 14-day deadline.
ACCESSIBILITY = "accessibility"
ACCESSIBILITY_DAYS = 14


@dataclass(frozen=True)
class HandoffRequest:
    """What the bot (or a channel) knows when it hands a customer over."""

    idempotency_key: str
    topic: str
    language: str
    channel: str
    conversation_id: Optional[int] = None
    customer_name: Optional[str] = None
    email: Optional[str] = None
    phone: Optional[str] = None
    company: Optional[str] = None
    summary: str = ""
    kind: str = "handoff"
    # Set when the customer already met this person (a call that was not answered): the case stays with them.
    specialist_key: Optional[str] = None
    # The campaign that brought the customer; by default the conversation's (router/plan/campaign.py).
    campaign: Optional[str] = None
    # The email channel sends its own RFC 3834 acknowledgement instead of the generic confirmation.
    notify_customer: bool = True
    # Calendar days to the deadline instead of the promise's working days (accessibility feedback: 14, by law).
    due_days: Optional[int] = None


@dataclass(frozen=True)
class HandoffResult:
    case: Case
    specialist: Specialist
    due_text: str
    text: str


def new_ref() -> str:
    return "LK-" + "".join(secrets.choice(_REF_ALPHABET) for _ in range(6))


def split_contact(contact: Optional[str]) -> tuple[Optional[str], Optional[str]]:
    """An email or a phone number from what the customer typed."""
    if not contact:
        return None, None
    contact = contact.strip()
    if EMAIL.match(contact):
        return contact.lower(), None
    phone = re.sub(r"[\s()-]", "", contact)
    # A Finnish number written the domestic way ("040 123 4567") in E.164, as Twilio and the SMS channel use it.
    if phone.startswith("00"):
        phone = "+" + phone[2:]
    elif phone.startswith("0"):
        phone = "+358" + phone[1:]
    return None, phone


def transcript(conv: Optional[Conversation], tz: str = "Europe/Helsinki", language: str = "fi") -> str:
    """The conversation as the specialist reads it, in the agency's local time and the specialist's words."""
    if conv is None:
        return ""
    zone = ZoneInfo(tz)
    return "\n".join(f"[{m.created_at.replace(tzinfo=timezone.utc).astimezone(zone):%d.%m. %H.%M}] "
                     f"{texts.word(m.author, language, 'staff.au_')}: {m.text}" for m in conv.messages)


def _result(case: Case, settings: Settings) -> HandoffResult:
    person = case.specialist
    day = promise.local_date(case.due_at, settings.timezone)
    due_text = promise.format_day(day, case.language)
    text = texts.say("handoff_confirmed", case.language, name=person.name, title=person.title(case.language),
                     date=due_text, ref=case.ref)
    return HandoffResult(case, person, due_text, text)


def _campaign(session: Session, req: HandoffRequest) -> Optional[str]:
    if req.campaign or req.conversation_id is None:
        return req.campaign
    conv = session.get(Conversation, req.conversation_id)
    return conv.campaign if conv is not None else None


def _customer(session: Session, req: HandoffRequest) -> Optional[int]:
    """The conversation's customer record (a verified address made it), or None."""
    conv = session.get(Conversation, req.conversation_id) if req.conversation_id is not None else None
    return conv.customer_id if conv is not None else None


def hand_off(session: Session, settings: Settings, req: HandoffRequest, now: datetime) -> HandoffResult:
    """Open the case and queue both notifications in the caller's transaction; a repeated key changes nothing."""
    existing = session.scalar(select(Case).where(Case.handoff_key == req.idempotency_key))
    if existing is not None:
        return _result(existing, settings)
    topics = {t.key for t in directory.topic_labels(session)}
    topic = req.topic if req.topic in topics or req.topic == ACCESSIBILITY else "general"
    people = directory.candidates(session)
    if not people:
        raise HandoffError("the directory has no specialists; load one with `router directory load`")
    h, m = (int(x) for x in settings.working_day_ends.split(":"))
    if req.due_days is not None:
        local_due = datetime.combine(promise.local_date(now, settings.timezone) + timedelta(days=req.due_days),
                                     time(h, m), tzinfo=ZoneInfo(settings.timezone))
        due = local_due.astimezone(timezone.utc).replace(tzinfo=None)
    else:
        due = promise.due_at(now, tz=settings.timezone, working_days=settings.promise_working_days,
                             closed_days=settings.closed_days, day_ends=time(h, m))
    period = (promise.local_date(now, settings.timezone), promise.local_date(due, settings.timezone))
    named = [s for s, _ in people if s.key == req.specialist_key]
    if named:
        specialist = named[0]
    else:
        specialist = directory.choose_for(people, "general" if topic == ACCESSIBILITY else topic, req.language,
                                          period, directory.open_case_counts(session))
    case = Case(ref=new_ref(), handoff_key=req.idempotency_key, conversation_id=req.conversation_id,
                channel=req.channel, topic=topic, language=req.language, specialist=specialist,
                customer_name=req.customer_name, customer_email=req.email, customer_phone=req.phone,
                company=req.company, summary=req.summary[:5000], kind=req.kind, status="open",
                created_at=now, due_at=due, first_specialist_id=specialist.id, campaign=_campaign(session, req),
                customer_id=_customer(session, req), business_id=activity.business_id_in(req.company))
    session.add(case)
    session.flush()
    events.emit(session, "case.created", events.case_facts(case), now, words={"summary": case.summary},
                case_id=case.id)
    result = _result(case, settings)
    _queue_notifications(session, settings, case, result, notify_customer=req.notify_customer)
    return result


def _queue_notifications(session: Session, settings: Settings, case: Case, result: HandoffResult,
                         notify_customer: bool = True) -> None:
    person = case.specialist
    conv = session.get(Conversation, case.conversation_id) if case.conversation_id else None
    link = f"{settings.public_base_url.rstrip('/')}/staff/cases/{case.ref}"
    language = notify.staff_language(session, person=person)
    body = "\n".join([
        texts.say("mail.new_case_body", language, kind=case.kind),
        "",
        notify.case_facts(session, settings, case, language),
        texts.say("mail.channel_language", language, channel=texts.word(case.channel, language, "report."),
                  case_language=case.language),
        "",
        texts.say("mail.request", language),
        case.summary or "-",
        "",
        texts.say("mail.transcript", language),
        transcript(conv, settings.timezone, language) or "-",
        "",
        texts.say("mail.open", language, link=link),
        texts.say("mail.reply_hint", language),
    ])
    enqueue(session, key=f"case:{case.ref}:specialist", kind="email", recipient=person.email,
            subject=notify.staff_subject(session, settings, case, texts.say("mail.new_case", language), language),
            body=body, case_id=case.id, headers=notify.staff_headers(settings, case), now=case.created_at)
    if not notify_customer:
        return
    values = dict(customer=case.customer_name or "", name=person.name, title=person.title(case.language),
                  date=result.due_text, ref=case.ref, service=settings.service_name)
    if case.customer_email:
        enqueue(session, key=f"case:{case.ref}:customer", kind="email", recipient=case.customer_email,
                subject=texts.say("customer_confirmation_subject", case.language, **values),
                body=notify.customer_email_body(settings, case.language,
                                                texts.say("customer_confirmation_body", case.language, **values)),
                case_id=case.id,
                headers=notify.customer_headers(settings, case, **{"Auto-Submitted": "auto-generated"}),
                now=case.created_at)
    elif case.customer_phone and case.channel not in ("sms", "whatsapp"):
        # On SMS and WhatsApp the bot's own answer on the thread is the confirmation: one, not two.
        enqueue(session, key=f"case:{case.ref}:customer", kind="sms", recipient=case.customer_phone,
                body=texts.say("customer_confirmation_sms", case.language, **values), case_id=case.id,
                headers={"automated": "1"}, now=case.created_at)


CONSENT_BUTTONS = {"/affirm", "/deny"}  # the consent question's answers (domain.yml, utter_ask_consent)


def unbacked(conv: Conversation, email: Optional[str], phone: Optional[str]) -> Optional[str]:
    """Why the router's own transcript does not back a handoff the bot asks for, or None (pure).

    The request names slots the action server was given; a direct call to the action server can name anything.
    So the customer must have answered the consent question in this conversation, and typed the contact details
    the confirmation would go to (a channel-proven address needs no typing).
    """
    inbound = [m for m in conv.messages if m.direction == "in" and m.author == "customer"]
    asked = [m.id for m in conv.messages if m.direction == "out" and CONSENT_BUTTONS <= {
        str(b.get("payload")) for b in ((m.payload or {}).get("buttons") or []) if isinstance(b, dict)}]
    if not asked or not any(m.id > asked[-1] for m in inbound):
        return "the consent question was not answered in this conversation"
    typed = [(m.text or "").lower() for m in inbound]
    if email and not (conv.channel == "email" and email == conv.address) and \
            not any(email.lower() in t for t in typed):
        return "the email address was not given in this conversation"
    digits = re.sub(r"\D", "", phone or "")[-7:]
    if phone and not (conv.proven_phone and phone == conv.proven_phone) and \
            not any(digits in re.sub(r"\D", "", t) for t in typed):
        return "the phone number was not given in this conversation"
    return None


def from_bot(session: Session, settings: Settings, conv: Conversation, body: dict, now: datetime) -> HandoffResult:
    """The bot's handoff request (the action server's, or the one it passed back when it could not reach us).

    Commits. The same idempotency key twice gives the same case, also when two requests race. HandoffError when
    the router's transcript does not back it (`unbacked`).
    """
    email, phone = split_contact(body.get("contact"))
    # On SMS, WhatsApp, voice and email the channel already gave us the address; Rasa never saw it.
    if conv.proven_phone and not phone:
        phone = conv.proven_phone
    if conv.channel == "email" and not email:
        email = conv.address
    reason = unbacked(conv, email, phone)
    if reason:
        raise HandoffError(reason)
    first = next((m.text for m in conv.messages if m.direction == "in"), "")
    req = HandoffRequest(
        idempotency_key=str(body["idempotency_key"])[:200], topic=str(body.get("topic") or "general"),
        language=str(body.get("language") or conv.language), channel=conv.channel, conversation_id=conv.id,
        customer_name=(body.get("customer_name") or None), email=email, phone=phone,
        company=(body.get("company") or None), summary=first)
    try:
        result = hand_off(session, settings, req, now)
        session.commit()
    except IntegrityError:
        # The same handoff raced in twice; the other request made the case, so answer with it.
        session.rollback()
        result = hand_off(session, settings, req, now)
    return result

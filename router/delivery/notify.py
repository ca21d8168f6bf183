"""Telling people: the customer on their own channel, staff by email; always through the outbox."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Iterable, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from router import texts
from router.config import Settings
from router.delivery.outbox import enqueue
from router.storage.models import Case, Conversation, Specialist


def customer_channel(session: Session, case: Case) -> Optional[tuple[str, str]]:
    """("sms"|"whatsapp"|"email", address) for this customer: the channel they came on where it can carry a
    message."""
    conv = session.get(Conversation, case.conversation_id) if case.conversation_id else None
    if case.channel in ("sms", "voice") and case.customer_phone:
        return "sms", case.customer_phone
    if case.channel == "whatsapp" and conv is not None and conv.address:
        return "whatsapp", conv.address
    address = case.customer_email or (conv.address if conv is not None else None)
    if case.channel == "email" and address:
        return "email", address
    if case.customer_email:
        return "email", case.customer_email
    if case.customer_phone:
        return "sms", case.customer_phone
    return None


def whatsapp_template(name: str, *values: str) -> dict[str, str]:
    """Outbox headers naming the approved WhatsApp template (TWILIO_WHATSAPP_TEMPLATE_<NAME>) to send instead of
    the text once 24 hours have passed since the customer wrote; `values` fill its {{1}}, {{2}}, …"""
    return {"template": name,
            "template_variables": json.dumps({str(i): v for i, v in enumerate(values, start=1)}, ensure_ascii=False)}


def to_customer(session: Session, settings: Settings, case: Case, *, key: str, text: str, subject: str = "",
                automated: bool = True, headers: Optional[dict[str, str]] = None,
                template: Optional[dict[str, str]] = None, not_before=None, now=None,
                attachments: Optional[list[int]] = None, links: str = "") -> Optional[str]:
    """Queue a message to the customer; the channel used, or None when we have no way to reach them.

    `template`: `whatsapp_template(...)`, what WhatsApp sends outside its 24-hour window. `attachments`: files an
    email carries; on SMS and WhatsApp the text ends with `links` to them instead.
    """
    reach = customer_channel(session, case)
    if reach is None:
        return None
    kind, address = reach
    headers = dict(headers or {})
    if kind == "whatsapp" and template:
        headers.update(template)
    if kind == "sms" and automated:
        headers["automated"] = "1"
    if kind == "email" and automated:
        headers["Auto-Submitted"] = "auto-generated"
    if kind == "email":
        headers.setdefault("Reply-To", customer_reply_address(settings, case.ref))
        text = customer_email_body(settings, case.language, text)
    elif links:
        text = f"{text}\n\n{links}".strip()
    enqueue(session, key=key, kind=kind, recipient=address, body=text, subject=subject or f"[{case.ref}]",
            case_id=case.id, headers=headers, not_before=not_before, now=now,
            attachments=attachments if kind == "email" else None)
    return kind


def customer_email_body(settings: Settings, language: str, text: str) -> str:
    """An email to a customer, with where the privacy notice is below it (every one has it; an SMS is too short)."""
    url = f"{settings.public_base_url.rstrip('/')}/privacy?lang={language}"
    return f"{text}\n\n--\n{texts.say('privacy_footer', language, url=url)}"


def due_text(settings: Settings, case: Case, language: str = "fi") -> str:
    """The promise's date as staff read it: "ti 1.12.2026"."""
    from router.casework import promise

    return promise.format_day(promise.local_date(case.due_at, settings.timezone), language)


def topic_label(session: Session, case: Case, language: str = "fi") -> str:
    from router.storage.models import Topic

    topic = session.get(Topic, case.topic)
    return (topic.labels or {}).get(language, case.topic) if topic else case.topic


def staff_language(session: Session, *, person: Optional[Specialist] = None, email: Optional[str] = None) -> str:
    """The language a member of staff reads (their account's), for a specialist or an address; else Finnish."""
    from router.storage.models import User

    found = None
    if person is not None:
        found = session.scalar(select(User.language).where(User.specialist_id == person.id, User.active.is_(True))
                               .order_by(User.id).limit(1))
    if found is None and email:
        found = session.scalar(select(User.language).where(func.lower(User.email) == email.lower()).limit(1))
    return found if found in texts.LANGUAGES else "fi"


def staff_subject(session: Session, settings: Settings, case: Case, what: str, language: str = "fi") -> str:
    """What happened, about whom, by when: "[LK-…] Uusi asia: Rahoitus — Testi Asiakas, viimeistään ti 1.12.2026"."""
    who = case.customer_name or case.customer_email or case.customer_phone or texts.say("mail.someone", language)
    return texts.say("mail.subject", language, ref=case.ref, what=what, topic=topic_label(session, case, language),
                     who=who, date=due_text(settings, case, language))


def case_facts(session: Session, settings: Settings, case: Case, language: str = "fi") -> str:
    """The lines every staff email about a case carries: the customer's contact details and the due date."""
    return texts.say("mail.facts", language, ref=case.ref, topic=topic_label(session, case, language),
                     customer=f"{case.customer_name or '-'}{f' ({case.company})' if case.company else ''}",
                     email=case.customer_email or "-", phone=case.customer_phone or "-",
                     date=due_text(settings, case, language), specialist=case.specialist.name)


def _relay_token(settings: Settings, ref: str) -> str:
    return hmac.new(settings.secret_key.encode(), f"relay:{ref}".encode(), hashlib.sha256).hexdigest()[:20]


def reply_address(settings: Settings, ref: str) -> str:
    """The case's secret reply address (a subaddress of ours): only a reply to it is relayed to the customer.

    The reference alone is no proof: the customer knows it, and a specialist's address is public on /contacts.
    """
    local, _, domain = settings.service_email.partition("@")
    return f"{local}+{ref.lower()}.{_relay_token(settings, ref)}@{domain}"


def reply_token_ok(settings: Settings, ref: str, recipients: Iterable[str]) -> bool:
    """True when the mail was sent to this case's own secret reply address."""
    expected = reply_address(settings, ref).lower()
    return any(hmac.compare_digest(r.lower(), expected) for r in recipients)


def customer_reply_address(settings: Settings, ref: str) -> str:
    """The case's reply address for its customer (Reply-To of every email to them): a mail to it is the customer's
    reply to what we sent, not a forged From: naming the case."""
    local, _, domain = settings.service_email.partition("@")
    token = hmac.new(settings.secret_key.encode(), f"customer:{ref}".encode(), hashlib.sha256).hexdigest()[:20]
    return f"{local}+{ref.lower()}.{token}@{domain}"


def customer_token_ok(settings: Settings, ref: str, recipients: Iterable[str]) -> bool:
    """True when the mail was sent to this case's reply address for its customer."""
    expected = customer_reply_address(settings, ref).lower()
    return any(hmac.compare_digest(r.lower(), expected) for r in recipients)


def customer_headers(settings: Settings, case: Case, **more: str) -> dict[str, str]:
    """Headers of every email to the customer about a case: their replies come back provably theirs."""
    return {"Reply-To": customer_reply_address(settings, case.ref), **more}


def ref_from_reply_address(recipients: Iterable[str]) -> Optional[str]:
    """The case reference a subaddressed reply names ("luukku+lk-abc123.<token>@…" → "LK-ABC123")."""
    for r in recipients:
        match = re.search(r"\+(lk-[a-z0-9]{6})\.[0-9a-f]{20}@", r.lower())
        if match:
            return match.group(1).upper()
    return None


def staff_headers(settings: Settings, case: Case) -> dict[str, str]:
    """Headers of every email to staff about a case: replies go to the case's secret reply address."""
    return {"Reply-To": reply_address(settings, case.ref)}


def to_staff(session: Session, settings: Settings, person: Specialist, case: Case, *, key: str,
             what: tuple[str, dict], body: tuple[str, dict], more: str = "", now=None) -> None:
    """Email a specialist about a case in their language: what happened (a message id and its values) in the subject,
    the contact details, the due date, the link."""
    language = staff_language(session, person=person)
    link = f"{settings.public_base_url.rstrip('/')}/staff/cases/{case.ref}"
    text = texts.say(body[0], language, **body[1]) + (f"\n\n{more}" if more else "")
    enqueue(session, key=key, kind="email", recipient=person.email,
            subject=staff_subject(session, settings, case, texts.say(what[0], language, **what[1]), language),
            body=f"{text}\n\n{case_facts(session, settings, case, language)}\n\n{link}", case_id=case.id,
            headers=staff_headers(settings, case), now=now)

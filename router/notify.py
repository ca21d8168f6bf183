"""Telling people: the customer on their own channel, staff by email; always through the outbox."""
from __future__ import annotations

from typing import Optional

from sqlalchemy.orm import Session

from .config import Settings
from .models import Case, Conversation, Specialist
from .outbox import enqueue


def customer_channel(session: Session, case: Case) -> Optional[tuple[str, str]]:
    """("sms"|"email", address) for this customer: the channel they came on where it can carry a message."""
    conv = session.get(Conversation, case.conversation_id) if case.conversation_id else None
    if case.channel in ("sms", "voice") and case.customer_phone:
        return "sms", case.customer_phone
    if case.channel == "email" and (case.customer_email or (conv and conv.address)):
        return "email", case.customer_email or conv.address
    if case.customer_email:
        return "email", case.customer_email
    if case.customer_phone:
        return "sms", case.customer_phone
    return None


def to_customer(session: Session, settings: Settings, case: Case, *, key: str, text: str, subject: str = "",
                automated: bool = True) -> Optional[str]:
    """Queue a message to the customer; the channel used, or None when we have no way to reach them."""
    reach = customer_channel(session, case)
    if reach is None:
        return None
    kind, address = reach
    headers = {"automated": "1"} if kind == "sms" and automated else {}
    if kind == "email" and automated:
        headers["Auto-Submitted"] = "auto-generated"
    enqueue(session, key=key, kind=kind, recipient=address, body=text, subject=subject or f"[{case.ref}]",
            case_id=case.id, headers=headers)
    return kind


def to_staff(session: Session, settings: Settings, person: Specialist, case: Case, *, key: str, subject: str,
             body: str) -> None:
    """Email a specialist about a case, with the link to it."""
    link = f"{settings.public_base_url.rstrip('/')}/staff/cases/{case.ref}"
    enqueue(session, key=key, kind="email", recipient=person.email, subject=f"[{case.ref}] {subject}",
            body=f"{body}\n\n{link}", case_id=case.id, headers={"Reply-To": settings.service_email})

"""Accessibility feedback: the form on /accessibility becomes a case for the accessibility contact, with the law's
14-day deadline, answered through the same thread (the customer's email or number)."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Optional

from sqlalchemy.orm import Session

from router.casework.handoff import ACCESSIBILITY, ACCESSIBILITY_DAYS, HandoffRequest, HandoffResult, hand_off
from router.config import Settings
from router.inbound import conversation

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_TEXT = 4000


class FeedbackError(ValueError):
    """A form the service cannot act on; `field` and `key` name the problem for the page."""

    def __init__(self, message: str, field: str, key: str) -> None:
        super().__init__(message)
        self.field, self.key = field, key


def contact_of(text: str) -> tuple[Optional[str], Optional[str]]:
    """(email, phone) from what the visitor typed as their contact."""
    text = " ".join(text.split())
    if EMAIL.match(text):
        return text, None
    if re.fullmatch(r"\+?[\d\s()-]{7,20}", text) and len(re.sub(r"\D", "", text)) >= 7:
        return None, text
    return None, None


def submit(session: Session, settings: Settings, *, text: str, name: str, contact: str, language: str,
           now: datetime) -> HandoffResult:
    """Store the feedback as the visitor's message and hand it to the accessibility contact."""
    text = text.strip()
    if not text:
        raise FeedbackError("write what did not work", "message", "feedback_empty")
    email, phone = contact_of(contact)
    if email is None and phone is None:
        raise FeedbackError("give an email address or a phone number for the answer", "contact", "feedback_contact")
    conv = conversation.start(session, channel="web", language=language, now=now)
    conversation.record(session, conv, text[:MAX_TEXT], direction="in", author="customer", now=now)
    return hand_off(session, settings, HandoffRequest(
        idempotency_key=f"accessibility:{conv.public_id}", topic=ACCESSIBILITY, language=language, channel="web",
        conversation_id=conv.id, customer_name=name.strip()[:120] or None, email=email, phone=phone,
        summary=text[:5000], kind="feedback", due_days=ACCESSIBILITY_DAYS,
        specialist_key=settings.accessibility_contact or None), now)

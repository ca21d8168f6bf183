"""Rules against SMS pumping and mail bombing: which numbers texts may go to and how many, per number, per hour
and per email address.

Every text to a number the service has not verified (no Twilio-signed message or call came from it) is under the
policy, whoever sends it: a confirmation, a survey, a specialist's reply typed on the case page or relayed from
email. Emails to an address that is neither staff nor verified (no mail came from it) are capped per day.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

import phonenumbers
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from router.config import Settings
from router.storage.models import Conversation, OutboxMessage, Specialist, User


def country_of(number: str) -> Optional[str]:
    """The ISO country of an E.164 number ("+358…" → "FI"), or None when it is not a valid number."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.region_code_for_number(parsed)


def refusal(number: str, countries: frozenset[str], sent_today: int, per_day: int) -> Optional[str]:
    """Why an SMS must not go to this unverified number (pure: counts are passed in), or None."""
    country = country_of(number)
    if country is None:
        return "not a valid phone number"
    if country not in countries:
        return f"country {country} is not in SMS_ALLOWED_COUNTRIES"
    if sent_today >= per_day:
        return f"already {sent_today} SMS to this number today (SMS_PER_NUMBER_PER_DAY)"
    return None


def email_refusal(sent_today: int, per_day: int) -> Optional[str]:
    """Why one more email must not go to this unverified address today (pure), or None."""
    if sent_today >= per_day:
        return f"already {sent_today} emails to this address today (EMAIL_PER_ADDRESS_PER_DAY)"
    return None


@dataclass(frozen=True)
class SmsPolicy:
    """The settings' limits, checked by the outbox right before a text or an email is sent."""

    countries: frozenset[str]
    per_day: int
    hourly_budget: int
    emails_per_day: int = 10

    @classmethod
    def from_settings(cls, settings: Settings) -> "SmsPolicy":
        return cls(settings.sms_countries, settings.sms_per_number_per_day, settings.sms_hourly_budget,
                   settings.email_per_address_per_day)

    def applies(self, session: Session, row: OutboxMessage) -> bool:
        """Whether this SMS is under the policy: automated, or to a number no signed message or call came from."""
        if row.automated:
            return True
        verified = session.scalar(select(Conversation.id).where(
            Conversation.channel.in_(("sms", "voice")), Conversation.address == row.recipient).limit(1))
        return verified is None

    def _sent_since(self, session: Session, since: datetime, recipient: Optional[str] = None,
                    kind: str = "sms") -> int:
        query = select(func.count(OutboxMessage.id)).where(
            OutboxMessage.kind == kind, OutboxMessage.status == "sent", OutboxMessage.sent_at >= since)
        if kind == "sms":
            query = query.where(OutboxMessage.automated.is_(True))
        if recipient is not None:
            query = query.where(OutboxMessage.recipient == recipient)
        return session.scalar(query) or 0

    def refuse_email(self, session: Session, recipient: str, now: datetime) -> Optional[str]:
        """Why an email must not go to this address now: only to addresses that are neither staff nor verified."""
        address = recipient.strip().lower()
        known = session.scalar(select(User.id).where(func.lower(User.email) == address).limit(1)) or \
            session.scalar(select(Specialist.id).where(func.lower(Specialist.email) == address).limit(1)) or \
            session.scalar(select(Conversation.id).where(Conversation.channel == "email",
                                                         Conversation.address == address).limit(1))
        if known:
            return None
        return email_refusal(self._sent_since(session, now - timedelta(days=1), recipient, kind="email"),
                             self.emails_per_day)

    def refuse(self, session: Session, recipient: str, now: datetime) -> Optional[str]:
        return refusal(recipient, self.countries, self._sent_since(session, now - timedelta(days=1), recipient),
                       self.per_day)

    def over_budget(self, session: Session, now: datetime) -> bool:
        return self._sent_since(session, now - timedelta(hours=1)) >= self.hourly_budget

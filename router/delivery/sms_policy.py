"""Rules against SMS pumping: which numbers automated texts may go to, and how many, per number and per hour."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

import phonenumbers
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from router.config import Settings
from router.models import OutboxMessage


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
    """Why an automated SMS must not go to this number (pure: counts are passed in), or None."""
    country = country_of(number)
    if country is None:
        return "not a valid phone number"
    if country not in countries:
        return f"country {country} is not in SMS_ALLOWED_COUNTRIES"
    if sent_today >= per_day:
        return f"already {sent_today} automated SMS to this number today (SMS_PER_NUMBER_PER_DAY)"
    return None


@dataclass(frozen=True)
class SmsPolicy:
    """The settings' limits, checked by the outbox right before an automated SMS is sent."""

    countries: frozenset[str]
    per_day: int
    hourly_budget: int

    @classmethod
    def from_settings(cls, settings: Settings) -> "SmsPolicy":
        return cls(settings.sms_countries, settings.sms_per_number_per_day, settings.sms_hourly_budget)

    def _sent_since(self, session: Session, since: datetime, recipient: Optional[str] = None) -> int:
        query = select(func.count(OutboxMessage.id)).where(
            OutboxMessage.kind == "sms", OutboxMessage.automated.is_(True), OutboxMessage.status == "sent",
            OutboxMessage.sent_at >= since)
        if recipient is not None:
            query = query.where(OutboxMessage.recipient == recipient)
        return session.scalar(query) or 0

    def refuse(self, session: Session, recipient: str, now: datetime) -> Optional[str]:
        return refusal(recipient, self.countries, self._sent_since(session, now - timedelta(days=1), recipient),
                       self.per_day)

    def over_budget(self, session: Session, now: datetime) -> bool:
        return self._sent_since(session, now - timedelta(hours=1)) >= self.hourly_budget

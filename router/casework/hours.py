"""The office's hours as customers hear them: closed now, and when a person is back (the promise's calendar)."""
from __future__ import annotations

from datetime import datetime, time, timezone
from typing import Optional
from zoneinfo import ZoneInfo

from router import texts
from router.casework import promise
from router.config import Settings


def opening_hours(settings: Settings) -> tuple[time, time]:
    return time.fromisoformat(settings.working_day_starts), time.fromisoformat(settings.working_day_ends)


def back_at(settings: Settings, now: datetime) -> datetime:
    """When a person is next in (naive UTC; `now` while the office is open)."""
    opens, closes = opening_hours(settings)
    return promise.next_open(now, tz=settings.timezone, opens=opens, closes=closes, closed_days=settings.closed_days)


def when_text(settings: Settings, moment: datetime, language: str) -> dict[str, str]:
    """{day, time} of a moment as customers read them: "ma 7.12.2026", "9.00" ("9:00" in English)."""
    local = moment.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(settings.timezone))
    clock = f"{local.hour}:{local.minute:02d}" if language == "en" else f"{local.hour}.{local.minute:02d}"
    return {"day": promise.format_day(local.date(), language), "time": clock}


def closed_notice(settings: Settings, language: str, now: datetime) -> Optional[str]:
    """"The office is closed; people are back …" while it is closed, else None."""
    back = back_at(settings, now)
    if back <= now:
        return None
    return texts.say("office_closed", language, **when_text(settings, back, language))

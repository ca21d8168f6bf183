"""Who helps: a pure choice of the named specialist for a topic and language."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Callable, Mapping, Optional, Sequence

GENERAL = "general"
DAY_KEYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@dataclass(frozen=True)
class Candidate:
    """What routing needs to know of a specialist."""

    key: str
    topics: tuple[str, ...]
    languages: tuple[str, ...]
    absences: tuple[tuple[date, date], ...] = ()
    deputy: Optional[str] = None
    working_hours: Mapping[str, Sequence[str]] = field(default_factory=dict)


def is_absent(c: Candidate, start: date, end: date) -> bool:
    """Away at any time between `start` and `end` (the promise period)."""
    return any(a_start <= end and start <= a_end for a_start, a_end in c.absences)


def is_working_now(c: Candidate, local_now: datetime) -> bool:
    """Within the specialist's working hours (for live calls), and not absent today."""
    if is_absent(c, local_now.date(), local_now.date()):
        return False
    hours = c.working_hours.get(DAY_KEYS[local_now.weekday()])
    if not hours:
        return False
    start, end = (time.fromisoformat(h) for h in hours)
    return start <= local_now.time() < end


def choose(candidates: Sequence[Candidate], topic: str, language: str, period: tuple[date, date],
           open_cases: Mapping[str, int]) -> Optional[Candidate]:
    """Topic, then language, then availability (absent → deputy), then fewest open cases.

    Ties go to whoever lists the topic first (their main field), then by key, so the choice is stable.
    Falls back to the general service desk, and returns None only when the directory is empty.
    """
    by_key = {c.key: c for c in candidates}

    def available(c: Candidate) -> bool:
        return not is_absent(c, *period)

    def pick(pool: Sequence[Candidate], wanted: str = GENERAL) -> Optional[Candidate]:
        if not pool:
            return None
        return min(pool, key=lambda c: (open_cases.get(c.key, 0), c.topics[:1] != (wanted,), c.key))

    for wanted in (topic, GENERAL):
        serving = [c for c in candidates if wanted in c.topics]
        speaking = [c for c in serving if language in c.languages] or serving
        chosen = pick([c for c in speaking if available(c)], wanted)
        if chosen:
            return chosen
        # Everyone for this topic is away: their deputies step in, before the service desk does.
        deputies = [by_key[c.deputy] for c in speaking if c.deputy in by_key and available(by_key[c.deputy])]
        chosen = pick(deputies, wanted)
        if chosen:
            return chosen
    return pick(list(candidates))


def next_working(c: Candidate, local_now: datetime, open_day: Callable[[date], bool],
                 horizon_days: int = 31) -> Optional[datetime]:
    """When the specialist is next at work (local time): now if they are; None if not within the horizon.

    `open_day`: whether the office works that day (the promise's calendar: weekends, holidays, closed days).
    """
    if is_working_now(c, local_now) and open_day(local_now.date()):
        return local_now
    for offset in range(horizon_days + 1):
        day = local_now.date() + timedelta(days=offset)
        hours = c.working_hours.get(DAY_KEYS[day.weekday()])
        if not hours or not open_day(day) or is_absent(c, day, day):
            continue
        start = datetime.combine(day, time.fromisoformat(hours[0]))
        if start > local_now:
            return start
    return None

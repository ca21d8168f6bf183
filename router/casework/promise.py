"""The service promise: a matter is taken up within two working days. Pure functions, `now` passed in."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Iterable
from zoneinfo import ZoneInfo

import holidays


@lru_cache(maxsize=64)
def _finnish_holidays(year: int) -> frozenset[date]:
    # The package's FI calendar includes Midsummer Eve and Christmas Eve, which are days off here too.
    return frozenset(holidays.country_holidays("FI", years=year).keys())


def is_working_day(day: date, closed_days: Iterable[date] = ()) -> bool:
    """Monday to Friday, not a Finnish public holiday, not one of the agency's own closed days."""
    return day.weekday() < 5 and day not in _finnish_holidays(day.year) and day not in set(closed_days)


def add_working_days(start: date, count: int, closed_days: Iterable[date] = ()) -> date:
    """The `count`th working day after `start` (the contact day itself never counts)."""
    closed = frozenset(closed_days)
    day = start
    remaining = count
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day, closed):
            remaining -= 1
    return day


def due_at(contact: datetime, *, tz: str = "Europe/Helsinki", working_days: int = 2,
           closed_days: Iterable[date] = (), day_ends: time = time(16, 0)) -> datetime:
    """When a matter contacted at `contact` (naive UTC) must be taken up, as naive UTC."""
    zone = ZoneInfo(tz)
    local = contact.replace(tzinfo=timezone.utc).astimezone(zone)
    due_day = add_working_days(local.date(), working_days, closed_days)
    due_local = datetime.combine(due_day, day_ends, tzinfo=zone)
    return due_local.astimezone(timezone.utc).replace(tzinfo=None)


def local_date(moment: datetime, tz: str = "Europe/Helsinki") -> date:
    """The calendar date in the agency's time zone of a naive UTC moment."""
    return moment.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz)).date()


WEEKDAYS = {
    "fi": ["ma", "ti", "ke", "to", "pe", "la", "su"],
    "sv": ["mån", "tis", "ons", "tor", "fre", "lör", "sön"],
    "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
}
MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def format_day(day: date, language: str) -> str:
    """A date as customers read it: "ti 1.12.2026", "tis 1.12.2026", "Tue 1 Dec 2026"."""
    weekday = WEEKDAYS.get(language, WEEKDAYS["fi"])[day.weekday()]
    if language == "en":
        return f"{weekday} {day.day} {MONTHS_EN[day.month - 1]} {day.year}"
    return f"{weekday} {day.day}.{day.month}.{day.year}"


def is_open(local: datetime, opens: time, closes: time, closed_days: Iterable[date] = ()) -> bool:
    """The office is staffed at this local time: a working day, between opening and closing."""
    return is_working_day(local.date(), closed_days) and opens <= local.time() < closes


def next_open(now: datetime, *, tz: str = "Europe/Helsinki", opens: time = time(9, 0), closes: time = time(16, 0),
              closed_days: Iterable[date] = ()) -> datetime:
    """When a person is next in (naive UTC): now if the office is open, else the next working day's opening."""
    zone = ZoneInfo(tz)
    local = now.replace(tzinfo=timezone.utc).astimezone(zone).replace(tzinfo=None)
    if is_open(local, opens, closes, closed_days):
        return now
    day = local.date() if local.time() < opens and is_working_day(local.date(), closed_days) else \
        add_working_days(local.date(), 1, closed_days)
    return datetime.combine(day, opens, tzinfo=zone).astimezone(timezone.utc).replace(tzinfo=None)

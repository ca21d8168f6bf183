"""Proactive encounters and events (the board's first target): recorded by staff in the UI, through the API, or
imported from the city's CRM as CSV; each with its company's business ID checked."""
from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import date, datetime, timedelta
from typing import Any, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from router.casework import directory
from router.delivery import events
from router.impact.rollups import ACTIVITY_KINDS as KINDS  # one list for the rollups and here
from router.plan import FieldError, registry
from router.storage.models import Activity, Specialist
from router.storage.store import insert_ignore

_BUSINESS_ID = re.compile(r"^(\d{6,7})-(\d)$")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2)


class ActivityError(FieldError):
    """What is wrong with an activity, said so that the person entering it can fix it."""


def business_id(value: Optional[str]) -> Optional[str]:
    """A Finnish business ID (Y-tunnus) as "1234567-8" when its check digit is right, else None.

    The check digit: the seven digits weighted 7, 9, 10, 5, 8, 4, 2, summed, modulo 11; a remainder of 0 gives 0,
    1 is never issued, otherwise 11 minus it. Old six-digit IDs get their leading zero.
    """
    match = _BUSINESS_ID.match((value or "").strip())
    if not match:
        return None
    digits = match.group(1).zfill(7)
    remainder = sum(int(d) * w for d, w in zip(digits, _WEIGHTS)) % 11
    if remainder == 1:
        return None
    expected = 0 if remainder == 0 else 11 - remainder
    return f"{digits}-{expected}" if int(match.group(2)) == expected else None


_IN_TEXT = re.compile(r"(?<![\d-])(\d{6,7}-\d)(?![\d-])")


def business_id_in(text: Optional[str]) -> Optional[str]:
    """The first valid business ID written in a text ("Esimerkki Oy, 1234567-8"), or None."""
    for found in _IN_TEXT.findall(text or ""):
        checked = business_id(found)
        if checked:
            return checked
    return None


def given_business_id(value: str, error: type[FieldError]) -> Optional[str]:
    """The business ID a form or the API gave, checked; None when none was given; `error` when it is not one."""
    if not value.strip():
        return None
    checked = business_id(value)
    if checked is None:
        raise error("business_id is not a valid Finnish business ID (1234567-8, check digit)", "business_id",
                    "business_id")
    return checked


def company_for(session: Session, settings: Any, business_id_text: str, company: str,
                now: datetime) -> tuple[str, Optional[registry.Lookup]]:
    """The company's name as typed, or, when only a valid business ID was given, as the trade register has it; and
    what the register said (None when it was not asked)."""
    checked = business_id(business_id_text) if business_id_text.strip() else None
    if company.strip() or checked is None:
        return company, None
    looked = registry.find(session, settings, checked, now)
    return (looked.company.name if looked.company else ""), looked


def record(session: Session, *, kind: str, day: date, company: str = "", business_id_text: str = "",
           topic: Optional[str] = None, participants: Optional[int] = None, note: str = "", user: Any = None,
           specialist_key: Optional[str] = None, source: str = "ui", external_id: Optional[str] = None,
           now: datetime) -> Optional[Activity]:
    """Check and store one activity in the caller's transaction; None when `external_id` was already imported."""
    if kind not in KINDS:
        raise ActivityError(f"kind must be one of {', '.join(KINDS)}", "kind", "choose")
    if not date(2000, 1, 1) <= day <= now.date() + timedelta(days=366):  # planned events may be recorded ahead
        raise ActivityError("date is not a plausible day", "date", "date")
    checked = given_business_id(business_id_text, ActivityError)
    if not company.strip() and checked is None and kind != "event":
        raise ActivityError("give the company's name or business ID", "company", "company")
    topics = {t.key for t in directory.topic_labels(session)}
    if topic and topic not in topics:
        raise ActivityError(f"topic must be one of {', '.join(sorted(topics))}", "topic", "choose")
    if participants is not None and not 1 <= participants <= 100_000:
        raise ActivityError("participants is a number from 1 to 100000", "participants", "whole", low=1,
                            high=100_000)
    specialist_id = getattr(user, "specialist_id", None)
    if specialist_key:
        person = session.scalar(select(Specialist).where(Specialist.key == specialist_key))
        if person is None:
            raise ActivityError(f"unknown specialist {specialist_key}", "specialist", "choose")
        specialist_id = person.id
    values = dict(kind=kind, day=day, company=company.strip()[:200], business_id=checked, topic=topic or None,
                  participants=participants, note=note.strip()[:2000], specialist_id=specialist_id,
                  user_id=getattr(user, "id", None), source=source, external_id=external_id, created_at=now)
    new_id = insert_ignore(session, Activity, values)
    if new_id is None:
        return None
    made = session.get_one(Activity, new_id)
    facts = {k: v for k, v in as_dict(made).items() if k != "note"}
    events.emit(session, "activity.created", facts, now, words={"note": made.note})
    return made


def as_dict(activity: Activity) -> dict[str, Any]:
    return {"id": activity.id, "kind": activity.kind, "date": activity.day.isoformat(), "company": activity.company,
            "business_id": activity.business_id, "topic": activity.topic, "participants": activity.participants,
            "note": activity.note, "source": activity.source}


CSV_COLUMNS = ("kind", "date", "company", "business_id", "topic", "participants", "note", "specialist")


def import_csv(session: Session, text: str, now: datetime, user: Any = None,
               months: Optional[set] = None) -> tuple[int, int, list[str]]:
    """Import the CRM's CSV (CSV_COLUMNS, an optional `id`); (added, already there, errors by line).

    `months` collects the months of the rows added (their figures are then recomputed).

    A row's `id`, or the hash of its content, makes a second import of the same file add nothing.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in ("kind", "date") if c not in (reader.fieldnames or [])]
    if missing:
        raise ActivityError(f"the CSV needs the columns {', '.join(CSV_COLUMNS)} (missing: {', '.join(missing)})",
                            "file", "required")
    added = skipped = 0
    errors: list[str] = []
    for line, row in enumerate(reader, start=2):
        row = {k: (v or "").strip() for k, v in row.items() if k}
        key = row.get("id") or hashlib.sha256("\x1f".join(row.get(c, "") for c in CSV_COLUMNS).encode()).hexdigest()
        try:
            day = date.fromisoformat(row["date"])
            people = int(row["participants"]) if row.get("participants") else None
            stored = record(session, kind=row["kind"], day=day, company=row.get("company", ""),
                            business_id_text=row.get("business_id", ""), topic=row.get("topic") or None,
                            participants=people, note=row.get("note", ""), user=user,
                            specialist_key=row.get("specialist") or None, source="csv",
                            external_id=f"csv:{key}"[:80], now=now)
        except (ActivityError, ValueError) as exc:
            errors.append(f"line {line}: {exc}")
            continue
        added, skipped = (added + 1, skipped) if stored is not None else (added, skipped + 1)
        if stored is not None and months is not None:
            months.add(day.strftime("%Y-%m"))
    return added, skipped, errors


"""The directory of topics and specialists: loaded from YAML, read for routing and for people's pages."""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from router.casework.routing import DAY_KEYS, Candidate, choose
from router.storage.models import Case, Specialist, Topic

LANGUAGES = ("fi", "sv", "en")


class DirectoryError(ValueError):
    """The directory file is not usable; the message says where."""


def _notify_by(raw: dict[str, Any], where: str) -> str:
    value = str(raw.get("notify") or "email")
    if value not in ("email", "sms"):
        raise DirectoryError(f"{where}: notify is email or sms")
    if value == "sms" and not raw.get("phone"):
        raise DirectoryError(f"{where}: notify: sms needs a phone")
    return value


def _check_specialist(raw: dict[str, Any], topics: set[str]) -> dict[str, Any]:
    where = f"specialist {raw.get('key', '?')!r}"
    for required in ("key", "name", "title", "email", "topics", "languages"):
        if not raw.get(required):
            raise DirectoryError(f"{where}: '{required}' is required")
    unknown = set(raw["topics"]) - topics
    if unknown:
        raise DirectoryError(f"{where}: unknown topics {sorted(unknown)}")
    title = raw["title"] if isinstance(raw["title"], dict) else {lang: raw["title"] for lang in LANGUAGES}
    hours = raw.get("working_hours") or {}
    if set(hours) - set(DAY_KEYS):
        raise DirectoryError(f"{where}: working_hours days are {DAY_KEYS}")
    absences = []
    for pair in raw.get("absences") or []:
        start, end = (date.fromisoformat(str(d)) for d in pair)
        if end < start:
            raise DirectoryError(f"{where}: absence ends before it starts")
        absences.append([start.isoformat(), end.isoformat()])
    return {
        "key": str(raw["key"]), "name": str(raw["name"]), "titles": title, "email": str(raw["email"]),
        "phone": str(raw["phone"]) if raw.get("phone") else None, "topics": list(raw["topics"]),
        "languages": list(raw["languages"]), "working_hours": {d: list(v) for d, v in hours.items()},
        "absences": absences, "deputy_key": raw.get("deputy"), "active": bool(raw.get("active", True)),
        "team": str(raw.get("team") or ""),
        "notify_by": _notify_by(raw, where),
    }


def parse(text: str) -> tuple[dict[str, dict[str, str]], list[dict[str, Any]]]:
    """Topics and specialists from the YAML text, checked."""
    data = yaml.safe_load(text) or {}
    topics = data.get("topics") or {}
    if "general" not in topics:
        raise DirectoryError("the topic 'general' (the service desk) is required")
    specialists = [_check_specialist(s, set(topics)) for s in data.get("specialists") or []]
    keys = {s["key"] for s in specialists}
    for s in specialists:
        if s["deputy_key"] and s["deputy_key"] not in keys:
            raise DirectoryError(f"specialist {s['key']!r}: deputy {s['deputy_key']!r} is not in the directory")
    if not any("general" in s["topics"] for s in specialists):
        raise DirectoryError("at least one specialist must serve 'general', so no case is ever dropped")
    return topics, specialists


def load(session: Session, path: Path) -> tuple[int, int]:
    """Replace the directory with the file's: upsert by key; people no longer listed become inactive."""
    return load_text(session, Path(path).read_text(encoding="utf-8"))


def load_text(session: Session, text: str) -> tuple[int, int]:
    """The same from YAML text (the admin page's import); nothing changes if the text is refused."""
    topics, specialists = parse(text)
    for position, (key, labels) in enumerate(topics.items()):
        topic = session.get(Topic, key) or Topic(key=key)
        topic.labels, topic.position = dict(labels), position
        session.add(topic)
    existing = {s.key: s for s in session.scalars(select(Specialist))}
    for values in specialists:
        row = existing.pop(values["key"], None) or Specialist()
        for name, value in values.items():
            setattr(row, name, value)
        session.add(row)
    for gone in existing.values():
        gone.active = False
    return len(topics), len(specialists)


def topic_labels(session: Session) -> list[Topic]:
    """Topics in menu order."""
    return list(session.scalars(select(Topic).order_by(Topic.position)))


def candidates(session: Session) -> list[tuple[Specialist, Candidate]]:
    """Active specialists with their routing view."""
    rows = session.scalars(select(Specialist).where(Specialist.active.is_(True)).order_by(Specialist.key))
    return [(s, to_candidate(s)) for s in rows]


def to_candidate(s: Specialist) -> Candidate:
    return Candidate(
        key=s.key, topics=tuple(s.topics), languages=tuple(s.languages),
        absences=tuple((date.fromisoformat(a), date.fromisoformat(b)) for a, b in s.absences),
        deputy=s.deputy_key, working_hours=s.working_hours,
    )


def open_case_counts(session: Session) -> dict[str, int]:
    """Open cases per specialist key, for balancing."""
    rows = session.execute(
        select(Specialist.key, func.count(Case.id)).join(Case, Case.specialist_id == Specialist.id)
        .where(Case.status.in_(("open", "taken_up"))).group_by(Specialist.key))
    return {key: count for key, count in rows}


def choose_for(people: list[tuple[Specialist, Candidate]], topic: str, language: str, period: tuple[date, date],
               open_cases: dict[str, int], exclude: str | None = None) -> Specialist:
    """The named specialist (a row) by the routing rules; `exclude` skips someone handing a case on."""
    pool = [(s, c) for s, c in people if c.key != exclude] or people
    chosen = choose([c for _, c in pool], topic, language, period, open_cases)
    return next(s for s, c in pool if c is chosen)

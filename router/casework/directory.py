"""The directory of topics and specialists: loaded from YAML, read for routing and for people's pages."""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from router import schemas
from router.casework.routing import Candidate, choose
from router.storage.models import Case, Partner, Specialist, Topic

LANGUAGES = ("fi", "sv", "en")


class DirectoryError(ValueError):
    """The directory file is not usable; the message says where."""


def parse(text: str) -> tuple[dict[str, dict[str, str]], list[dict[str, Any]]]:
    """Topics and specialists from the YAML text, checked."""
    topics, specialists, _ = parse_all(text)
    return topics, specialists


def parse_all(text: str) -> tuple[dict[str, dict[str, str]], list[dict[str, Any]], list[schemas.Partner]]:
    """Topics, specialists and partners from the YAML text, checked."""
    data = yaml.safe_load(text) or {}
    topics = data.get("topics") or {}
    if "general" not in topics:
        raise DirectoryError("the topic 'general' (the service desk) is required")
    entries = []
    for raw in data.get("specialists") or []:
        where = f"specialist {raw.get('key', '?')!r}" if isinstance(raw, dict) else "a specialist"
        try:
            entries.append(schemas.Specialist.model_validate(raw))
        except ValidationError as exc:
            raise DirectoryError(f"{where}: {schemas.specialist_errors(exc)[0][1]}") from exc
    keys = {e.key for e in entries}
    for entry in entries:
        for _field, what in entry.in_directory(set(topics), keys):
            raise DirectoryError(f"specialist {entry.key!r}: {what}")
    specialists = [e.row() for e in entries]
    if not any("general" in s["topics"] for s in specialists):
        raise DirectoryError("at least one specialist must serve 'general', so no case is ever dropped")
    partners = []
    for raw in data.get("partners") or []:
        where = f"partner {raw.get('key', '?')!r}" if isinstance(raw, dict) else "a partner"
        try:
            partner = schemas.Partner.model_validate(raw)
        except ValidationError as exc:
            raise DirectoryError(f"{where}: {schemas.specialist_errors(exc)[0][1]}") from exc
        if set(partner.topics) - set(topics):
            raise DirectoryError(f"{where}: unknown topics {sorted(set(partner.topics) - set(topics))}")
        partners.append(partner)
    if len({p.key for p in partners}) < len(partners):
        raise DirectoryError("partners: a key is used twice")
    return topics, specialists, partners


def load(session: Session, path: Path) -> tuple[int, int]:
    """Replace the directory with the file's: upsert by key; people no longer listed become inactive."""
    return load_text(session, Path(path).read_text(encoding="utf-8"))


def load_text(session: Session, text: str) -> tuple[int, int]:
    """The same from YAML text (the admin page's import); nothing changes if the text is refused."""
    topics, specialists, partners = parse_all(text)
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
    known = {p.key: p for p in session.scalars(select(Partner))}
    for entry in partners:
        partner = known.pop(entry.key, None) or Partner(key=entry.key)
        for name, value in entry.model_dump().items():
            setattr(partner, name, value)
        session.add(partner)
    for gone_partner in known.values():  # referrals made to them keep their name
        gone_partner.active = False
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

"""The worker's side of the promise: remind on the due morning, escalate on breach. Timers live in the database."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from typing import Optional
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from router import texts
from router.config import Settings
from router.delivery import notify
from router.delivery.outbox import enqueue
from router.storage.models import Case, CaseEvent, Specialist, User
from router.storage.store import changed

MORNING = time(8, 0)


def due_actions(*, due_at: datetime, taken_up: bool, reminded: bool, escalated: bool, now: datetime,
                tz: str = "Europe/Helsinki") -> list[str]:
    """Which of "remind" and "escalate" are due now for one case (pure; all times naive UTC)."""
    if taken_up:
        return []
    actions = []
    zone = ZoneInfo(tz)
    local_now = now.replace(tzinfo=timezone.utc).astimezone(zone)
    due_day = due_at.replace(tzinfo=timezone.utc).astimezone(zone).date()
    if not reminded and now < due_at and (local_now.date() > due_day or
                                         (local_now.date() == due_day and local_now.time() >= MORNING)):
        actions.append("remind")
    if not escalated and now > due_at:
        actions.append("escalate")
    return actions


def _claim(session: Session, case_id: int, column, now: datetime) -> bool:
    # Compare-and-set on the timer column: with several workers, one of them acts.
    return changed(session, update(Case).where(Case.id == case_id, column.is_(None)).values({column: now})) == 1


def keep(session: Session, settings: Settings, now: datetime) -> dict[str, int]:
    """Act on every open case whose timers are due; safe to run from any number of workers."""
    counts = {"remind": 0, "escalate": 0}
    horizon = now + timedelta(days=1)
    cases = session.scalars(select(Case).where(Case.status == "open", Case.due_at <= horizon,
                                               (Case.reminded_at.is_(None)) | (Case.escalated_at.is_(None)))
                            .order_by(Case.due_at).limit(500)).all()
    for case in cases:
        for action in due_actions(due_at=case.due_at, taken_up=case.taken_up_at is not None,
                                  reminded=case.reminded_at is not None, escalated=case.escalated_at is not None,
                                  now=now, tz=settings.timezone):
            if action == "remind" and _claim(session, case.id, Case.reminded_at, now):
                _remind(session, settings, case, now)
            elif action == "escalate" and _claim(session, case.id, Case.escalated_at, now):
                _escalate(session, settings, case, now)
            else:
                continue
            counts[action] += 1
        session.commit()
    return counts


def _responsible(session: Session, case: Case) -> list[Specialist]:
    """The current specialist and, until take-up, whoever had the case first."""
    people = [case.specialist]
    if case.first_specialist_id and case.first_specialist_id != case.specialist_id:
        first: Optional[Specialist] = session.get(Specialist, case.first_specialist_id)
        if first:
            people.append(first)
    return people


def _remind(session: Session, settings: Settings, case: Case, now: datetime) -> None:
    for person in _responsible(session, case):
        notify.to_staff(session, settings, person, case, key=f"remind:{case.ref}:{person.key}",
                        what=("mail.reminder", {}), body=("mail.reminder_body", {}), more=case.summary or "",
                        now=now)
    session.add(CaseEvent(case_id=case.id, kind="reminder", created_at=now))


def _escalate(session: Session, settings: Settings, case: Case, now: datetime) -> None:
    recipients: dict[str, str] = {}
    deputy = session.scalar(select(Specialist).where(Specialist.key == case.specialist.deputy_key)) \
        if case.specialist.deputy_key else None
    if deputy:
        recipients[deputy.email] = deputy.name
    responsible = _responsible(session, case)
    # The leads of the teams responsible: the new specialist's and, after a handover, the first one's. A directory
    # whose teams have no lead of their own (or is one team) sends it to every lead rather than to nobody.
    leads = session.scalars(select(User).where(User.role == "lead", User.active.is_(True))).all()
    teams = {person.team or "" for person in responsible}
    for lead in [lead for lead in leads if (lead.team or "") in teams] or leads:
        recipients[lead.email] = lead.name
    for person in responsible:
        recipients.setdefault(person.email, person.name)
    link = f"{settings.public_base_url.rstrip('/')}/staff/cases/{case.ref}"
    for email in recipients:
        language = notify.staff_language(session, email=email)
        what = texts.say("mail.breached", language, name=case.specialist.name)
        enqueue(session, key=f"escalate:{case.ref}:{email}", kind="email", recipient=email, case_id=case.id,
                subject=notify.staff_subject(session, settings, case, what, language),
                body=f"{texts.say('mail.breached_body', language)}\n\n"
                     f"{notify.case_facts(session, settings, case, language)}\n\n{case.summary}\n\n{link}",
                headers=notify.staff_headers(settings, case), now=now)
    session.add(CaseEvent(case_id=case.id, kind="escalated", text=", ".join(sorted(recipients.values())),
                          created_at=now))

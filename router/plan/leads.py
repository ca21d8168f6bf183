"""The sales pipeline: companies that might locate in the city, from a lead to located (or lost).

Located companies and their jobs are the impact page's "companies locating here" and the board's sales targets.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from router import formats
from router.delivery import events
from router.plan import FieldError
from router.plan.activity import given_business_id
from router.storage.models import Case, Lead

STAGES = ("lead", "contacted", "negotiating", "decided", "located", "lost")
OPEN_STAGES = STAGES[:4]


class PipelineError(FieldError):
    """A lead or a move that cannot be made as given."""


def _number(value: Any, name: str, high: int) -> Optional[int]:
    """A whole number as typed ("3 000 000", "3 000 000 €") or sent (3000000); None when empty."""
    if value in (None, ""):
        return None
    number = formats.parse_number(str(value))
    if number is None or number != int(number) or not 0 <= number <= high:
        raise PipelineError(f"{name} is a whole number from 0 to {high}", name, "whole", low=0, high=high)
    return int(number)


def add(session: Session, *, company: str, sector: str = "", jobs: Any = None, investment_eur: Any = None,
        plot_interest: str = "", business_id: str = "", note: str = "", owner: Any = None,
        case: Optional[Case] = None, now: datetime) -> Lead:
    """A new lead in the caller's transaction; from a case, once (the same case gives the same lead)."""
    if case is not None:
        existing = session.scalar(select(Lead).where(Lead.case_id == case.id))
        if existing is not None:
            return existing
    company = company.strip()
    if not company:
        raise PipelineError("give the company's name", "company", "required")
    checked = given_business_id(business_id, PipelineError)
    lead = Lead(company=company[:200], business_id=checked, sector=sector.strip()[:100],
                jobs=_number(jobs, "jobs", 100_000),
                investment_eur=_number(investment_eur, "investment", 2_000_000_000),
                plot_interest=plot_interest.strip()[:200], note=note.strip()[:4000], stage="lead",
                owner_id=getattr(owner, "id", None), case_id=case.id if case is not None else None,
                created_at=now, stage_changed_at=now)
    session.add(lead)
    session.flush()
    return lead


def from_case(session: Session, case: Case, owner: Any, now: datetime) -> Lead:
    """A plots-and-premises case that is about locating here becomes a lead (the case's company and request)."""
    return add(session, company=case.company or case.customer_name or case.ref, note=case.summary[:1000],
               plot_interest=case.summary.splitlines()[0][:200] if case.summary else "", owner=owner, case=case,
               now=now)


def move(session: Session, lead: Lead, stage: str, today: date, now: datetime, jobs: Any = None) -> None:
    """Move a lead to a stage; "located" dates it today (the day the board counts) and may correct the jobs."""
    if stage not in STAGES:
        raise PipelineError(f"stage is one of {', '.join(STAGES)}", "move_to", "choose")
    if jobs not in (None, ""):
        lead.jobs = _number(jobs, "jobs", 100_000)
    if stage == lead.stage:
        return
    before = lead.stage
    lead.located_on = today if stage == "located" else None
    lead.stage, lead.stage_changed_at = stage, now
    events.emit(session, "lead.stage_changed", {**as_dict(lead), "from_stage": before}, now)


def board(session: Session, where) -> dict[str, list[Lead]]:
    """The leads a user sees, by stage, newest move first."""
    columns: dict[str, list[Lead]] = {s: [] for s in STAGES}
    for lead in session.scalars(select(Lead).where(where).order_by(Lead.stage_changed_at.desc())):
        columns.setdefault(lead.stage, []).append(lead)
    return columns


def located(session: Session, start: date, end: date) -> dict[str, int]:
    """Companies located in [start, end) and their jobs, in one statement (the impact page's figures)."""
    n, jobs = session.execute(select(func.count(), func.coalesce(func.sum(Lead.jobs), 0)).where(
        Lead.stage == "located", Lead.located_on >= start, Lead.located_on < end)).one()
    return {"companies": n, "jobs": int(jobs)}


def summary(session: Session, start: date, end: date) -> dict[str, Any]:
    """The pipeline for a report: open leads by stage now, and what was located or lost in [start, end)."""
    by_stage: dict[str, int] = {stage: n for stage, n in session.execute(
        select(Lead.stage, func.count()).group_by(Lead.stage))}
    located = session.execute(select(func.count(), func.coalesce(func.sum(Lead.jobs), 0),
                                     func.coalesce(func.sum(Lead.investment_eur), 0)).where(
        Lead.stage == "located", Lead.located_on >= start, Lead.located_on < end)).one()
    return {"stages": {s: by_stage.get(s, 0) for s in STAGES}, "located": located[0], "jobs": int(located[1]),
            "investment_eur": int(located[2]),
            "planned_jobs_open": int(session.scalar(select(func.coalesce(func.sum(Lead.jobs), 0))
                                                    .where(Lead.stage.in_(OPEN_STAGES))) or 0)}


def as_dict(lead: Lead) -> dict[str, Any]:
    return {"id": lead.id, "company": lead.company, "business_id": lead.business_id, "sector": lead.sector,
            "jobs": lead.jobs, "investment_eur": lead.investment_eur, "plot_interest": lead.plot_interest,
            "stage": lead.stage, "located_on": lead.located_on.isoformat() if lead.located_on else None}

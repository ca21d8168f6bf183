"""Who may see and change a case: the one authorisation rule that every page and API call goes through."""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import ColumnElement, and_, false, or_, select, true
from sqlalchemy.orm import Session

from router.storage.models import Case, Specialist, User

READ, WRITE, AUDIT = "read", "write", "audit"


def _absent_on(person: Specialist, day: date) -> bool:
    return any(date.fromisoformat(a) <= day <= date.fromisoformat(b) for a, b in person.absences or [])


def covered_by(session: Session, user: User, today: date) -> list[int]:
    """The specialists this user stands in for today: they name the user's directory entry as deputy and are away."""
    if user.specialist is None:
        return []
    people = session.scalars(select(Specialist).where(Specialist.deputy_key == user.specialist.key)).all()
    return [p.id for p in people if _absent_on(p, today)]


def permits(session: Session, user: Optional[User], action: str, case: Case, today: date) -> bool:
    """Whether `user` may `action` ("read", "write" or "audit": see who read it) this case today.

    Admins: everything. Leads: their team's cases (their audit trail too). Specialists: the cases assigned to them
    or to someone they cover while that person is away; whoever handed a case on may still read it (never act on
    it) until the new specialist has taken it up. A specialist account with no directory entry sees nothing.
    """
    if user is None or not user.active:
        return False
    if user.role == "admin":
        return True
    if user.role == "lead":
        return case.specialist is not None and case.specialist.team == user.team
    if action == AUDIT:  # who looked at a case: admins, and leads for their team's cases
        return False
    if user.role != "specialist" or user.specialist_id is None:
        return False
    if case.specialist_id == user.specialist_id or case.specialist_id in covered_by(session, user, today):
        return True
    return action == READ and case.first_specialist_id == user.specialist_id and case.taken_up_at is None


def case_filter(session: Session, user: Optional[User], today: date) -> ColumnElement[bool]:
    """The same rule for reading, as a WHERE clause for case lists."""
    if user is None or not user.active:
        return false()
    if user.role == "admin":
        return true()
    if user.role == "lead":
        team = select(Specialist.id).where(Specialist.team == user.team)
        return Case.specialist_id.in_(team)
    if user.role != "specialist" or user.specialist_id is None:
        return false()
    mine = [user.specialist_id, *covered_by(session, user, today)]
    return or_(Case.specialist_id.in_(mine),
               and_(Case.first_specialist_id == user.specialist_id, Case.taken_up_at.is_(None)))


def reads_whole_audit_trail(user: Optional[User]) -> bool:
    """Only admins see every audit event (sign-ins, admin changes, exports); leads see their team's cases'."""
    return user is not None and user.active and user.role == "admin"


def reads_audit_trail(user: Optional[User]) -> bool:
    """Admins and team leads read the audit trail (leads only their team's cases': `audit_filter`)."""
    return user is not None and user.active and user.role in ("admin", "lead")


def audit_filter(user: Optional[User]) -> ColumnElement[bool]:
    """The audit events this user may read, as a WHERE clause: all for admins, their team's cases' for leads."""
    from router.storage.models import AuditEvent

    if reads_whole_audit_trail(user):
        return true()
    if user is not None and user.active and user.role == "lead":
        team = select(Specialist.id).where(Specialist.team == user.team)
        return AuditEvent.case_ref.in_(select(Case.ref).where(Case.specialist_id.in_(team)))
    return false()


def activity_filter(user: Optional[User]) -> ColumnElement[bool]:
    """The activities a user may list: all for admins, their team's for leads, their own for specialists."""
    from router.storage.models import Activity

    if user is None or not user.active:
        return false()
    if user.role == "admin":
        return true()
    if user.role == "lead":
        return Activity.specialist_id.in_(select(Specialist.id).where(Specialist.team == user.team))
    return or_(Activity.user_id == user.id, Activity.specialist_id == user.specialist_id) \
        if user.specialist_id else Activity.user_id == user.id


def manages_webhooks(user: Optional[User]) -> bool:
    """Only admins send the service's events to another system: a receiver may get every case's facts."""
    return user is not None and user.active and user.role == "admin"


def manages_campaigns(user: Optional[User]) -> bool:
    """Only admins add campaigns and set the board's targets: they are the agency's own commitments."""
    return user is not None and user.active and user.role == "admin"


def reads_board_figures(user: Optional[User]) -> bool:
    """Leads and admins see campaigns' costs and results, the targets and the board's report."""
    return user is not None and user.active and user.role in ("admin", "lead")


def lead_filter(user: Optional[User]) -> ColumnElement[bool]:
    """The sales pipeline's leads a user may see: all for leads and admins, their own for a specialist."""
    from router.storage.models import Lead

    if user is None or not user.active:
        return false()
    if user.role in ("admin", "lead"):
        return true()
    return Lead.owner_id == user.id


def moves_lead(user: Optional[User], lead) -> bool:
    """Whether `user` may change a sales lead: its owner, any lead or admin; an unowned lead is anyone's to take."""
    if user is None or not user.active:
        return False
    return user.role in ("admin", "lead") or lead.owner_id in (None, user.id)


def sees_everyone(user: Optional[User]) -> bool:
    """Leads and admins get the "all cases" view (of what the rule lets them see)."""
    return user is not None and user.role in ("lead", "admin")


def local_today(now: datetime, tz: str) -> date:
    from router.casework.promise import local_date

    return local_date(now, tz)

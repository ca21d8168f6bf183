"""The audit trail: who read or changed what, and when; appended in the caller's transaction, never edited."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from router.staff import access
from router.storage.models import AuditEvent, utcnow

CLI = "cli"


def record(session: Session, action: str, *, user: Any = None, actor: Optional[str] = None,
           case_ref: Optional[str] = None, detail: Optional[dict[str, Any]] = None,
           now: Optional[datetime] = None) -> AuditEvent:
    """Append one event; `user` is a User (its email is kept as the actor), else `actor` names who acted."""
    event = AuditEvent(created_at=now or utcnow(), user_id=getattr(user, "id", None),
                       actor=getattr(user, "email", None) or actor or CLI, action=action, case_ref=case_ref,
                       detail=detail)
    session.add(event)
    return event


def trail(session: Session, user: Any, case_ref: Optional[str], limit: int, now: datetime) -> list[AuditEvent]:
    """Newest first: one case's events (the caller has checked `access.permits(…, AUDIT, case)`), else all the
    user may read (`access.audit_filter`). Reading the trail is itself recorded."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    query = query.where(AuditEvent.case_ref == case_ref) if case_ref else query.where(access.audit_filter(user))
    events = list(session.scalars(query))
    record(session, "audit_read", user=user, case_ref=case_ref, now=now)
    return events

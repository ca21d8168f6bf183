"""The audit trail: who read or changed what, and when; appended in the caller's transaction, never edited."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy.orm import Session

from router.models import AuditEvent, utcnow

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

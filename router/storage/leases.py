"""Leases for singleton jobs: one worker at a time polls the mailbox or refreshes the rollups, any worker may."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from router.storage.models import JobLease
from router.storage.store import changed, insert_ignore


def acquire(session: Session, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease `name` for `holder` until now + ttl; False while another holder's lease runs.

    Compare-and-set in one statement (or one insert), so two workers can never both win.
    """
    renewed = changed(session, update(JobLease).where(JobLease.name == name)
                      .where(or_(JobLease.holder == holder, JobLease.expires_at < now))
                      .values(holder=holder, expires_at=now + ttl))
    if not renewed:
        renewed = insert_ignore(session, JobLease, {"name": name, "holder": holder, "expires_at": now + ttl},
                                returning="name") is not None
    session.commit()
    return bool(renewed)

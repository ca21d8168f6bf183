"""The specialist's inbox: which customer messages on a case they have not seen yet, and what is new on it."""
from __future__ import annotations

from typing import Iterable, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from router.storage.models import Case, CaseEvent, Message, User

CUSTOMER = "customer_message"


def is_assignee(user: Optional[User], case: Case) -> bool:
    """Only the person the case is with reads it for the inbox: a lead or a cover reading it leaves it unread."""
    return user is not None and user.specialist_id is not None and user.specialist_id == case.specialist_id


def unread(session: Session, cases: Iterable[Case]) -> dict[int, int]:
    """Customer messages after what each case's specialist has seen, by case id, counted in one query."""
    ids = [c.id for c in cases]
    if not ids:
        return {}
    counted = session.execute(
        select(CaseEvent.case_id, func.count(CaseEvent.id)).join(Case, Case.id == CaseEvent.case_id)
        .where(CaseEvent.case_id.in_(ids), CaseEvent.kind == CUSTOMER,
               CaseEvent.id > func.coalesce(Case.seen_event_id, 0))
        .group_by(CaseEvent.case_id)).all()
    return {**dict.fromkeys(ids, 0), **{case_id: n for case_id, n in counted}}


def latest_event(session: Session, case: Case) -> int:
    return session.scalar(select(func.max(CaseEvent.id)).where(CaseEvent.case_id == case.id)) or 0


def mark_seen(session: Session, case: Case, user: Optional[User], upto: Optional[int] = None) -> bool:
    """The assigned specialist has seen the case up to event `upto` (everything when None); True if it changed.

    Only forward: a page opened earlier that reports late never makes a newer message unread again.
    """
    if not is_assignee(user, case):
        return False
    newest = latest_event(session, case)
    upto = newest if upto is None else min(upto, newest)
    if upto <= (case.seen_event_id or 0):
        return False
    case.seen_event_id = upto
    return True


def forget_seen(case: Case) -> None:
    """A case handed to someone else: its new specialist has seen none of it."""
    case.seen_event_id = None


def updates(session: Session, case: Case, conversation_ids: set[int], after_message: int,
            after_event: int) -> tuple[list[Message], list[CaseEvent]]:
    """What the case page does not show yet: transcript messages and case events after the ones it has."""
    messages = session.scalars(select(Message).where(Message.conversation_id.in_(conversation_ids),
                                                     Message.id > after_message)
                               .order_by(Message.created_at, Message.id).limit(200)).all() if conversation_ids else []
    events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.id > after_event)
                             .order_by(CaseEvent.id).limit(200)).all()
    return list(messages), list(events)

"""Failed deliveries reach a person: dead outbox rows and texts Twilio reports failed or undelivered."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from router import texts
from router.config import Settings
from router.delivery.outbox import enqueue
from router.storage.models import Case, OutboxMessage, User

FAILED_AT_PROVIDER = ("failed", "undelivered")
ALERT_KEY = "delivery-alert:"


def failures(session: Session, limit: int = 200) -> list[OutboxMessage]:
    """Messages that did not reach their recipient, newest first (for the admin page)."""
    return list(session.scalars(select(OutboxMessage).where(_failed()).order_by(OutboxMessage.id.desc())
                                .limit(limit)))


def _failed():
    return or_(OutboxMessage.status == "dead", OutboxMessage.delivery_status.in_(FAILED_AT_PROVIDER))


def alert(session: Session, settings: Settings, now: datetime) -> int:
    """One digest email per admin for the failures not yet told of; how many failures it named."""
    rows = session.scalars(select(OutboxMessage).where(_failed(), OutboxMessage.alerted_at.is_(None),
                                                       ~OutboxMessage.idempotency_key.startswith(ALERT_KEY))
                           .order_by(OutboxMessage.id).limit(100)).all()
    # An alert that itself fails is marked too, or a broken mail server would alert about its alerts forever.
    session.execute(update(OutboxMessage).where(OutboxMessage.idempotency_key.startswith(ALERT_KEY), _failed(),
                                                OutboxMessage.alerted_at.is_(None)).values(alerted_at=now))
    if not rows:
        return 0
    case_ids = {r.case_id for r in rows if r.case_id}
    refs = {c.id: c.ref for c in session.scalars(select(Case).where(Case.id.in_(case_ids)))}
    # Ids, kinds and case references only: the page behind the link shows the rest to a signed-in admin.
    lines = [f"- #{r.id} {r.kind} {refs.get(r.case_id or 0, '-')}: {r.delivery_status or r.last_error or r.status}"
             for r in rows]
    link = f"{settings.public_base_url.rstrip('/')}/staff/admin/deliveries"
    for email, language in session.execute(select(User.email, User.language)
                                           .where(User.role == "admin", User.active.is_(True))):
        enqueue(session, key=f"{ALERT_KEY}{rows[0].id}-{rows[-1].id}:{email}", kind="email", recipient=email,
                subject=texts.say("mail.undelivered_subject", language, service=settings.service_name,
                                  count=len(rows)),
                body=texts.say("mail.undelivered_body", language) + "\n\n" + "\n".join(lines) + f"\n\n{link}",
                now=now)
    for r in rows:
        r.alerted_at = now
    return len(rows)


def retry(session: Session, row_id: int, now: datetime) -> bool:
    """Send a failed message again (an admin fixed the address or the provider is back); the caller commits."""
    row = session.get(OutboxMessage, row_id)
    if row is None or not (row.status == "dead" or row.delivery_status in FAILED_AT_PROVIDER):
        return False
    row.status, row.attempts, row.next_attempt_at, row.last_error = "pending", 0, now, None
    row.delivery_status, row.provider_id, row.alerted_at = None, None, None
    return True

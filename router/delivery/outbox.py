"""The outbox: every outbound message is a row first, delivered by workers with retries."""
from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping, Optional

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from router import texts
from router.delivery.sms_policy import SmsPolicy
from router.storage.models import Attachment, Case, Message, OptOut, OutboxMessage, User
from router.storage.store import changed, insert_ignore

log = logging.getLogger(__name__)

# A claim older than this is taken to belong to a worker that died mid-send. The sending worker renews it every
# RENEW, so a slow send keeps its row and a killed worker's row is retried within seconds.
LEASE = timedelta(seconds=20)
RENEW = LEASE.total_seconds() / 3


class TemporaryFailure(Exception):
    """Try again later (network, 429, 5xx)."""


class PermanentFailure(Exception):
    """Never try again (opted out, invalid address).

    `forget`: (model, id) of a row the failure shows to be dead (a push subscription the browser gave up), deleted
    with the outcome.
    """

    def __init__(self, reason: str, forget: Optional[tuple[type, int]] = None) -> None:
        super().__init__(reason)
        self.forget = forget


@dataclass(frozen=True)
class Outgoing:
    """What a sender needs of an outbox row."""

    id: int
    idempotency_key: str
    kind: str
    recipient: str
    subject: str
    body: str
    headers: Mapping[str, str]
    html: Optional[str] = None  # an email's HTML alternative
    files: tuple[tuple[str, str, bytes], ...] = ()  # an email's attachments: (filename, content type, data)


def enqueue(session: Session, *, key: str, kind: str, recipient: str, body: str, subject: str = "",
            case_id: Optional[int] = None, headers: Optional[dict[str, str]] = None,
            not_before: Optional[datetime] = None, now: Optional[datetime] = None,
            html: Optional[str] = None, attachments: Optional[list[int]] = None) -> Optional[int]:
    """Add a message in the caller's transaction; the same key twice queues it once.

    `now`: the caller's clock (the request's or the job's), so that the message is due at the moment that caused
    it, not at the wall clock's; without it the wall clock.
    """
    values: dict[str, Any] = dict(idempotency_key=key, kind=kind, recipient=recipient, subject=subject, body=body,
                                  html=html, attachments=attachments or None, case_id=case_id,
                                  headers=headers or {}, status="pending", attempts=0,
                                  automated=kind == "sms" and bool((headers or {}).get("automated")))
    if now is not None:
        values["created_at"] = values["next_attempt_at"] = now
    if not_before is not None:
        values["next_attempt_at"] = not_before
    return insert_ignore(session, OutboxMessage, values)


def backoff(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s … capped at an hour: a brief outage heals in seconds, a long one is waited out for hours."""
    return timedelta(seconds=min(3600, 5 * 2 ** max(0, attempts - 1)))


class _Renewal:
    """Keeps a claim fresh from a thread of its own while the send runs (own connection, own transactions)."""

    def __init__(self, engine, row_id: int, worker: str, claimed_at: datetime) -> None:
        self.engine, self.row_id, self.worker, self.claimed_at = engine, row_id, worker, claimed_at
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"lease-{row_id}", daemon=True)
        self.started = time.monotonic()

    def _run(self) -> None:
        while not self.done.wait(RENEW):
            at = self.claimed_at + timedelta(seconds=time.monotonic() - self.started)
            try:
                with self.engine.begin() as conn:
                    conn.execute(update(OutboxMessage).where(OutboxMessage.id == self.row_id,
                                                             OutboxMessage.claimed_by == self.worker,
                                                             OutboxMessage.status == "sending")
                                 .values(claimed_at=at))
            except Exception:  # noqa: BLE001 - a missed renewal only risks the documented resend
                log.warning("outbox %s: lease renewal failed", self.row_id)

    def __enter__(self) -> "_Renewal":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join()


def _claim(session: Session, row_id: int, worker: str, now: datetime) -> bool:
    # Compare-and-set: only the worker whose UPDATE matched the old state owns the row. Still due, too: another
    # worker may have tried it since this one listed it, and set its next attempt later.
    won = changed(
        session, update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .where(or_((OutboxMessage.status == "pending") & (OutboxMessage.next_attempt_at <= now),
                   (OutboxMessage.status == "sending") & (OutboxMessage.claimed_at < now - LEASE)))
        .values(status="sending", claimed_by=worker, claimed_at=now, attempts=OutboxMessage.attempts + 1))
    session.commit()
    return won == 1


def _seen_already(session: Session, headers: Mapping[str, str]) -> Optional[str]:
    """Why a copy is not needed after all: the customer saw the chat message in the widget, or the specialist
    opened the case after the customer's message ("case id:event id")."""
    if headers.get("unless_seen") and session.scalar(select(Message.seen_at)
                                                     .where(Message.id == int(headers["unless_seen"]))):
        return "seen in the chat"
    if headers.get("unless_case_seen"):
        case_id, event_id = (int(part) for part in headers["unless_case_seen"].split(":"))
        seen = session.scalar(select(Case.seen_event_id).where(Case.id == case_id))
        if seen is not None and seen >= event_id:
            return "seen on the case page"
    return None


def _files(session: Session, row: OutboxMessage) -> tuple[tuple[str, str, bytes], ...]:
    """The files an email carries, read when it goes (an erasure in between leaves them out)."""
    if row.kind != "email" or not row.attachments:
        return ()
    found = session.execute(select(Attachment.filename, Attachment.content_type, Attachment.data)
                            .where(Attachment.id.in_(row.attachments)).order_by(Attachment.id)).all()
    return tuple((name, kind, data) for name, kind, data in found if data is not None)


def _pause_for_budget(session: Session, row: OutboxMessage, now: datetime) -> None:
    """The hourly SMS budget is spent: the text waits, and each admin hears of it once that hour."""
    row.status, row.attempts = "pending", max(0, row.attempts - 1)
    row.next_attempt_at = now + timedelta(minutes=10)
    hour = now.strftime("%Y-%m-%dT%H")
    for email, language in session.execute(select(User.email, User.language)
                                           .where(User.role == "admin", User.active.is_(True))):
        enqueue(session, key=f"sms-budget:{hour}:{email}", kind="email", recipient=email,
                subject=texts.say("mail.sms_paused_subject", language, service="Luukku"),
                body=texts.say("mail.sms_paused_body", language), now=now)
    log.warning("outbox %s: hourly SMS budget reached; automated SMS paused", row.id)


def deliver_due(sessions: sessionmaker, senders: Mapping[str, object], now: datetime, *,
                worker: Optional[str] = None, batch: int = 50, max_attempts: int = 8,
                sms_policy: Optional[SmsPolicy] = None, stopping: Callable[[], bool] = lambda: False,
                shapers: Optional[Mapping[str, Callable[[Session, Outgoing, datetime], Outgoing]]] = None) -> int:
    """Send what is due; returns how many were sent. Safe with any number of workers.

    `stopping` is asked between rows: a worker told to stop finishes the row in hand and leaves the rest.
    `shapers`: a channel's last word on a message of its kind right before it is sent (WhatsApp's template rule).
    """
    worker = worker or uuid.uuid4().hex[:12]
    started = time.monotonic()
    sent = 0
    with sessions() as session:
        due = session.execute(
            select(OutboxMessage.id, OutboxMessage.status)
            .where(or_((OutboxMessage.status == "pending") & (OutboxMessage.next_attempt_at <= now),
                       (OutboxMessage.status == "sending") & (OutboxMessage.claimed_at < now - LEASE)))
            .order_by(OutboxMessage.id).limit(batch)).all()
        for row_id, before in due:
            if stopping():
                break
            # The claim's time is when it is made, not when the tick began: a long batch must not shorten the
            # lease of its last rows.
            claimed_at = now + timedelta(seconds=time.monotonic() - started)
            if not _claim(session, row_id, worker, claimed_at):
                continue
            row = session.get(OutboxMessage, row_id)
            assert row is not None
            outgoing = Outgoing(row.id, row.idempotency_key, row.kind, row.recipient, row.subject, row.body,
                                dict(row.headers or {}), row.html, _files(session, row))
            sender = senders.get(row.kind)
            try:
                seen = _seen_already(session, row.headers or {})
                if seen:
                    row.status, row.last_error = "cancelled", seen
                    session.commit()
                    continue
                # STOP is respected at delivery time, so a survey queued before the STOP is not sent either.
                if row.kind in ("sms", "whatsapp") and session.get(OptOut, row.recipient):
                    raise PermanentFailure("opted out")  # whoever sends it: Twilio refuses it after STOP too
                if row.kind == "sms" and sms_policy is not None and sms_policy.applies(session, row):
                    row.automated = True  # counted in the per-number and hourly budgets from now on
                    reason = sms_policy.refuse(session, row.recipient, now)
                    if reason:
                        raise PermanentFailure(reason)
                    if sms_policy.over_budget(session, now):
                        _pause_for_budget(session, row, now)
                        session.commit()
                        continue
                if row.kind == "email" and sms_policy is not None:
                    reason = sms_policy.refuse_email(session, row.recipient, now)
                    if reason:
                        raise PermanentFailure(reason)
                if sender is None:
                    raise PermanentFailure(f"no sender for {row.kind}")
                if shapers and row.kind in shapers:
                    outgoing = shapers[row.kind](session, outgoing, now)
                # A row taken over from a worker that died mid-send, or retried after an error, may have gone out
                # already: a sender that can look (Twilio's message log) says so instead of sending it again.
                earlier = None
                if (before == "sending" or row.attempts > 1) and hasattr(sender, "already_sent"):
                    earlier = sender.already_sent(outgoing, row.created_at)
                if earlier:
                    log.warning("outbox %s was delivered before (%s); not sent again", row.id, earlier)
                    provider_id = earlier
                else:
                    with _Renewal(sessions.kw["bind"], row.id, worker, claimed_at):
                        provider_id = sender.send(outgoing)  # type: ignore[attr-defined]
            except PermanentFailure as exc:
                row.status, row.last_error = "dead", str(exc)[:500]
                if exc.forget is not None:
                    gone = session.get(*exc.forget)
                    if gone is not None:
                        session.delete(gone)
                log.warning("outbox %s gave up: %s", row.id, type(exc).__name__)
            except Exception as exc:  # noqa: BLE001 - any other failure is retried, up to the limit
                row.last_error = f"{type(exc).__name__}: {exc}"[:500]
                if row.attempts >= max_attempts:
                    row.status = "dead"
                    log.error("outbox %s dead after %s attempts", row.id, row.attempts)
                else:
                    row.status, row.next_attempt_at = "pending", now + backoff(row.attempts)
                    log.info("outbox %s retry %s", row.id, row.attempts)
            else:
                row.status, row.sent_at, row.provider_id, row.last_error = "sent", now, provider_id, None
                sent += 1
            session.commit()
    return sent

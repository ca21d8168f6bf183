"""Retention: personal data is kept only as long as its purpose needs, then the worker purges it, daily.

Each kind has its own period (settings RETAIN_*, documented with their reasons in the README's "Personal data"
section). A purge takes the words and identifiers out and keeps what the impact page counts, like an erasure
(router/privacy/person.py), and leaves no readable copy in the database files or in Rasa's tracker store.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from router.inbound import tracker_store
from router.privacy import person as privacy
from router.staff import audit
from router.storage.models import (
    Attachment,
    AuditEvent,
    Call,
    Case,
    Conversation,
    CustomerAddress,
    JobLease,
    Message,
    OutboxMessage,
    Survey,
)

OPEN = ("open", "taken_up")
BATCH = 200
MONTH = timedelta(days=30)


@dataclass(frozen=True)
class Policy:
    """How long each kind of personal data is kept."""

    case: timedelta
    chat: timedelta
    call_speech: timedelta
    attachment: timedelta
    outbox: timedelta
    survey_comment: timedelta
    audit: timedelta

    @classmethod
    def from_settings(cls, s: Any) -> "Policy":
        return cls(case=s.retain_case_months * MONTH, chat=timedelta(days=s.retain_chat_days),
                   call_speech=timedelta(days=s.retain_call_speech_days),
                   attachment=timedelta(days=s.retain_attachment_days), outbox=timedelta(days=s.retain_outbox_days),
                   survey_comment=s.retain_survey_comment_months * MONTH, audit=s.retain_audit_months * MONTH)


def _not_open(case_id_column):
    """No case, or a case that is no longer open (an open case still needs everything)."""
    return or_(case_id_column.is_(None), ~exists().where(Case.id == case_id_column, Case.status.in_(OPEN)))


def due(session: Session, policy: Policy, now: datetime, limit: int | None = BATCH) -> dict[str, list[int]]:
    """The ids of what is past its time, per kind (at most `limit` of each: the purge repeats until done)."""
    has_person = or_(Case.customer_name.is_not(None), Case.customer_email.is_not(None),
                     Case.customer_phone.is_not(None), Case.company.is_not(None), Case.summary != "",
                     exists().where(Message.conversation_id == Case.conversation_id))
    no_case = ~exists().where(Case.conversation_id == Conversation.id)
    return {
        "resolved_cases": list(session.scalars(select(Case.id).where(
            Case.status.not_in(OPEN), Case.resolved_at < now - policy.case, has_person).limit(limit))),
        "chats_without_case": list(session.scalars(select(Conversation.id).where(
            no_case, Conversation.last_message_at < now - policy.chat,
            or_(Conversation.address.is_not(None), exists().where(Message.conversation_id == Conversation.id)))
            .limit(limit))),
        "call_speech": list(session.scalars(select(Call.id).where(
            Call.created_at < now - policy.call_speech, or_(Call.speech.is_not(None), Call.caller.is_not(None)),
            _not_open(Call.case_id)).limit(limit))),
        "attachments": list(session.scalars(select(Attachment.id).join(Message, Attachment.message_id == Message.id)
                                            .where(Message.created_at < now - policy.attachment,
                                                   _not_open(Attachment.case_id)).limit(limit))),
        "outbox_bodies": list(session.scalars(select(OutboxMessage.id).where(
            OutboxMessage.status.in_(("sent", "cancelled", "dead")),
            func.coalesce(OutboxMessage.sent_at, OutboxMessage.created_at) < now - policy.outbox,
            OutboxMessage.recipient != privacy.ERASED).limit(limit))),
        "survey_comments": list(session.scalars(select(Survey.id).where(
            Survey.published.is_(False), Survey.comment.is_not(None),
            Survey.answered_at < now - policy.survey_comment).limit(limit))),
        "audit_events": list(session.scalars(select(AuditEvent.id).where(
            AuditEvent.created_at < now - policy.audit).limit(limit))),
        # A verified address outlives nothing of the person's: once no conversation or case of its record still
        # holds a contact (all purged), it goes too.
        "verified_addresses": list(session.scalars(select(CustomerAddress.id).where(
            CustomerAddress.verified_at < now - policy.chat,
            ~exists().where(Conversation.customer_id == CustomerAddress.customer_id,
                            Conversation.address.is_not(None)),
            ~exists().where(Case.customer_id == CustomerAddress.customer_id,
                            or_(Case.customer_email.is_not(None), Case.customer_phone.is_not(None))))
            .limit(limit))),
    }


def purge_once(session: Session, settings: Any, ids: dict[str, list[int]]) -> None:
    """Remove one batch of each kind, in the caller's transaction."""
    cases = list(session.scalars(select(Case).where(Case.id.in_(ids["resolved_cases"]))))
    privacy.remove(session, settings, privacy.of_cases(session, cases))
    chats = list(session.scalars(select(Conversation).where(Conversation.id.in_(ids["chats_without_case"]))))
    privacy.remove(session, settings, privacy.Holdings(conversations=chats))
    session.execute(update(Call).where(Call.id.in_(ids["call_speech"])).values(speech=None, caller=None))
    session.execute(delete(Attachment).where(Attachment.id.in_(ids["attachments"])),
                    execution_options={"synchronize_session": False})
    session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids["outbox_bodies"])).values(
        recipient=privacy.ERASED, subject="", body="", html=None, headers={}, last_error=None))
    session.execute(update(Survey).where(Survey.id.in_(ids["survey_comments"])).values(comment=None))
    session.execute(delete(AuditEvent).where(AuditEvent.id.in_(ids["audit_events"])),
                    execution_options={"synchronize_session": False})
    session.execute(delete(CustomerAddress).where(CustomerAddress.id.in_(ids["verified_addresses"])),
                    execution_options={"synchronize_session": False})


def run(session: Session, settings: Any, now: datetime, dry_run: bool = False) -> dict[str, int]:
    """Purge everything past its time, batch by batch (each batch its own commit); how many of each kind.

    With `dry_run`, counts what is due and changes nothing.
    """
    policy = Policy.from_settings(settings)
    totals: dict[str, int] = {}
    while True:
        if dry_run:
            return {kind: len(found) for kind, found in due(session, policy, now, limit=None).items()}
        ids = due(session, policy, now)
        if not any(ids.values()):
            break
        purge_once(session, settings, ids)
        session.commit()
        for kind, found in ids.items():
            totals[kind] = totals.get(kind, 0) + len(found)
    totals = {kind: totals.get(kind, 0) for kind in ids}
    if any(totals.values()):
        audit.record(session, "retention_purge", now=now, detail=totals)
        session.commit()
        privacy.compact(session)
        tracker_store.compact(settings.rasa_tracker_url)
    # Yesterday's and older day-leases of this job are no longer needed by anyone.
    session.execute(delete(JobLease).where(JobLease.name.like("retention:%"), JobLease.expires_at < now),
                    execution_options={"synchronize_session": False})
    session.commit()
    return totals

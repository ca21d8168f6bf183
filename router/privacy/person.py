"""A person's data: everything held about one phone number or email address, as an export or an erasure.

The person is found through what identifies them: their cases (by the contact they gave), the conversations on
their number or address (SMS, voice, email) or behind their cases (web chat), calls from their number, and
messages sent to them. An erasure removes their words and identifiers everywhere (Rasa's tracker store too)
and keeps what the impact page counts: a case's topic, channel and times, a survey's score, a conversation's
channel and date. Opt-outs stay, as the minimum needed to honour a STOP.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from router.casework import customer
from router.casework.actions import REFERRAL_PENDING
from router.casework.handoff import split_contact
from router.inbound import tracker_store
from router.staff import audit
from router.storage.models import (
    Attachment,
    Call,
    Case,
    CaseEvent,
    Conversation,
    CustomerAddress,
    MailReceipt,
    Message,
    NluCorrection,
    OptOut,
    OutboxMessage,
    Referral,
    Survey,
)
from router.storage.store import changed

log = logging.getLogger(__name__)
ERASED = "[erased]"


class NoSubject(ValueError):
    """Neither a phone number nor an email address was given."""


@dataclass(frozen=True)
class Subject:
    """Whom a request is about: a phone number (E.164, as Twilio gives it) and/or an email address."""

    phone: Optional[str] = None
    email: Optional[str] = None

    @classmethod
    def of(cls, phone: Optional[str] = None, email: Optional[str] = None) -> "Subject":
        """From what an admin typed: "040 123 4567" is +358401234567, emails are compared in lower case."""
        number = split_contact(phone)[1] if phone and phone.strip() else None
        address = email.strip().lower() if email and email.strip() else None
        if not number and not address:
            raise NoSubject("give a phone number or an email address")
        return cls(number, address)

    def contacts(self) -> list[str]:
        return [c for c in (self.phone, self.email) if c]


@dataclass
class Holdings:
    """The rows that hold something of the person."""

    cases: list[Case] = field(default_factory=list)
    conversations: list[Conversation] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    surveys: list[Survey] = field(default_factory=list)
    outbox: list[OutboxMessage] = field(default_factory=list)
    opted_out: bool = False
    customers: list[int] = field(default_factory=list)  # the person's records (merged ones too)
    addresses: list[CustomerAddress] = field(default_factory=list)  # what the service verified as theirs

    @property
    def case_ids(self) -> list[int]:
        return [c.id for c in self.cases]

    @property
    def conversation_ids(self) -> list[int]:
        return [c.id for c in self.conversations]


def find(session: Session, subject: Subject) -> Holdings:
    """Every case, conversation, call, survey and outbound message of this person, across their customer record
    (what was merged into it, every address verified as theirs)."""
    contacts = subject.contacts()
    case_match = []
    if subject.email:
        case_match.append(Case.customer_email == subject.email)
    if subject.phone:
        case_match.append(Case.customer_phone == subject.phone)
    conversations = {c.id: c for c in session.scalars(select(Conversation).where(
        Conversation.address.in_(contacts + [f"whatsapp:{subject.phone}"] if subject.phone else contacts)))}
    cases = {c.id: c for c in session.scalars(select(Case).where(or_(*case_match)))}
    if conversations:  # an SMS or email case carries the address on its conversation
        cases.update({c.id: c for c in session.scalars(select(Case).where(
            Case.conversation_id.in_(list(conversations))))})
    known = {c.customer_id for c in conversations.values() if c.customer_id} | {
        c.customer_id for c in cases.values() if c.customer_id}
    records = customer.records_of(session, known | set(session.scalars(
        select(CustomerAddress.customer_id).where(CustomerAddress.address.in_(contacts)))))
    addresses = list(session.scalars(select(CustomerAddress).where(CustomerAddress.customer_id.in_(records))
                                     .order_by(CustomerAddress.id))) if records else []
    if records:  # the same person on every channel: their record's conversations and cases
        conversations.update({c.id: c for c in session.scalars(select(Conversation).where(
            Conversation.customer_id.in_(records)))})
        cases.update({c.id: c for c in session.scalars(select(Case).where(or_(
            Case.customer_id.in_(records), Case.conversation_id.in_(list(conversations)))))})
        contacts = sorted(set(contacts) | {a.address for a in addresses})
    linked = [c.conversation_id for c in cases.values() if c.conversation_id and c.conversation_id not in conversations]
    if linked:  # a web chat is the person's through the case they left their contact on
        conversations.update({c.id: c for c in session.scalars(select(Conversation).where(
            Conversation.id.in_(linked)))})
    case_ids = list(cases)
    phones = [a.address for a in addresses if a.kind == customer.PHONE] + ([subject.phone] if subject.phone else [])
    call_match = [Call.case_id.in_(case_ids)] + ([Call.caller.in_(phones)] if phones else [])
    calls = list(session.scalars(select(Call).where(or_(*call_match)).order_by(Call.id)))
    surveys = list(session.scalars(select(Survey).where(or_(Survey.case_id.in_(case_ids),
                                                            Survey.recipient.in_(contacts))).order_by(Survey.id)))
    outbox = list(session.scalars(select(OutboxMessage).where(or_(
        OutboxMessage.recipient.in_(contacts), OutboxMessage.case_id.in_(case_ids))).order_by(OutboxMessage.id)))
    opted_out = bool(subject.phone) and session.get(OptOut, subject.phone) is not None
    return Holdings(sorted(cases.values(), key=lambda c: c.id), sorted(conversations.values(), key=lambda c: c.id),
                    calls, surveys, outbox, opted_out, sorted(records), addresses)


def _at(value: Optional[datetime]) -> Optional[str]:
    return value.isoformat() + "Z" if value else None


def export(session: Session, subject: Subject, now: datetime, user: Any = None) -> dict[str, Any]:
    """Everything held about the person, as JSON-ready data; the export itself goes into the audit trail."""
    held = find(session, subject)
    events: dict[int, list[CaseEvent]] = {}
    for event in session.scalars(select(CaseEvent).where(CaseEvent.case_id.in_(held.case_ids))
                                 .order_by(CaseEvent.id)):
        events.setdefault(event.case_id, []).append(event)
    referred: dict[int, list[Referral]] = {}
    for row in session.scalars(select(Referral).where(Referral.case_id.in_(held.case_ids)).order_by(Referral.id)):
        referred.setdefault(row.case_id, []).append(row)
    files = session.execute(select(Attachment.case_id, Attachment.message_id, Attachment.filename,
                                   Attachment.content_type, Attachment.size).where(or_(
        Attachment.case_id.in_(held.case_ids), Attachment.message_id.in_(
            select(Message.id).where(Message.conversation_id.in_(held.conversation_ids)))))).all()
    data = {
        "subject": {"phone": subject.phone, "email": subject.email},
        "generated_at": _at(now),
        "cases": [{
            "ref": c.ref, "kind": c.kind, "topic": c.topic, "channel": c.channel, "language": c.language,
            "status": c.status, "created_at": _at(c.created_at), "due_at": _at(c.due_at),
            "taken_up_at": _at(c.taken_up_at), "resolved_at": _at(c.resolved_at), "outcome": c.outcome,
            "specialist": c.specialist.name if c.specialist else None, "customer_name": c.customer_name,
            "customer_email": c.customer_email, "customer_phone": c.customer_phone, "company": c.company,
            "summary": c.summary,
            "events": [{"kind": e.kind, "at": _at(e.created_at), "text": e.text} for e in events.get(c.id, [])],
            # Who the case was passed to with the person's consent, and how they agreed.
            "referrals": [{"partner": r.partner.name, "status": r.status, "consent": r.consent,
                           "consented_at": _at(r.consented_at), "sent_at": _at(r.sent_at),
                           "confirmed_at": _at(r.confirmed_at)} for r in referred.get(c.id, [])],
        } for c in held.cases],
        "conversations": [{
            "channel": conv.channel, "language": conv.language, "address": conv.address,
            "started_at": _at(conv.created_at),
            "messages": [{"at": _at(m.created_at), "direction": m.direction, "author": m.author, "text": m.text}
                         for m in conv.messages],
        } for conv in held.conversations],
        "calls": [{"at": _at(c.created_at), "caller": c.caller, "language": c.language, "speech": c.speech,
                   "topic": c.topic, "outcome": c.outcome} for c in held.calls],
        "surveys": [{"channel": s.channel, "to": s.recipient, "sent_at": _at(s.sent_at),
                     "answered_at": _at(s.answered_at), "score": s.score, "comment": s.comment}
                    for s in held.surveys],
        "attachments": [{"filename": f.filename, "content_type": f.content_type, "size": f.size} for f in files],
        "messages_sent": [{"kind": o.kind, "to": o.recipient, "subject": o.subject, "body": o.body,
                           "status": o.status, "created_at": _at(o.created_at), "sent_at": _at(o.sent_at)}
                          for o in held.outbox],
        "opted_out_of_automated_sms": held.opted_out,
        # The addresses the service verified as the person's (their customer record, merged ones included).
        "verified_addresses": [{"address": a.address, "kind": a.kind, "how": a.how, "verified_at": _at(a.verified_at)}
                               for a in held.addresses],
    }
    audit.record(session, "privacy_export", user=user, now=now, detail=counts(data))
    return data


def counts(data: dict[str, Any]) -> dict[str, int]:
    """How many of each kind an export holds (what the audit trail and the command line may show)."""
    return {"cases": len(data["cases"]), "conversations": len(data["conversations"]),
            "messages": sum(len(c["messages"]) for c in data["conversations"]), "calls": len(data["calls"]),
            "surveys": len(data["surveys"]), "attachments": len(data["attachments"]),
            "messages_sent": len(data["messages_sent"])}


def report(data: dict[str, Any]) -> str:
    """The export as a plain-text report a person can read."""
    lines = ["Tiedot, joita meillä on sinusta / Uppgifter vi har om dig / What we hold about you",
             f"{data['generated_at']}  {' '.join(v for v in data['subject'].values() if v)}", ""]
    for case in data["cases"]:
        lines += [f"== Asia / Ärende / Case {case['ref']} ({case['topic']}, {case['channel']}, {case['status']})",
                  f"   {case['created_at']}  {case['specialist'] or ''}"]
        lines += [f"   {k}: {case[k]}" for k in ("customer_name", "customer_email", "customer_phone", "company",
                                                 "summary") if case[k]]
        lines += [f"   [{e['at']}] {e['kind']}: {e['text']}" for e in case["events"] if e["text"]]
        lines.append("")
    for conv in data["conversations"]:
        lines.append(f"== Keskustelu / Samtal / Conversation ({conv['channel']}, {conv['started_at']})")
        lines += [f"   [{m['at']}] {m['author']}: {m['text']}" for m in conv["messages"]]
        lines.append("")
    for call in data["calls"]:
        lines.append(f"== Puhelu / Samtal / Call {call['at']} {call['caller'] or ''}: {call['speech'] or ''}")
    for survey in data["surveys"]:
        lines.append(f"== Palaute / Respons / Feedback {survey['sent_at']}: {survey['score']} "
                     f"{survey['comment'] or ''}")
    for item in data["attachments"]:
        lines.append(f"== Liite / Bilaga / Attachment {item['filename']} ({item['size']} B)")
    for sent in data["messages_sent"]:
        lines += [f"== Lähetetty / Skickat / Sent {sent['kind']} {sent['to']} {sent['created_at']} ({sent['status']})",
                  *(f"   {line}" for line in f"{sent['subject']}\n{sent['body']}".strip().splitlines())]
    if data["opted_out_of_automated_sms"]:
        lines.append("== STOP: ei automaattisia tekstiviestejä / inga automatiska sms / no automated texts")
    return "\n".join(lines).rstrip() + "\n"


def erase(session: Session, settings: Any, subject: Subject, now: datetime, user: Any = None) -> dict[str, int]:
    """Remove the person's words and identifiers everywhere, commit, and compact the files; counts stay.

    What was removed is not recorded, only that an erasure happened and how many rows it touched.
    """
    done = remove(session, settings, find(session, subject))
    audit.record(session, "privacy_erase", user=user, now=now, detail=dict(done))
    # Committed before the files are compacted (VACUUM runs on its own connection and sees only what is committed):
    # one of the listed exceptions to "the edge commits" (docs/architecture.md).
    session.commit()
    compact(session)
    tracker_store.compact(settings.rasa_tracker_url)
    return done


def of_cases(session: Session, cases: list[Case]) -> Holdings:
    """What belongs to these cases: their conversations, calls, surveys and outbound messages."""
    ids = [c.id for c in cases]
    conv_ids = [c.conversation_id for c in cases if c.conversation_id]
    return Holdings(cases, list(session.scalars(select(Conversation).where(Conversation.id.in_(conv_ids)))),
                    list(session.scalars(select(Call).where(Call.case_id.in_(ids)))),
                    list(session.scalars(select(Survey).where(Survey.case_id.in_(ids)))),
                    list(session.scalars(select(OutboxMessage).where(OutboxMessage.case_id.in_(ids)))))


def remove(session: Session, settings: Any, held: Holdings) -> dict[str, int]:
    """Take the personal data out of these rows, in the caller's transaction (Rasa's copy at once); counts.

    Messages and attachments go; cases, conversations, calls, surveys and outbound messages stay as rows without
    their words and identifiers, because the impact page and the promise figures count them.
    """
    case_ids, conv_ids = held.case_ids, held.conversation_ids
    # The bot's copy first: once the router's rows lose the person's address, nothing would find these again; a store
    # that cannot be reached stops it all here, before anything is changed (tracker_store.Unreachable).
    if held.conversations:
        tracker_store.reach(settings.rasa_tracker_url)
    bot_events = tracker_store.forget(settings.rasa_tracker_url, [c.public_id for c in held.conversations])
    message_ids = select(Message.id).where(Message.conversation_id.in_(conv_ids))
    done = {"cases": len(case_ids), "conversations": len(conv_ids)}
    done["attachments"] = changed(session, delete(Attachment).where(or_(
        Attachment.case_id.in_(case_ids), Attachment.message_id.in_(message_ids))), synchronize_session=False)
    done["messages"] = changed(session, delete(Message).where(Message.conversation_id.in_(conv_ids)),
                               synchronize_session=False)
    session.execute(update(Conversation).where(Conversation.id.in_(conv_ids)).values(address=None))
    session.execute(update(Case).where(Case.id.in_(case_ids)).values(
        customer_name=None, customer_email=None, customer_phone=None, company=None, summary=""))
    done["case_events"] = changed(session, update(CaseEvent).where(CaseEvent.case_id.in_(case_ids)).values(
        text="", data=None))
    done["calls"] = len(held.calls)
    session.execute(update(Call).where(Call.id.in_([c.id for c in held.calls])).values(caller=None, speech=None))
    done["surveys"] = len(held.surveys)
    session.execute(update(Survey).where(Survey.id.in_([s.id for s in held.surveys])).values(
        recipient=ERASED, comment=None, published=False))
    outbox_ids = [o.id for o in held.outbox]
    done["messages_sent"] = len(outbox_ids)
    # Not yet sent: never sent now (it would carry the erased words); sent: kept as a row, without its content.
    session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(outbox_ids),
                                                OutboxMessage.status.in_(("pending", "sending"))).values(
        status="cancelled"))
    session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(outbox_ids)).values(
        recipient=ERASED, subject="", body="", html=None, headers={}, last_error=None))
    session.execute(update(Referral).where(Referral.case_id.in_(case_ids)).values(consent=""))
    # A referral still waiting would carry the erased details to a partner: it no longer waits.
    session.execute(update(Referral).where(Referral.case_id.in_(case_ids),
                                           Referral.status.in_(REFERRAL_PENDING)).values(status="withdrawn"))
    done["verified_addresses"] = changed(session, delete(CustomerAddress).where(
        CustomerAddress.customer_id.in_(held.customers)), synchronize_session=False)
    session.execute(delete(NluCorrection).where(NluCorrection.case_id.in_(case_ids)),
                    execution_options={"synchronize_session": False})
    session.execute(update(MailReceipt).where(MailReceipt.case_id.in_(case_ids)).values(message_id=None))
    done["bot_events"] = bot_events
    return done


# The tables an erasure or a purge writes to: rewritten afterwards so no old row version stays readable.
TOUCHED = ("messages", "attachments", "conversations", "cases", "case_events", "calls", "surveys", "outbox",
           "nlu_corrections", "mail_receipts", "referrals", "customer_addresses")


def compact(session: Session) -> None:
    """Leave no readable copy of removed rows in the database files.

    SQLite zeroes freed space (`secure_delete`, set on every connection) and VACUUM rewrites the file after the
    write-ahead log is checkpointed; PostgreSQL keeps old row versions until VACUUM FULL rewrites each table
    (it locks the table for the seconds that takes, which is why only the tables written to are rewritten).
    """
    engine = session.get_bind().engine
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                conn.exec_driver_sql("VACUUM")
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            elif engine.dialect.name == "postgresql":
                # Never queue the live service behind a long transaction for long: the next run compacts again.
                conn.exec_driver_sql("SET lock_timeout = '20s'")
                conn.exec_driver_sql(f"VACUUM FULL {', '.join(TOUCHED)}")
                conn.exec_driver_sql("RESET lock_timeout")
    except DBAPIError:
        log.warning("compacting the database after removing personal data did not finish; it runs again with "
                    "the next purge or erasure")

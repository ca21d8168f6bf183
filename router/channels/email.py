"""The email channel: each inbound mail becomes a case, joins one, is relayed, or is dropped; never a loop."""
from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from router import sanitize, texts
from router.casework import customer, directory, promise
from router.casework.actions import announce_staff, send_to_customer
from router.casework.handoff import HandoffRequest, hand_off
from router.channels import mailtext
from router.channels.mailparse import ParsedMail
from router.config import Settings
from router.delivery import notify
from router.delivery.outbox import enqueue
from router.inbound import conversation
from router.inbound.classification import classify
from router.inbound.receive import to_case
from router.plan import campaign
from router.storage.models import Attachment, Case, CaseEvent, Conversation, Message, OutboxMessage, Specialist

log = logging.getLogger(__name__)
REF = re.compile(r"\[(LK-[A-Z0-9]{6})\]")
UNPROVEN_CUSTOMER = ("Sähköposti asiakkaan osoitteesta ilman todistetta (ei vastaus palvelun viestiin, ei DMARC-"
                     "tarkistusta): lähettäjä voi olla väärennetty. / Mail from the customer's address without proof "
                     "(not a reply to our mail, no DMARC pass): the sender may be forged.")
# More new cases than this from one sender in an hour is a flood: later mail joins the latest case.
FLOOD_LIMIT = 5


def is_automatic(mail: ParsedMail, own: str) -> Optional[str]:
    """Why this mail must never get an automatic answer (RFC 3834), or None."""
    if mail.is_bounce:
        return "bounce"
    if mail.auto_submitted and mail.auto_submitted != "no":
        return "loop"
    if own and own in mail.x_loop:
        return "loop"
    if mail.precedence in {"bulk", "list", "junk"} or mail.list_id:
        return "bulk"
    return None


class DuplicateMail(Exception):
    """The mail was stored already (a second delivery of one Message-ID)."""


class EmailChannel:
    """Handles one parsed mail in the caller's session; the caller commits and then marks it handled."""

    def __init__(self, settings: Settings, rasa) -> None:
        self.settings = settings
        self.rasa = rasa
        self.own = settings.service_email.lower()

    def handle(self, session: Session, mail: ParsedMail, now: datetime) -> tuple[str, Optional[int]]:
        """The outcome and the case it touched."""
        try:
            return self._handle(session, mail, now)
        except DuplicateMail:
            return "duplicate", None

    def _handle(self, session: Session, mail: ParsedMail, now: datetime) -> tuple[str, Optional[int]]:
        if mail.message_id and session.scalar(select(Message.id).where(
                Message.channel == "email", Message.provider_id == mail.message_id[:255])):
            return "duplicate", None
        automatic = is_automatic(mail, self.own)
        if automatic:
            log.info("email dropped quietly: %s", automatic)
            return automatic, None
        if not mail.sender or mail.sender == self.own:
            log.warning("email rejected: sender missing or forged as our own address")
            return "forged", None
        case = self._thread(session, mail)
        # A new matter keeps the whole text for the specialist; replies drop what they quote.
        text = mailtext.strip_reply(mail.text) if case is not None else mail.text
        specialist = session.scalar(select(Specialist).where(func.lower(Specialist.email) == mail.sender))
        if case is not None and specialist is not None:
            if self._proven_staff_reply(case, mail):
                return "relayed", self._relay(session, case, case.specialist, mail, text, now)
            # From: is easy to forge and specialists' addresses are public: without the case's secret reply
            # address (and DMARC, where the receiving server checked it) nothing reaches the customer.
            log.warning("email from a staff address without the case's reply token: kept as a note, not relayed")
            return "held", self._hold(session, case, mail, text, now)
        if case is not None and (case.customer_email or "").lower() == mail.sender:
            if notify.customer_token_ok(self.settings, case.ref, mail.recipients):
                # It answered a mail the service sent: the address is this customer's, verified.
                customer.email_verified(session, case, mail.sender, now)
                return "thread", self._join(session, case, mail, text, now)
            if mail.dmarc == "pass":
                return "thread", self._join(session, case, mail, text, now)
            # A From: naming the customer and a [LK-ref] anyone could type: the specialist sees it as unverified,
            # the customer's thread (the widget, the transcript) does not show it as theirs.
            log.warning("email naming a case from its customer's address without proof: kept as a note")
            return "held", self._hold(session, case, mail, text, now, note=UNPROVEN_CUSTOMER)
        latest = self._flooding(session, mail.sender, now) if case is None else None
        if latest is not None:
            self._join(session, latest, mail, text, now, tell_specialist=False)
            return "flood", latest.id
        return "case", self._new_case(session, mail, text, now)

    def keep_unreadable(self, session: Session, raw: bytes, now: datetime) -> int:
        """A mail the channel could not handle: a service-desk case with its text and the original, for a person."""
        conv = conversation.start(session, channel="email", now=now)
        text = sanitize.clean(raw.decode("utf-8", errors="replace"), 20_000)
        message_id = conversation.record(session, conv, text or "(tyhjä / empty)", direction="in", author="customer",
                                         now=now)
        outcome = hand_off(session, self.settings, HandoffRequest(
            idempotency_key=f"unreadable:{conv.public_id}", topic="general", language="fi", channel="email",
            conversation_id=conv.id, kind="email", notify_customer=False,
            summary="Sähköpostia ei voitu käsitellä automaattisesti: alkuperäinen liitteenä. / "
                    "This mail could not be processed automatically; the original is attached."), now)
        session.add(Attachment(case_id=outcome.case.id, message_id=message_id, filename="original.eml",
                               content_type="message/rfc822", size=len(raw),
                               data=raw if len(raw) <= self.settings.attachment_max_bytes else None))
        return outcome.case.id

    def _proven_staff_reply(self, case: Case, mail: ParsedMail) -> bool:
        return (mail.sender == (case.specialist.email or "").lower()
                and notify.reply_token_ok(self.settings, case.ref, mail.recipients)
                and mail.dmarc in ("", "pass"))

    # --- outcomes -------------------------------------------------------------------------------
    def _thread(self, session: Session, mail: ParsedMail) -> Optional[Case]:
        by_address = notify.ref_from_reply_address(mail.recipients)
        if by_address:
            case = session.scalar(select(Case).where(Case.ref == by_address))
            if case is not None:
                return case
        ids = [i[:255] for i in mail.in_reply_to]
        if ids:
            conv_id = session.scalar(select(Message.conversation_id).where(
                Message.channel == "email", Message.provider_id.in_(ids)).limit(1))
            if conv_id:
                case = session.scalar(select(Case).where(Case.conversation_id == conv_id).order_by(Case.id).limit(1))
                if case:
                    return case
            case_id = session.scalar(select(OutboxMessage.case_id).where(
                OutboxMessage.provider_id.in_(ids), OutboxMessage.case_id.is_not(None)).limit(1))
            if case_id:
                return session.get(Case, case_id)
        match = REF.search(mail.subject or "")
        return session.scalar(select(Case).where(Case.ref == match.group(1))) if match else None

    def _store(self, session: Session, conv: Conversation, mail: ParsedMail, text: str, now: datetime,
               case_id: Optional[int], author: str = "customer", name: str = "") -> int:
        payload = {"subject": mail.subject[:300], **({"name": name} if name else {})}
        message_id = conversation.record(session, conv, text or "(tyhjä viesti / empty message)", direction="in",
                                         author=author, provider_id=(mail.message_id or None) and mail.message_id[:255],
                                         payload=payload, now=now)
        if message_id is None:  # the same Message-ID stored by a parallel poll since `handle` looked
            raise DuplicateMail(mail.message_id)
        if case_id is not None:
            self._attach(session, mail, message_id, case_id)
        return message_id

    def _attach(self, session: Session, mail: ParsedMail, message_id: int, case_id: int) -> None:
        """Keep the mail's files on the case, within the caps per file, per mail and in total; the rest are listed."""
        kept = 0
        for a in mail.attachments[:self.settings.attachment_max_count]:
            fits = a.size <= self.settings.attachment_max_bytes and \
                kept + a.size <= self.settings.attachment_max_total_bytes
            kept += a.size if fits else 0
            session.add(Attachment(case_id=case_id, message_id=message_id, filename=a.filename[:255],
                                   content_type=a.content_type[:127], size=a.size, data=a.data if fits else None))

    def _new_case(self, session: Session, mail: ParsedMail, text: str, now: datetime) -> int:
        topics = [t.key for t in directory.topic_labels(session)]
        result = classify(f"{mail.subject}\n{mailtext.for_classifier(text)}".strip(), self.rasa, topics, timeout=5.0)
        # An email cannot be asked back at once: when unsure, the service desk takes it rather than a guess.
        topic = result.topic if result.confident else "general"
        source = campaign.from_email(campaign.markers(session), mail.recipients, self.own,
                                     promise.local_date(now, self.settings.timezone))
        conv = conversation.start(session, channel="email", language=result.language, address=mail.sender, now=now,
                                  campaign=source)
        message_id = self._store(session, conv, mail, text, now, None)
        listed = "\n".join(f"- {a.filename} ({a.content_type}, {a.size} B"
                            f"{'' if a.size <= self.settings.attachment_max_bytes else ', not stored: too large'})"
                            for a in mail.attachments[:self.settings.attachment_max_count])
        if len(mail.attachments) > self.settings.attachment_max_count:
            listed += f"\n- … {len(mail.attachments) - self.settings.attachment_max_count} more, not stored"
        summary = f"{mail.subject}\n\n{text}".strip() + (f"\n\nLiitteet / Attachments:\n{listed}" if listed else "")
        outcome = hand_off(session, self.settings, HandoffRequest(
            idempotency_key=f"mail:{mail.message_id or conv.public_id}"[:200], topic=topic, language=result.language,
            channel="email", conversation_id=conv.id, customer_name=mail.sender_name or None, email=mail.sender,
            summary=summary, kind="email", notify_customer=False), now)
        case = outcome.case
        self._attach(session, mail, message_id, case.id)
        self._acknowledge(session, case, mail, outcome.due_text, now)
        return case.id

    def _acknowledge(self, session: Session, case: Case, mail: ParsedMail, due_text: str, now: datetime) -> None:
        person = case.specialist
        day = promise.local_date(now, self.settings.timezone)
        headers = notify.customer_headers(self.settings, case,
                                          **{"Auto-Submitted": "auto-replied", "X-Loop": self.own})
        if mail.message_id:
            headers.update({"In-Reply-To": mail.message_id, "References": mail.message_id})
        subject = re.sub(r"^(re|vs|sv|aw)\s*:\s*", "", mail.subject or "", flags=re.I)[:200]
        # One automatic reply per sender per day: the key makes a second one a no-op (RFC 3834).
        enqueue(session, key=f"ack:{mail.sender}:{day.isoformat()}", kind="email", recipient=mail.sender,
                subject=f"Re: {subject} [{case.ref}]" if subject else f"[{case.ref}]", case_id=case.id,
                headers=headers,
                body=notify.customer_email_body(self.settings, case.language, texts.say(
                    "email_ack_body", case.language, customer=f" {mail.sender_name}" if mail.sender_name else "",
                    name=person.name, title=person.title(case.language), date=due_text, ref=case.ref,
                    service=self.settings.service_name)), now=now)

    def _join(self, session: Session, case: Case, mail: ParsedMail, text: str, now: datetime,
              tell_specialist: bool = True) -> int:
        conv = self._conversation(session, case, mail.sender, now)
        message_id = self._store(session, conv, mail, text, now, case.id)
        if tell_specialist:
            # The same rule as a follow-up on any channel: on the case, and one notice per case every few minutes.
            to_case(session, self.settings, case, session.get_one(Message, message_id), now)
        return case.id

    def _hold(self, session: Session, case: Case, mail: ParsedMail, text: str, now: datetime,
              note: str = "") -> int:
        """An unproven mail: kept on the case as an inbound note the specialist sees, never relayed or shown to the
        customer."""
        conv = self._conversation(session, case, mail.sender, now)
        self._store(session, conv, mail, text, now, case.id, author="unverified")
        session.add(CaseEvent(case_id=case.id, kind="note", created_at=now,
                              text=note or f"Sähköposti osoitteesta {mail.sender} ilman tapauksen vastausosoitetta: "
                                   f"ei välitetty asiakkaalle. / Mail without the case's reply address: "
                                   f"not relayed to the customer."))
        return case.id

    def _conversation(self, session: Session, case: Case, address: Optional[str], now: datetime) -> Conversation:
        """The case's conversation, or a new email one for a case made without one (by phone, by staff)."""
        conv = session.get(Conversation, case.conversation_id) if case.conversation_id else None
        if conv is None:
            conv = conversation.start(session, channel="email", address=address, now=now)
            case.conversation_id = conv.id
        return conv

    def _relay(self, session: Session, case: Case, specialist: Specialist, mail: ParsedMail, text: str,
               now: datetime) -> int:
        conv = self._conversation(session, case, None, now)  # the customer's address, never the specialist's
        announce_staff(session, case, conv, specialist.name, now)
        message_id = self._store(session, conv, mail, text, now, case.id, author="staff", name=specialist.name)
        # The same rule as a message from the case page: the customer's channel, the widget first.
        send_to_customer(session, self.settings, case, conv, message_id, text, specialist.name, now,
                         subject=f"Re: [{case.ref}] {specialist.name}",
                         signature=f"{specialist.name}\n{specialist.title(case.language)}\n{self.settings.service_name}")
        return case.id

    def _flooding(self, session: Session, sender: str, now: datetime) -> Optional[Case]:
        """The sender's latest case when they have opened FLOOD_LIMIT cases within the hour, else None."""
        recent = session.scalar(select(func.count(Case.id)).where(
            Case.customer_email == sender, Case.channel == "email", Case.created_at >= now - timedelta(hours=1)))
        if (recent or 0) < FLOOD_LIMIT:
            return None
        return session.scalar(select(Case).where(Case.customer_email == sender, Case.channel == "email")
                              .order_by(Case.id.desc()).limit(1))

"""Typed tables: directory, conversations and messages, cases, outbox."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Optional

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    """Declarative base; all datetimes are naive UTC."""


class Topic(Base):
    """A service topic; labels per language come from the directory."""

    __tablename__ = "topics"
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    position: Mapped[int] = mapped_column(default=0)


class Specialist(Base):
    """A named person customers are handed to."""

    __tablename__ = "specialists"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    titles: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[Optional[str]] = mapped_column(String(40))
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    working_hours: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    absences: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    deputy_key: Mapped[Optional[str]] = mapped_column(String(60))
    # The team whose lead sees this person's cases; "" is the agency's one team.
    team: Mapped[str] = mapped_column(String(60), default="", server_default="")
    # How this person hears of customers' follow-up messages: "email" or "sms" (to `phone`).
    notify_by: Mapped[str] = mapped_column(String(8), default="email", server_default="email")
    active: Mapped[bool] = mapped_column(default=True)

    def title(self, language: str) -> str:
        return self.titles.get(language) or self.titles.get("fi") or next(iter(self.titles.values()), "")


class Conversation(Base):
    """One customer's exchange on one channel; `public_id` is random and is Rasa's sender id."""

    __tablename__ = "conversations"
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(5), default="fi")
    # The customer's phone number or email on those channels; never sent to Rasa.
    address: Mapped[Optional[str]] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The campaign whose marker brought this conversation's first message (router/plan/campaign.py), or None.
    campaign: Mapped[Optional[str]] = mapped_column(String(40), index=True)
    # The customer record (router/casework/customer.py), once an address of this conversation was verified.
    customer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("customers.id"), index=True)
    messages: Mapped[list["Message"]] = relationship(back_populates="conversation", order_by="Message.id")
    # Not stored: what the request that started or resumed it knows (router/inbound/pipeline.py).
    fresh = False  # started by this request: its first message sets the language; no case or backlog to look up
    chosen_language = False  # the customer chose the language on the page: a short text's guess never overrides it

    @property
    def proven_phone(self) -> Optional[str]:
        """The phone number Twilio signed for this conversation (SMS, voice, WhatsApp), as E.164; else None."""
        if self.channel in ("sms", "voice", "whatsapp") and self.address:
            return self.address.removeprefix("whatsapp:")
        return None


class Message(Base):
    """A message in or out; `provider_id` (MessageSid, Message-ID) is unique so retries store once."""

    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("channel", "provider_id", name="uq_messages_provider"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # "in" or "out"
    channel: Mapped[str] = mapped_column(String(16))
    provider_id: Mapped[Optional[str]] = mapped_column(String(255))
    author: Mapped[str] = mapped_column(String(16), default="customer")  # customer, bot, staff, system
    text: Mapped[str] = mapped_column(Text)
    payload: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the customer's widget fetched this (staff) message; unseen ones also go out by email or SMS.
    seen_at: Mapped[Optional[datetime]]
    # A customer's message the bot has not answered yet (Rasa was away): the worker replays it in order.
    awaiting_bot: Mapped[bool] = mapped_column(default=False, server_default="0", index=True)
    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class Case(Base):
    """A customer's matter handed to a named specialist, with the promise's due time."""

    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(20), unique=True)
    handoff_key: Mapped[str] = mapped_column(String(200), unique=True)
    conversation_id: Mapped[Optional[int]] = mapped_column(ForeignKey("conversations.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    topic: Mapped[str] = mapped_column(String(40), index=True)
    language: Mapped[str] = mapped_column(String(5))
    specialist_id: Mapped[int] = mapped_column(ForeignKey("specialists.id"), index=True)
    customer_name: Mapped[Optional[str]] = mapped_column(String(200))
    customer_email: Mapped[Optional[str]] = mapped_column(String(254))
    customer_phone: Mapped[Optional[str]] = mapped_column(String(40))
    company: Mapped[Optional[str]] = mapped_column(String(200))
    # A business ID the customer gave with the company (check digit right): the worker looks it up in the register.
    business_id: Mapped[Optional[str]] = mapped_column(String(9), index=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16), default="handoff")  # handoff, callback, email, feedback
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    due_at: Mapped[datetime]
    taken_up_at: Mapped[Optional[datetime]]
    resolved_at: Mapped[Optional[datetime]] = mapped_column(index=True)
    # The promise: was it taken up by due_at? Set once, at take-up.
    taken_up_in_time: Mapped[Optional[bool]]
    # Whoever had it first stays responsible until it is taken up (the city's promise).
    first_specialist_id: Mapped[Optional[int]] = mapped_column(ForeignKey("specialists.id"))
    reminded_at: Mapped[Optional[datetime]]
    escalated_at: Mapped[Optional[datetime]]
    outcome: Mapped[Optional[str]] = mapped_column(String(40))
    closed_as: Mapped[Optional[str]] = mapped_column(String(16))  # resolved, spam
    # Copied from the conversation at the handoff: the campaign that brought the customer, or None.
    campaign: Mapped[Optional[str]] = mapped_column(String(40), index=True)
    # The newest case event the assigned specialist has seen: customer messages after it are unread.
    seen_event_id: Mapped[Optional[int]]
    # The customer record: from the conversation's verified address, or given by a merge on the case page.
    customer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("customers.id"), index=True)
    specialist: Mapped[Specialist] = relationship(foreign_keys=[specialist_id])
    conversation: Mapped[Optional[Conversation]] = relationship()


class OutboxMessage(Base):
    """A message to send, written in the transaction that caused it and delivered by the worker."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # email, sms, whatsapp, push, webhook
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[Optional[str]] = mapped_column(Text)  # an email's HTML alternative to `body`, when it has one
    # Ids of `attachments` an email carries (a file a specialist sent); other channels get a link in the body.
    attachments: Mapped[Optional[list[int]]] = mapped_column(JSON)
    headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    case_id: Mapped[Optional[int]] = mapped_column(ForeignKey("cases.id"), index=True)
    # pending, sending, sent, dead, cancelled (not needed after all: the chat message was seen in the widget)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    # Under the SMS policy: automated (a confirmation, a survey), or to a number the service has not verified; the
    # country allow-list and the SMS budgets apply and count it (router/delivery/sms_policy.py).
    automated: Mapped[bool] = mapped_column(default=False, server_default="0")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[Optional[str]] = mapped_column(String(64))
    claimed_at: Mapped[Optional[datetime]]
    provider_id: Mapped[Optional[str]] = mapped_column(String(255), index=True)
    # The provider's own delivery status (Twilio's status callback); it only moves forward.
    delivery_status: Mapped[Optional[str]] = mapped_column(String(16))
    last_error: Mapped[Optional[str]] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[Optional[datetime]]
    # When the admins were told that this message failed (dead here, or failed/undelivered at Twilio).
    alerted_at: Mapped[Optional[datetime]]


class OptOut(Base):
    """A phone number that said STOP: no automated messages to it until it says START."""

    __tablename__ = "opt_outs"
    phone: Mapped[str] = mapped_column(String(40), primary_key=True)
    opted_out_at: Mapped[datetime] = mapped_column(default=utcnow)


class Call(Base):
    """A phone call, once per CallSid, with what the caller said and where it went."""

    __tablename__ = "calls"
    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    caller: Mapped[Optional[str]] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(5), default="fi")
    speech: Mapped[Optional[str]] = mapped_column(Text)
    topic: Mapped[Optional[str]] = mapped_column(String(40))
    specialist_id: Mapped[Optional[int]] = mapped_column(ForeignKey("specialists.id"))
    outcome: Mapped[Optional[str]] = mapped_column(String(20))  # connected, callback, fallback
    case_id: Mapped[Optional[int]] = mapped_column(ForeignKey("cases.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    campaign: Mapped[Optional[str]] = mapped_column(String(40), index=True)  # a campaign's own number was called


class MailReceipt(Base):
    """One IMAP message seen, once per mailbox UIDVALIDITY+UID, with what became of it."""

    __tablename__ = "mail_receipts"
    __table_args__ = (UniqueConstraint("folder", "uidvalidity", "uid", name="uq_mail_receipts_uid"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    folder: Mapped[str] = mapped_column(String(200))
    uidvalidity: Mapped[str] = mapped_column(String(40))
    uid: Mapped[str] = mapped_column(String(40))
    message_id: Mapped[Optional[str]] = mapped_column(String(500), index=True)
    # case, thread, relayed, duplicate, loop, bounce, bulk, forged, flood, rejected
    outcome: Mapped[str] = mapped_column(String(20))
    case_id: Mapped[Optional[int]] = mapped_column(ForeignKey("cases.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Attachment(Base):
    """A file of a case: one that came with an email (kept up to a size, otherwise only listed), or one a
    specialist sent (its message is the staff message that carried it)."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[Optional[int]] = mapped_column(ForeignKey("cases.id"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int]
    data: Mapped[Optional[bytes]] = mapped_column(LargeBinary)


class User(Base):
    """A member of staff: specialist, team lead or admin; may be linked to a directory entry."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("oidc_issuer", "oidc_subject", name="uq_users_oidc_identity"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="specialist")  # specialist, lead, admin
    specialist_id: Mapped[Optional[int]] = mapped_column(ForeignKey("specialists.id"))
    api_token_hash: Mapped[Optional[str]] = mapped_column(String(64), unique=True)
    language: Mapped[str] = mapped_column(String(5), default="fi")
    active: Mapped[bool] = mapped_column(default=True)
    # A lead sees the cases of the specialists in this team.
    team: Mapped[str] = mapped_column(String(60), default="", server_default="")
    # Base32 TOTP secret when the second factor is on.
    totp_secret: Mapped[Optional[str]] = mapped_column(String(64))
    # The 30-second step of the last code accepted: a code is good once, never replayed within its window.
    totp_last_step: Mapped[Optional[int]] = mapped_column(BigInteger)
    # The city's identity provider's account, bound at the first sign-in through an admin-made link.
    oidc_issuer: Mapped[Optional[str]] = mapped_column(String(255))
    oidc_subject: Mapped[Optional[str]] = mapped_column(String(255))
    oidc_link_hash: Mapped[Optional[str]] = mapped_column(String(64))
    oidc_link_expires_at: Mapped[Optional[datetime]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    specialist: Mapped[Optional[Specialist]] = relationship()

    # Flask-Login's interface
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class PushSubscription(Base):
    """A browser where a member of staff asked to be told of their customers' messages (Web Push, RFC 8030)."""

    __tablename__ = "push_subscriptions"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    endpoint: Mapped[str] = mapped_column(Text)
    endpoint_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the endpoint
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookEndpoint(Base):
    """A receiver of events (the city's CRM or case system), registered by an admin; signed with its secret."""

    __tablename__ = "webhook_endpoints"
    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    # Standard Webhooks' whsec_…: the receiver verifies with it, so it is kept as given (like an API's secret).
    secret: Mapped[str] = mapped_column(String(200))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Whether events carry the customer's own words (a message's text, a survey comment); ids and facts otherwise.
    with_words: Mapped[bool] = mapped_column(default=False, server_default="0")
    active: Mapped[bool] = mapped_column(default=True, server_default="1")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(254), default="", server_default="")


class CompanyRecord(Base):
    """What the trade register (YTJ) said of a business ID, and when: asked again after COMPANY_REGISTRY_DAYS."""

    __tablename__ = "company_records"
    business_id: Mapped[str] = mapped_column(String(9), primary_key=True)
    # name, form, line_of_business, address, registered_on; None: the register does not know the ID
    data: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)


class StaffSession(Base):
    """A signed-in browser; the cookie names it, and signing out deletes it, so an old cookie opens nothing."""

    __tablename__ = "staff_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the token in the cookie
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkerHeartbeat(Base):
    """Each worker's latest tick: /readyz and /metrics tell whether anyone is delivering the outbox."""

    __tablename__ = "worker_heartbeats"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    beat_at: Mapped[datetime] = mapped_column(default=utcnow)


class JobLease(Base):
    """Who runs a singleton job (IMAP polling, rollup refresh) until when; taken over only once it has expired."""

    __tablename__ = "job_leases"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]


class CannedReply(Base):
    """A reply text admins keep for specialists, per language; {name}, {ref} and {customer} are filled in."""

    __tablename__ = "canned_replies"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    language: Mapped[str] = mapped_column(String(5), default="fi")
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FaqAnswer(Base):
    """An admin's wording of one answer about the agency itself (hours, address, ...) in one language."""

    __tablename__ = "faq_answers"
    __table_args__ = (UniqueConstraint("key", "language"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(5))
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseEvent(Base):
    """What happened to a case, in order: the case's own log beside the message transcript."""

    __tablename__ = "case_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # taken_up, note, message, reassigned, resolved, reminder, escalated
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    user: Mapped[Optional[User]] = relationship()


class Survey(Base):
    """One feedback question per case, on the customer's own channel."""

    __tablename__ = "surveys"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    channel: Mapped[str] = mapped_column(String(8))  # sms or email
    recipient: Mapped[str] = mapped_column(String(254))
    specialist_id: Mapped[int] = mapped_column(ForeignKey("specialists.id"), index=True)
    topic: Mapped[str] = mapped_column(String(40))
    scheduled_at: Mapped[datetime] = mapped_column(index=True)
    sent_at: Mapped[Optional[datetime]] = mapped_column(index=True)
    answered_at: Mapped[Optional[datetime]]
    score: Mapped[Optional[int]]
    comment: Mapped[Optional[str]] = mapped_column(Text)
    published: Mapped[bool] = mapped_column(default=False)
    case: Mapped[Case] = relationship()


class NluCorrection(Base):
    """A customer's first message with the topic staff corrected it to, for the next training round."""

    __tablename__ = "nlu_corrections"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(5))
    old_topic: Mapped[str] = mapped_column(String(40))
    new_topic: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ImpactRollup(Base):
    """Monthly figures per dimension (channel, topic, outcome, total), kept by the worker for fast pages."""

    __tablename__ = "impact_rollups"
    __table_args__ = (UniqueConstraint("month", "dimension", "key", name="uq_impact_rollups"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), index=True)  # YYYY-MM in the agency's time zone
    dimension: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(40))
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    refreshed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ImpactFigure(Base):
    """A year's budget and spend on business services, entered by an admin or lead."""

    __tablename__ = "impact_figures"
    year: Mapped[int] = mapped_column(primary_key=True)
    budget_eur: Mapped[Optional[int]]
    spend_eur: Mapped[Optional[int]]
    note: Mapped[str] = mapped_column(Text, default="")  # in Finnish
    notes: Mapped[Optional[dict[str, str]]] = mapped_column(JSON)  # {"sv": …, "en": …}

    def note_in(self, language: str) -> str:
        return (self.notes or {}).get(language) or self.note


class Story(Base):
    """A short success story staff chose to publish on the impact page."""

    __tablename__ = "stories"
    id: Mapped[int] = mapped_column(primary_key=True)
    language: Mapped[str] = mapped_column(String(5), default="fi")
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # The same story in the other languages: {"sv": {"title": …, "body": …}, "en": {…}}.
    translations: Mapped[Optional[dict[str, dict[str, str]]]] = mapped_column(JSON)
    published: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def text_in(self, language: str) -> tuple[str, str]:
        """The title and body in `language`, or as written when it has no translation."""
        own = (self.translations or {}).get(language) or {}
        if self.language == language or not own.get("title") or not own.get("body"):
            return self.title, self.body
        return own["title"], own["body"]


class AuditEvent(Base):
    """Who did or saw what, when: appended, never edited through the app (router/staff/audit.py)."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"), index=True)
    # The user's email at the time, or "cli" for the command line; a user may later be renamed or removed.
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(40), index=True)
    case_ref: Mapped[Optional[str]] = mapped_column(String(20), index=True)
    # Counts and ids only: never what was read or removed (an erasure's record must not hold the person).
    detail: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)


class Activity(Base):
    """A proactive encounter or event staff recorded: a company visit, a new-entrepreneurs' meeting, a letter…"""

    __tablename__ = "activities"
    id: Mapped[int] = mapped_column(primary_key=True)
    # company_visit, entrepreneur_meeting, letter, phone_call, event (router/plan/activity.py KINDS)
    kind: Mapped[str] = mapped_column(String(24), index=True)
    day: Mapped[date] = mapped_column(index=True)
    company: Mapped[str] = mapped_column(String(200), default="")
    business_id: Mapped[Optional[str]] = mapped_column(String(9), index=True)  # Y-tunnus, check digit verified
    topic: Mapped[Optional[str]] = mapped_column(String(40))
    participants: Mapped[Optional[int]]
    note: Mapped[str] = mapped_column(Text, default="")
    specialist_id: Mapped[Optional[int]] = mapped_column(ForeignKey("specialists.id"), index=True)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    case_id: Mapped[Optional[int]] = mapped_column(ForeignKey("cases.id"))
    source: Mapped[str] = mapped_column(String(8), default="ui")  # ui, api, csv
    # A CSV row's own id (or its content's hash): importing the same file twice stores each activity once.
    external_id: Mapped[Optional[str]] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Campaign(Base):
    """A marketing campaign and its markers: a link code, an SMS keyword, an email subaddress, its own number."""

    __tablename__ = "campaigns"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # /?c=CODE
    name: Mapped[str] = mapped_column(String(200))
    starts: Mapped[date]
    ends: Mapped[date]
    cost_cents: Mapped[Optional[int]]
    sms_keyword: Mapped[Optional[str]] = mapped_column(String(30))
    email_tag: Mapped[Optional[str]] = mapped_column(String(40))  # luukku+TAG@…
    number: Mapped[Optional[str]] = mapped_column(String(40))  # a Twilio number of its own, E.164
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Target(Base):
    """The board's target for one measure and year (month 0) or one month of it."""

    __tablename__ = "targets"
    __table_args__ = (UniqueConstraint("measure", "year", "month", name="uq_targets_period"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    measure: Mapped[str] = mapped_column(String(30))  # router/plan/target.py MEASURES
    year: Mapped[int]
    month: Mapped[int] = mapped_column(default=0, server_default="0")
    value: Mapped[float]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Lead(Base):
    """A company that might locate in the city, moved through the sales pipeline by its owner."""

    __tablename__ = "leads"
    id: Mapped[int] = mapped_column(primary_key=True)
    company: Mapped[str] = mapped_column(String(200))
    business_id: Mapped[Optional[str]] = mapped_column(String(9))
    sector: Mapped[str] = mapped_column(String(100), default="", server_default="")
    jobs: Mapped[Optional[int]]  # jobs planned; once located, the jobs the impact page counts
    investment_eur: Mapped[Optional[int]]
    plot_interest: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # lead, contacted, negotiating, decided, located, lost (router/plan/leads.py STAGES)
    stage: Mapped[str] = mapped_column(String(16), default="lead", index=True)
    owner_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    case_id: Mapped[Optional[int]] = mapped_column(ForeignKey("cases.id"), unique=True)
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    stage_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    located_on: Mapped[Optional[date]] = mapped_column(index=True)
    owner: Mapped[Optional[User]] = relationship()


class Partner(Base):
    """An organisation a case can be referred to (an enterprise agency, employment services): from the directory."""

    __tablename__ = "partners"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(60))
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    email: Mapped[str] = mapped_column(String(254))
    area: Mapped[str] = mapped_column(String(200), default="", server_default="")
    active: Mapped[bool] = mapped_column(default=True, server_default="1")


class Referral(Base):
    """A case passed to a partner: asked (the customer's consent), sent, confirmed by the partner; or declined."""

    __tablename__ = "referrals"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    # Who referred it: they stay responsible until the partner confirms.
    specialist_id: Mapped[int] = mapped_column(ForeignKey("specialists.id"))
    # asked, sent, confirmed, declined, withdrawn (router/casework/referral.py)
    status: Mapped[str] = mapped_column(String(12), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # How the customer agreed: "link" (they answered the service's question) or what staff recorded they said.
    consent: Mapped[str] = mapped_column(String(500), default="", server_default="")
    consented_at: Mapped[Optional[datetime]]
    sent_at: Mapped[Optional[datetime]] = mapped_column(index=True)
    due_at: Mapped[Optional[datetime]]
    reminded_at: Mapped[Optional[datetime]]
    escalated_at: Mapped[Optional[datetime]]
    confirmed_at: Mapped[Optional[datetime]]
    confirmed_in_time: Mapped[Optional[bool]]
    case: Mapped[Case] = relationship()
    partner: Mapped[Partner] = relationship()
    specialist: Mapped[Specialist] = relationship()


class Customer(Base):
    """One person across channels: the addresses the service verified lead here. Merged into another, it is that one
    (`merged_into_id`); undoing the merge clears it, so nothing else is rewritten either way."""

    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    merged_into_id: Mapped[Optional[int]] = mapped_column(ForeignKey("customers.id"), index=True)


class CustomerAddress(Base):
    """An address the service verified as the customer's: a phone number Twilio signed, or an email address that
    answered a mail the service sent (through the case's reply address)."""

    __tablename__ = "customer_addresses"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # phone, email
    address: Mapped[str] = mapped_column(String(254), unique=True)
    verified_at: Mapped[datetime] = mapped_column(default=utcnow)
    how: Mapped[str] = mapped_column(String(16))  # twilio, email_reply


class CustomerMerge(Base):
    """Staff said two records are one person: who, when, and whether it was undone."""

    __tablename__ = "customer_merges"
    id: Mapped[int] = mapped_column(primary_key=True)
    kept_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    merged_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    undone_at: Mapped[Optional[datetime]]
    undone_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))

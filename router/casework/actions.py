"""What staff do with a case: take up, note, message the customer, reassign, resolve."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from router import texts
from router.casework import corrections, directory, files, inbox, promise, survey
from router.config import Settings
from router.delivery import events, notify
from router.storage import messages
from router.storage.models import (
    Attachment,
    Case,
    CaseEvent,
    Conversation,
    Message,
    NluCorrection,
    Referral,
    Specialist,
    User,
)

OUTCOMES = ("company_founded", "funding_granted", "person_hired", "premises_found", "company_located",
            "advice_given", "referred_elsewhere")
OPEN = ("open", "taken_up")
# A referral waiting for the customer's consent or the partner's confirmation (router/casework/referral.py).
REFERRAL_PENDING = ("asked", "sent")


class CaseworkError(ValueError):
    """The action does not fit the case's state; the message says why."""


def _confirmation(settings: Settings, case: Case, person: Specialist) -> dict[str, str]:
    """WhatsApp's approved "confirmation" template: a named person and a date."""
    v = _values(settings, case, person)
    return notify.whatsapp_template("confirmation", v["name"], v["title"], v["date"], v["ref"])


def _values(settings: Settings, case: Case, person: Specialist) -> dict:
    due = promise.format_day(promise.local_date(case.due_at, settings.timezone), case.language)
    return dict(service=settings.service_name, name=person.name, title=person.title(case.language), ref=case.ref,
                date=due)


def _event(session: Session, case: Case, kind: str, user: Optional[User], now: datetime, text: str = "",
           **data) -> None:
    session.add(CaseEvent(case_id=case.id, kind=kind, user_id=user.id if user else None, text=text,
                          data=data or None, created_at=now))


def take_up(session: Session, settings: Settings, case: Case, user: Optional[User], now: datetime) -> Case:
    """Start on the case: the promise is kept or not, and the customer hears that the named person has begun."""
    if case.status != "open":
        raise CaseworkError(f"case {case.ref} is {case.status}, not open")
    case.status, case.taken_up_at = "taken_up", now
    case.taken_up_in_time = now <= case.due_at
    _event(session, case, "taken_up", user, now, in_time=case.taken_up_in_time)
    events.emit(session, "case.taken_up", {**events.case_facts(case), "in_time": case.taken_up_in_time}, now,
                case_id=case.id)
    notify.to_customer(session, settings, case, key=f"case:{case.ref}:taken-up",
                       template=_confirmation(settings, case, case.specialist),
                       text=texts.say("taken_up", case.language, **_values(settings, case, case.specialist)),
                       subject=texts.say("taken_up_subject", case.language, **_values(settings, case, case.specialist)),
                       now=now)
    return case


def note(session: Session, case: Case, user: Optional[User], text: str, now: datetime) -> None:
    text = text.strip()
    if not text:
        raise CaseworkError("a note needs text")
    _event(session, case, "note", user, now, text[:5000])


def message_customer(session: Session, settings: Settings, case: Case, user: Optional[User], text: str,
                     now: datetime, uploads: Sequence[files.Upload] = ()) -> str:
    """Send on the customer's channel and keep it in the transcript; the channel used.

    A web chat customer sees it in the widget; if they gave an email or a number and have not seen it there within
    CHAT_SEEN_MINUTES (they left), it goes there too. Files go as attachments by email, elsewhere as signed links
    that expire after FILE_LINK_DAYS; they are the case's attachments (the same retention and erasure).
    """
    text = text.strip()
    if not text and not uploads:
        raise CaseworkError("a message needs text")
    try:
        accepted = files.accept(uploads, settings.attachment_max_bytes, settings.attachment_max_total_bytes)
    except files.FileRefused as exc:
        raise CaseworkError(str(exc)) from exc
    conv = session.get(Conversation, case.conversation_id) if case.conversation_id else None
    if accepted and conv is None:
        raise CaseworkError("files go in the customer's conversation, and this case has none")
    sender = user.name if user else settings.service_name
    if conv is not None:
        announce_staff(session, case, conv, sender, now)
    message_id = messages.record(session, conv, text or ", ".join(u.filename for u in accepted), direction="out",
                                 author="staff", now=now, payload={"name": sender}) if conv else None
    sent = _attach(session, settings, case, message_id, accepted, now) if message_id and accepted else []
    in_widget = conv is not None and conv.channel == "web"
    channel = send_to_customer(session, settings, case, conv, message_id, text, sender, now, files=sent)
    if channel is None and not in_widget:
        raise CaseworkError("the customer left no email or phone number")
    _event(session, case, "message", user, now, text[:5000], channel=channel or "web",
           files=[f["name"] for f in sent] or None)
    events.emit(session, "message.created", {"case": case.ref, "message": message_id, "author": "staff",
                                              "channel": channel or "web", "files": len(sent)}, now,
                words={"text": text}, case_id=case.id)
    inbox.mark_seen(session, case, user)  # answering is having read what came before
    return channel or "web"


def _attach(session: Session, settings: Settings, case: Case, message_id: int, accepted: Sequence[files.Upload],
            now: datetime) -> list[dict]:
    """Keep the files as the case's attachments, and note them on the message: {"id", "name", "size", "url"}."""
    sent = []
    for upload in accepted:
        row = Attachment(case_id=case.id, message_id=message_id, filename=upload.filename,
                         content_type=upload.content_type, size=len(upload.data), data=upload.data)
        session.add(row)
        session.flush()
        token = files.token(settings.secret_key, row.id, now, settings.file_link_days)
        sent.append({"id": row.id, "name": row.filename, "size": row.size,
                     "url": f"{settings.public_base_url.rstrip('/')}/files/{token}"})
    message = session.get_one(Message, message_id)
    message.payload = {**(message.payload or {}), "files": sent}
    return sent


def announce_staff(session: Session, case: Case, conv: Conversation, sender: str, now: datetime) -> None:
    """In a web chat, the first message from a person is preceded by "… joined the conversation"."""
    if conv.channel != "web":
        return
    joined = session.scalar(select(Message.id).where(Message.conversation_id == conv.id,
                                                     Message.author == "staff").limit(1))
    if joined is None:
        messages.record(session, conv, texts.say("staff_joined", case.language, name=sender), direction="out",
                        author="system", now=now)


def send_to_customer(session: Session, settings: Settings, case: Case, conv: Optional[Conversation],
                     message_id: Optional[int], text: str, sender: str, now: datetime, *,
                     subject: str = "", signature: str = "", files: Sequence[dict] = ()) -> Optional[str]:
    """A person's message, already in the transcript as `message_id`, to the customer on their channel; the channel,
    or None when there is none. One rule for the case page, the API and a specialist's emailed reply: a web chat
    customer sees it in the widget first, so the email or text copy waits CHAT_SEEN_MINUTES and is dropped once
    the widget has shown it; on WhatsApp past 24 hours it goes as the "reply" template."""
    in_widget = conv is not None and conv.channel == "web"
    not_before = now + timedelta(minutes=settings.chat_seen_minutes) if in_widget else None
    headers = {"unless_seen": str(message_id)} if in_widget and message_id else None
    by = settings.service_name if sender == settings.service_name else f"{settings.service_name}, {sender}"
    return notify.to_customer(
        session, settings, case, key=f"case:{case.ref}:staff-message:{message_id or now.isoformat()}",
        text=f"{text}\n\n{signature or f'{sender}, {settings.service_name}'}" if case.customer_email
        else f"{by}: {text}",
        subject=subject or texts.say("staff_message_subject", case.language, ref=case.ref), automated=False,
        now=now, template=notify.whatsapp_template("reply", sender, case.ref, text), not_before=not_before,
        headers=headers, attachments=[f["id"] for f in files],
        links="\n".join(f"{f['name']}: {f['url']}" for f in files))


def reassign(session: Session, settings: Settings, case: Case, user: Optional[User], now: datetime, *,
             specialist_key: Optional[str] = None, topic: Optional[str] = None) -> Case:
    """Hand the case on; a changed topic is kept as a labelled example for the next training round."""
    if case.status not in OPEN:
        raise CaseworkError(f"case {case.ref} is {case.status}")
    topics = {t.key for t in directory.topic_labels(session)}
    if topic and topic not in topics:
        raise CaseworkError(f"unknown topic {topic}")
    old_topic, old_person = case.topic, case.specialist
    if topic and topic != case.topic:
        case.topic = topic
        first = session.scalar(select(Message.text).where(Message.conversation_id == case.conversation_id,
                                                          Message.direction == "in").order_by(Message.id).limit(1))
        session.add(NluCorrection(case_id=case.id, text=corrections.deidentify(first or case.summary,
                                                                               **corrections.known_names(case)),
                                  language=case.language,
                                  old_topic=old_topic, new_topic=topic, created_at=now))
    if specialist_key:
        person = session.scalar(select(Specialist).where(Specialist.key == specialist_key, Specialist.active.is_(True)))
        if person is None:
            raise CaseworkError(f"unknown specialist {specialist_key}")
    else:
        people = directory.candidates(session)
        today = promise.local_date(now, settings.timezone)
        person = directory.choose_for(people, case.topic, case.language,
                                      (today, promise.local_date(case.due_at, settings.timezone)),
                                      directory.open_case_counts(session), exclude=old_person.key)
    if person.id == old_person.id and not topic:
        raise CaseworkError("the case is already with this specialist")
    if person.id != old_person.id:
        inbox.forget_seen(case)
    case.specialist = person
    _event(session, case, "reassigned", user, now, f"{old_person.name} → {person.name}", old_topic=old_topic,
           topic=case.topic, old=old_person.key, new=person.key)
    events.emit(session, "case.reassigned", {**events.case_facts(case), "from_specialist": old_person.key,
                                              "from_topic": old_topic}, now, case_id=case.id)
    notify.to_staff(session, settings, person, case, key=f"case:{case.ref}:reassigned:{now.isoformat()}",
                    what=("mail.passed_to_you", {"name": old_person.name}),
                    body=("mail.passed_body", {"name": old_person.name}), more=case.summary or "", now=now)
    if person.id != old_person.id:
        notify.to_customer(session, settings, case, key=f"case:{case.ref}:reassigned:{person.key}",
                           template=_confirmation(settings, case, person),
                           text=texts.say("reassigned", case.language, **_values(settings, case, person)),
                           subject=texts.say("reassigned_subject", case.language, **_values(settings, case, person)),
                           now=now)
    return case


def resolve(session: Session, settings: Settings, case: Case, user: Optional[User], now: datetime, *,
            outcome: Optional[str] = None, spam: bool = False) -> Case:
    """Close the case and plan its one survey."""
    if case.status not in OPEN:
        raise CaseworkError(f"case {case.ref} is {case.status}")
    if outcome and outcome not in OUTCOMES:
        raise CaseworkError(f"unknown outcome {outcome}")
    if case.taken_up_at is None:  # resolving is also taking it up
        case.taken_up_at, case.taken_up_in_time = now, now <= case.due_at
    case.status, case.resolved_at, case.outcome = "resolved", now, outcome
    case.closed_as = "spam" if spam else "resolved"
    _event(session, case, "resolved", user, now, outcome or "", spam=spam)
    for waiting in session.scalars(select(Referral).where(Referral.case_id == case.id,
                                                          Referral.status.in_(REFERRAL_PENDING))):
        waiting.status = "withdrawn"  # the partner's link no longer confirms anything
        _event(session, case, "referral_withdrawn", user, now, waiting.partner.name)
        events.emit(session, "referral.changed", events.referral_facts(waiting), now, case_id=case.id)
    events.emit(session, "case.resolved", {**events.case_facts(case), "outcome": outcome, "spam": spam}, now,
                case_id=case.id)
    session.flush()
    survey.schedule(session, settings, case, now)
    return case


def fill_canned(text: str, case: Case, user: Optional[User]) -> str:
    """A canned reply with the specialist's name, the reference and the customer's name filled in."""
    values = {"name": user.name if user else case.specialist.name, "ref": case.ref,
              "customer": case.customer_name or ""}
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


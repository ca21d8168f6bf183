"""Warm referrals: a case passed to a partner with the customer's consent, confirmed by the partner's link.

Until the partner confirms, the specialist who referred it stays responsible: the partner is reminded on the due
morning and the specialist hears of a breach, by the promise's own rule (`promise_keeper.due_actions`).
"""
from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Optional

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from router import texts
from router.casework import actions, promise, promise_keeper
from router.config import Settings
from router.delivery import events, notify
from router.delivery.outbox import enqueue
from router.storage import messages
from router.storage.models import Case, CaseEvent, Conversation, Partner, Referral, User
from router.storage.store import changed

# asked: waiting for the customer's consent; sent: with the partner; confirmed: the partner took it up;
# declined: the customer said no; withdrawn: the case was closed before the partner confirmed.
PENDING = actions.REFERRAL_PENDING
CONSENT, CONFIRM = "referral-consent", "referral-confirm"
# The case events that mark a new state of the referral (reminders and breaches do not).
STATE_CHANGES = ("referral_asked", "referral_sent", "referral_confirmed", "referral_declined")


class ReferralError(actions.CaseworkError):
    """The referral does not fit the case or the directory; the message says why."""


def partners(session: Session, topic: Optional[str] = None, language: Optional[str] = None) -> list[Partner]:
    """Active partners; with a topic (and a language), those serving it first."""
    found = list(session.scalars(select(Partner).where(Partner.active.is_(True)).order_by(Partner.name)))
    return sorted(found, key=lambda p: (topic is not None and topic not in p.topics,
                                        language is not None and language not in p.languages))


def as_dict(partner: Partner) -> dict:
    return {"key": partner.key, "name": partner.name, "kind": partner.kind, "topics": list(partner.topics),
            "languages": list(partner.languages), "email": partner.email, "area": partner.area}


def _at(value: Optional[datetime]) -> Optional[str]:
    return value.isoformat() + "Z" if value else None


def referral_dict(ref: Referral) -> dict:
    return {"id": ref.id, "case": ref.case.ref, "partner": as_dict(ref.partner), "status": ref.status,
            "created_at": _at(ref.created_at), "consented_at": _at(ref.consented_at), "sent_at": _at(ref.sent_at),
            "due_at": _at(ref.due_at), "confirmed_at": _at(ref.confirmed_at),
            "confirmed_in_time": ref.confirmed_in_time, "responsible": ref.specialist.key}


def _serializer(settings: Settings, purpose: str) -> URLSafeSerializer:
    return URLSafeSerializer(settings.secret_key, salt=purpose)


def link(settings: Settings, referral: Referral, purpose: str) -> str:
    """The customer's consent page or the partner's confirmation page for this referral."""
    path = "consent" if purpose == CONSENT else "confirm"
    token = _serializer(settings, purpose).dumps(referral.id)
    return f"{settings.public_base_url.rstrip('/')}/referrals/{path}/{token}"


def from_token(session: Session, settings: Settings, token: str, purpose: str) -> Optional[Referral]:
    """The referral a link names, or None when it is not one of ours (a consent token never confirms)."""
    try:
        referral_id = _serializer(settings, purpose).loads(token[:200])
    except BadSignature:
        return None
    return session.get(Referral, referral_id) if isinstance(referral_id, int) else None


def pending(session: Session, case: Case) -> Optional[Referral]:
    return session.scalar(select(Referral).where(Referral.case_id == case.id, Referral.status.in_(PENDING))
                          .order_by(Referral.id.desc()).limit(1))


def of_case(session: Session, case: Case) -> list[Referral]:
    return list(session.scalars(select(Referral).where(Referral.case_id == case.id).order_by(Referral.id)))


def _event(session: Session, referral: Referral, kind: str, now: datetime, user: Optional[User] = None) -> None:
    """The case's log line; and, when the referral's state changed, the `referral.changed` event out."""
    session.add(CaseEvent(case_id=referral.case_id, kind=kind, user_id=user.id if user else None,
                          text=referral.partner.name, data={"partner": referral.partner.key}, created_at=now))
    if kind in STATE_CHANGES:
        events.emit(session, "referral.changed", events.referral_facts(referral), now, case_id=referral.case_id)


def refer(session: Session, settings: Settings, case: Case, user: Optional[User], partner_key: str, now: datetime,
          consent: Optional[str] = None) -> Referral:
    """Refer the case to a partner: with `consent` (how the customer already agreed) the partner is told at once;
    without it the customer is asked on their channel, and the partner hears of it only once they agree."""
    if case.status not in actions.OPEN:
        raise ReferralError(f"case {case.ref} is {case.status}")
    partner = session.scalar(select(Partner).where(Partner.key == partner_key, Partner.active.is_(True)))
    if partner is None:
        raise ReferralError(f"no active partner {partner_key!r} (the directory's partners: GET /api/v1/partners)")
    if pending(session, case) is not None:
        raise ReferralError(f"case {case.ref} already has a referral waiting")
    if case.taken_up_at is None:  # referring is working on it: the promise to the customer is kept or not now
        case.status, case.taken_up_at, case.taken_up_in_time = "taken_up", now, now <= case.due_at
        session.add(CaseEvent(case_id=case.id, kind="taken_up", user_id=user.id if user else None,
                              data={"in_time": case.taken_up_in_time}, created_at=now))
        events.emit(session, "case.taken_up", {**events.case_facts(case), "in_time": case.taken_up_in_time}, now,
                    case_id=case.id)
    made = Referral(case_id=case.id, partner=partner, specialist_id=case.specialist_id, status="asked",
                    created_at=now)
    session.add(made)
    session.flush()
    made.case, made.specialist = case, case.specialist
    if consent:
        made.consent, made.consented_at = consent.strip()[:500], now
        _event(session, made, "referral_consent", now, user)
        _send(session, settings, made, now)
        return made
    _event(session, made, "referral_asked", now, user)
    values = dict(partner=partner.name, area=partner.area, link=link(settings, made, CONSENT))
    try:
        actions.message_customer(session, settings, case, user, texts.say("referral.ask", case.language, **values),
                                 now)
    except actions.CaseworkError as exc:  # nowhere to ask: record the customer's answer instead
        raise ReferralError("the customer cannot be asked (no channel): ask them, then give their consent") from exc
    return made


def agree(session: Session, settings: Settings, referral: Referral, now: datetime) -> bool:
    """The customer agreed on the consent page: the partner is told. False if it was already answered."""
    if not _move(session, referral, "asked", "sent", now):
        return False
    referral.consent, referral.consented_at = "link", now
    _event(session, referral, "referral_consent", now)
    _send(session, settings, referral, now)
    return True


def decline(session: Session, settings: Settings, referral: Referral, now: datetime) -> bool:
    """The customer said no: the case stays with the specialist, who is told. False if already answered."""
    if not _move(session, referral, "asked", "declined", now):
        return False
    _event(session, referral, "referral_declined", now)
    notify.to_staff(session, settings, referral.specialist, referral.case, key=f"referral:{referral.id}:declined",
                    what=("mail.referral_declined", {"partner": referral.partner.name}),
                    body=("mail.referral_declined_body", {"partner": referral.partner.name}), now=now)
    return True


def _move(session: Session, referral: Referral, old: str, new: str, now: datetime) -> bool:
    # Compare-and-set: a double click or two tabs act once.
    done = changed(session, update(Referral).where(Referral.id == referral.id, Referral.status == old)
                   .values(status=new)) == 1
    session.refresh(referral)
    return done


def _send(session: Session, settings: Settings, referral: Referral, now: datetime) -> None:
    """The partner gets the summary and the confirmation link; the customer hears who takes it up and by when."""
    case, partner = referral.case, referral.partner
    h, m = (int(x) for x in settings.working_day_ends.split(":"))
    referral.status, referral.sent_at = "sent", now
    referral.due_at = promise.due_at(now, tz=settings.timezone, working_days=settings.promise_working_days,
                                     closed_days=settings.closed_days, day_ends=time(h, m))
    _mail_partner(session, settings, referral, "new", now)
    _event(session, referral, "referral_sent", now)
    day = promise.format_day(promise.local_date(referral.due_at, settings.timezone), case.language)
    _tell_customer(session, settings, case, f"referral:{referral.id}:sent:customer",
                   texts.say("referral.sent", case.language, partner=partner.name, date=day,
                             name=referral.specialist.name, ref=case.ref), now)


def _mail_partner(session: Session, settings: Settings, referral: Referral, what: str, now: datetime) -> None:
    case, partner = referral.case, referral.partner
    language = partner.languages[0] if partner.languages else "fi"
    day = promise.format_day(promise.local_date(referral.due_at or now, settings.timezone), language)
    values = dict(service=settings.service_name, ref=case.ref, date=day, link=link(settings, referral, CONFIRM),
                  name=referral.specialist.name, email=referral.specialist.email,
                  topic=notify.topic_label(session, case, language))
    facts = texts.say("referral.partner_facts", language, customer=case.customer_name or "-",
                      company=case.company or "-", email=case.customer_email or "-", phone=case.customer_phone or "-",
                      spoken=case.language, summary=case.summary or "-")
    enqueue(session, key=f"referral:{referral.id}:partner:{what}", kind="email", recipient=partner.email,
            subject=texts.say(f"referral.partner_subject_{what}", language, **values),
            body=f"{texts.say(f'referral.partner_body_{what}', language, **values)}\n\n{facts}\n\n{values['link']}",
            case_id=case.id, headers={"Reply-To": referral.specialist.email}, now=now)


def _tell_customer(session: Session, settings: Settings, case: Case, key: str, text: str, now: datetime) -> None:
    """A web chat customer reads it in the widget (and by email or SMS if they left); others on their channel."""
    conv = session.get(Conversation, case.conversation_id) if case.conversation_id else None
    if conv is not None and conv.channel == "web":
        message_id = messages.record(session, conv, text, direction="out", author="system", now=now)
        actions.send_to_customer(session, settings, case, conv, message_id, text, settings.service_name, now)
        return
    notify.to_customer(session, settings, case, key=key, text=text,
                       subject=texts.say("referral.subject", case.language, ref=case.ref), now=now)


def confirm(session: Session, settings: Settings, referral: Referral, now: datetime) -> bool:
    """The partner took it up: the customer and the specialist are told, and the case is resolved as referred.
    False if it was not waiting for the partner (already confirmed, or withdrawn)."""
    if not _move(session, referral, "sent", "confirmed", now):
        return False
    referral.confirmed_at = now
    referral.confirmed_in_time = referral.due_at is None or now <= referral.due_at
    case, partner = referral.case, referral.partner
    _event(session, referral, "referral_confirmed", now)
    _tell_customer(session, settings, case, f"referral:{referral.id}:confirmed:customer",
                   texts.say("referral.confirmed", case.language, partner=partner.name, ref=case.ref), now)
    notify.to_staff(session, settings, referral.specialist, case, key=f"referral:{referral.id}:confirmed",
                    what=("mail.referral_confirmed", {"partner": partner.name}),
                    body=("mail.referral_confirmed_body", {"partner": partner.name}), now=now)
    if case.status in actions.OPEN:
        actions.resolve(session, settings, case, None, now, outcome="referred_elsewhere")
    return True


def keep(session: Session, settings: Settings, now: datetime) -> dict[str, int]:
    """Remind the partner on the due morning; on breach, tell the specialist still responsible (any worker)."""
    counts = {"remind": 0, "escalate": 0}
    waiting = session.scalars(select(Referral).where(
        Referral.status == "sent", Referral.due_at <= now + timedelta(days=1),
        Referral.reminded_at.is_(None) | Referral.escalated_at.is_(None)).order_by(Referral.due_at).limit(500)).all()
    for referral in waiting:
        assert referral.due_at is not None
        for action in promise_keeper.due_actions(due_at=referral.due_at, taken_up=False,
                                                 reminded=referral.reminded_at is not None,
                                                 escalated=referral.escalated_at is not None, now=now,
                                                 tz=settings.timezone):
            column = Referral.reminded_at if action == "remind" else Referral.escalated_at
            if changed(session, update(Referral).where(Referral.id == referral.id, column.is_(None))
                       .values({column: now})) != 1:
                continue
            if action == "remind":
                _mail_partner(session, settings, referral, "reminder", now)
                _event(session, referral, "referral_reminded", now)
            else:
                notify.to_staff(session, settings, referral.specialist, referral.case,
                                key=f"referral:{referral.id}:breached",
                                what=("mail.referral_breached", {"partner": referral.partner.name}),
                                body=("mail.referral_breached_body", {"partner": referral.partner.name,
                                                                      "email": referral.partner.email}), now=now)
                _event(session, referral, "referral_overdue", now)
            counts[action] += 1
    return counts

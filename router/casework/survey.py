"""Feedback after the service event: one question per case, on the customer's own channel."""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta, timezone
from typing import Optional
from zoneinfo import ZoneInfo

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from router import texts
from router.casework.promise import is_working_day
from router.config import Settings
from router.delivery import events, notify
from router.delivery.outbox import enqueue
from router.storage.models import Case, CaseEvent, OptOut, Survey, User
from router.storage.store import changed, insert_ignore

WORDS = {"yksi": 1, "kaksi": 2, "kolme": 3, "neljä": 4, "nelja": 4, "viisi": 5,
         "ett": 1, "en": 1, "två": 2, "tva": 2, "tre": 3, "fyra": 4, "fem": 5,
         "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
ANSWER_WINDOW = timedelta(days=7)


def parse_score(text: str) -> tuple[Optional[int], Optional[str]]:
    """A 1–5 score and the rest as a comment: "5" → (5, None), "4 kiitos!" → (4, "kiitos!"), "hmm" → (None, "hmm")."""
    stripped = text.strip()
    match = re.match(r"^\s*([1-5])(?:\s*/\s*5)?(?![\d])[\s,.!:;-]*(.*)$", stripped, re.S)
    if not match:
        word = re.match(r"^\s*([a-zåäö]+)\b[\s,.!:;-]*(.*)$", stripped.lower(), re.S)
        if word and word.group(1) in WORDS:
            rest = stripped[word.start(2):].strip()
            return WORDS[word.group(1)], rest or None
        return None, stripped or None
    return int(match.group(1)), match.group(2).strip() or None


def send_time(resolved: datetime, *, delay: timedelta, tz: str, start: time = time(9), end: time = time(20),
              closed_days=()) -> datetime:
    """When to ask (naive UTC): after `delay`, moved into a working day between `start` and `end` local time."""
    zone = ZoneInfo(tz)
    local = (resolved + delay).replace(tzinfo=timezone.utc).astimezone(zone)
    if local.time() >= end:
        local = datetime.combine(local.date() + timedelta(days=1), start, tzinfo=zone)
    elif local.time() < start:
        local = datetime.combine(local.date(), start, tzinfo=zone)
    while not is_working_day(local.date(), closed_days):
        local = datetime.combine(local.date() + timedelta(days=1), start, tzinfo=zone)
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.secret_key, salt="survey")


def link(settings: Settings, survey_id: int) -> str:
    return f"{settings.public_base_url.rstrip('/')}/survey/{serializer(settings).dumps(survey_id)}"


def from_token(session: Session, settings: Settings, token: str) -> Optional[Survey]:
    try:
        survey_id = serializer(settings).loads(token)
    except BadSignature:
        return None
    return session.get(Survey, survey_id) if isinstance(survey_id, int) else None


def schedule(session: Session, settings: Settings, case: Case, now: datetime) -> Optional[int]:
    """Plan the case's one survey; none for spam, for a customer we cannot reach, or a number that said STOP."""
    if case.closed_as == "spam":
        return None
    reach = notify.customer_channel(session, case)
    if reach is None:
        return None
    kind, address = reach
    if kind in ("sms", "whatsapp") and session.get(OptOut, address) is not None:
        return None
    when = send_time(now, delay=timedelta(hours=settings.survey_delay_hours), tz=settings.timezone,
                     closed_days=settings.closed_days)
    return insert_ignore(session, Survey, {"case_id": case.id, "channel": kind, "recipient": address,
                                           "specialist_id": case.specialist_id, "topic": case.topic,
                                           "scheduled_at": when})


def send_due(session: Session, settings: Settings, now: datetime) -> int:
    """Queue the surveys whose time has come; each exactly once, whichever worker gets there first."""
    sent = 0
    for survey in session.scalars(select(Survey).where(Survey.sent_at.is_(None), Survey.scheduled_at <= now)
                                  .order_by(Survey.id).limit(200)).all():
        claimed = changed(session, update(Survey).where(Survey.id == survey.id, Survey.sent_at.is_(None))
                          .values(sent_at=now))
        if not claimed:
            continue
        case = survey.case
        values = dict(service=settings.service_name, ref=case.ref)
        if survey.channel in ("sms", "whatsapp"):  # answered by a text with a score (router/inbound/pipeline.py)
            headers = {"automated": "1"} if survey.channel == "sms" else \
                notify.whatsapp_template("survey", settings.service_name, case.ref)
            enqueue(session, key=f"survey:{survey.id}", kind=survey.channel, recipient=survey.recipient,
                    case_id=case.id, body=texts.say("survey_sms", case.language, **values), headers=headers, now=now)
        else:
            enqueue(session, key=f"survey:{survey.id}", kind="email", recipient=survey.recipient, case_id=case.id,
                    subject=texts.say("survey_email_subject", case.language, **values),
                    body=notify.customer_email_body(settings, case.language, texts.say(
                        "survey_email_body", case.language, link=link(settings, survey.id), **values)),
                    headers={"Auto-Submitted": "auto-generated"}, now=now)
        session.add(CaseEvent(case_id=case.id, kind="survey_sent", text=survey.channel, created_at=now))
        session.commit()
        sent += 1
    return sent


def awaiting_answer(session: Session, channel: str, address: str, now: datetime) -> Optional[Survey]:
    """The latest survey sent to this address on this text channel (sms, whatsapp) and not yet answered."""
    return session.scalar(select(Survey).where(Survey.channel == channel, Survey.recipient == address,
                                               Survey.sent_at.is_not(None), Survey.answered_at.is_(None),
                                               Survey.sent_at >= now - ANSWER_WINDOW)
                          .order_by(Survey.sent_at.desc()).limit(1))


def record(session: Session, settings: Settings, survey: Survey, score: Optional[int], comment: Optional[str],
           now: datetime) -> bool:
    """Store the answer once; a low score alerts the team leads. False when it was answered already."""
    if score is not None and not 1 <= score <= 5:
        raise ValueError("score must be 1-5")
    done = changed(session, update(Survey).where(Survey.id == survey.id, Survey.answered_at.is_(None))
                   .values(answered_at=now, score=score, comment=(comment or None) and comment[:2000]))
    if not done:
        return False
    case = survey.case
    session.add(CaseEvent(case_id=case.id, kind="survey_answered", text=f"{score or '-'} {comment or ''}".strip(),
                          created_at=now))
    events.emit(session, "survey.answered", {"case": case.ref, "score": score, "channel": survey.channel}, now,
                words={"comment": comment}, case_id=case.id)
    if score is not None and score <= 2:
        for lead in session.scalars(select(User).where(User.role == "lead", User.active.is_(True))):
            language = lead.language if lead.language in texts.LANGUAGES else "fi"
            enqueue(session, key=f"low-score:{survey.id}:{lead.id}", kind="email", recipient=lead.email,
                    case_id=case.id, subject=texts.say("mail.low_score_subject", language, ref=case.ref, score=score),
                    body=f"{texts.say('mail.low_score_body', language, score=score)}\n\n{comment or ''}\n\n"
                         f"{settings.public_base_url.rstrip('/')}/staff/cases/{case.ref}", now=now)
    return True

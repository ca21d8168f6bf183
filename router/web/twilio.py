"""Twilio's webhooks: SMS, WhatsApp, voice, delivery status. Every route checks Twilio's signature first."""
from __future__ import annotations

import logging
from functools import wraps

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy import update
from sqlalchemy.exc import DBAPIError
from twilio.request_validator import RequestValidator

from router import sanitize
from router.channels import sms as sms_channel
from router.channels import twiml
from router.channels import whatsapp as whatsapp_channel
from router.inbound.conversation import NotStored
from router.storage.models import OutboxMessage
from router.web import clock, db, inbound, settings

log = logging.getLogger(__name__)
bp = Blueprint("twilio", __name__, url_prefix="/twilio")

# Twilio's message statuses in the order they can happen; a callback never moves a message backwards.
STATUS_RANK = {"accepted": 0, "scheduled": 0, "queued": 1, "sending": 2, "sent": 3, "delivered": 4,
               "undelivered": 4, "failed": 4, "read": 5}


def signed_url() -> str:
    """The URL Twilio signed: the public base (we may sit behind a proxy) plus the raw, undecoded query."""
    url = settings().public_base_url.rstrip("/") + request.path
    if request.query_string:
        url += "?" + request.query_string.decode("ascii", errors="replace")
    return url


def twilio_signed(view):
    """Refuse (403, nothing stored) any request whose X-Twilio-Signature does not match."""
    @wraps(view)
    def checked(*args, **kwargs):
        s = settings()
        if s.twilio_validate:
            signature = request.headers.get("X-Twilio-Signature", "")
            if not s.twilio_auth_token or not signature or \
                    not RequestValidator(s.twilio_auth_token).validate(signed_url(), request.form, signature):
                abort(403)
        return view(*args, **kwargs)
    return checked


def xml(body: str) -> Response:
    return Response(body, mimetype="text/xml")


def _channels() -> dict:
    return current_app.extensions["luukku"]


@bp.post("/sms")
@twilio_signed
def sms():
    message = sms_channel.parse(request.form)
    if message is None:
        return xml(twiml.sms_reply([])), 400
    return _answer(sms_channel.PROFILE, message)


@bp.post("/whatsapp")
@twilio_signed
def whatsapp():
    message = whatsapp_channel.parse(request.form)
    if message is None:
        return xml(twiml.sms_reply([])), 400
    return _answer(whatsapp_channel.PROFILE, message)


def _answer(profile, message) -> Response:
    """The message through the one inbound path; what it says now as TwiML (nothing for a retry, or when the
    answer comes later through the outbox)."""
    try:
        outcome = inbound(profile, message, deadline=settings().sms_reply_budget)
    except NotStored:
        return Response(twiml.sms_reply([]), status=503, mimetype="text/xml", headers={"Retry-After": "5"})
    return xml(twiml.sms_reply(outcome.texts(profile) if outcome.status != "duplicate" else []))


@bp.post("/status")
@twilio_signed
def status():
    sid, new = sanitize.one_line(request.form.get("MessageSid"), 64), request.form.get("MessageStatus", "")
    if not sid or new not in STATUS_RANK:
        return "", 400
    lower = [s for s, rank in STATUS_RANK.items() if rank < STATUS_RANK[new]]
    session = db()
    session.execute(update(OutboxMessage).where(OutboxMessage.provider_id == sid)
                    .where((OutboxMessage.delivery_status.is_(None)) | OutboxMessage.delivery_status.in_(lower))
                    .values(delivery_status=new))
    return "", 204


@bp.post("/voice")
@twilio_signed
def voice():
    call_sid = sanitize.one_line(request.form.get("CallSid"), 64)
    if not call_sid:
        return xml(twiml.say_and_hang_up("", "fi")), 400
    return xml(_channels()["voice"].welcome(db(), call_sid, sanitize.optional(request.form.get("From"), 40), clock(),
                                            called=sanitize.optional(request.form.get("To"), 40)))


@bp.post("/voice/gather")
@twilio_signed
def voice_gather():
    form = request.form
    lang = request.args.get("lang", "fi")
    return xml(_channels()["voice"].gathered(db(), sanitize.one_line(form.get("CallSid"), 64),
                                             lang if lang in ("fi", "sv", "en") else "fi",
                                             sanitize.one_line(request.args.get("stage", "topic"), 20),
                                             sanitize.clean(form.get("SpeechResult", ""), 1000).strip(),
                                             sanitize.one_line(form.get("Digits", ""), 20), clock(),
                                             attempt=sanitize.number(request.args.get("try"), high=3)))


@bp.post("/voice/dial-status")
@twilio_signed
def voice_dial_status():
    return xml(_channels()["voice"].dial_status(db(), sanitize.one_line(request.form.get("CallSid"), 64),
                                                sanitize.one_line(request.form.get("DialCallStatus"), 20), clock()))


@bp.post("/voice/status")
@twilio_signed
def voice_status():
    """The number's "call status changes" webhook: a call that ended half-way still leaves a named callback."""
    call_sid = sanitize.one_line(request.form.get("CallSid"), 64)
    if call_sid:
        _channels()["voice"].ended(db(), call_sid, sanitize.one_line(request.form.get("CallStatus"), 20), clock())
    return "", 204


@bp.post("/voice/fallback")
@twilio_signed
def voice_fallback():
    """Twilio's fallback URL: whatever is broken, the caller hears the safe answer (the request's commit failing
    too: it is made here, inside the guard, instead of after the view)."""
    answer = _channels()["voice"].fallback(db(), sanitize.optional(request.form.get("CallSid"), 64),
                                           sanitize.optional(request.form.get("From"), 40), clock())
    try:
        db().commit()
    except DBAPIError:
        db().rollback()
        log.exception("the fallback's call record could not be stored")
    return xml(answer)

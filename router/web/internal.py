"""The internal API the bot's actions call; on the private network, with a bearer token."""
from __future__ import annotations

import hmac

from flask import Blueprint, abort, jsonify, request

from router import texts
from router.casework import directory
from router.casework.handoff import HandoffError, from_bot
from router.inbound import classification, conversation, faq, menu
from router.storage.models import utcnow
from router.web import db, rasa, settings

bp = Blueprint("internal", __name__, url_prefix="/internal")


@bp.before_request
def _check_token():
    expected = f"Bearer {settings().internal_api_token}"
    if not hmac.compare_digest(request.headers.get("Authorization", ""), expected):
        abort(401)


@bp.get("/menu")
def topic_menu():
    language = request.args.get("language", "fi")
    return jsonify(menu.web(directory.topic_labels(db()), language))


@bp.get("/faq/<key>")
def faq_answer(key: str):
    """The answer about the agency the bot recognised (faq_<key>), in the conversation's language."""
    try:
        return jsonify(faq.answer(db(), settings(), key, request.args.get("language")))
    except KeyError:
        return jsonify(error=f"unknown answer {key!r}; known: {', '.join(faq.KEYS)}"), 404


@bp.get("/why/<slot>")
def why_we_ask(slot: str):
    """Why the contact form asks for a name, a contact, a company or consent, and how long it is kept."""
    if slot not in WHY:
        return jsonify(error=f"unknown question {slot!r}; known: {', '.join(WHY)}"), 404
    language = request.args.get("language", "fi")
    return jsonify(text=texts.say(f"why_{slot}", language if language in texts.LANGUAGES else "fi",
                                  months=settings().retain_case_months))


WHY = ("customer_name", "contact", "company", "consent")


@bp.post("/topics")
def topics_named():
    """The service topics one message asks for, each joined part classified alone (two topics in one message)."""
    body = request.get_json(silent=True)
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        return jsonify(error="text is required"), 400
    known = [t.key for t in directory.topic_labels(db())]
    return jsonify(topics=classification.topics_in(text[:4000], rasa(), known, timeout=2.0))


@bp.post("/handoffs")
def handoffs():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not body.get("conversation") or not body.get("idempotency_key"):
        return jsonify(error="conversation and idempotency_key are required"), 400
    session = db()
    conv = conversation.find(session, str(body["conversation"]))
    if conv is None:
        return jsonify(error="unknown conversation"), 404
    try:
        result = from_bot(session, settings(), conv, body, utcnow())
    except HandoffError as exc:
        session.rollback()
        return jsonify(error=str(exc)), 409
    return jsonify(case=result.case.ref, specialist={"name": result.specialist.name,
                   "title": result.specialist.title(result.case.language)},
                   due=result.due_text, text=result.text)

"""The website chat API used by the widget."""
from __future__ import annotations

import logging

from flask import Blueprint, jsonify, request
from sqlalchemy import select, update

from router import sanitize, texts
from router.inbound import conversation
from router.inbound.pipeline import InboundMessage, Profile, current
from router.storage.models import Message
from router.web import clock, db, inbound, settings
from router.web import openapi as api_doc

log = logging.getLogger(__name__)
bp = Blueprint("chat", __name__)
MAX_TEXT = 4000
MAX_ID = 2 ** 31 - 1  # message ids are the database's 32-bit integers


def _error(status: int, message: str):
    return jsonify(error=message), status


@bp.post("/api/chat")
def chat():
    """One chat turn. Its rate limits were settled before this view (router/web/limits.py): before any lock or
    connection is taken, so a flood of one session is refused without touching the database."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _error(400, "send a JSON object: {\"session\": null or string, \"text\": string}")
    raw = body.get("text")
    # What the widget can show a customer is said in their language; the schema's own words are for API clients.
    chosen = body.get("language") if body.get("language") in ("fi", "sv", "en") else None
    if isinstance(raw, str) and len(raw) > MAX_TEXT:
        return _error(413, texts.say("chat_too_long", chosen or "fi", limit=MAX_TEXT))
    problem = api_doc.body_error("chat", body)
    if problem:
        return _error(400, problem)
    # NUL bytes and lone surrogates would make the database refuse the message: removed before it is stored.
    text, session_id = sanitize.clean(raw, MAX_TEXT).strip(), body.get("session")
    if not text:
        return _error(400, texts.say("chat_empty", chosen or "fi"))
    if session_id is not None and not conversation.is_public_id(session_id):
        return _error(404, texts.say("chat_bad_session", chosen or "fi"))
    try:
        outcome = inbound(PROFILE, InboundMessage(text, session=session_id, language=chosen,
                                                  campaign=_code(body.get("campaign"))))
    except conversation.NotStored:
        # The widget shows this sentence and sends the message again by itself after Retry-After.
        return jsonify(error=texts.say("chat_not_stored", chosen or "fi"), retry=True), 503, {"Retry-After": "5"}
    if outcome.status == "unknown":
        return _error(404, texts.say("chat_bad_session", chosen or "fi"))
    return jsonify(session=outcome.conversation, replies=[r.as_dict() for r in outcome.replies])


# The web chat: one thread per conversation, named by its random public id.
PROFILE = Profile("web")


def _code(value) -> str | None:
    """The page's ?c=CODE as sent (an unknown or ended code is no campaign, not an error)."""
    return value if isinstance(value, str) and value.strip() else None


def _live(session_id: str):
    """The web conversation, unless unknown or idle for longer than CHAT_SESSION_DAYS (the inbound path's rule)."""
    conv = conversation.find(db(), session_id)
    return conv if conv is not None and current(conv, PROFILE.name, clock(), settings().chat_session_days) else None


AUTHORS = {"customer": "customer", "bot": "bot", "system": "bot", "staff": "staff"}


@bp.get("/api/chat/<session_id>")
def thread(session_id: str):
    """The conversation so far (or after message `after`), so the widget can redraw it and see staff replies."""
    after = request.args.get("after", "0")
    if not (after.isascii() and after.isdigit() and len(after) <= 10 and int(after) <= MAX_ID):
        return _error(400, "after must be a message id (a whole number)")
    conv = _live(session_id) if conversation.is_public_id(session_id) else None
    if conv is None:
        return _error(404, "unknown or expired session; start a new one with session null")
    session = db()
    rows = session.scalars(select(Message).where(Message.conversation_id == conv.id, Message.id > int(after),
                                                 Message.author.in_(tuple(AUTHORS)))
                           .order_by(Message.id).limit(200)).all()
    unseen = [m.id for m in rows if m.author == "staff" and m.seen_at is None]
    if unseen:  # the customer has it now: the email or SMS copy waiting in the outbox is not needed
        session.execute(update(Message).where(Message.id.in_(unseen)).values(seen_at=clock()))
    # The thread is the conversation's only credential's answer: never kept by a browser or a shared cache.
    return jsonify(session=conv.public_id, messages=_joined([{
        "id": m.id, "author": AUTHORS[m.author], "name": (m.payload or {}).get("name") if m.author == "staff" else None,
        "text": m.text, "buttons": list((m.payload or {}).get("buttons") or []),
        "files": [{"name": f["name"], "size": f["size"], "url": f["url"]} for f in (m.payload or {}).get("files") or []
                  ] if m.author == "staff" else [],
        "at": m.created_at.isoformat() + "Z", "pass": (m.payload or {}).get("replayed")} for m in rows]))


def _joined(items: list[dict]) -> list[dict]:
    """The bot's answers from one replay pass (answers that came after the bot was back) as one message, in order,
    with the last one's choices and id."""
    out: list[dict] = []
    for item in items:
        group = item.pop("pass")
        if group is not None and out and out[-1].get("_pass") == group:
            last = out[-1]
            last.update(id=item["id"], text=f"{last['text']}\n\n{item['text']}", buttons=item["buttons"],
                        at=item["at"])
            continue
        out.append({**item, "_pass": group})
    for item in out:
        item.pop("_pass")
    return out


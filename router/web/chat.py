"""The website chat API used by the widget."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from .. import conversation, openapi as api_doc, sanitize
from . import db, rasa

bp = Blueprint("chat", __name__)
MAX_TEXT = 4000


def _error(status: int, message: str):
    return jsonify(error=message), status


@bp.post("/api/chat")
def chat():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _error(400, "send a JSON object: {\"session\": null or string, \"text\": string}")
    raw = body.get("text")
    if isinstance(raw, str) and len(raw) > MAX_TEXT:
        return _error(413, f"text is longer than {MAX_TEXT} characters")
    problem = api_doc.body_error("chat", body)
    if problem:
        return _error(400, problem)
    # NUL bytes and lone surrogates would make the database refuse the message: removed before it is stored.
    text, session_id = sanitize.clean(raw, MAX_TEXT).strip(), body.get("session")
    if not text:
        return _error(400, "text must be a non-empty string")
    session = db()
    if session_id is None:
        conv = conversation.start(session, channel="web")
    else:
        conv = conversation.find(session, session_id)
        if conv is None or conv.channel != "web":
            return _error(404, "unknown session; start a new one with session null")
    replies = conversation.converse(session, rasa(), conv, text)
    return jsonify(session=conv.public_id, replies=[r.as_dict() for r in replies or []])

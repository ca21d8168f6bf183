"""The website chat API used by the widget."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from .. import conversation
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
    text, session_id = body.get("text"), body.get("session")
    if not isinstance(text, str) or not text.strip():
        return _error(400, "text must be a non-empty string")
    if len(text) > MAX_TEXT:
        return _error(413, f"text is longer than {MAX_TEXT} characters")
    if session_id is not None and not isinstance(session_id, str):
        return _error(400, "session must be null or a string")
    session = db()
    if session_id is None:
        conv = conversation.start(session, channel="web")
    else:
        conv = conversation.find(session, session_id)
        if conv is None or conv.channel != "web":
            return _error(404, "unknown session; start a new one with session null")
    replies = conversation.converse(session, rasa(), conv, text.strip())
    return jsonify(session=conv.public_id, replies=[r.as_dict() for r in replies or []])

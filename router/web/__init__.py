"""HTTP entry points: thin handlers that validate, call one service, and render."""
from __future__ import annotations

from flask import current_app, g, request
from sqlalchemy.orm import Session

from router import sanitize
from router.config import Settings


def field(name: str, default: str = "", limit: int = 2000) -> str:
    """A form field as storable text (no NUL, no lone surrogate, bounded)."""
    return sanitize.clean(request.form.get(name, default), limit)


def db() -> Session:
    """The request's database session, closed when the request ends."""
    if "db" not in g:
        g.db = current_app.extensions["luukku"]["sessions"]()
    return g.db


def settings() -> Settings:
    return current_app.extensions["luukku"]["settings"]


def rasa():
    return current_app.extensions["luukku"]["rasa"]


def clock():
    """Now, as naive UTC; tests replace it to walk across working hours and holidays."""
    return current_app.extensions["luukku"]["clock"]()


def inbound(profile, message, deadline: float | None = None):
    """A customer's message through the one inbound path (router/inbound/pipeline.py); its Outcome."""
    from router.inbound import pipeline

    s = settings()
    ctx = pipeline.Context(s, rasa(), deadline=deadline, session_days=s.chat_session_days)
    return pipeline.handle(db(), ctx, profile, message, clock())

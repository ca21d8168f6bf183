"""Answers about the agency itself (opening hours, address, what the service is, how to reach a person)."""
from __future__ import annotations

from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from router.storage.models import FaqAnswer, utcnow
from router.texts import N_, say

LANGUAGES = ("fi", "sv", "en")
# The bot's intents faq_<key> (bot/data/nlu/faq.yml) ask for these answers.
KEYS = ("hours", "address", "about", "contact")

# Until an admin words an answer at /staff/admin/faq, it is the catalogue's `faq.<key>` filled from the settings
# (SERVICE_*); under every answer, `faq.person` is the button to the service desk's contact form (`general`).
MESSAGES = (N_("faq.hours"), N_("faq.address"), N_("faq.about"), N_("faq.contact"))


def _language(language: Optional[str]) -> str:
    return language if language in LANGUAGES else "fi"


def default(settings, key: str, language: str) -> str:
    """The answer filled from the settings, before any admin wording."""
    return say(f"faq.{key}", _language(language),
        service=settings.service_name, phone=settings.service_phone, email=settings.service_email,
        address=settings.service_address, hours=settings.service_hours)


def answer(session: Session, settings, key: str, language: Optional[str]) -> dict:
    """The answer for `key` in `language`, the admin's wording first, with the button that offers a person."""
    if key not in KEYS:
        raise KeyError(key)
    lang = _language(language)
    stored = session.scalar(select(FaqAnswer.text).where(FaqAnswer.key == key, FaqAnswer.language == lang))
    return {"key": key, "language": lang, "text": stored or default(settings, key, lang),
            "buttons": [{"title": say("faq.person", lang), "payload": "/general"}]}


def answers(session: Session, settings, keys: tuple[str, ...] = KEYS, fill=None) -> list[dict]:
    """Every key and language with its current text and whether an admin has worded it (the admin page).

    `keys` and `fill` (settings, key, language -> default text) serve other admin-worded texts too (notices.py).
    """
    fill = fill or default
    stored = {(r.key, r.language): r for r in session.scalars(select(FaqAnswer).where(FaqAnswer.key.in_(keys)))}
    return [{"key": k, "language": lang, "text": stored[(k, lang)].text if (k, lang) in stored
             else fill(settings, k, lang), "edited": (k, lang) in stored} for k in keys for lang in LANGUAGES]


def reword(session: Session, key: str, language: str, text: str, keys: tuple[str, ...] = KEYS) -> None:
    """Store an admin's wording of one of `keys`; an empty text goes back to the default."""
    if key not in keys or language not in LANGUAGES:
        raise KeyError(f"{key}/{language}")
    row = session.scalar(select(FaqAnswer).where(FaqAnswer.key == key, FaqAnswer.language == language))
    if not text.strip():
        if row is not None:
            session.delete(row)
        return
    if row is None:
        session.add(FaqAnswer(key=key, language=language, text=text.strip(), updated_at=utcnow()))
    else:
        row.text, row.updated_at = text.strip(), utcnow()

"""The privacy notice and the accessibility statement: public pages whose wording an admin may change.

Until an admin words them at /staff/admin/notices (stored beside the assistant's answers, `faq_answers`), they
are filled from the settings, so the retention periods they name are the ones the purge applies.
"""
from __future__ import annotations

from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from router.inbound import faq
from router.storage.models import FaqAnswer
from router.texts import N_, say

KEYS = ("privacy", "accessibility")
# The defaults are the catalogue's `notice.privacy` and `notice.accessibility`, each with a `_title`.
MESSAGES = (N_("notice.privacy"), N_("notice.accessibility"), N_("notice.privacy_title"),
            N_("notice.accessibility_title"))


def title(key: str, language: str) -> str:
    """The notice's heading in `language`."""
    return say(f"notice.{key}_title", language)


def default(settings, key: str, language: str) -> str:
    """The notice filled from the settings (the service's contacts and the retention periods in force)."""
    return say(f"notice.{key}", language,
        service=settings.service_name, email=settings.service_email, phone=settings.service_phone,
        case_months=settings.retain_case_months, chat_days=settings.retain_chat_days,
        call_days=settings.retain_call_speech_days, attachment_days=settings.retain_attachment_days,
        outbox_days=settings.retain_outbox_days, survey_months=settings.retain_survey_comment_months,
        audit_months=settings.retain_audit_months)


def text(session: Session, settings, key: str, language: Optional[str]) -> str:
    """The notice in `language`: the admin's wording, else the default."""
    lang = language if language in faq.LANGUAGES else "fi"
    stored = session.scalar(select(FaqAnswer.text).where(FaqAnswer.key == key, FaqAnswer.language == lang))
    return stored or default(settings, key, lang)


def blocks(body: str) -> list[dict]:
    """Paragraphs and lists ("- " lines) of a notice, for the page: never HTML from the stored text."""
    out: list[dict] = []
    for chunk in (c.strip() for c in body.replace("\r\n", "\n").split("\n\n")):
        lines = [line.strip() for line in chunk.splitlines() if line.strip()]
        if not lines:
            continue
        items = [line[2:] for line in lines if line.startswith("- ")]
        lead = [line for line in lines if not line.startswith("- ")]
        if lead:
            out.append({"p": " ".join(lead)})
        if items:
            out.append({"ul": items})
    return out

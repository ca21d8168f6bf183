"""The SMS channel: Twilio's form into a message, the keywords every text number must answer, TwiML out."""
from __future__ import annotations

from datetime import datetime
from typing import Mapping, Optional

from sqlalchemy import delete
from sqlalchemy.orm import Session

from router import sanitize, texts
from router.config import Settings
from router.inbound.pipeline import InboundMessage, Profile
from router.storage.models import Conversation, OptOut
from router.storage.store import insert_ignore

STOP = {"stop", "lopeta", "sluta", "stopp", "unsubscribe"}
START = {"start", "aloita", "börja", "unstop"}
HELP = {"help", "apua", "hjälp", "hjalp", "info"}
KEYWORD_LANGUAGE = {"lopeta": "fi", "aloita": "fi", "apua": "fi", "sluta": "sv", "stopp": "sv", "börja": "sv",
                    "hjälp": "sv", "hjalp": "sv"}


def keywords(session: Session, settings: Settings, conv: Conversation, text: str, now: datetime) -> Optional[str]:
    """STOP, START and HELP in three languages (the carriers' rules for a text number); None for anything else.

    The opt-out is kept per address, so a STOP on WhatsApp stops WhatsApp messages and a STOP by SMS stops texts.
    """
    word = text.lower().strip(" .!")
    language = KEYWORD_LANGUAGE.get(word) or conv.language
    values = dict(service=settings.service_name, phone=settings.service_phone, email=settings.service_email)
    if word in STOP:
        insert_ignore(session, OptOut, {"phone": conv.address, "opted_out_at": now}, returning="phone")
        return texts.say("sms_stopped", language, **values)
    if word in START:
        session.execute(delete(OptOut).where(OptOut.phone == conv.address))
        return texts.say("sms_started", language, **values)
    if word in HELP:
        privacy = f"{settings.public_base_url.rstrip('/')}/privacy?lang={language}"
        return texts.say("sms_help", language, privacy=privacy, **values)
    return None


PROFILE = Profile("sms", by_sender=True, commands=keywords, no_text="sms_media_only", surveys=True, numbered=True)


def parse(form: Mapping[str, str], prefix: str = "") -> Optional[InboundMessage]:
    """Twilio's incoming-message webhook as a message; None without a MessageSid or a sender.

    `prefix`: "whatsapp:" where Twilio writes the addresses so (the sender must carry it).
    """
    sid = sanitize.one_line(form.get("MessageSid") or form.get("SmsSid"), 64)
    sender = sanitize.one_line(form.get("From"), 60)
    if not sid or not sender or not sender.startswith(prefix):
        return None
    return InboundMessage(sanitize.clean(form.get("Body", ""), 1600), provider_id=sid, sender=sender,
                          to=sanitize.one_line(form.get("To"), 60).removeprefix(prefix),
                          media=sanitize.number(form.get("NumMedia"), high=10))

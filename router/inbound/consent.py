"""A refused consent: what the customer typed into the form is removed, and the desk's public contacts given."""
from __future__ import annotations

import logging
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from router import texts
from router.inbound import tracker_store
from router.inbound.rasa_client import RasaUnavailable
from router.storage.models import Conversation, Message

log = logging.getLogger(__name__)
REMOVED = "[poistettu / removed]"
# Not the customer's words: "no company" and "known from the channel" (SMS, voice).
KEPT = {"-", "(channel)"}


# Any email address or phone number (seven digits or more, however spaced) in what the customer wrote.
CONTACTS = re.compile(r"[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+|(?<![\w+.])\+?\d[\d\s()-]{5,}\d(?!\w|\.\d)")


def details(values: list[str]) -> re.Pattern[str]:
    """What the customer typed, found wherever it stands in a text: case aside, not inside a longer word, and a
    phone number however it is spaced or started ("+358 40 123 4567", "040-1234567")."""
    parts = []
    for value in sorted({v.strip() for v in values if v.strip()}, key=len, reverse=True):
        digits = re.sub(r"\D", "", value)
        if re.fullmatch(r"\+?[\d\s().-]{7,}", value) and len(digits) >= 7:
            national = digits[3:] if value.startswith("+358") else digits.lstrip("0")
            gap = r"[\s().-]*"
            parts.append(r"(?:\+358|00358|0)?" + gap + gap.join(re.escape(d) for d in national))
        else:
            parts.append(re.escape(value))
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


def forget_refused(session: Session, settings, rasa, conv: Conversation, raw: list[dict[str, Any]]) -> list[dict]:
    """Carry out the bot's "forget" request (a refused consent) and put the desk's contacts after its answer.

    The bot has cleared its slots and names them; the values they held come from Rasa's tracker, and leave the
    router's transcript (in this transaction) and Rasa's tracker store (RASA_TRACKER_URL), so "removed" in the
    answer is true.
    """
    wanted = [item["custom"]["forget"] for item in raw
              if isinstance(item.get("custom"), dict) and isinstance(item["custom"].get("forget"), list)]
    if not wanted:
        return raw
    try:
        values = sorted(v for v in rasa.typed_into(conv.public_id, [str(s) for s in wanted[-1]])
                        if v not in KEPT) if hasattr(rasa, "typed_into") else []
    except RasaUnavailable:
        values = []
        log.error("conversation %s: a refused consent's details could not be looked up in Rasa", conv.id)
    if values:
        typed = details(values)
        # Every message that holds a detail loses it, wherever it stands in the message and whoever wrote it (the
        # bot may have repeated a name); the customer's own messages lose any address or number too, such as the
        # attempt the form turned down ("refuse@example.org, 040 123 4567") before the address it took.
        for message in session.scalars(select(Message).where(Message.conversation_id == conv.id)):
            cleaned = typed.sub(REMOVED, message.text or "")
            if message.author == "customer":
                cleaned = CONTACTS.sub(REMOVED, cleaned)
            if cleaned != message.text:
                message.text = cleaned
        if settings is not None and settings.rasa_tracker_url:
            try:
                tracker_store.redact(settings.rasa_tracker_url, conv.public_id, typed, REMOVED, CONTACTS)
            except Exception:  # noqa: BLE001 - the bot has answered: its answer is stored whatever happens here
                log.exception("conversation %s: the refused contact details could not be removed from Rasa's "
                              "tracker store", conv.id)
    desk = texts.say("service_desk", conv.language, phone=settings.service_phone if settings else "",
                     email=settings.service_email if settings else "")
    kept = [item for item in raw if not (isinstance(item.get("custom"), dict) and "forget" in item["custom"])]
    return [*kept, {"text": desk}]

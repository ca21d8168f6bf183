"""A refused consent: what the customer typed into the form is removed, and the desk's public contacts given."""
from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from router import texts
from router.inbound import tracker_store
from router.inbound.rasa_client import RasaUnavailable
from router.storage.models import Conversation, Message

log = logging.getLogger(__name__)
REMOVED = "[poistettu / removed]"
# Not the customer's words: "no company" and "known from the channel" (SMS, voice).
KEPT = {"-", "(channel)"}


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
        session.execute(update(Message).where(Message.conversation_id == conv.id, Message.direction == "in",
                                              Message.text.in_(values)).values(text=REMOVED))
        if settings is not None and settings.rasa_tracker_url:
            try:
                tracker_store.redact(settings.rasa_tracker_url, conv.public_id, values, REMOVED)
            except Exception:  # noqa: BLE001 - the bot has answered: its answer is stored whatever happens here
                log.exception("conversation %s: the refused contact details could not be removed from Rasa's "
                              "tracker store", conv.id)
    desk = texts.say("service_desk", conv.language, phone=settings.service_phone if settings else "",
                     email=settings.service_email if settings else "")
    kept = [item for item in raw if not (isinstance(item.get("custom"), dict) and "forget" in item["custom"])]
    return [*kept, {"text": desk}]

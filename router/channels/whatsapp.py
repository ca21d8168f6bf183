"""The WhatsApp channel through Twilio: like SMS (its keywords, surveys and numbered answers), addressed as
"whatsapp:+358…", and with WhatsApp's rule that 24 hours after the customer's last message only an approved
template may be sent."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Callable, Mapping, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from router.channels import sms
from router.config import Settings
from router.delivery.outbox import Outgoing, PermanentFailure
from router.inbound.pipeline import InboundMessage, Profile
from router.storage.models import Conversation, Message

PREFIX = "whatsapp:"
# WhatsApp's customer service window: free-form messages only this long after the customer's last message.
WINDOW = timedelta(hours=24)

PROFILE = Profile("whatsapp", by_sender=True, commands=sms.keywords, no_text="sms_media_only", surveys=True,
                  numbered=True)


def parse(form: Mapping[str, str]) -> Optional[InboundMessage]:
    """Twilio's WhatsApp webhook (the SMS one's fields, with "whatsapp:" addresses) as a message."""
    return sms.parse(form, prefix=PREFIX)


def window_open(last_inbound: Optional[datetime], now: datetime) -> bool:
    """Whether a free-form message may be sent: the customer wrote within the last 24 hours."""
    return last_inbound is not None and now - last_inbound < WINDOW


def last_inbound(session: Session, to: str) -> Optional[datetime]:
    """When this WhatsApp address last wrote to us."""
    return session.scalar(select(func.max(Message.created_at)).join(Conversation)
                          .where(Conversation.channel == "whatsapp", Conversation.address == to,
                                 Message.direction == "in"))


TEMPLATES = ("confirmation", "reply", "survey")


def shaper(settings: Settings) -> Callable[[Session, Outgoing, datetime], Outgoing]:
    """The outbox's last step for a WhatsApp message, right before it is sent (the window may have closed while
    it waited): the text as it is inside the window, the approved template outside it."""
    sids = {name: getattr(settings, f"twilio_whatsapp_template_{name}") for name in TEMPLATES}

    def shape(session: Session, out: Outgoing, now: datetime) -> Outgoing:
        if window_open(last_inbound(session, out.recipient), now):
            return out
        sid = sids.get(out.headers.get("template", ""))
        if not sid:
            raise PermanentFailure("outside WhatsApp's 24-hour window and no approved template for this message")
        return replace(out, headers={**out.headers, "content_sid": sid,
                                     "content_variables": out.headers.get("template_variables") or "{}"})
    return shape

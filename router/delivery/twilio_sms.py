"""Outbound SMS through Twilio's REST API, with errors sorted into retry and give up."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Optional

from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from router.config import Settings
from router.delivery.outbox import Outgoing, PermanentFailure, TemporaryFailure

log = logging.getLogger(__name__)
OPTED_OUT = 21610  # "Attempt to send to unsubscribed recipient"


def make_client(settings: Settings) -> Client:
    """A Twilio client; tests point `TWILIO_API_BASE_URL` at a local stand-in of the Messages API."""
    client = Client(settings.twilio_account_sid, settings.twilio_auth_token,
                    http_client=TwilioHttpClient(timeout=10))
    if settings.twilio_api_base_url:
        client.api.base_url = settings.twilio_api_base_url.rstrip("/")
    return client


class TwilioSmsSender:
    """Sends one outbox row as one Twilio message: an SMS, or with `whatsapp` a WhatsApp message (the recipient is
    "whatsapp:+…"; an approved template's Content SID and variables instead of a body, when the outbox chose one)."""

    def __init__(self, settings: Settings, client: Optional[Client] = None, whatsapp: bool = False) -> None:
        self.settings = settings
        self.client = client or make_client(settings)
        self.sender = f"whatsapp:{settings.twilio_whatsapp_number}" if whatsapp else settings.twilio_number

    def send(self, out: Outgoing) -> str:
        extra: dict = {}
        if out.headers.get("validity_period"):
            extra["validity_period"] = int(out.headers["validity_period"])
        if out.headers.get("content_sid"):
            extra.update(content_sid=out.headers["content_sid"], content_variables=out.headers["content_variables"])
        else:
            extra["body"] = out.body
        try:
            message = self.client.messages.create(
                to=out.recipient, from_=self.sender,
                status_callback=self.settings.public_base_url.rstrip("/") + "/twilio/status", **extra)
        except TwilioRestException as exc:
            if exc.status == 429 or exc.status >= 500:
                raise TemporaryFailure(f"twilio {exc.status}") from exc
            raise PermanentFailure(f"twilio {exc.status} code {exc.code}") from exc
        except OSError as exc:
            raise TemporaryFailure(type(exc).__name__) from exc
        return str(message.sid)

    def already_sent(self, out: Outgoing, since: datetime) -> Optional[str]:
        """The SID of a message with this recipient and body sent since `since`, from Twilio's message log."""
        if out.headers.get("content_sid"):
            return None  # the log shows a template's rendered text, not ours: at least once, as documented
        try:
            for message in self.client.messages.list(to=out.recipient, from_=self.sender,
                                                     date_sent_after=since - timedelta(days=1), limit=100):
                if message.body == out.body and message.status not in ("failed", "canceled"):
                    return str(message.sid)
        except (TwilioRestException, OSError) as exc:
            # Cannot look: sending again is the documented at-least-once window, losing the text is not an option.
            log.warning("twilio message log unavailable (%s); sending", type(exc).__name__)
        return None

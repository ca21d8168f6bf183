"""Outbound delivery: SMTP email, Twilio SMS, and a dry run when no account is configured."""
from __future__ import annotations

import hashlib
import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any, Optional

from router.config import Settings
from router.delivery.outbox import Outgoing, PermanentFailure, TemporaryFailure
from router.sanitize import clean, one_line

log = logging.getLogger(__name__)


def message_id(key: str, domain: str) -> str:
    """A Message-ID derived from the idempotency key, so a resend is recognisably the same message."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


# Set here, or the outbox's own notes on a row (never sent as headers).
RESERVED = frozenset({"from", "to", "subject", "date", "message-id", "automated", "unless_seen", "unless_case_seen"})


def build_email(out: Outgoing, sender: str) -> EmailMessage:
    """The MIME message for an outbox row."""
    msg = EmailMessage()
    domain = parseaddr(sender)[1].split("@")[-1] or "localhost"
    # A line break in a header would end it (and start another): every value is made one line first.
    msg["From"] = one_line(sender)
    msg["To"] = one_line(out.recipient)
    msg["Subject"] = one_line(out.subject)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id(out.idempotency_key, domain)
    for name, value in out.headers.items():
        if name.lower() not in RESERVED:
            msg[one_line(name, 60)] = one_line(value, 900)
    msg.set_content(clean(out.body, 200_000))
    if out.html:
        msg.add_alternative(clean(out.html, 400_000), subtype="html")  # a reader without HTML gets the text
    for filename, content_type, data in out.files:
        main, _, sub = content_type.partition("/")
        msg.add_attachment(data, maintype=main or "application", subtype=sub or "octet-stream",
                           filename=one_line(filename, 200))
    return msg


class SmtpSender:
    """Email over SMTP with STARTTLS, TLS or (local test servers only) plain."""

    def __init__(self, settings: Settings) -> None:
        self.s = settings

    def send(self, out: Outgoing) -> str:
        msg = build_email(out, self.s.smtp_from)
        try:
            if self.s.smtp_security == "tls":
                client: smtplib.SMTP = smtplib.SMTP_SSL(self.s.smtp_host, self.s.smtp_port,
                                                        timeout=self.s.smtp_timeout,
                                                        context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(self.s.smtp_host, self.s.smtp_port, timeout=self.s.smtp_timeout)
            with client:
                if self.s.smtp_security == "starttls":
                    client.starttls(context=ssl.create_default_context())
                if self.s.smtp_user:
                    client.login(self.s.smtp_user, self.s.smtp_password)
                refused = client.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure("recipient refused") from exc
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600:
                raise PermanentFailure(f"smtp {exc.smtp_code}") from exc
            raise TemporaryFailure(f"smtp {exc.smtp_code}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(type(exc).__name__) from exc
        if refused:
            raise PermanentFailure("recipient refused")
        return str(msg["Message-ID"])


class DryRunSender:
    """Logs that a message would be sent (never its address or text); the dev page shows the rows."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def send(self, out: Outgoing) -> str:
        log.info("dry run: %s outbox=%s would be sent (%s characters)", self.kind, out.id, len(out.body))
        return f"dry-run-{out.id}"


class RecordingSender:
    """Keeps what it was asked to send; for unit tests."""

    def __init__(self, fail_with: Optional[Exception] = None) -> None:
        self.sent: list[Outgoing] = []
        self.fail_with = fail_with

    def send(self, out: Outgoing) -> str:
        if self.fail_with:
            raise self.fail_with
        self.sent.append(out)
        return f"rec-{out.id}"


def make_senders(settings: Settings) -> dict[str, Any]:
    """The real senders when accounts are configured, dry runs otherwise."""
    # local import: keeps the twilio client out of web start-up
    from router.delivery.events import WebhookSender
    from router.delivery.push import WebPushSender
    from router.delivery.twilio_sms import TwilioSmsSender

    return {
        "push": WebPushSender(settings) if settings.vapid_private_key else DryRunSender("push"),
        "webhook": WebhookSender(),  # registered by an admin on purpose: sent in development too
        "email": DryRunSender("email") if settings.smtp_dry_run else SmtpSender(settings),
        "sms": DryRunSender("sms") if settings.twilio_dry_run else TwilioSmsSender(settings),
        "whatsapp": DryRunSender("whatsapp") if settings.twilio_dry_run or not settings.twilio_whatsapp_number
        else TwilioSmsSender(settings, whatsapp=True),
    }

"""Events out: the city's CRM or case system follows cases through webhooks (Standard Webhooks), via the outbox.

An event is a row per registered endpoint that asked for its type, written in the transaction that caused it, so
it leaves exactly when what it reports is committed; retries, backoff and dead letters are the outbox's. The body
is `{"type", "timestamp", "data"}`; `data` holds ids and facts, and the customer's own words only for an endpoint
registered to receive them. The `webhook-id` is the event's id for the receiver's deduplication (the same on
every retry); the signature is made when the request is sent, over that id, the sending time and the body.
"""
from __future__ import annotations

import base64
import json
import re
import secrets
import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any, Mapping, Optional
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from router.config import Settings
from router.delivery.outbox import Outgoing, PermanentFailure, TemporaryFailure, enqueue
from router.storage.models import WebhookEndpoint

# A receiver's address: an ASCII host (an international name as punycode), a port, a path without spaces or
# control characters. The API's schema publishes the same pattern.
URL_PATTERN = r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\s\u0000-\u001f\u007f-\u009f]*)?$"
URL = re.compile(URL_PATTERN)
TYPES = ("case.created", "case.taken_up", "case.reassigned", "case.resolved", "message.created", "survey.answered",
         "activity.created", "lead.stage_changed", "referral.changed")
TIMEOUT = 10.0


class EndpointError(ValueError):
    """An endpoint that cannot be registered; the message says why."""


def new_secret() -> str:
    """A signing secret in the Standard Webhooks form (whsec_ and 32 random bytes, base64)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def register(session: Session, settings: Settings, *, url: str, secret: Optional[str], events: list[str],
             with_words: bool, now: datetime, by: str = "") -> WebhookEndpoint:
    """Keep an endpoint; its secret is generated when none is given."""
    parts = urlsplit(url)
    if not URL.match(url) or parts.scheme not in ("https", "http") or not parts.hostname:
        raise EndpointError("url must be an absolute https address (an ASCII host name, no spaces)")
    if parts.scheme != "https" and settings.production:
        raise EndpointError("url must be https")
    unknown = sorted(set(events) - set(TYPES))
    if not events or unknown:
        raise EndpointError(f"events must be some of {', '.join(TYPES)}" + (f"; unknown: {unknown}" if unknown
                                                                               else ""))
    secret = secret or new_secret()
    try:
        _signer(secret)
    except Exception as exc:  # noqa: BLE001 - the library's own errors for a malformed secret
        raise EndpointError("secret must be whsec_ followed by base64 (or leave it out to have one made)") from exc
    endpoint = WebhookEndpoint(url=url, secret=secret, events=sorted(set(events)), with_words=with_words,
                               active=True, created_at=now, created_by=by[:254])
    session.add(endpoint)
    session.flush()
    return endpoint


def as_dict(endpoint: WebhookEndpoint, with_secret: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"id": endpoint.id, "url": endpoint.url, "events": list(endpoint.events),
                           "with_words": endpoint.with_words, "active": endpoint.active,
                           "created_at": endpoint.created_at.isoformat() + "Z"}
    if with_secret:  # shown once, when it is made
        out["secret"] = endpoint.secret
    return out


def emit(session: Session, kind: str, data: Mapping[str, Any], now: datetime,
         words: Optional[Mapping[str, Any]] = None, case_id: Optional[int] = None) -> int:
    """Queue the event for every active endpoint that asked for it; how many. `words`: the customer's own text,
    added to `data` only for endpoints registered to receive it."""
    assert kind in TYPES, kind
    endpoints = [e for e in session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True)))
                 if kind in (e.events or [])]
    if not endpoints:
        return 0
    event_id = f"evt_{uuid.uuid4().hex}"
    stamp = now.isoformat(timespec="seconds") + "Z"
    for endpoint in endpoints:
        payload = {**data, **(words or {})} if endpoint.with_words else dict(data)
        body = json.dumps({"type": kind, "timestamp": stamp, "data": payload}, ensure_ascii=False,
                          separators=(",", ":"), default=str)
        enqueue(session, key=f"{event_id}:{endpoint.id}", kind="webhook", recipient=str(endpoint.id), body=body,
                subject=kind, case_id=case_id, headers={"webhook-id": event_id}, now=now)
    return len(endpoints)


def case_facts(case) -> dict[str, Any]:
    """What an event says of a case: ids and facts, no one's name or contact details."""
    return {"case": case.ref, "status": case.status, "topic": case.topic, "channel": case.channel,
            "language": case.language, "kind": case.kind,
            "specialist": case.specialist.key if case.specialist else None,
            "due_at": case.due_at.isoformat() + "Z" if case.due_at else None, "campaign": case.campaign}


def referral_facts(referral) -> dict[str, Any]:
    """What an event says of a referral to a partner: its state, the partner, the case, the due time."""
    return {"case": referral.case.ref, "referral": referral.id, "status": referral.status,
            "partner": referral.partner.key, "partner_kind": referral.partner.kind,
            "responsible": referral.specialist.key if referral.specialist else None,
            "due_at": referral.due_at.isoformat() + "Z" if referral.due_at else None,
            "confirmed_in_time": referral.confirmed_in_time}


def shaper(session: Session, out: Outgoing, now: datetime) -> Outgoing:
    """The endpoint's address and secret, read when the event goes (it may have been turned off since)."""
    endpoint = session.get(WebhookEndpoint, int(out.recipient))
    if endpoint is None or not endpoint.active:
        raise PermanentFailure("webhook endpoint removed or turned off")
    return replace(out, headers={**out.headers, "url": endpoint.url, "secret": endpoint.secret})


def _signer(secret: str):
    from standardwebhooks.webhooks import Webhook

    return Webhook(secret)


class WebhookSender:
    """POSTs a signed event; 2xx is delivered, 4xx (but 408 and 429) is final, anything else is tried again."""

    def __init__(self, clock=None) -> None:
        from datetime import timezone

        self.clock = clock or (lambda: datetime.now(timezone.utc))

    def send(self, out: Outgoing) -> str:
        import requests

        event_id = out.headers["webhook-id"]
        sent_at = self.clock()
        signature = _signer(out.headers["secret"]).sign(event_id, sent_at, out.body)
        headers = {"webhook-id": event_id, "webhook-timestamp": str(int(sent_at.timestamp())),
                   "webhook-signature": signature, "content-type": "application/json", "user-agent": "Luukku"}
        try:
            response = requests.post(out.headers["url"], data=out.body.encode(), headers=headers, timeout=TIMEOUT,
                                     allow_redirects=False)
        except requests.RequestException as exc:
            raise TemporaryFailure(type(exc).__name__) from exc
        if 200 <= response.status_code < 300:
            return event_id
        if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
            raise PermanentFailure(f"webhook {response.status_code}")
        raise TemporaryFailure(f"webhook {response.status_code}")

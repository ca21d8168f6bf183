"""Web Push to staff browsers (RFC 8030 with VAPID, RFC 8292): a customer wrote on one of my cases.

The payload names the case, never the customer or what they wrote: it passes through the browser maker's push
service, and the case page (behind sign-in) shows the message.
"""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import replace
from datetime import datetime
from typing import Optional
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from router import texts
from router.config import Settings
from router.delivery.outbox import Outgoing, PermanentFailure, TemporaryFailure, enqueue
from router.storage.models import Case, PushSubscription, User

# How long a push service keeps trying a browser that is offline: an hour later the email is on its way instead.
TTL_SECONDS = 3600


class SubscriptionError(ValueError):
    """A subscription the browser could not have made."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_key(settings: Settings) -> Optional[str]:
    """The application server key a browser subscribes with (the VAPID key's public point), or None when off."""
    if not settings.vapid_private_key:
        return None
    from py_vapid import Vapid

    point = Vapid.from_string(settings.vapid_private_key).public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return _b64(point)


def new_private_key() -> str:
    """A fresh VAPID private key, as VAPID_PRIVATE_KEY takes it (base64url of the raw 32-byte P-256 scalar)."""
    from py_vapid import Vapid

    key = Vapid()
    key.generate_keys()
    return _b64(key.private_key.private_numbers().private_value.to_bytes(32, "big"))


def subscribe(session: Session, settings: Settings, user: User, endpoint: str, p256dh: str, auth: str,
              now: datetime) -> PushSubscription:
    """Keep a browser's subscription for this user (the same browser signed in as someone else moves to them)."""
    parts = urlsplit(endpoint)
    if parts.scheme != "https" and (settings.production or parts.scheme != "http"):
        raise SubscriptionError("a push endpoint is an https address")
    try:
        if len(_unb64(p256dh)) != 65 or len(_unb64(auth)) != 16:
            raise SubscriptionError("keys.p256dh is a P-256 point and keys.auth 16 bytes, base64url")
    except (ValueError, TypeError) as exc:
        raise SubscriptionError("keys.p256dh and keys.auth are base64url") from exc
    digest = hashlib.sha256(endpoint.encode()).hexdigest()
    found = session.scalar(select(PushSubscription).where(PushSubscription.endpoint_hash == digest))
    if found is None:
        found = PushSubscription(endpoint=endpoint, endpoint_hash=digest, created_at=now, user_id=user.id,
                                 p256dh=p256dh, auth=auth)
        session.add(found)
    found.user_id, found.p256dh, found.auth = user.id, p256dh, auth
    session.flush()
    return found


def unsubscribe(session: Session, user: User, endpoint: str) -> None:
    digest = hashlib.sha256(endpoint.encode()).hexdigest()
    session.execute(delete(PushSubscription).where(PushSubscription.endpoint_hash == digest,
                                                   PushSubscription.user_id == user.id))


def tell(session: Session, settings: Settings, case: Case, event_id: int, now: datetime) -> int:
    """Queue a push to every browser of the case's specialist; how many were queued."""
    if not settings.vapid_private_key:
        return 0
    rows = session.execute(select(PushSubscription.id, User.language).join(User, PushSubscription.user_id == User.id)
                           .where(User.specialist_id == case.specialist_id, User.active.is_(True))).all()
    url = f"{settings.public_base_url.rstrip('/')}/staff/cases/{case.ref}"
    for sub_id, language in rows:
        body = json.dumps({"title": texts.say("staff.push_title", language, ref=case.ref),
                           "body": texts.say("staff.push_body", language), "url": url, "tag": case.ref},
                          ensure_ascii=False)
        enqueue(session, key=f"case:{case.ref}:push:{event_id}:{sub_id}", kind="push", recipient=str(sub_id),
                body=body, case_id=case.id, now=now)
    return len(rows)


def shaper(session: Session, out: Outgoing, now: datetime) -> Outgoing:
    """The subscription's endpoint and keys, read when the message goes (the browser may have left since)."""
    sub = session.get(PushSubscription, int(out.recipient))
    if sub is None:
        raise PermanentFailure("push subscription gone")
    return replace(out, headers={**out.headers, "endpoint": sub.endpoint, "p256dh": sub.p256dh, "auth": sub.auth})


class WebPushSender:
    """Encrypts (RFC 8291, aes128gcm) and posts to the browser's push service with a VAPID signature."""

    def __init__(self, settings: Settings) -> None:
        self.key = settings.vapid_private_key
        self.subject = settings.vapid_subject or f"mailto:{settings.service_email}"

    def send(self, out: Outgoing) -> str:
        from pywebpush import WebPushException, webpush

        info = {"endpoint": out.headers["endpoint"], "keys": {"p256dh": out.headers["p256dh"],
                                                             "auth": out.headers["auth"]}}
        try:
            response = webpush(info, data=out.body, vapid_private_key=self.key, vapid_claims={"sub": self.subject},
                               ttl=TTL_SECONDS, timeout=10)
        except WebPushException as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status in (404, 410):  # the browser unsubscribed or the subscription expired: forget it
                raise PermanentFailure("push subscription gone", forget=(PushSubscription, int(out.recipient))) from exc
            if status is not None and 400 <= status < 500 and status != 429:
                raise PermanentFailure(f"push {status}") from exc
            raise TemporaryFailure(f"push {status}") from exc
        except OSError as exc:
            raise TemporaryFailure(type(exc).__name__) from exc
        return str(getattr(response, "headers", {}).get("Location") or f"push-{out.id}")

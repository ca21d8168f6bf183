"""A local stand-in of a browser's push service (RFC 8030) and the browser's own keys (RFC 8291).

It refuses what a real push service refuses: no VAPID `Authorization` (RFC 8292), a JWT whose ES256 signature does
not verify with the key it names, an audience that is not this service's origin, an expiry over 24 hours away, a
body that is not aes128gcm. A subscription made `gone` answers 410, as a service does after the browser left.
The test's "browser" decrypts what arrived with its private key and auth secret.
"""
from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

import http_ece
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from .helpers import serve, stop


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Browser:
    """A subscription's private half: what a browser keeps to decrypt its pushes."""

    endpoint: str
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    def subscription(self) -> dict:
        """As the browser's PushSubscription.toJSON() gives it."""
        point = self.key.public_key().public_bytes(serialization.Encoding.X962,
                                                   serialization.PublicFormat.UncompressedPoint)
        return {"endpoint": self.endpoint, "expirationTime": None, "keys": {"p256dh": b64(point),
                                                                            "auth": b64(self.auth)}}

    def read(self, body: bytes) -> dict:
        return json.loads(http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"))


class PushService:
    def __init__(self) -> None:
        self.received: list[tuple[str, dict, bytes]] = []
        self.refused: list[str] = []
        self.gone: set[str] = set()
        self.arrived = threading.Condition()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                problem = service.check(self.headers, body)
                if problem:
                    service.refused.append(problem)
                    self.send_response(401 if "vapid" in problem or "jwt" in problem else 400)
                    self.end_headers()
                    return
                if self.path in service.gone:
                    self.send_response(410)
                    self.end_headers()
                    return
                with service.arrived:
                    service.received.append((self.path, dict(self.headers), body))
                    service.arrived.notify_all()
                self.send_response(201)
                self.send_header("Location", f"{service.origin}/message{self.path}/{len(service.received)}")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server, self.origin = serve(Handler)

    def browser(self, name: str) -> Browser:
        return Browser(f"{self.origin}/push/{name}")

    def check(self, headers, body: bytes) -> str | None:
        """Why RFC 8030/8292 refuse this request, or None."""
        if headers.get("Content-Encoding") != "aes128gcm":
            return "content encoding is not aes128gcm"
        if not headers.get("TTL", "").isdigit():
            return "no TTL"
        auth = headers.get("Authorization", "")
        if not auth.startswith("vapid "):
            return "no vapid authorization"
        parts = dict(p.strip().split("=", 1) for p in auth[6:].split(","))
        token, key = parts.get("t", ""), parts.get("k", "")
        try:
            head, claims, signature = token.split(".")
            public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(key))
            raw = unb64(signature)
            public.verify(encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")),
                          f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
            payload = json.loads(unb64(claims))
        except Exception as exc:  # noqa: BLE001 - any fault in the token is a refusal
            return f"jwt does not verify: {type(exc).__name__}"
        if json.loads(unb64(head)).get("alg") != "ES256":
            return "jwt alg is not ES256"
        if payload.get("aud") != self.origin:
            return f"jwt audience {payload.get('aud')!r} is not {self.origin}"
        if not 0 < payload.get("exp", 0) - time.time() <= 24 * 3600:
            return "jwt expiry is not within 24 hours"
        if not str(payload.get("sub", "")).startswith(("mailto:", "https:")):
            return "jwt sub is not a mailto: or https: contact"
        if len(body) < 86:  # the aes128gcm header (salt, record size, key id) and a tag
            return "body is not an aes128gcm record"
        return None

    def wait_for(self, count: int, timeout: float = 5.0) -> list[tuple[str, dict, bytes]]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)

    def close(self) -> None:
        stop(self.server)

"""Test helpers: free ports, waiting for servers, a local SMTP server, a scripted Rasa."""
from __future__ import annotations

import socket
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, Callable

import requests
from aiosmtpd.controller import Controller

from router.inbound.rasa_client import RasaLate, RasaUnavailable


def serve(handler: type) -> tuple[Any, str]:
    """A local HTTP stand-in (http.server, a thread per request) on a free port: the server and its origin."""
    from http.server import ThreadingHTTPServer

    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def stop(server: Any) -> None:
    server.shutdown()
    server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check: Callable[[], bool], timeout: float = 60.0, interval: float = 0.2, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except RuntimeError:
            raise
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(interval)
    raise TimeoutError(f"timed out waiting for {what or check}")


def http_ok(url: str) -> bool:
    return requests.get(url, timeout=2).ok


class _Collector:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        msg = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(msg)  # type: ignore[arg-type]
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


class SmtpServer:
    """A real SMTP server on localhost (aiosmtpd) that keeps what it receives."""

    def __init__(self) -> None:
        self.port = free_port()
        self.collector = _Collector()
        self.controller = Controller(self.collector, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> "SmtpServer":
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    @property
    def messages(self) -> list[EmailMessage]:
        with self.collector.lock:
            return list(self.collector.messages)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]


def second_factor_on(sessions, email: str) -> str:
    """Turn on a staff user's TOTP, as `bin/router users totp` does; the secret their authenticator holds."""
    from router.staff import users

    with sessions() as s:
        user = users.by_email(s, email)
        users.enable_totp(user)
        secret = user.totp_secret
        s.commit()
    return secret


CONSENT_QUESTION = {"text": "Sopiiko tämä?", "buttons": [{"title": "Kyllä", "payload": "/affirm"},
                                                       {"title": "Ei", "payload": "/deny"}]}


def consent_given(post, rasa, session: str, contact: str | None) -> None:
    """What the real form leaves in the transcript before a handoff: the contact typed, the consent question
    (with its buttons, as domain.yml has it), and the customer's answer."""
    before = rasa.replies
    rasa.replies = [CONSENT_QUESTION]
    post("/api/chat", json={"session": session, "text": contact or "Testi Asiakas"})
    rasa.replies = before
    post("/api/chat", json={"session": session, "text": "Kyllä"})


class ScriptedRasa:
    """A stand-in for unit and integration tests; the stack tests use the real server."""

    def __init__(self, replies: list[dict[str, Any]] | None = None, down: bool = False) -> None:
        self.replies = replies if replies is not None else [{"text": "Mikä on nimesi?"}]
        self.down = down
        self.sent: list[tuple[str, str, dict[str, Any]]] = []
        self.ranking = [{"name": "funding", "confidence": 0.9}, {"name": "greet", "confidence": 0.1}]
        # Late: takes each message and answers after the caller's read timeout, as the real client sees a slow
        # Rasa (RasaLate); the answer is then in the tracker, where `answered` finds it. `forgetful`: not even that.
        self.late = False
        self.forgetful = False
        self.finished: dict[tuple[str, int], list[dict[str, Any]]] = {}

    def send(self, sender: str, text: str, metadata: dict[str, Any], timeout: float | None = None):
        if self.down:
            raise RasaUnavailable("ConnectionError")
        self.sent.append((sender, text, metadata))
        if self.late:
            if not self.forgetful:
                self.finished[(sender, metadata.get("message_id"))] = list(self.replies)
            raise RasaLate("read timeout")
        return self.replies

    def answered(self, sender: str, message_id: int) -> list[dict[str, Any]] | None:
        return self.finished.get((sender, message_id))

    def parse(self, text: str, timeout: float | None = None) -> dict[str, Any]:
        if self.down:
            raise RasaUnavailable("ConnectionError")
        return {"intent": self.ranking[0], "intent_ranking": self.ranking}

    def ready(self) -> bool:
        return not self.down


class TwilioWebhooks:
    """Posts to the router exactly as Twilio does: form-encoded and signed with the library's RequestValidator."""

    def __init__(self, post, base_url: str, auth_token: str) -> None:
        from twilio.request_validator import RequestValidator

        self.post = post  # (path, data, headers) -> response
        self.base_url = base_url.rstrip("/")
        self.validator = RequestValidator(auth_token)
        self.counter = 0

    def signed(self, path: str, params: dict[str, str], *, forge: bool = False):
        signature = self.validator.compute_signature(self.base_url + path, params)
        if forge:
            signature = signature[:-4] + "AAAA"
        return self.post(path, params, {"X-Twilio-Signature": signature})

    def sms(self, sender: str, body: str, sid: str | None = None, **extra: str):
        self.counter += 1
        params = {"MessageSid": sid or f"SM{self.counter:032d}", "AccountSid": "ACtest", "From": sender,
                  "To": "+358400000000", "Body": body, "NumMedia": "0", **extra}
        return self.signed("/twilio/sms", params)

    def whatsapp(self, sender: str, body: str, sid: str | None = None, **extra: str):
        """Twilio's WhatsApp webhook: the SMS one's fields, with "whatsapp:" addresses."""
        self.counter += 1
        params = {"MessageSid": sid or f"SM{self.counter:032d}", "AccountSid": "ACtest", "From": f"whatsapp:{sender}",
                  "To": "whatsapp:+358400000000", "Body": body, "NumMedia": "0", "ProfileName": "Testi",
                  "WaId": sender.lstrip("+"), **extra}
        return self.signed("/twilio/whatsapp", params)

    def call(self, path: str, call_sid: str, caller: str = "+358401110000", **extra: str):
        params = {"CallSid": call_sid, "AccountSid": "ACtest", "From": caller, "To": "+358400000000", **extra}
        return self.signed(path, params)


class ImapServer:
    """A real IMAP server on localhost (pymap's in-memory backend) with one mailbox."""

    USER, PASSWORD = "luukku@example.org", "imap-test-password"

    def __init__(self) -> None:
        import subprocess
        import sys
        from pathlib import Path

        self.port = free_port()
        pymap = Path(sys.executable).parent / "pymap"
        self.proc = subprocess.Popen([str(pymap), "--host", "127.0.0.1", "--port", str(self.port), "--no-tls", "dict",
                                      "--demo-user", self.USER, "--demo-password", self.PASSWORD],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def __enter__(self) -> "ImapServer":
        wait_until(self._answers, 20, what="pymap")
        return self

    def _answers(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
            return s.recv(100).startswith(b"* OK")

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)

    def mailbox(self):
        from imap_tools import MailBoxUnencrypted

        return MailBoxUnencrypted("127.0.0.1", self.port).login(self.USER, self.PASSWORD)

    def append(self, *raw: bytes) -> None:
        with self.mailbox() as box:
            # APPEND sends its literal after the server's go-ahead: with Nagle's algorithm on, each one waited for
            # a delayed ACK (about 40 ms), and the 500-mail flood test spent most of its time appending.
            box.client.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for item in raw:
                box.append(item, "INBOX")

    def unseen(self) -> int:
        from imap_tools import AND

        with self.mailbox() as box:
            return len(list(box.fetch(AND(seen=False), mark_seen=False, headers_only=True)))

    def settings(self) -> dict:
        return {"imap_host": "127.0.0.1", "imap_port": self.port, "imap_security": "none",
                "imap_user": self.USER, "imap_password": self.PASSWORD, "imap_folder": "INBOX"}


def mail(sender: str, subject: str, body: str, *, message_id: str, charset: str = "utf-8",
         to: str = "Luukku <luukku@example.org>", **headers: str) -> bytes:
    """A plain RFC 5322 message as bytes, for APPEND."""
    from email.message import EmailMessage
    from email.utils import formatdate

    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate()
    msg["Message-ID"] = message_id
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body, charset=charset)
    return msg.as_bytes()


def semantic_only(operation) -> list:
    """Schemathesis checks that do not apply to an operation: a new activity's business ID check digit, a real
    calendar day and the directory's topics cannot be said in JSON Schema, nor can a campaign's end after its
    start or its markers free at the same time, nor a sent file's type (checked by its first bytes), so a body the
    schema allows may still get a 400 (the API's documented answer for them)."""
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    semantic = ("POST /api/v1/activities", "POST /api/v1/campaigns", "POST /api/v1/cases/{ref}/messages")
    return [positive_data_acceptance] if operation.label in semantic else []


def rasa_tracker_store(path, senders=()) -> str:
    """Rasa's SQL tracker store as Rasa 3.6 lays it out (its `events` table), with a user event per (sender, words);
    its SQLAlchemy URL."""
    import json
    import sqlite3

    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
                   "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
                   "action_name VARCHAR(255), data TEXT)")
        for sender, words in senders:
            db.execute("INSERT INTO events (sender_id, type_name, data) VALUES (?, 'user', ?)",
                       (sender, json.dumps({"event": "user", "text": words})))
    return f"sqlite:///{path}"


def without_office_notice(texts: list[str]) -> list[str]:
    """A text thread's answers without the office-closed notice, which the stack's wall clock decides (an evening
    run hears it first); tests/integration/test_office_hours.py checks it on a set clock."""
    from router import texts as catalogue

    starts = tuple(catalogue.say("office_closed", lang, day="\0", time="\0").split("\0")[0]
                   for lang in ("fi", "sv", "en"))
    return [t for t in texts if not t.startswith(starts)]


def app_worker(app, clock, **more):
    """A worker on a test app's own settings and database, on the test's clock."""
    from router.worker import Worker

    ext = app.extensions["luukku"]
    return Worker(ext["settings"], ext["sessions"], clock=clock, **more)

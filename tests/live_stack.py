"""The real stack for end-to-end tests: trained Rasa model, action server, router (waitress), SMTP, worker."""
from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import delete
from waitress.server import create_server

from router import config
from router.app import create_app, create_internal_app
from router.casework import directory
from router.delivery import push
from router.delivery.senders import SmtpSender
from router.delivery.twilio_sms import TwilioSmsSender
from router.storage.models import (
    Activity,
    Attachment,
    AuditEvent,
    Call,
    Campaign,
    Case,
    CaseEvent,
    Conversation,
    Customer,
    CustomerAddress,
    CustomerMerge,
    ImpactFigure,
    ImpactRollup,
    Lead,
    MailReceipt,
    Message,
    NluCorrection,
    OptOut,
    OutboxMessage,
    PushSubscription,
    Referral,
    StaffSession,
    Story,
    Survey,
    Target,
    User,
    utcnow,
)
from router.worker import Worker

from .helpers import SmtpServer, TwilioWebhooks, free_port, http_ok, wait_until
from .twilio_standin import TwilioStandIn

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "current.tar.gz"
BOT_BIN = ROOT / ".venv-bot" / "bin"
TOKEN = "stack-token"
RASA_TOKEN = "stack-rasa-token"
TWILIO_TOKEN = "stack-twilio-token"


class Stack:
    """Starts everything once per test session; `reset()` empties the router's tables between tests."""

    def __init__(self, workdir: Path, database_url: str, overrides: dict[str, Any] | None = None) -> None:
        if not MODEL.exists():
            raise RuntimeError("no trained model: run `make setup` (make test does it)")
        self.workdir = workdir
        self.router_port, self.rasa_port, self.actions_port = free_port(), free_port(), free_port()
        self.internal_port = free_port()
        self.router_url = f"http://127.0.0.1:{self.router_port}"
        self.internal_url = f"http://127.0.0.1:{self.internal_port}"
        self.rasa_url = f"http://127.0.0.1:{self.rasa_port}"
        self.database_url = database_url
        self.procs: list[subprocess.Popen] = []
        self.smtp = SmtpServer()
        self.twilio_api = TwilioStandIn()
        self.clock_now = None  # None: the real clock
        self.extra = dict(overrides or {})

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> None:
        with open(self.workdir / f"{name}.log", "wb") as log:
            self.procs.append(subprocess.Popen(args, cwd=ROOT, env={**os.environ, **env}, stdout=log,
                                               stderr=subprocess.STDOUT))

    def start(self) -> "Stack":
        self.smtp.__enter__()
        self.twilio_api.__enter__()
        self._spawn("actions", [str(BOT_BIN / "rasa"), "run", "actions", "--actions", "bot.actions",
                                "--port", str(self.actions_port)],
                    {"ROUTER_INTERNAL_URL": self.internal_url, "INTERNAL_API_TOKEN": TOKEN})
        self._spawn("rasa", [str(BOT_BIN / "rasa"), "run", "--model", str(MODEL), "--endpoints", "endpoints.yml",
                             "--credentials", "credentials.yml", "--enable-api", "--auth-token", RASA_TOKEN,
                             "--port", str(self.rasa_port), "-i", "127.0.0.1"],
                    {"ACTION_ENDPOINT_URL": f"http://127.0.0.1:{self.actions_port}/webhook",
                     "RASA_TRACKER_DB": str(self.workdir / "rasa.db")})
        overrides = {"database_url": self.database_url, "rasa_url": self.rasa_url, "internal_api_token": TOKEN,
                     "rasa_token": RASA_TOKEN,
                     # Every simulated customer comes from 127.0.0.1, and new chats count against their address:
                     # the stack's limits are for real clients (tests/integration/test_security.py checks them).
                     "rate_limit_chat": "100000 per minute", "rate_limit_chat_address": "100000 per minute",
                     "rate_limit_chat_poll": "100000 per minute",
                     "smtp_host": "127.0.0.1", "smtp_port": self.smtp.port, "smtp_security": "none",
                     "public_base_url": self.router_url, "rasa_timeout": 20.0, "twilio_account_sid": "ACstack",
                     "twilio_auth_token": TWILIO_TOKEN, "twilio_number": "+358400000000",
                     "twilio_api_base_url": self.twilio_api.base_url,
                     "rasa_tracker_url": f"sqlite:///{self.workdir / 'rasa.db'}",
                     "vapid_private_key": push.new_private_key(), **self.extra}
        self.settings = config.load(overrides)
        self.app = create_app(overrides, clock=lambda: self.clock_now or utcnow())
        self.sessions = self.app.extensions["luukku"]["sessions"]
        self.server = create_server(self.app, host="127.0.0.1", port=self.router_port, threads=8)
        threading.Thread(target=self.server.run, daemon=True).start()
        self.internal_app = create_internal_app(overrides, clock=lambda: self.clock_now or utcnow())
        self.internal_server = create_server(self.internal_app, host="127.0.0.1", port=self.internal_port, threads=4)
        threading.Thread(target=self.internal_server.run, daemon=True).start()
        self.worker = Worker(self.settings, self.sessions,
                             senders={"email": SmtpSender(self.settings), "sms": TwilioSmsSender(self.settings),
                                      "push": push.WebPushSender(self.settings)})
        self.twilio = TwilioWebhooks(
            lambda path, data, headers: requests.post(self.router_url + path, data=data, headers=headers, timeout=30),
            self.router_url, TWILIO_TOKEN)
        try:
            wait_until(lambda: http_ok(f"http://127.0.0.1:{self.actions_port}/health"), 120, what="action server")
            wait_until(lambda: requests.get(self.rasa_url + "/status", params={"token": RASA_TOKEN},
                                            timeout=2).json().get("model_file"), 180,
                       what="rasa")
        except BaseException:
            self.stop()  # a stack that never came up leaves no Rasa or action server behind
            raise
        return self

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.server.close()
        self.internal_server.close()
        self.internal_app.extensions["luukku"]["engine"].dispose()
        self.smtp.__exit__()
        self.twilio_api.__exit__()
        self.app.extensions["luukku"]["engine"].dispose()

    def reset(self, directory_file: Path) -> None:
        with self.sessions() as s:
            for model in (PushSubscription, Attachment, MailReceipt, OutboxMessage, Call, Survey, CaseEvent,
                          NluCorrection, Activity, Lead, Referral,
                          Case, Message, Conversation, CustomerMerge, CustomerAddress, Customer, OptOut, StaffSession,
                          AuditEvent, User, ImpactRollup, ImpactFigure, Story, Campaign, Target):
                s.execute(delete(model))
            directory.load(s, directory_file)
            s.commit()
        self.smtp.collector.messages.clear()
        self.twilio_api.received.clear()
        self.clock_now = None

    def chat(self, text: str, session: str | None = None) -> dict[str, Any]:
        resp = requests.post(self.router_url + "/api/chat", json={"session": session, "text": text}, timeout=30)
        resp.raise_for_status()
        return resp.json()

    def conversation(self, *texts: str) -> tuple[str, list[list[dict[str, Any]]]]:
        """Send texts in one session; the session id and each turn's replies."""
        session, turns = None, []
        for text in texts:
            body = self.chat(text, session)
            session = body["session"]
            turns.append(body["replies"])
        return session, turns

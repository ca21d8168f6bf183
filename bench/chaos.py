"""`make chaos`: the production topology as local processes, broken on purpose while customers use it.

Each experiment runs whole web-chat intakes (half leave an email, half a phone number, so confirmations go out by
email and by SMS) while one fault is injected, then waits for the system to settle and counts:
  inputs      customer conversations (and, for delivery faults, outbound messages expected)
  lost        conversations that ended without a case, or expected messages never delivered
  duplicated  conversations with more than one case, or a message delivered twice (by Message-ID / To+Body)
  errors      customer-visible errors: an HTTP error or a blank reply
  recovery    seconds from the fault's end until every input had its outcome
CHAOS_CUSTOMERS sets customers per experiment (CI runs a short version through tests/chaos).
"""
from __future__ import annotations

import os
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import requests
from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.topology import Topology, person  # noqa: E402
from router.storage.models import Case, Conversation, Message, OutboxMessage  # noqa: E402
from tests.helpers import SmtpServer  # noqa: E402
from tests.twilio_standin import TwilioStandIn  # noqa: E402

KEPT = ("Viestisi on tallessa", "Ditt meddelande är sparat", "Your message is saved")
SETTLE = 90.0  # how long an experiment may take to reach every outcome after its fault


@dataclass
class Customer:
    """One web-chat intake that answers what the bot asks, and what the customer saw."""

    index: int
    session: str | None = None
    errors: int = 0
    blanks: int = 0
    kept: int = 0
    done_at: float | None = None
    turns: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)

    @property
    def script(self) -> list[str]:
        """The answers in the usual order (two-messages-at-once sends the name and contact together)."""
        return [OPENING, self.name, self.contact, "-", "/affirm"]

    @property
    def name(self) -> str:
        return person(self.index)

    @property
    def contact(self) -> str:
        return f"asiakas{self.index}@example.org" if self.index % 2 else f"040 100 {2000 + self.index:04d}"

    def answer(self, text_: str, buttons: list[dict]) -> str | None:
        """What this customer says to the bot's latest words; None when the case is confirmed."""
        payloads = [b.get("payload") for b in buttons]
        if "on yhteydessä sinuun" in text_:
            return None
        if "/affirm" in payloads:
            return "/affirm"
        if "/funding" in payloads:
            return "/funding"
        if "nimesi" in text_:
            return self.name
        if "tavoittaa" in text_:
            return self.contact
        if "yrityksesi nimi" in text_:
            return "-"
        return "Tarvitsen rahoitusta yritykselleni"  # a clarifying question: say the need again


OPENING = "Hei, tarvitsen rahoitusta koneeseen"


def _answered_after(top: Topology, http: requests.Session, session: str, since: int,
                    deadline: float) -> tuple[str, list] | None:
    """Wait in the widget's thread for the bot's answer to a kept message; its text and buttons."""
    while time.monotonic() < deadline:
        try:
            rows = http.get(f"{top.url}/api/chat/{session}", params={"after": since}, timeout=10).json()["messages"]
            answers = [m for m in rows if m["author"] == "bot" and not m["text"].startswith(KEPT)]
            if answers:
                return answers[-1]["text"], answers[-1]["buttons"]
        except (requests.RequestException, ValueError, KeyError):
            pass
        time.sleep(0.5)
    return None


def run_customer(top: Topology, c: Customer, deadline: float, pause: float = 0.0) -> None:
    with requests.Session() as http:
        _converse(top, http, c, deadline, pause)


def _converse(top: Topology, http: requests.Session, c: Customer, deadline: float, pause: float) -> None:
    text_: str | None = OPENING
    for _ in range(12):
        if text_ is None:
            c.done_at = time.monotonic()
            return
        reply: tuple[str, list] | None = None
        while reply is None and time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                resp = http.post(top.url + "/api/chat", json={"session": c.session, "text": text_}, timeout=40)
            except requests.RequestException:
                c.errors += 1
                time.sleep(1)
                continue
            c.turns.append(time.perf_counter() - started)
            if resp.status_code != 200:
                c.errors += 1  # the customer sees an error and sends the same text again
                c.statuses[resp.status_code] += 1
                time.sleep(1)
                continue
            body = resp.json()
            c.session = body["session"]
            replies = body.get("replies") or []
            if not replies:
                c.blanks += 1
                return
            if replies[0]["text"].startswith(KEPT):
                c.kept += 1
                newest = http.get(f"{top.url}/api/chat/{c.session}", timeout=10).json()["messages"]
                reply = _answered_after(top, http, c.session, newest[-1]["id"] if newest else 0, deadline)
                if reply is None:
                    return
            else:
                reply = replies[-1]["text"], replies[-1]["buttons"]
        if reply is None:
            return
        text_ = c.answer(*reply)
        time.sleep(pause)


@dataclass
class Result:
    name: str
    inputs: int
    lost: int
    duplicated: int
    errors: int
    recovery: float
    note: str = ""


class Chaos:
    """The topology plus its outside world (SMTP server, Twilio stand-in), and the experiments."""

    def __init__(self, customers: int, workdir: Path) -> None:
        self.customers = customers
        self.smtp = SmtpServer().__enter__()
        self.twilio = TwilioStandIn().__enter__()
        self.top = Topology(workdir, env={
            "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(self.smtp.port), "SMTP_SECURITY": "none",
            "TWILIO_ACCOUNT_SID": "ACchaos", "TWILIO_AUTH_TOKEN": "chaos-twilio-token",
            "TWILIO_NUMBER": "+358400000000", "TWILIO_API_BASE_URL": self.twilio.base_url,
            "RATE_LIMIT_CHAT": "100000 per minute", "RATE_LIMIT_CHAT_ADDRESS": "100000 per minute",
            "RATE_LIMIT_CHAT_POLL": "100000 per minute", "RASA_TIMEOUT": "20", "RASA_GIVE_UP_MINUTES": "10"})
        self.results: list[Result] = []
        self._closing: list[requests.Session] = []

    def start(self) -> None:
        self.top.start()
        self.db = create_engine(self.top.database_url, pool_pre_ping=True)

    def stop(self) -> None:
        for http in self._closing:
            http.close()
        self.top.stop()
        self.db.dispose()
        self.smtp.__exit__()
        self.twilio.__exit__()

    # -- counting ----------------------------------------------------------------------------------------------

    def cases_by_session(self, sessions: list[str]) -> Counter:
        with self.db.connect() as conn:
            rows = conn.execute(select(Conversation.public_id, func.count(Case.id))
                                .join(Case, Case.conversation_id == Conversation.id)
                                .where(Conversation.public_id.in_(sessions))
                                .group_by(Conversation.public_id)).all()
        return Counter({k: v for k, v in rows})

    def undelivered(self) -> int:
        with self.db.connect() as conn:
            return conn.scalar(select(func.count(OutboxMessage.id))
                               .where(OutboxMessage.status.in_(("pending", "sending")))) or 0

    def dead(self) -> int:
        with self.db.connect() as conn:
            return conn.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.status == "dead")) or 0

    def duplicates_delivered(self) -> int:
        ids = Counter(str(m["Message-ID"]) for m in self.smtp.messages)
        texts = Counter((m.get("To"), m.get("Body")) for m in self.twilio.received if m.get("_sid"))
        return sum(n - 1 for n in ids.values() if n > 1) + sum(n - 1 for n in texts.values() if n > 1)

    # -- one experiment ----------------------------------------------------------------------------------------

    def experiment(self, name: str, fault: Callable[[], None], heal: Callable[[], None] = lambda: None,
                   fault_after: float = 2.0, pause: float = 0.0, note: str = "") -> Result:
        start_index = sum(r.inputs for r in self.results) * 10 + 1000
        people = [Customer(start_index + i) for i in range(self.customers)]
        deadline = time.monotonic() + SETTLE + 60
        threads = [threading.Thread(target=run_customer, args=(self.top, c, deadline, pause)) for c in people]
        for t in threads:
            t.start()
        time.sleep(fault_after)
        fault()
        heal()
        healed = time.monotonic()
        for t in threads:
            t.join()
        # Every case's messages delivered (or given up on), then count.
        settle_until = time.monotonic() + SETTLE
        while time.monotonic() < settle_until and self.undelivered():
            time.sleep(0.5)
        settled = time.monotonic()
        sessions = [c.session for c in people if c.session]
        cases = self.cases_by_session(sessions)
        lost = sum(1 for c in people if not c.session or cases.get(c.session, 0) == 0) + self.undelivered() \
            + self.dead()
        duplicated = sum(n - 1 for n in cases.values() if n > 1) + self.duplicates_delivered()
        errors = sum(c.errors + c.blanks for c in people)
        seen = sum((c.statuses for c in people), Counter())
        if seen or any(c.blanks for c in people):
            note = f"{note}; HTTP {dict(seen)}, blank {sum(c.blanks for c in people)}".lstrip("; ")
        finished = [c.done_at for c in people if c.done_at] + [settled]
        result = Result(name, len(people), lost, duplicated, errors, max(0.0, max(finished) - healed), note)
        self.results.append(result)
        print(f"  {name}: {result}", flush=True)
        return result

    # -- the faults --------------------------------------------------------------------------------------------

    def rasa_replica_killed(self) -> Result:
        return self.experiment("Rasa replica killed (kill -9)", lambda: self.top.kill("rasa-1"),
                               note="the router fails over to rasa-2; the supervisor restarts rasa-1")

    def action_server_killed(self) -> Result:
        def fault() -> None:  # killed, and killed again each time it comes back, for 10 s
            until = time.monotonic() + 10
            while time.monotonic() < until:
                try:
                    self.top.kill("actions")
                except (ProcessLookupError, IndexError):
                    pass
                time.sleep(0.5)

        def heal() -> None:  # restarted by the supervisor; wait until it answers again
            while True:
                try:
                    if requests.get(f"http://127.0.0.1:{self.top.actions_port}/health", timeout=1).ok:
                        return
                except requests.RequestException:
                    time.sleep(0.3)
        return self.experiment("action server killed (kill -9) for 10 s", fault, heal, fault_after=3.0,
                               note="turns that needed an action wait and are replayed")

    def smtp_down(self) -> Result:
        def fault() -> None:
            self.smtp.controller.stop()

        def heal() -> None:
            time.sleep(20)
            from aiosmtpd.controller import Controller

            # A stopped controller cannot start again: a new server on the same port, keeping what came before.
            self.smtp.controller = Controller(self.smtp.collector, hostname="127.0.0.1", port=self.smtp.port)
            self.smtp.controller.start()
        return self.experiment("SMTP server down 20 s", fault, heal, fault_after=0.0)

    def twilio_errors(self) -> Result:
        def fault() -> None:
            self.twilio.failing_until = time.monotonic() + 15
            self.twilio.drop_answers = 2  # then accepted, answer lost: the retry must find it in the message log

        def heal() -> None:
            time.sleep(max(0.0, self.twilio.failing_until - time.monotonic()))
        return self.experiment("Twilio 429/500 for 15 s, then 2 answers lost", fault, heal, fault_after=0.0)

    def worker_killed_mid_send(self) -> Result:
        def fault() -> None:
            self.twilio.delay = 4.0
            before = len(self.twilio.received)
            until = time.monotonic() + 60
            while len(self.twilio.received) == before and time.monotonic() < until:
                time.sleep(0.05)
            time.sleep(0.5)  # Twilio has the text; the worker waits for the answer
            for i in range(self.top.workers):
                self.top.kill(f"worker-{i + 1}")
            self.twilio.delay = 0.0
        return self.experiment("workers killed mid-send (kill -9)", fault, fault_after=0.0,
                               note="the claim's lease runs out; Twilio's log shows the text went")

    def postgres_connections_terminated(self) -> Result:
        admin = create_engine(self.top.database_url, isolation_level="AUTOCOMMIT")

        def fault() -> None:
            for _ in range(4):
                with admin.connect() as conn:
                    conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
                                      ":d AND pid <> pg_backend_pid()"), {"d": self.top.name})
                time.sleep(1.5)
        try:
            return self.experiment("PostgreSQL connections terminated 4× in 6 s", fault, fault_after=1.0)
        finally:
            admin.dispose()

    def two_messages_at_once(self) -> Result:
        """Name and contact sent at the same moment: the bot must see them in the order they were stored."""
        people = [Customer(90000 + i + sum(r.inputs for r in self.results)) for i in range(self.customers)]
        errors = out_of_order = 0
        http = requests.Session()
        self._closing.append(http)

        def post(c: Customer, text_: str, answers: list) -> None:
            r = requests.post(self.top.url + "/api/chat", json={"session": c.session, "text": text_}, timeout=40)
            answers.append(r)

        for c in people:
            c.session = http.post(self.top.url + "/api/chat", json={"session": None, "text": OPENING},
                                  timeout=40).json()["session"]
        started = time.monotonic()
        threads = []
        answers: list = []
        for c in people:
            for text_ in c.script[1:3]:
                threads.append(threading.Thread(target=post, args=(c, text_, answers)))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        errors = sum(1 for r in answers if r.status_code != 200 or not r.json().get("replies"))
        with self.db.connect() as conn:
            for c in people:
                conv_id = conn.scalar(select(Conversation.id).where(Conversation.public_id == c.session))
                stored = conn.scalars(select(Message.text).where(Message.conversation_id == conv_id,
                                                                 Message.direction == "in").order_by(Message.id)).all()
                tracker = requests.get(f"{self.top.rasa_urls[1]}/conversations/{c.session}/tracker",
                                       params={"token": self.top.token}, timeout=10).json()
                seen = [e.get("text") for e in tracker.get("events", []) if e.get("event") == "user"]
                if seen != stored:
                    out_of_order += 1
        result = Result("two messages of one conversation at once", len(people), 0, out_of_order, errors,
                        time.monotonic() - started, "duplicated = the bot saw the messages out of the stored order")
        self.results.append(result)
        print(f"  {result.name}: {result}", flush=True)
        return result

    def run_all(self) -> list[Result]:
        for experiment in (self.rasa_replica_killed, self.action_server_killed, self.smtp_down, self.twilio_errors,
                           self.worker_killed_mid_send, self.postgres_connections_terminated,
                           self.two_messages_at_once):
            experiment()
        return self.results


def table(results: list[Result]) -> str:
    lines = ["| experiment | inputs | lost | duplicated | customer-visible errors | recovery (s) |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r.name} | {r.inputs} | {r.lost} | {r.duplicated} | {r.errors} | {r.recovery:.1f} |")
    return "\n".join(lines)


def main() -> int:
    customers = int(os.environ.get("CHAOS_CUSTOMERS", "10"))
    chaos = Chaos(customers, Path(tempfile.mkdtemp(prefix="luukku-chaos-")))
    print(f"make chaos: {customers} customers per experiment; starting the topology...", flush=True)
    chaos.start()
    try:
        results = chaos.run_all()
    finally:
        chaos.stop()
    print()
    print(table(results))
    bad = [r for r in results if r.lost or r.duplicated or r.recovery > 30]
    return 1 if bad else 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    sys.exit(main())

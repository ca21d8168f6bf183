"""`make bench-load`: N concurrent whole conversations (web chat and SMS) on the production topology with one Rasa
replica, and the same conversations sent straight to that Rasa in the same run, for the router's overhead: at light
load each customer alternates one conversation straight to Rasa with one through the router, side by side, and the
overhead is reported overall and by step of the intake; at full load the phases straight to Rasa and through the
router alternate (bare, router, router, bare, ...) and the router's throughput is reported as a share of Rasa's.
Prints turns/s (turns answered inside the phase's window), turn p50/p95/p99, blank replies, "kept" answers
(fallbacks) and memory per process; the figures go to docs/performance.md.

BENCH_CUSTOMERS concurrent customers (default 10; 2 in the light-load phases that measure the overhead),
BENCH_SECONDS per phase (default 40), BENCH_ROUNDS rounds of phases (default 2), BENCH_RASA_WORKERS Sanic worker
processes in the one Rasa replica (default 2, as in docker-compose.yml, each with one OpenMP thread).
BENCH_BASELINE=<commit>: that commit's web processes (a git worktree) join the full-load rotation on the same
topology, so its router's share is measured side by side with this tree's.
"""
from __future__ import annotations

import functools
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.topology import Topology, person  # noqa: E402

TWILIO_TOKEN = "bench-twilio-token"
LIGHT = 2  # customers in the light-load pairs
KEPT = ("Viestisi on tallessa", "Ditt meddelande är sparat", "Your message is saved")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


def script(i: int) -> list[str]:
    return ["Hei, tarvitsen rahoitusta koneeseen", person(i), f"asiakas{i}@example.org", "-", "/affirm"]


class Phase:
    """One timed phase: customers loop over whole conversations until the time is up."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.until = time.monotonic() + seconds
        self.in_window = 0  # turns answered before the phase's time was up: its throughput, without the tail
        self.latencies: list[float] = []
        self.by_step: dict[int, list[float]] = {}  # the same step of the script through both paths, compared
        self.blank = self.kept = self.errors = 0
        self.lock = threading.Lock()

    def note(self, seconds: float, replies: list[str] | None, step: int = -1) -> None:
        with self.lock:
            if replies is None:
                self.errors += 1
                return
            self.latencies.append(seconds)
            self.in_window += time.monotonic() <= self.until
            self.by_step.setdefault(step, []).append(seconds)
            if not replies:
                self.blank += 1
            elif replies[0].startswith(KEPT):
                self.kept += 1


def web_conversation(top: Topology, phase: Phase, http: requests.Session, number: int, url: str | None = None,
                     session: str | None = None) -> None:
    """One whole intake through a chat API: the router's, or another at `url` (make bench-overhead)."""
    for step, text in enumerate(script(number)):
        started = time.perf_counter()
        try:
            resp = http.post((url or top.url) + "/api/chat", json={"session": session, "text": text}, timeout=30)
            body = resp.json() if resp.status_code == 200 else None
        except (requests.RequestException, ValueError):
            body = None
        phase.note(time.perf_counter() - started, None if body is None else
                   [r["text"] for r in body.get("replies", [])], step)
        if body is None:
            break
        session = body["session"]


def web_customer(top: Topology, phase: Phase, n: int, url: str | None = None) -> None:
    http = requests.Session()
    i = 0
    while time.monotonic() < phase.until:
        web_conversation(top, phase, http, n * 1000 + i, url=url)
        i += 1


def sms_customer(top: Topology, phase: Phase, n: int) -> None:
    from twilio.request_validator import RequestValidator

    validator, http = RequestValidator(TWILIO_TOKEN), requests.Session()
    i = 0
    while time.monotonic() < phase.until:
        number = f"+35840{3000000 + n * 1000 + i:07d}"
        for text in ["Hei, tarvitsen rahoitusta koneeseen", person(n), f"asiakas{n}@example.org", "-",
                     "1"]:
            params = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": "ACbench", "From": number,
                      "To": "+358400000000", "Body": text, "NumMedia": "0"}
            signature = validator.compute_signature(top.url + "/twilio/sms", params)
            started = time.perf_counter()
            try:
                resp = http.post(top.url + "/twilio/sms", data=params, headers={"X-Twilio-Signature": signature},
                                 timeout=30)
                texts = [m.text or "" for m in ET.fromstring(resp.content).iter("Message")] \
                    if resp.status_code == 200 else None
            except (requests.RequestException, ET.ParseError):
                texts = None
            # An SMS answered through the outbox (past Twilio's budget) is not blank: it is counted as kept.
            phase.note(time.perf_counter() - started, None if texts is None else (texts or [KEPT[0]]))
        i += 1


_ENGINES: dict[str, object] = {}
_BARE: list[str] = []  # the bare path's conversations whose five turns all answered


def register(top: Topology, number: int) -> str:
    """A web conversation known to the router but never sent through it: a sender id for straight-to-Rasa turns.

    So that the bare path's handoff makes a real case through the internal API, as the routed one does, and the
    comparison shows what the public router adds rather than the case being made (or refused) on one side only.
    The router makes a case only when its own transcript backs it (the consent question answered after it was
    asked, the email typed: `handoff.unbacked`), so the transcript the routed turns would have stored is written
    here, in one statement before the timed turns.
    """
    from sqlalchemy import create_engine, text

    engine = _ENGINES.get(top.database_url) or _ENGINES.setdefault(top.database_url, create_engine(top.database_url))
    sender = uuid.uuid4().hex
    asked = '{"buttons": [{"title": "Kyllä", "payload": "/affirm"}, {"title": "Ei", "payload": "/deny"}]}'
    with engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(text(
            "WITH c AS (INSERT INTO conversations (public_id, channel, language, created_at, last_message_at) "
            "VALUES (:p, 'web', 'fi', now() at time zone 'utc', now() at time zone 'utc') RETURNING id) "
            "INSERT INTO messages (conversation_id, direction, channel, author, text, payload, created_at, "
            "awaiting_bot) "
            "SELECT c.id, d, 'web', a, t, CAST(j AS json), now() at time zone 'utc', false FROM c, (VALUES "
            "(1, 'in', 'customer', :email, NULL), (2, 'out', 'bot', 'consent?', :asked), (3, 'in', 'customer', "
            "'Kyllä', NULL)) AS m(n, d, a, t, j) ORDER BY n"),
            {"p": sender, "email": script(number)[2], "asked": asked})
    return sender


def cases_made(top: Topology) -> tuple[int, int]:
    """(cases, whole intakes) of the bare path so far: each intake ends in a handoff, so each must make a case."""
    from sqlalchemy import text

    with _ENGINES[top.database_url].connect() as conn:  # type: ignore[attr-defined]
        made = conn.execute(text("SELECT count(*) FROM cases k JOIN conversations c ON c.id = k.conversation_id "
                                 "WHERE c.public_id = ANY(:ids)"), {"ids": list(_BARE)}).scalar_one()
    return int(made), len(_BARE)


def bare_conversation(top: Topology, phase: Phase, http: requests.Session, number: int) -> None:
    """The same intake straight to Rasa's REST channel (the action server still calls the router's internal API,
    which makes the case for the conversation registered here)."""
    sender = register(top, number)
    for step, text in enumerate(script(number)):
        started = time.perf_counter()
        try:
            resp = http.post(top.rasa_urls[0] + "/webhooks/rest/webhook",
                             json={"sender": sender, "message": text, "metadata": {"language": "fi"}}, timeout=30)
            replies = [r.get("text", "") for r in resp.json()] if resp.status_code == 200 else None
        except (requests.RequestException, ValueError):
            replies = None
        phase.note(time.perf_counter() - started, replies, step)
        if replies is None:
            return
    _BARE.append(sender)


def bare_customer(top: Topology, phase: Phase, n: int) -> None:
    http = requests.Session()
    i = 0
    while time.monotonic() < phase.until:
        bare_conversation(top, phase, http, n * 1000 + i)
        i += 1


def run_paired(top: Topology, customers: int, seconds: float) -> tuple[Phase, Phase]:
    """Light load, side by side: each customer alternates a conversation straight to Rasa with one through the
    router, so both see the same machine (a noisy neighbour, Rasa's caches) at the same moments."""
    bare, routed = Phase(seconds), Phase(seconds)

    def customer(n: int) -> None:
        http = requests.Session()
        i = 0
        while time.monotonic() < bare.until:
            first, second = ((bare_conversation, bare), (web_conversation, routed))[::1 if (n + i) % 2 else -1]
            first[0](top, first[1], http, n * 1000 + i)
            second[0](top, second[1], http, n * 1000 + i)
            i += 1

    threads = [threading.Thread(target=customer, args=(n,)) for n in range(customers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return bare, routed


def run_phase(top: Topology, target, customers: int, seconds: float, sms: int = 0) -> Phase:
    phase = Phase(seconds)
    threads = [threading.Thread(target=target, args=(top, phase, n)) for n in range(customers)]
    threads += [threading.Thread(target=sms_customer, args=(top, phase, 100 + n)) for n in range(sms)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return phase


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (gunicorn's processes, Rasa's), in MB."""
    total = 0
    pids = [pid]
    while pids:
        p = pids.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for child in Path(f"/proc/{p}/task/{p}/children").read_text().split():
                pids.append(int(child))
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total / 1024


def report(name: str, phase: Phase) -> dict:
    lat = [x * 1000 for x in phase.latencies]
    # Turns answered inside the phase's window, over the window: the last conversations' tail, when fewer
    # customers are still busy, would otherwise count against whichever side ends a slower conversation.
    row = {"phase": name, "turns": len(lat), "turns_per_s": phase.in_window / phase.seconds,
           "p50": percentile(lat, 0.5), "p95": percentile(lat, 0.95), "p99": percentile(lat, 0.99),
           "blank": phase.blank, "kept": phase.kept, "errors": phase.errors}
    print(f"  {name:<22} {row['turns']:5d} turns {row['turns_per_s']:6.1f}/s  p50 {row['p50']:6.0f} ms  "
          f"p95 {row['p95']:6.0f} ms  p99 {row['p99']:6.0f} ms  blank {row['blank']}  kept {row['kept']}  "
          f"errors {row['errors']}", flush=True)
    return row


def main() -> None:
    customers = int(os.environ.get("BENCH_CUSTOMERS", "10"))
    seconds = float(os.environ.get("BENCH_SECONDS", "40"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "2"))
    sms = max(1, customers // 4)
    baseline = os.environ.get("BENCH_BASELINE")
    workers = int(os.environ.get("BENCH_RASA_WORKERS", "2"))  # Sanic worker processes inside the one Rasa replica
    top = Topology(Path(tempfile.mkdtemp(prefix="luukku-load-")), rasa_replicas=1, name="luukku_bench_load",
                   env={"TWILIO_ACCOUNT_SID": "ACbench", "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
                        "TWILIO_NUMBER": "+358400000000", "RATE_LIMIT_CHAT": "100000 per minute",
                        "RATE_LIMIT_CHAT_ADDRESS": "100000 per minute", "RATE_LIMIT_CHAT_POLL": "100000 per minute",
                        "SMS_PER_NUMBER_PER_DAY": "1000", "SMS_HOURLY_BUDGET": "100000", "LOG_LEVEL": "WARNING"},
                   rasa_workers=workers)
    print(f"make bench-load: {customers} web customers (+{sms} SMS in the mixed phase), {seconds:.0f} s phases, "
          f"{rounds} rounds; starting the topology (1 Rasa replica, SANIC_WORKERS={workers})...", flush=True)
    top.start()
    rows, paired, others, tree = [], [], [], None
    # Full load, in the order bare, router, router, bare, ...: a machine that slows down or speeds up during the run
    # weighs on every side alike.
    full = [("bare Rasa", bare_customer), ("router, web", web_customer)]
    try:
        if baseline:
            # Another commit's web processes on this topology (database, Rasa, workers): its router side by side.
            from bench.overhead import drop_worktree, start_web, worktree

            tree, short = worktree(baseline)
            others.append(start_web(top, tree, "router.app:create_app()", "baseline"))
            full.append((f"router {short}", functools.partial(web_customer, url=others[0][1])))
        run_phase(top, web_customer, 2, 8)  # warm-up: models, connection pools
        for r in range(rounds):
            # Light load (Rasa not saturated) shows what the router adds to a turn; full load, what it sustains.
            bare, routed = run_paired(top, LIGHT, seconds)
            paired.append((bare, routed))
            rows.append(report(f"bare Rasa, light #{r + 1}", bare))
            rows.append(report(f"router, light #{r + 1}", routed))
            for name, target in full[::-1] if r % 2 else full:
                rows.append(report(f"{name} #{r + 1}", run_phase(top, target, customers, seconds)))
        rows.append(report("router, web + SMS", run_phase(top, web_customer, customers, seconds, sms=sms)))
        overhead = [routed["p50"] - bare["p50"] for bare, routed in zip(
            [x for x in rows if x["phase"].startswith("bare Rasa, light")],
            [x for x in rows if x["phase"].startswith("router, light")])]
        print(f"\n  router overhead over bare Rasa at light load ({LIGHT} customers), p50: "
              f"{statistics.median(overhead):.0f} ms (pairs: {', '.join(f'{o:.0f}' for o in overhead)} ms)")
        # The same step of the script, both ways: the first message starts a conversation, the last one is the
        # handoff, whose case the router's internal API makes while Rasa waits.
        steps = {}
        for bare, routed in paired:
            for step in sorted(bare.by_step):
                if routed.by_step.get(step):
                    steps.setdefault(step, []).append(statistics.median(routed.by_step[step]) -
                                                      statistics.median(bare.by_step[step]))
        print("  by step of the conversation, p50 difference: " + ", ".join(
            f"{step + 1}: {statistics.median(d) * 1000:.0f} ms" for step, d in sorted(steps.items())))
        bare_full = [x["turns_per_s"] for x in rows if x["phase"].startswith("bare Rasa #")]
        for name, _ in full[1:]:
            routed_full = [x["turns_per_s"] for x in rows if x["phase"].startswith(f"{name} #")]
            print(f"  throughput at full load, {name}: {sum(routed_full) / sum(bare_full):.0%} of bare Rasa's "
                  f"({sum(routed_full) / len(routed_full):.1f} against {sum(bare_full) / len(bare_full):.1f} "
                  f"turns/s; rounds: {', '.join(f'{r / b:.0%}' for r, b in zip(routed_full, bare_full))})")
        made, intakes = cases_made(top)
        print(f"  cases made by the bare path's handoffs: {made} of {intakes} whole intakes"
              + ("" if made == intakes else " (the comparison is not like for like)"))
        print("  memory (RSS, MB):", ", ".join(f"{name} {rss_mb(top.pid(name)):.0f}" for name in top.commands()))
    finally:
        for proc, _ in others:
            os.killpg(proc.pid, signal.SIGTERM)
        top.stop()
        if tree is not None:
            drop_worktree(tree)


if __name__ == "__main__":
    main()

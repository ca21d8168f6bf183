"""`make bench-abuse`: a normal customer's chat and a visitor's pages alone and while one client floods the chat.

The real stack (trained Rasa model, action server, router under waitress, SMTP) from the end-to-end tests, on
PostgreSQL (where the second security review drained the pool). Three floods into one conversation, in one run:
- as fast as 8 threads can send ATTACK requests, while a customer has whole conversations;
- paced: FLOOD_PER_MINUTE requests a minute for FLOOD_SECONDS, each on a connection of its own, while a visitor
  loads the public pages;
- the same while the bot is stopped (SIGSTOP) for BOT_STOPPED_SECONDS, so the flood's turn holds its lock.
Each phase prints its status counts (server errors must be 0) and the visitor's p50/p95. Figures go to
docs/security.md. BENCH_SHORT=1 runs a short version.
"""
from __future__ import annotations

import os
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from router import config  # noqa: E402
from router.storage.migrate import upgrade  # noqa: E402
from tests.live_stack import Stack  # noqa: E402

SHORT = os.environ.get("BENCH_SHORT") == "1"
ATTACK = int(os.environ.get("BENCH_ATTACK", "100" if SHORT else "500"))
FLOOD_PER_MINUTE = int(os.environ.get("BENCH_FLOOD_PER_MINUTE", "500"))
FLOOD_SECONDS = float(os.environ.get("BENCH_FLOOD_SECONDS", "15" if SHORT else "60"))
BOT_STOPPED_SECONDS = float(os.environ.get("BENCH_BOT_STOPPED_SECONDS", "10" if SHORT else "30"))
PAGES = ["/", "/contacts", "/impact", "/privacy"]
TURNS = ["Hei, tarvitsen rahoitusta koneeseen", "Testi Asiakas", "testi@example.org", "Kone Oy"]


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def customer_turns(stack: Stack, conversations: int) -> list[float]:
    """Milliseconds per turn over whole intake conversations."""
    latencies = []
    for _ in range(conversations):
        session = None
        for text in TURNS:
            started = time.perf_counter()
            body = stack.chat(text, session)
            latencies.append((time.perf_counter() - started) * 1000)
            session = body["session"]
    return latencies


def attack(stack: Stack, results: list[int]) -> None:
    session = stack.chat("Hei")["session"]
    http = requests.Session()
    lock = threading.Lock()
    remaining = [ATTACK]

    def worker():
        while True:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            resp = http.post(stack.router_url + "/api/chat", json={"session": session, "text": "spam spam"},
                             timeout=60)
            with lock:
                results.append(resp.status_code)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def paced_flood(stack: Stack, session: str, seconds: float, statuses: list[int]) -> None:
    """FLOOD_PER_MINUTE requests a minute into one session, each on a new connection (no keep-alive), each in a
    thread of its own so a slow answer never slows the pace."""
    gap = 60.0 / FLOOD_PER_MINUTE
    threads, lock = [], threading.Lock()

    def one() -> None:
        try:
            resp = requests.post(stack.router_url + "/api/chat", json={"session": session, "text": "spam spam"},
                                 timeout=90, headers={"Connection": "close"})
            code = resp.status_code
        except requests.RequestException:
            code = 599  # no answer at all counts as a server error
        with lock:
            statuses.append(code)

    started = time.perf_counter()
    n = 0
    while time.perf_counter() - started < seconds:
        t = threading.Thread(target=one)
        t.start()
        threads.append(t)
        n += 1
        time.sleep(max(0.0, started + n * gap - time.perf_counter()))
    for t in threads:
        t.join()


def visitor(stack: Stack, stop: threading.Event, latencies: list[float], errors: list[int]) -> None:
    """A normal visitor reading the public pages, one after another, while `stop` is not set."""
    http = requests.Session()
    i = 0
    while not stop.is_set():
        started = time.perf_counter()
        resp = http.get(stack.router_url + PAGES[i % len(PAGES)], timeout=60)
        latencies.append((time.perf_counter() - started) * 1000)
        if resp.status_code >= 500:
            errors.append(resp.status_code)
        i += 1
        stop.wait(0.2)


def flood_phase(stack: Stack, name: str, seconds: float, during=None) -> dict:
    """One paced flood with a visitor reading pages meanwhile; `during` runs beside it (a fault)."""
    session = stack.chat("Hei")["session"]
    statuses: list[int] = []
    pages: list[float] = []
    errors: list[int] = []
    stop = threading.Event()
    reader = threading.Thread(target=visitor, args=(stack, stop, pages, errors))
    reader.start()
    fault = threading.Thread(target=during) if during else None
    if fault:
        fault.start()
    started = time.perf_counter()
    paced_flood(stack, session, seconds, statuses)
    elapsed = time.perf_counter() - started
    if fault:
        fault.join()
    stop.set()
    reader.join()
    counts = {code: statuses.count(code) for code in sorted(set(statuses))}
    print(f"{name}: {len(statuses)} requests in {elapsed:.0f} s ({counts}); server errors "
          f"{sum(n for code, n in counts.items() if code >= 500)}; visitor pages: {len(pages)} loads, p50 "
          f"{statistics.median(pages):.0f} ms, p95 {percentile(pages, 0.95):.0f} ms, max {max(pages):.0f} ms, "
          f"server errors {len(errors)}", flush=True)
    return {"server_errors": sum(n for code, n in counts.items() if code >= 500) + len(errors),
            "pages_p95": percentile(pages, 0.95)}


def main() -> int:
    from bench.topology import fresh_database

    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_database("luukku_bench_abuse")
        upgrade(url)
        # The shipped per-conversation limit; the per-address one stays high because here the customer and the
        # attacker share 127.0.0.1, where in life they have addresses of their own.
        stack = Stack(Path(tmp), url, {"rate_limit_chat": config.Settings().rate_limit_chat}).start()
        try:
            stack.reset(ROOT / "directory.example.yml")
            customer_turns(stack, 1)  # warm-up
            alone = customer_turns(stack, 2 if SHORT else 5)
            statuses: list[int] = []
            flood = threading.Thread(target=attack, args=(stack, statuses))
            started = time.perf_counter()
            flood.start()
            during = customer_turns(stack, 2 if SHORT else 5)
            flood.join()
            seconds = time.perf_counter() - started
            refused = sum(1 for s in statuses if s == 429)
            print(f"attacker: {len(statuses)} requests in {seconds:.1f} s, {refused} refused with 429, "
                  f"{sum(1 for s in statuses if s == 200)} answered, {sum(1 for s in statuses if s >= 500)} server "
                  f"errors")
            for name, values in (("customer alone", alone), ("customer during the flood", during)):
                print(f"{name}: {len(values)} turns, p50 {statistics.median(values):.0f} ms, "
                      f"p95 {percentile(values, 0.95):.0f} ms, max {max(values):.0f} ms", flush=True)
            paced = flood_phase(stack, f"one-session flood, {FLOOD_PER_MINUTE}/min", FLOOD_SECONDS)
            rasa = stack.procs[1]  # actions, then rasa (tests/live_stack.py)

            def stop_the_bot() -> None:
                rasa.send_signal(signal.SIGSTOP)
                time.sleep(BOT_STOPPED_SECONDS)
                rasa.send_signal(signal.SIGCONT)

            slow = flood_phase(stack, f"the same with the bot stopped for {BOT_STOPPED_SECONDS:.0f} s",
                               max(FLOOD_SECONDS, BOT_STOPPED_SECONDS + 5), during=stop_the_bot)
        finally:
            stack.stop()
    failed = sum(1 for s in statuses if s >= 500) + paced["server_errors"] + slow["server_errors"]
    worst = max(paced["pages_p95"], slow["pages_p95"])
    print(f"verdict: server errors {failed} (target 0); visitor pages p95 {worst:.0f} ms (target under 1000 ms)")
    return 0 if failed == 0 and worst < 1000 else 1


if __name__ == "__main__":
    sys.exit(main())

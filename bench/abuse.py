"""`make bench-abuse`: a normal customer's chat latency alone and while one client floods the chat, in one run.

The real stack (trained Rasa model, action server, router under waitress, SMTP) from the end-to-end tests. The
attacker sends ATTACK requests from 8 threads into one conversation, as fast as the server takes them; the
customer meanwhile has whole conversations. Figures go to docs/security.md.
"""
from __future__ import annotations

import os
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
from router.migrate import upgrade  # noqa: E402
from tests.live_stack import Stack  # noqa: E402

ATTACK = int(os.environ.get("BENCH_ATTACK", "500"))
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


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        upgrade(url)
        # The shipped per-conversation limit; the per-address one stays high because here the customer and the
        # attacker share 127.0.0.1, where in life they have addresses of their own.
        stack = Stack(Path(tmp), url, {"rate_limit_chat": config.Settings().rate_limit_chat}).start()
        try:
            stack.reset(ROOT / "directory.example.yml")
            customer_turns(stack, 1)  # warm-up
            alone = customer_turns(stack, 5)
            statuses: list[int] = []
            flood = threading.Thread(target=attack, args=(stack, statuses))
            started = time.perf_counter()
            flood.start()
            during = customer_turns(stack, 5)
            flood.join()
            seconds = time.perf_counter() - started
        finally:
            stack.stop()
    refused = sum(1 for s in statuses if s == 429)
    print(f"attacker: {len(statuses)} requests in {seconds:.1f} s, {refused} refused with 429, "
          f"{sum(1 for s in statuses if s == 200)} answered, {sum(1 for s in statuses if s >= 500)} server errors")
    for name, values in (("customer alone", alone), ("customer during the flood", during)):
        print(f"{name}: {len(values)} turns, p50 {statistics.median(values):.0f} ms, "
              f"p95 {percentile(values, 0.95):.0f} ms, max {max(values):.0f} ms")


if __name__ == "__main__":
    main()

"""`make bench-overhead`: what the router adds to a chat turn, for this tree and a baseline commit, side by side.

One topology (bench/topology.py: one Rasa replica, one worker, the internal API and action server of this tree)
and a second set of web processes started from a git worktree of BENCH_BASELINE (default HEAD, i.e. the last
commit, so uncommitted changes are compared with it). Customers run whole intakes in rotation: straight to Rasa,
through this tree's router, through the baseline's router, so all three see the same machine at the same moments.
Prints turn p50 by path and by step of the intake, and the overhead of each router over bare Rasa.

BENCH_CUSTOMERS concurrent customers (default 1: sequential, no contention; 2 is `make bench-load`'s light load),
BENCH_CONVERSATIONS per customer and path (default 30).
"""
from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import register, script  # noqa: E402
from bench.topology import VENV, Topology, free_port  # noqa: E402

PATHS = ("bare", "this tree", "baseline")


def start_baseline(top: Topology, tree: Path) -> tuple[subprocess.Popen, str]:
    """The baseline's web processes on their own port, on the same database, Rasa and Redis as this tree's."""
    port = free_port()
    proc = subprocess.Popen([str(VENV / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
                             "router.app:create_app()"], cwd=tree, env=top._env(), start_new_session=True,
                            stdout=open(top.workdir / "baseline-web.log", "wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/healthz", timeout=1).ok:
                return proc, url
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the baseline's web processes did not start; see {top.workdir / 'baseline-web.log'}")


def intake(top: Topology, path: str, url: str, http: requests.Session, number: int) -> list[float]:
    """One whole intake; the seconds of each turn."""
    seconds, session = [], None
    sender = register(top) if path == "bare" else None
    for text in script(number):
        started = time.perf_counter()
        if path == "bare":
            resp = http.post(top.rasa_urls[0] + "/webhooks/rest/webhook", timeout=30,
                             json={"sender": sender, "message": text, "metadata": {"language": "fi"}})
            ok = resp.status_code == 200 and bool(resp.json())
        else:
            resp = http.post(url + "/api/chat", json={"session": session, "text": text}, timeout=30)
            body = resp.json() if resp.status_code == 200 else {}
            session, ok = body.get("session"), bool(body.get("replies"))
        seconds.append(time.perf_counter() - started)
        if not ok:
            raise RuntimeError(f"{path}: no answer to step {len(seconds)} ({resp.status_code})")
    return seconds


def main() -> None:
    customers = int(os.environ.get("BENCH_CUSTOMERS", "1"))
    conversations = int(os.environ.get("BENCH_CONVERSATIONS", "30"))
    baseline = os.environ.get("BENCH_BASELINE", "HEAD")
    tree = Path(tempfile.mkdtemp(prefix="luukku-baseline-"))
    subprocess.run(["git", "worktree", "add", "--detach", "-f", str(tree), baseline], cwd=ROOT, check=True,
                   capture_output=True)
    top = Topology(Path(tempfile.mkdtemp(prefix="luukku-overhead-")), web_processes=2, workers=1, rasa_replicas=1,
                   name="luukku_bench_overhead",
                   env={"RATE_LIMIT_CHAT": "100000 per minute", "RATE_LIMIT_CHAT_ADDRESS": "100000 per minute",
                        "LOG_LEVEL": "WARNING", "WEB_PROCESSES": "2"})
    print(f"make bench-overhead: {customers} customer(s), {conversations} intakes per path each; this tree against "
          f"{baseline} ({subprocess.run(['git', 'rev-parse', '--short', baseline], cwd=ROOT, capture_output=True, text=True).stdout.strip()})",
          flush=True)
    other = None
    try:
        top.start()
        other, baseline_url = start_baseline(top, tree)
        urls = {"bare": "", "this tree": top.url, "baseline": baseline_url}
        turns: dict[str, list[list[float]]] = {p: [] for p in PATHS}
        lock = threading.Lock()

        def customer(n: int) -> None:
            http = requests.Session()
            for p in PATHS:  # warm-up: connections, caches
                intake(top, p, urls[p], http, 900 + n)
            for i in range(conversations):
                for p in PATHS[i % 3:] + PATHS[:i % 3]:  # each path first, second and last in turn
                    seconds = intake(top, p, urls[p], http, n * 1000 + i)
                    with lock:
                        turns[p].append(seconds)

        threads = [threading.Thread(target=customer, args=(n,)) for n in range(customers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        p50 = {p: statistics.median(s for run in turns[p] for s in run) * 1000 for p in PATHS}
        by_step = {p: [statistics.median(run[k] for run in turns[p]) * 1000 for k in range(len(turns[p][0]))]
                   for p in PATHS}
        for p in PATHS:
            print(f"  {p:<10} turn p50 {p50[p]:6.1f} ms   by step: " + ", ".join(f"{v:.1f}" for v in by_step[p]))
        for p in PATHS[1:]:
            print(f"  router overhead, {p}: p50 {p50[p] - p50['bare']:.1f} ms   by step: " +
                  ", ".join(f"{a - b:.1f}" for a, b in zip(by_step[p], by_step["bare"])))
    finally:
        if other is not None:
            os.killpg(other.pid, signal.SIGTERM)
        top.stop()
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True)


if __name__ == "__main__":
    main()

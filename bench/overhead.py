"""`make bench-overhead`: what the router adds to a chat turn, for this tree and a baseline commit, side by side.

One topology (bench/topology.py: one Rasa replica, one worker, the internal API and action server of this tree)
and a second set of web processes started from a git worktree of BENCH_BASELINE (default HEAD, i.e. the last
commit, so uncommitted changes are compared with it), and a third: the floor (bench/floor_app.py, a Flask app under
the same gunicorn settings that only forwards the turn to Rasa). Customers run whole intakes in rotation: straight
to Rasa, through this tree's router, through the baseline's, through the floor, so all see the same machine at the
same moments. Prints turn p50 by path and by step of the intake, and each one's overhead over bare Rasa; first, what
one round trip to PostgreSQL and to Redis costs back to back and after 40 ms idle (on a virtual machine, waking an
idle CPU for the other side can cost more than the statement).

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

from bench.load import Phase, bare_conversation, register, web_conversation  # noqa: E402
from bench.topology import VENV, Topology, free_port  # noqa: E402

PATHS = ("bare", "this tree", "baseline", "floor")


def round_trips(database_url: str) -> str:
    """Median seconds of `SELECT 1` and of a Redis PING, back to back and after 40 ms idle, as one line."""
    import psycopg
    import redis

    pg = psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
    cache = redis.Redis()
    calls = {"PostgreSQL SELECT 1": lambda: pg.execute("SELECT 1").fetchall(), "Redis PING": cache.ping}
    parts = []
    for name, call in calls.items():
        for pause in (0.0, 0.04):
            seconds = []
            for _ in range(60):
                time.sleep(pause)
                started = time.perf_counter()
                call()
                seconds.append(time.perf_counter() - started)
            parts.append(f"{name} {'after 40 ms idle' if pause else 'back to back'} "
                         f"{statistics.median(seconds) * 1000:.2f} ms")
    pg.close()
    return "; ".join(parts)


def start_web(top: Topology, tree: Path, app: str, name: str) -> tuple[subprocess.Popen, str]:
    """Web processes of another tree (or the floor app) on their own port, on this topology's database and Rasa."""
    port = free_port()
    proc = subprocess.Popen([str(VENV / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"), "--bind",
                             f"127.0.0.1:{port}", app], cwd=tree, env=top.process_env(), start_new_session=True,
                            stdout=open(top.workdir / f"{name}-web.log", "wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/healthz", timeout=1).ok:
                return proc, url
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the {name}'s web processes did not start; see {top.workdir / f'{name}-web.log'}")


def worktree(rev: str) -> tuple[Path, str]:
    """A detached git worktree of `rev` in a temporary directory, and the commit's short name."""
    tree = Path(tempfile.mkdtemp(prefix="luukku-baseline-"))
    subprocess.run(["git", "worktree", "add", "--detach", "-f", str(tree), rev], cwd=ROOT, check=True,
                   capture_output=True)
    short = subprocess.run(["git", "rev-parse", "--short", rev], cwd=ROOT, capture_output=True,
                           text=True).stdout.strip()
    return tree, short


def drop_worktree(tree: Path) -> None:
    subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True)


def intake(top: Topology, path: str, url: str, phase: Phase, http: requests.Session, number: int) -> None:
    """One whole intake on one path, noted in its phase."""
    if path == "bare":
        bare_conversation(top, phase, http, number)
    else:
        # The floor uses a conversation registered with the router, so its handoff makes a real case, as bare
        # Rasa's does (bare_conversation registers its own).
        web_conversation(top, phase, http, number, url=url, session=register(top, number) if path == "floor" else None)


def main() -> None:
    customers = int(os.environ.get("BENCH_CUSTOMERS", "1"))
    conversations = int(os.environ.get("BENCH_CONVERSATIONS", "30"))
    baseline = os.environ.get("BENCH_BASELINE", "HEAD")
    tree, short = worktree(baseline)
    top = Topology(Path(tempfile.mkdtemp(prefix="luukku-overhead-")), web_processes=2, workers=1, rasa_replicas=1,
                   name="luukku_bench_overhead",
                   env={"RATE_LIMIT_CHAT": "100000 per minute", "RATE_LIMIT_CHAT_ADDRESS": "100000 per minute",
                        "LOG_LEVEL": "WARNING", "WEB_PROCESSES": "2"})
    print(f"make bench-overhead: {customers} customer(s), {conversations} intakes per path each; this tree against "
          f"{baseline} ({short})", flush=True)
    others = []
    try:
        top.start()
        print("  round trips: " + round_trips(top.database_url), flush=True)
        others.append(start_web(top, tree, "router.app:create_app()", "baseline"))
        others.append(start_web(top, ROOT / "bench", "floor_app:app", "floor"))
        urls = {"bare": "", "this tree": top.url, "baseline": others[0][1], "floor": others[1][1]}
        phases = {p: Phase(0) for p in PATHS}

        def customer(n: int) -> None:
            http = requests.Session()
            warm = {p: Phase(0) for p in PATHS}
            for p in PATHS:  # warm-up: connections, caches
                intake(top, p, urls[p], warm[p], http, 900 + n)
            for i in range(conversations):
                for p in PATHS[i % len(PATHS):] + PATHS[:i % len(PATHS)]:  # each path in each place in turn
                    intake(top, p, urls[p], phases[p], http, n * 1000 + i)

        threads = [threading.Thread(target=customer, args=(n,)) for n in range(customers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        p50 = {p: statistics.median(phases[p].latencies) * 1000 for p in PATHS}
        by_step = {p: [statistics.median(phases[p].by_step[k]) * 1000 for k in sorted(phases[p].by_step)]
                   for p in PATHS}
        for p in PATHS:
            print(f"  {p:<10} turn p50 {p50[p]:6.1f} ms   by step: " + ", ".join(f"{v:.1f}" for v in by_step[p]) +
                  f"   (blank {phases[p].blank}, errors {phases[p].errors})")
        for p in PATHS[1:]:
            print(f"  router overhead, {p}: p50 {p50[p] - p50['bare']:.1f} ms   by step: " +
                  ", ".join(f"{a - b:.1f}" for a, b in zip(by_step[p], by_step["bare"])))
    finally:
        for proc, _ in others:
            os.killpg(proc.pid, signal.SIGTERM)
        top.stop()
        drop_worktree(tree)


if __name__ == "__main__":
    main()

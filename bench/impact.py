"""`make bench-impact`: the impact page and API with 200,000 generated cases on PostgreSQL."""
from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import requests
from sqlalchemy import create_engine, insert, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from router.casework import directory  # noqa: E402
from router.impact import rollups as impact  # noqa: E402
from router.storage.db import make_engine, make_sessionmaker  # noqa: E402
from router.storage.migrate import upgrade  # noqa: E402
from router.storage.models import Activity, Call, Campaign, Case, Conversation, Lead, Specialist, Target  # noqa: E402
from tests.helpers import free_port, wait_until  # noqa: E402

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CASES = int(os.environ.get("BENCH_CASES", "200000"))
REQUESTS = 300
TOPICS = ["founding", "funding", "recruitment", "internationalisation", "plots", "general"]
CHANNELS = ["web", "sms", "email", "voice"]


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def generate(url: str) -> None:
    rng = random.Random(7)
    sessions = make_sessionmaker(make_engine(url))
    with sessions() as s:
        directory.load(s, ROOT / "directory.example.yml")
        s.commit()
        people = {sp.key: sp.id for sp in s.scalars(select(Specialist))}
    keys = list(people)
    start = datetime(2023, 12, 1)
    span = (datetime(2026, 11, 28) - start).total_seconds()
    engine = make_engine(url)
    batch = 10000
    codes = [f"KAMPANJA{n}" for n in range(10)]
    with engine.begin() as conn:
        for offset in range(0, CASES, batch):
            convs, cases, calls = [], [], []
            for i in range(offset, min(CASES, offset + batch)):
                created = start + timedelta(seconds=rng.random() * span)
                channel = rng.choice(CHANNELS)
                # One contact in ten came through a campaign's marker.
                source = rng.choice(codes) if rng.random() < 0.1 else None
                convs.append({"public_id": uuid.uuid4().hex, "channel": channel if channel != "voice" else "web",
                              "language": "fi", "created_at": created, "last_message_at": created,
                              "campaign": source})
                if channel == "voice":
                    calls.append({"call_sid": f"CA{i}", "language": "fi", "created_at": created})
                taken = created + timedelta(hours=rng.expovariate(1 / 20)) if rng.random() < 0.9 else None
                resolved = taken + timedelta(days=rng.randint(1, 20)) if taken and rng.random() < 0.8 else None
                cases.append({"ref": f"B{i:09d}", "handoff_key": f"bench:{i}", "channel": channel,
                              "topic": rng.choice(TOPICS), "language": "fi", "specialist_id": people[rng.choice(keys)],
                              "summary": "", "kind": "handoff", "status": "resolved" if resolved else "open",
                              "created_at": created, "due_at": created + timedelta(days=2), "taken_up_at": taken,
                              "taken_up_in_time": (taken - created) < timedelta(days=2) if taken else None,
                              "resolved_at": resolved, "company": f"Company {rng.randint(1, 40000)}",
                              "outcome": rng.choice([None, "company_founded", "funding_granted", "person_hired"])
                              if resolved else None, "campaign": source})
            conn.execute(insert(Conversation), convs)
            if calls:
                conn.execute(insert(Call), calls)
            conn.execute(insert(Case), cases)
        conn.execute(text("""
            INSERT INTO surveys (case_id, channel, recipient, specialist_id, topic, scheduled_at, sent_at,
                                 answered_at, score, published)
            SELECT id, 'email', 'x@example.org', specialist_id, topic, resolved_at, resolved_at,
                   CASE WHEN id % 3 = 0 THEN NULL ELSE resolved_at + interval '1 day' END,
                   CASE WHEN id % 3 = 0 THEN NULL ELSE 1 + (id % 5) END, false
            FROM cases WHERE resolved_at IS NOT NULL"""))
        # The board's plan: campaigns, 20,000 activities, 600 leads (a quarter located), targets for two years.
        conn.execute(insert(Campaign), [{"code": code, "name": f"Kampanja {n}", "starts": date(2024 + n % 3, 1, 1),
                                         "ends": date(2024 + n % 3, 12, 31), "cost_cents": 1_000_000 * (n + 1),
                                         "created_at": start} for n, code in enumerate(codes)])
        kinds = ("company_visit", "entrepreneur_meeting", "letter", "phone_call", "event")
        conn.execute(insert(Activity), [{"kind": rng.choice(kinds), "company": f"Company {i}", "note": "",
                                         "day": (start + timedelta(seconds=rng.random() * span)).date(),
                                         "source": "csv", "created_at": start} for i in range(20000)])
        conn.execute(insert(Lead), [{"company": f"Company {i}", "stage": "located" if i % 4 == 0 else "negotiating",
                                     "jobs": rng.randint(1, 80), "sector": "", "plot_interest": "", "note": "",
                                     "located_on": (start + timedelta(seconds=rng.random() * span)).date()
                                     if i % 4 == 0 else None, "created_at": start, "stage_changed_at": start}
                                    for i in range(600)])
        conn.execute(insert(Target), [{"measure": m, "year": y, "month": 0, "value": v, "updated_at": start}
                                      for y in (2025, 2026) for m, v in (
                                          ("encounters", 6000), ("companies_located", 60), ("jobs", 2000),
                                          ("contacts", 70000), ("promise_kept_share", 0.9), ("satisfaction", 4.2))])
    engine.dispose()


def measure(url_base: str, paths: list[str]) -> dict:
    http = requests.Session()
    out = {}
    for name, path in paths:
        http.get(url_base + path, timeout=30)  # warm-up
        latencies = []
        for _ in range(REQUESTS):
            t0 = time.perf_counter()
            resp = http.get(url_base + path, timeout=30)
            latencies.append((time.perf_counter() - t0) * 1000)
            resp.raise_for_status()
        out[name] = {"p50_ms": round(statistics.median(latencies), 1), "p95_ms": round(percentile(latencies, .95), 1)}
    return out


def main() -> None:
    name = f"luukku_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    proc = None
    try:
        upgrade(url)
        t0 = time.perf_counter()
        generate(url)
        generated = time.perf_counter() - t0
        sessions = make_sessionmaker(make_engine(url))
        with sessions() as s:
            s.execute(text("ANALYZE"))
            t0 = time.perf_counter()
            rows = impact.rebuild(s, "Europe/Helsinki", now=datetime(2026, 11, 28))
            s.commit()
            rebuild = time.perf_counter() - t0
            t0 = time.perf_counter()
            impact.refresh(s, impact.recent_months(datetime(2026, 11, 28), "Europe/Helsinki"), "Europe/Helsinki")
            s.commit()
            refresh = time.perf_counter() - t0
            counts = {t: s.scalar(text(f"SELECT count(*) FROM {t}")) for t in ("cases", "conversations", "surveys")}
        port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "DEV_PAGES": "false", "LOG_LEVEL": "WARNING"}
        proc = subprocess.Popen([str(ROOT / "bin" / "router"), "web", "--port", str(port), "--threads", "4"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: requests.get(base + "/healthz", timeout=2).ok, 60, what="router")
        figures = measure(base, [
            ("page_12_months", "/impact?from=2025-12&to=2026-11"),
            ("page_3_years_en", "/impact?from=2023-12&to=2026-11&lang=en"),
            ("api_json_by_month", "/api/impact?from=2023-12&to=2026-11&group=month"),
            ("api_csv_by_topic", "/api/impact?from=2023-12&to=2026-11&group=topic&format=csv"),
            ("api_json_by_campaign", "/api/impact?from=2023-12&to=2026-11&group=campaign"),
        ])
        result = {"rows": counts, "generate_s": round(generated, 1), "rollup_rows": rows,
                  "full_rebuild_s": round(rebuild, 2), "refresh_two_months_s": round(refresh, 2),
                  "requests_each": REQUESTS, "latency": figures}
        out = ROOT / "reports" / "bench-impact.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(result, indent=2))
        print(json.dumps(result, indent=2))
        worst = max(v["p95_ms"] for v in figures.values())
        print(f"target: p95 under 100 ms for page and API: {'met' if worst < 100 else 'MISSED'} (worst p95 {worst} ms)")
    finally:
        if proc:
            proc.terminate()
            proc.wait(timeout=10)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()

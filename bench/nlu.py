"""`make bench-nlu`: /model/parse latency, training time and Rasa's memory on this machine."""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.evaluation.metrics import read_heldout  # noqa: E402
from tests.helpers import free_port, wait_until  # noqa: E402

RASA = ROOT / ".venv-bot" / "bin" / "rasa"
REQUESTS = 600


def rss_mib(pid: int) -> float:
    """Resident memory of a process and its children."""
    total = 0
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    pids = [pid] + [int(p) for p in children]
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def train_seconds() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "RASA_CACHE_DIRECTORY": str(Path(tmp) / "cache")}
        start = time.perf_counter()
        subprocess.run([str(RASA), "train", "--data", "bot/data", "--config", "config.yml", "--domain", "domain.yml",
                        "--out", tmp, "--force"], cwd=ROOT, env=env, check=True, capture_output=True)
        return time.perf_counter() - start


def main() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        # /model/parse needs no action server, but endpoints.yml names one.
        env = {**os.environ, "ACTION_ENDPOINT_URL": "http://127.0.0.1:9/webhook",
               "RASA_TRACKER_DB": os.path.join(tempfile.gettempdir(), f"luukku-bench-{port}.db")}
        proc = subprocess.Popen([str(RASA), "run", "--model", "models/current.tar.gz", "--enable-api", "--port",
                                 str(port), "-i", "127.0.0.1"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

        def up() -> bool:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError("rasa exited:\n" + log.read().decode(errors="replace")[-2000:])
            return bool(requests.get(url + "/status", timeout=2).json().get("model_file"))

        try:
            wait_until(up, 240, what="rasa")
            ready = time.perf_counter() - started
            texts = [e.text for e in read_heldout()]
            http = requests.Session()
            for text in texts[:20]:  # warm-up
                http.post(url + "/model/parse", json={"text": text}, timeout=10)
            latencies = []
            for i in range(REQUESTS):
                t0 = time.perf_counter()
                resp = http.post(url + "/model/parse", json={"text": texts[i % len(texts)]}, timeout=10)
                latencies.append((time.perf_counter() - t0) * 1000)
                resp.raise_for_status()
            memory = rss_mib(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    figures = {
        "requests": REQUESTS,
        "parse_p50_ms": round(statistics.median(latencies), 1),
        "parse_p95_ms": round(percentile(latencies, 0.95), 1),
        "parse_max_ms": round(max(latencies), 1),
        "rasa_ready_s": round(ready, 1),
        "rasa_rss_mib": round(memory),
        "train_s": round(train_seconds(), 1),
    }
    out = ROOT / "reports" / "bench-nlu.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))
    print("targets: parse p50 <= 30 ms, p95 <= 80 ms, training < 300 s:",
          "met" if figures["parse_p50_ms"] <= 30 and figures["parse_p95_ms"] <= 80 and figures["train_s"] < 300
          else "MISSED")


if __name__ == "__main__":
    main()

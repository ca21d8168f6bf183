"""The production topology as local processes (no Docker engine here): `make topology`, and what `make chaos`
and `make bench-load` start, drive and break.

Same set as docker-compose.yml: WEB_PROCESSES gunicorn processes behind one port, the internal API in its own
gunicorn, two workers, two Rasa replicas sharing a PostgreSQL tracker store and the Redis lock store, the action
server; PostgreSQL and Redis are the machine's own. scripts/supervise.py keeps them running.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_ADMIN = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BOT = ROOT / ".venv-bot" / "bin"
VENV = ROOT / ".venv" / "bin"


def person(i: int) -> str:
    """A unique fictional customer name for number i, in letters only (the form refuses digits in a name)."""
    letters = ""
    i += 1
    while i:
        i, rest = divmod(i - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return f"Testi Asiakas{letters}"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_database(name: str) -> str:
    """Drop and create a PostgreSQL database; its URL."""
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


@dataclass
class Topology:
    """The processes, their ports and their logs; `start`, `pid`, `kill`, `stop`."""

    workdir: Path
    web_processes: int = 3
    workers: int = 2
    rasa_replicas: int = 2
    # Sanic worker processes in each Rasa replica (its lock store is Redis, so they may share conversations): about
    # one per core in all. Two replicas on this 2-core machine get one each; `make bench-load`'s one replica, two.
    rasa_workers: int = 1
    env: dict[str, str] = field(default_factory=dict)
    name: str = "luukku_topology"

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port, self.internal_port, self.actions_port = free_port(), free_port(), free_port()
        self.rasa_ports = [free_port() for _ in range(self.rasa_replicas)]
        self.url = f"http://127.0.0.1:{self.port}"
        self.internal_url = f"http://127.0.0.1:{self.internal_port}"
        self.rasa_urls = [f"http://127.0.0.1:{p}" for p in self.rasa_ports]
        self.proc: subprocess.Popen | None = None
        self.token = "topology-rasa-token-" + os.urandom(8).hex()

    def process_env(self) -> dict[str, str]:
        return {**os.environ, "ENVIRONMENT": "development", "DATABASE_URL": self.database_url,
                "RASA_URL": ",".join(self.rasa_urls), "RASA_TOKEN": self.token,
                "INTERNAL_API_TOKEN": "topology-internal-token", "INTERNAL_HOST": "127.0.0.1",
                "INTERNAL_PORT": str(self.internal_port), "PUBLIC_BASE_URL": self.url,
                "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/3", "WORKER_INTERVAL": "1",
                "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{self.actions_port}/webhook",
                "ROUTER_INTERNAL_URL": self.internal_url, "RASA_DB_HOST": "127.0.0.1",
                "RASA_DB_NAME": f"{self.name}_rasa",
                "RASA_TRACKER_URL": PG_ADMIN.rsplit("/", 1)[0] + f"/{self.name}_rasa", "RASA_DB_USER": "postgres",
                "RASA_DB_PASSWORD": "-",
                "REDIS_HOST": "127.0.0.1", "REDIS_PASSWORD": "", "SANIC_HOST": "127.0.0.1",
                "WEB_PROCESSES": str(self.web_processes),
                # Rasa's per-conversation lock in Redis outlives a killed replica by this many seconds (default
                # 60); the router's own turn lock already keeps one turn at a time.
                "TICKET_LOCK_LIFETIME": "10", **self.env}

    def commands(self) -> dict[str, str]:
        """name -> command line, as scripts/supervise.py takes them."""
        gunicorn = f"{VENV}/gunicorn -c deploy/gunicorn.conf.py"
        procs = {
            "web": f"{gunicorn} --bind 127.0.0.1:{self.port} router.app:create_app()",
            "internal": f"{gunicorn} --bind 127.0.0.1:{self.internal_port} --workers 2 --threads 8 "
                        "router.app:create_internal_app()",
            "actions": f"{BOT}/python -m bot.serve run actions --actions bot.actions --port {self.actions_port}",
        }
        for i in range(self.workers):
            procs[f"worker-{i + 1}"] = f"{VENV}/python -m router worker"
        for i, port in enumerate(self.rasa_ports):
            # One OpenMP thread per Sanic worker: the e5 engine's default, a thread per core, spins while it waits;
            # two workers' spinning threads on two cores took 246 ms of CPU a turn instead of 39-53
            # (docs/decisions/0000-performance-history.md, 2026-12-06).
            procs[f"rasa-{i + 1}"] = (f"env SANIC_WORKERS={self.rasa_workers} OMP_NUM_THREADS=1 "
                                      f"{BOT}/python -m bot.serve run --model models/current.tar.gz --endpoints "
                                      "deploy/endpoints.production.yml --credentials credentials.yml --enable-api "
                                      f"--port {port} -i 127.0.0.1")
        return procs

    def prepare(self) -> None:
        """Fresh databases for the router and Rasa's trackers, migrated, with the example directory."""
        self.database_url = fresh_database(self.name)
        fresh_database(f"{self.name}_rasa")
        env = self.process_env()
        subprocess.run([str(VENV / "python"), "-m", "router", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        subprocess.run([str(VENV / "python"), "-m", "router", "directory", "load", "directory.example.yml"],
                       cwd=ROOT, env=env, check=True, capture_output=True)

    def start(self, timeout: float = 300) -> "Topology":
        self.prepare()
        self.supervisor_log = self.workdir / "supervise.log"
        args = [f"{name}={cmd}" for name, cmd in self.commands().items()]
        with open(self.supervisor_log, "wb") as out:
            self.proc = subprocess.Popen([str(VENV / "python"), "scripts/supervise.py", str(self.workdir), *args],
                                         cwd=ROOT, env=self.process_env(), stdout=out, stderr=subprocess.STDOUT)
        self.wait_ready(timeout)
        return self

    def rasa_up(self, url: str) -> bool:
        try:
            return bool(requests.get(url + "/status", params={"token": self.token}, timeout=2).json()
                        .get("model_file"))
        except (requests.RequestException, ValueError):
            return False

    def wait_ready(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        checks = {"web": lambda: requests.get(self.url + "/healthz", timeout=2).ok,
                  "internal": lambda: requests.get(self.internal_url + "/readyz", timeout=2).ok,
                  "actions": lambda: requests.get(f"http://127.0.0.1:{self.actions_port}/health", timeout=2).ok,
                  **{f"rasa-{i + 1}": (lambda u=u: self.rasa_up(u)) for i, u in enumerate(self.rasa_urls)}}
        waiting = dict(checks)
        while waiting and time.monotonic() < deadline:
            for name, check in list(waiting.items()):
                try:
                    if check():
                        del waiting[name]
                except requests.RequestException:
                    pass
            time.sleep(0.5)
        if waiting:
            raise RuntimeError(f"not ready after {timeout:.0f} s: {sorted(waiting)}; logs in {self.workdir}")

    def pid(self, name: str) -> int:
        """The current process id of a supervised process (the latest start in the supervisor's log)."""
        found = re.findall(rf"\] {re.escape(name)} started \(pid (\d+)\)", self.supervisor_log.read_text())
        return int(found[-1])

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Kill one process (and what it forked); the supervisor restarts it."""
        os.killpg(self.pid(name), sig)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def main() -> None:
    """`make topology`: start it and keep it running until Ctrl-C."""
    top = Topology(ROOT / "var" / "topology")
    print("starting the production topology as local processes (a minute or two)...", flush=True)
    top.start()
    print(f"\n  running: {top.url} (web, {top.web_processes} processes), internal {top.internal_url},\n"
          f"  Rasa {', '.join(top.rasa_urls)}, logs in {top.workdir}.  Ctrl-C stops it.", flush=True)
    try:
        while top.proc and top.proc.poll() is None:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        top.stop()


if __name__ == "__main__":
    main()

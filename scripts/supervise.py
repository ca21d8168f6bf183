"""Keep a set of processes running: restart one that dies (with a backoff), stop all on SIGTERM or Ctrl-C.

Usage: supervise.py LOGDIR NAME=COMMAND [NAME=COMMAND ...]
Each process logs to LOGDIR/NAME.log; what the supervisor does goes to its own standard output.
"""
from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BACKOFF_MAX = 30.0
STABLE_AFTER = 60.0  # a process that ran this long starts over with the shortest backoff
STOP_GRACE = 10.0


@dataclass
class Child:
    """One supervised process."""

    name: str
    command: list[str]
    log: Path
    proc: subprocess.Popen | None = None
    started: float = 0.0
    backoff: float = 1.0
    restart_at: float = 0.0
    restarts: int = field(default=0)

    def start(self) -> None:
        with open(self.log, "ab") as out:
            # Own process group: the whole tree (Rasa forks) is signalled together.
            self.proc = subprocess.Popen(self.command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.started = time.monotonic()
        say(f"{self.name} started (pid {self.proc.pid})")

    def signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass


def say(text: str) -> None:
    print(f"[supervise {time.strftime('%H:%M:%S')}] {text}", flush=True)


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    logdir = Path(argv[1])
    logdir.mkdir(parents=True, exist_ok=True)
    children = []
    for spec in argv[2:]:
        name, _, command = spec.partition("=")
        children.append(Child(name, shlex.split(command), logdir / f"{name}.log"))
    stopping = []
    # A flag only: the loop below does the work, never the signal handler.
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(1))
    for child in children:
        child.start()
    while not stopping:
        now = time.monotonic()
        for child in children:
            if child.proc is None:
                if now >= child.restart_at:
                    child.restarts += 1
                    child.start()
                continue
            code = child.proc.poll()
            if code is None:
                continue
            if now - child.started >= STABLE_AFTER:
                child.backoff = 1.0
            say(f"{child.name} exited with {code}; restarting in {child.backoff:.0f} s (see {child.log})")
            child.proc, child.restart_at = None, now + child.backoff
            child.backoff = min(BACKOFF_MAX, child.backoff * 2)
        time.sleep(0.2)
    say("stopping")
    for child in children:
        child.signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    for child in children:
        if child.proc is None:
            continue
        try:
            child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{child.name} did not stop within {STOP_GRACE:.0f} s; killed")
            child.signal(signal.SIGKILL)
            child.proc.wait()
    say("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

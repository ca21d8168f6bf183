"""Sign-in throttling: after repeated failures for one account, wait before trying again."""
from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from typing import Callable

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60


class Throttle:
    """Failures per key in a sliding window; in-process, as the router runs as one waitress process."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.failures: dict[str, deque[float]] = defaultdict(deque)
        self.lock = threading.Lock()

    def _recent(self, key: str) -> deque[float]:
        window = self.failures[key]
        while window and window[0] <= self.clock() - WINDOW_SECONDS:
            window.popleft()
        return window

    def blocked(self, key: str) -> bool:
        with self.lock:
            return len(self._recent(key)) >= MAX_FAILURES

    def failed(self, key: str) -> None:
        with self.lock:
            self._recent(key).append(self.clock())

    def succeeded(self, key: str) -> None:
        with self.lock:
            self.failures.pop(key, None)

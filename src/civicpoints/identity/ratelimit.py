"""A small in-process sliding-window limiter for failed sign-ins (DESIGN.md §8).

One process serves a city on the default deployment; behind several workers each keeps its
own window, which still bounds guessing to workers × limit per window.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque


class FailureLimiter:
    """Allows at most `limit` failures per key within `window` seconds."""

    def __init__(self, limit: int = 10, window: float = 900.0) -> None:
        self.limit, self.window = limit, window
        self._failures: defaultdict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def blocked_for(self, key: str) -> float:
        """Seconds until `key` may try again (0 when it may now)."""
        with self._lock:
            times = self._trim(key)
            return 0.0 if len(times) < self.limit else self.window - (time.monotonic() - times[0])

    def fail(self, key: str) -> None:
        """Count one failure."""
        with self._lock:
            self._trim(key).append(time.monotonic())

    def reset(self, key: str) -> None:
        """Forget failures after a success."""
        with self._lock:
            self._failures.pop(key, None)

    def _trim(self, key: str) -> deque[float]:
        times = self._failures[key]
        while times and time.monotonic() - times[0] > self.window:
            times.popleft()
        return times

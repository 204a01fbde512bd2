"""How often something may happen: a sliding window per key (a thread, an address, an account), in memory."""

from __future__ import annotations

import time
from collections import defaultdict, deque

MESSAGES_PER_MINUTE = 10


class Limiter:
    """At most ``limit`` events in ``window_s`` for each key (a thread, an address)."""

    def __init__(self, limit: int = MESSAGES_PER_MINUTE, window_s: float = 60.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self._seen: dict[str, deque[float]] = defaultdict(deque)

    def over(self, *keys: str) -> bool:
        """Is one of the keys at its limit already (without counting an event)?"""
        now = time.monotonic()
        return any(len([t for t in self._seen.get(k, ()) if t > now - self.window_s]) >= self.limit
                   for k in keys)

    def allow(self, *keys: str) -> bool:
        """Count one event for every key, unless one of them is over its limit already."""
        now = time.monotonic()
        windows = [self._seen[k] for k in keys]
        for window in windows:
            while window and window[0] <= now - self.window_s:
                window.popleft()
        if any(len(window) >= self.limit for window in windows):
            return False
        for window in windows:
            window.append(now)
        return True

"""How often a buyer may write: a sliding minute per thread and per address, in memory."""

from __future__ import annotations

import time
from collections import defaultdict, deque

MESSAGES_PER_MINUTE = 10


class Limiter:
    """At most ``per_minute`` events a minute for each key (a thread, an address)."""

    def __init__(self, per_minute: int = MESSAGES_PER_MINUTE) -> None:
        self.per_minute = per_minute
        self._seen: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, *keys: str) -> bool:
        """Count one event for every key, unless one of them is over its limit already."""
        now = time.monotonic()
        windows = [self._seen[k] for k in keys]
        for window in windows:
            while window and window[0] <= now - 60.0:
                window.popleft()
        if any(len(window) >= self.per_minute for window in windows):
            return False
        for window in windows:
            window.append(now)
        return True

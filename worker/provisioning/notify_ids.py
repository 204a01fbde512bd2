"""De-duplication of the aggregator's notifications: it may post one notifyId several times."""

from __future__ import annotations

from collections import OrderedDict


class RecentIds:
    """The last `size` notifyIds seen by this process (retries come within minutes)."""

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._seen: OrderedDict[str, None] = OrderedDict()

    def first_time(self, notify_id: str) -> bool:
        if notify_id in self._seen:
            return False
        self._seen[notify_id] = None
        if len(self._seen) > self._size:
            self._seen.popitem(last=False)
        return True

"""De-duplication of the aggregator's notifications: it may post one notifyId several times."""

from __future__ import annotations

from collections import OrderedDict

from worker.orders.backends import Marks

SEEN_FOR_S = 24 * 3600.0  # the aggregator retries a notification within hours, not days


class RecentIds:
    """The last `size` notifyIds seen by this process (retries come within minutes), or, with
    ``marks`` (PostgreSQL), those seen by any process in the last SEEN_FOR_S."""

    def __init__(self, size: int = 10_000, marks: Marks | None = None) -> None:
        self._size = size
        self._marks = marks
        self._seen: OrderedDict[str, None] = OrderedDict()

    def first_time(self, notify_id: str) -> bool:
        if self._marks is not None:
            return self._marks.mark("notify_id", notify_id, SEEN_FOR_S)
        if notify_id in self._seen:
            return False
        self._seen[notify_id] = None
        if len(self._seen) > self._size:
            self._seen.popitem(last=False)
        return True

"""What a job handler is and may say, and how soon a failed job runs again.

A job is a row in the store, written in the same atomic write as the state change that
needs it (docs/architecture.md, "Durable jobs"). A handler is
``async def handle(order, services) -> None``:

- return normally: the job is done and removed;
- raise ``RetryLater(delay_s, reason)``: nothing went wrong, look again later (polling);
- raise ``GiveUp(reason)``: a permanent failure; the job is removed and the order's
  timeline records it (the handler has already set whatever status that means);
- raise anything else: a transient failure, retried after ``JOB_RETRY.after_attempts``.

This module imports only the order model and the retry policy: every handler module may
import it, and `app.create_app` builds the kind → handler table from them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from worker.orders.model import Order
from worker.retry import Backoff

if TYPE_CHECKING:
    from worker.services import Services

Handler = Callable[[Order, "Services"], Awaitable[None]]


class RetryLater(Exception):
    """Not done yet, and not an error: run the job again after ``delay_s``."""

    def __init__(self, delay_s: float, reason: str = "") -> None:
        super().__init__(reason)
        self.delay_s = delay_s


class GiveUp(Exception):
    """A permanent failure: stop retrying this job. The message goes to the timeline and log."""


# A failed job: 0.5–1 s, then twice as long each time, at most 5 minutes.
JOB_RETRY = Backoff(first_s=1.0, ceiling_s=300.0, jitter=(0.5, 1.0))

"""The one retry policy of the worker: jobs that fail, polls that find nothing yet, and calls
that a partner asks us to repeat all wait by it."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """The next delay grows with the time already spent waiting, between ``first_s`` and
    ``ceiling_s``, times a random factor from ``jitter`` so that retries do not come in step.

    ``share`` is the part of the time waited so far: 1 doubles the delay each try, 0.2 keeps
    asking often while a buyer is likely still looking at the page."""

    first_s: float
    ceiling_s: float
    share: float = 1.0
    jitter: tuple[float, float] = (0.8, 1.2)

    def after_waiting(self, waited_s: float) -> float:
        base = min(self.ceiling_s, max(self.first_s, waited_s * self.share))
        return base * random.uniform(*self.jitter)

    def after_attempts(self, attempts: int) -> float:
        """The delay after ``attempts`` failed tries: exponential up to the ceiling."""
        return self.after_waiting(self.first_s * 2 ** min(attempts, 64))

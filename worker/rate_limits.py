"""Limits on checkouts (issue 14: card testing, cost amplification): the `limits` library's
fixed windows, counted in PostgreSQL's ``limit_counts`` table when the store is there (every
process and host counts together), else in ``<ORDERS_DB stem>.limits.json`` beside the order
store; either way a restart forgets nothing. The file is small (one counter per address and window, expired
ones dropped) and replaced atomically, without fsync, in the background after a counted
request, and once more when the worker stops: the counts must outlive the process, and
losing the last moment of them to a crash or a power cut costs nothing, while writing on the
request's path made a checkout 7 ms slower (benchmarks/bench_abuse.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import threading
import time
from collections.abc import Callable
from pathlib import Path

from limits import RateLimitItem, parse_many
from limits.storage import Storage
from limits.strategies import FixedWindowRateLimiter
from starlette.requests import Request

from worker.atomic_file import replace_atomically
from worker.orders.backends import Marks

log = logging.getLogger("worker.rate_limits")

# Wrong operator tokens per client address: the operator types the token rarely; a guesser
# tried 900 a second (issue 14). Not a setting: nobody needs another value.
OPERATOR_FAILURE_LIMIT = "10/minute;30/hour"
# Fixed by the support desk's design (issue 11), not settings:
FIXED_RULES = {
    "operator_failures": OPERATOR_FAILURE_LIMIT,
    # A buyer's chat messages (and screenshots), per thread and per address.
    "chat_thread": "10/minute",
    "chat_address": "10/minute",
    # The console's failed sign-ins: per account, and per address across accounts.
    "console_account_failures": "5/15 minutes",
    "console_address_failures": "20/15 minutes",
}


def client_address(request: Request) -> str:
    """The address every limit counts a request against: the peer's, as uvicorn passes it.

    Behind Caddy the peer is 127.0.0.1, and uvicorn (``--forwarded-allow-ips``, 127.0.0.1 by
    default) has already put the buyer's address from Caddy's X-Forwarded-For there. Reading
    the header here instead would let any client name itself anew with each request; a client
    uvicorn does not trust has its header ignored.
    """
    return request.client.host if request.client else "unknown"


class FileStorage(Storage):
    """A `limits` storage kept in memory and written to one JSON file (``flush``)."""

    STORAGE_SCHEME = ["qazaq-file"]  # noqa: RUF012 - the base class declares it so

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.path = path
        self.clock = clock
        self._lock = threading.Lock()
        self._writing = threading.Lock()  # one flush at a time: they share the temporary file
        self._dirty = False
        self._flusher: asyncio.Task[None] | None = None
        self.counters: dict[str, list[float]] = {}  # key → [count, expires at (epoch s)]
        if path.exists():
            self.counters = json.loads(path.read_text(encoding="utf-8") or "{}")

    @property
    def base_exceptions(self) -> type[Exception]:
        return OSError

    def _live(self, key: str) -> list[float] | None:
        entry = self.counters.get(key)
        return entry if entry is not None and entry[1] > self.clock() else None

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        with self._lock:
            entry = self._live(key) or [0, self.clock() + expiry]
            entry[0] += amount
            self.counters[key] = entry
            return int(entry[0])

    def get(self, key: str) -> int:
        entry = self._live(key)
        return int(entry[0]) if entry else 0

    def get_expiry(self, key: str) -> float:
        entry = self._live(key)
        return entry[1] if entry else self.clock()

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        with self._lock:
            count = len(self.counters)
            self.counters.clear()
            return count

    def clear(self, key: str) -> None:
        with self._lock:
            self.counters.pop(key, None)

    def flush_soon(self) -> None:
        """Write the counters in the background, one write at a time; nobody waits for it."""
        self._dirty = True
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_while_dirty())

    async def _flush_while_dirty(self) -> None:
        while self._dirty:
            self._dirty = False
            try:
                await asyncio.to_thread(self.flush)
            except OSError as error:  # the counts stay in memory; the next request tries again
                log.error("limits: %s could not be written (%s)", self.path,
                          error.strerror or type(error).__name__)

    async def close(self) -> None:
        """Wait for a write under way and write what came since (the worker stops)."""
        if self._flusher is not None:
            await self._flusher
        self._dirty = True
        await self._flush_while_dirty()

    def flush(self) -> None:
        """Write the live counters to the file (drop the expired ones)."""
        with self._writing:
            with self._lock:
                now = self.clock()
                self.counters = {k: v for k, v in self.counters.items() if v[1] > now}
                data = json.dumps(self.counters, separators=(",", ":")).encode()
            replace_atomically(self.path, data, sync=False)


class SharedStorage(Storage):
    """A `limits` storage in PostgreSQL's ``limit_counts`` table (``ORDERS_DB=postgresql://…``):
    every worker process and host counts together, and a restart forgets nothing."""

    STORAGE_SCHEME = ["qazaq-postgresql"]  # noqa: RUF012 - the base class declares it so

    def __init__(self, marks: Marks) -> None:
        super().__init__()
        self.marks = marks
        self.clock = time.time

    @property
    def base_exceptions(self) -> type[Exception]:
        return OSError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return self.marks.count_up(key, expiry, amount)

    def get(self, key: str) -> int:
        counted = self.marks.counted(key)
        return counted[0] if counted else 0

    def get_expiry(self, key: str) -> float:
        counted = self.marks.counted(key)
        return counted[1] if counted else self.clock()

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        self.marks.uncount()
        return None

    def clear(self, key: str) -> None:
        self.marks.uncount(key)

    def flush_soon(self) -> None:
        """Nothing to write: each count is in the database when `incr` returns."""

    async def close(self) -> None:
        """Nothing to write (see `flush_soon`)."""


class RateLimits:
    """Named limits (``{"checkout_address": "5/minute;30/hour", …}``) over one storage."""

    def __init__(self, storage: FileStorage | SharedStorage, rules: dict[str, str]) -> None:
        self.storage = storage
        self.limiter = FixedWindowRateLimiter(storage)
        self.rules: dict[str, list[RateLimitItem]] = {n: parse_many(r) for n, r in rules.items()}

    @classmethod
    def open(cls, orders_db: Path, rules: dict[str, str], shared: Marks | None = None) -> RateLimits:
        """Counts in ``shared`` (PostgreSQL) when the store has it, else in a file beside it."""
        rules = {**rules, **FIXED_RULES}
        if shared is not None:
            return cls(SharedStorage(shared), rules)
        return cls(FileStorage(orders_db.with_name(f"{orders_db.stem}.limits.json")), rules)

    def hit(self, *checks: tuple[str, str]) -> int | None:
        """Count one request against every ``(rule, who)``, unless one of them is used up:
        then count nothing and return the seconds until it frees (for Retry-After)."""
        if isinstance(self.storage, SharedStorage):  # PostgreSQL: all windows in one statement
            until = self.storage.marks.count_all([
                (item.key_for(name, who), item.amount, item.get_expiry())
                for name, who in checks for item in self.rules[name]])
            return None if until is None else max(1, math.ceil(until - self.storage.clock()))
        wait = self.wait(*checks)
        if wait is not None:
            return wait
        for name, who in checks:
            for item in self.rules[name]:
                self.limiter.hit(item, name, who)
        return None

    def wait(self, *checks: tuple[str, str]) -> int | None:
        """The seconds until every ``(rule, who)`` has room again; None when all have now."""
        waits = [
            self.limiter.get_window_stats(item, name, who).reset_time - self.storage.clock()
            for name, who in checks
            for item in self.rules[name]
            if not self.limiter.test(item, name, who)
        ]
        return max(1, math.ceil(max(waits))) if waits else None

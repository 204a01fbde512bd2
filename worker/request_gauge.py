"""How many HTTP requests the worker processes of this host are answering right now.

Background jobs give way to requests (Epay wants its postLink answered fast). A job that one
process starts slows its sibling processes' requests as much as its own, since they share the
host's CPUs: so the count is shared by the processes that serve one store on one host, through
a small shared-memory file with a slot per process. A process takes its slot with a record lock,
which the kernel drops when the process dies, and a slot's count is believed only for STALE_S
after its last change, so a process killed mid-request holds nobody's jobs back for long.
Processes on other hosts have CPUs of their own and are not counted.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import mmap
import os
import struct
import tempfile
import time
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

from worker.middleware import HttpMiddleware

log = logging.getLogger("worker.requests")

SLOTS = 64  # processes per host and store; more than that count only for themselves
SLOT = struct.Struct("<qd")  # requests in flight, time.monotonic() of the last change
ALL_SLOTS = struct.Struct("<" + "qd" * SLOTS)
# A request in flight longer than this is no burst to give way to (and may be a dead process's).
STALE_S = 1.0
# Slots this process holds, by file: POSIX record locks never conflict within one process, so
# two gauges of one process (tests build several apps) must not take the same slot.
_HELD: dict[str, set[int]] = {}


def shared_folder() -> Path:
    """Where the slot files live: memory-backed on Linux, the temporary folder elsewhere."""
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else Path(tempfile.gettempdir())


class RequestGauge:
    """Requests in flight in this process, and whether any process of this host has some."""

    def __init__(self, store: str, folder: Path | None = None) -> None:
        self.in_flight = 0
        self._map: mmap.mmap | None = None
        self._fd = -1
        self._slot: int | None = None
        digest = hashlib.sha256(store.encode()).hexdigest()[:16]
        self._path = str((folder or shared_folder()) / f"qazaq-esim-requests-{digest}")

    def open(self) -> None:
        """Take a slot in the shared file (at the worker's start: an app never started leaves
        no file behind)."""
        try:
            self._take_slot()
        except OSError as exc:  # a read-only or missing folder: count this process alone
            log.warning("requests: no gauge shared with sibling processes (%s); "
                        "jobs give way to this process's requests only", exc)
            self.close()

    def _take_slot(self) -> None:
        self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        if os.fstat(self._fd).st_size < ALL_SLOTS.size:
            os.ftruncate(self._fd, ALL_SLOTS.size)
        self._map = mmap.mmap(self._fd, ALL_SLOTS.size)
        held = _HELD.setdefault(self._path, set())
        for slot in range(SLOTS):
            if slot in held:
                continue
            try:
                fcntl.lockf(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB, SLOT.size, slot * SLOT.size)
            except OSError:  # a live sibling holds it
                continue
            held.add(slot)
            self._slot = slot
            self._publish()
            return

    def _publish(self) -> None:
        if self._map is not None and self._slot is not None:
            SLOT.pack_into(self._map, self._slot * SLOT.size, self.in_flight, time.monotonic())

    def started(self) -> None:
        self.in_flight += 1
        self._publish()

    def ended(self) -> None:
        self.in_flight -= 1
        self._publish()

    def busy(self) -> bool:
        """Whether a request is being answered here or in a sibling process of this host."""
        if self.in_flight > 0:
            return True
        if self._map is None:
            return False
        values = ALL_SLOTS.unpack_from(self._map)
        now = time.monotonic()
        return any(count > 0 and now - at < STALE_S
                   for count, at in zip(values[::2], values[1::2]))

    def close(self) -> None:
        """Give the slot back (the lock goes with the descriptor); the last one out removes
        the file. A sibling starting at that very moment counts alone until its next start."""
        if self._slot is not None:
            self.in_flight = 0
            self._publish()
            _HELD[self._path].discard(self._slot)
            self._slot = None
            try:
                if not _HELD[self._path]:
                    fcntl.lockf(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 0, 0)  # nobody else
                    os.unlink(self._path)
            except OSError:  # a sibling still holds its slot
                pass
        if self._map is not None:
            self._map.close()
            self._map = None
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class CountRequests(HttpMiddleware):
    """Keep a RequestGauge up to date, so background jobs can give way to requests."""

    def __init__(self, app: ASGIApp, gauge: RequestGauge) -> None:
        super().__init__(app)
        self.gauge = gauge

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.gauge.started()
        try:
            await self.app(scope, receive, send)
        finally:
            self.gauge.ended()

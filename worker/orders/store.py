"""The order store: live orders and jobs in a small TinyDB file plus a journal; finished orders in an append-only archive.

Files, next to ORDERS_DB (e.g. ``var/orders.json``):

- ``orders.json`` and ``orders.journal.jsonl``: the live set, the orders that are not
  finished and every pending job (worker/orders/live.py);
- ``orders.archive.jsonl``: finished orders, one version per line (worker/orders/archive.py);
- ``orders.lock``: the exclusive ``flock`` every writer holds, across processes.

Writes are group-committed: every ``create``/``update``/job change waiting at the same
moment is applied in order on the freshest data and made durable with one append and one
fsync, in a worker thread so the event loop keeps serving. An awaited write is durable; a
crash mid-append leaves a torn last line, which was never acknowledged and is cut on open.

Reads never take the lock: they compare the files' stat with what was loaded and read the
new journal and archive lines (or reload the checkpoint) when another process wrote.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from worker import metrics
from worker.crashpoints import crashpoint
from worker.orders.archive import Archive, Index, Place
from worker.orders.documents import Folder, JsonDoc
from worker.orders.durable import (
    AtomicJSONStorage,
    RunnerLock,
    WriterLock,
    cut_torn_line,
    signature,
)
from worker.orders.live import LiveSet
from worker.orders.model import Order, utc_now
from worker.orders.queue import Batch, Job, job_of
from worker.orders.records import Record, email_key, is_finished, order_of, record_of

__all__ = [
    "AtomicJSONStorage", "DuplicateOrder", "Job", "OrderStore", "Unchanged", "UnknownOrder",
    "email_key", "is_finished",
]

log = logging.getLogger("worker.orders.store")


class DuplicateOrder(Exception):
    """An order with this id, token, or last six digits of the id already exists."""


class UnknownOrder(KeyError):
    """No order has this id."""


class Unchanged(Exception):
    """Raised by an update's ``change`` to write nothing (the order is already as wanted)."""


ORDER_ID_DIGITS = 10  # Epay allows 6-15; ten random digits keep guessing hopeless and suffixes free
# The journal is folded into the TinyDB file once it outgrows both of these.
CHECKPOINT_MIN_BYTES = 4 * 1024 * 1024

Change = Callable[[Order], None]


class OrderStore:
    """See the module docstring. One instance per process and path."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.with_name(f"{path.stem}.lock")
        self.live = LiveSet(path)
        self.archive = Archive(path.with_name(f"{path.stem}.archive.jsonl"))
        self.index = Index()
        self._mem = threading.Lock()
        self._writer = threading.Lock()
        self._writing = False
        self._jobs_added = False
        self._pending: list[tuple[Callable[[Batch], Any], asyncio.Future[Any]]] = []
        self._committer: asyncio.Task[None] | None = None
        self._lock_fd = -1
        # Called (on the event loop) after a write that added or re-requested a job:
        # the JobRunner sets it to its wake-up, so a fresh job runs at once.
        self.on_jobs_added: Callable[[], None] | None = None

    # ---- opening and reading -------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> OrderStore:
        """Open the store at ``path``, creating the files (and folder) if missing."""
        store = cls(Path(path))
        store.path.parent.mkdir(parents=True, exist_ok=True)
        store._lock_fd = os.open(store.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        with store._flock():
            store.live.create()
            # Cut a torn last line left by a crash mid-append (never acknowledged).
            cut_torn_line(store.archive.path)
            cut_torn_line(store.live.journal_path)
            with store._mem:
                store._refresh_locked()
        return store

    async def wait_idle(self) -> None:
        """Wait for the writes already submitted (before closing at shutdown)."""
        while self._committer is not None and not self._committer.done():
            await asyncio.wait({self._committer})

    def close(self) -> None:
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    def get(self, order_id: str) -> Order | None:
        """The order with this id (live first, then the archive), or None."""
        self._refresh()
        record = self._record(order_id)
        return order_of(record) if record else None

    def by_token(self, token: str) -> Order | None:
        self._refresh()
        order_id = self.index.tokens.get(token)
        return self.get(order_id) if order_id else None

    def by_email(self, email: str) -> list[Order]:
        """Every order placed with this address, newest first."""
        self._refresh()
        key = email_key(email)
        found = [self.get(i) for i in self.index.emails.get(key, "").split(",") if i]
        # The index may still list an order whose address was since erased or corrected.
        mine = [o for o in found if o is not None and o.email and email_key(o.email) == key]
        return sorted(mine, key=lambda o: o.created_at, reverse=True)

    def search(self, predicate: Callable[[Order], bool]) -> list[Order]:
        """Every order (live and archived) for which predicate is true. Reads the archive."""
        self._refresh()
        found = [o for o in self.live_orders() if predicate(o)]
        found.extend(o for o in self.archive.orders(skip=set(self.live.orders)) if predicate(o))
        return found

    def live_orders(self) -> list[Order]:
        """The orders that are not finished (a small set): the reconciler's worklist."""
        self._refresh()
        return [order_of(r) for r in list(self.live.orders.values())]

    def new_order_id(self) -> str:
        """A random invoice id of ORDER_ID_DIGITS digits whose id and last six digits no order
        uses (Epay wants both unique); `create` still refuses one taken since."""
        self._refresh()
        while True:
            order_id = str(10 ** (ORDER_ID_DIGITS - 1)
                           + secrets.randbelow(9 * 10 ** (ORDER_ID_DIGITS - 1)))
            if not (order_id in self.live.orders or order_id in self.archive.where
                    or order_id[-6:] in self.index.suffixes):
                return order_id

    def due_jobs(self, now: float | None = None) -> list[Job]:
        self._refresh()
        now = time.time() if now is None else now
        due = [j for j in list(self.live.jobs.values()) if j["due_at"] <= now]
        return [job_of(j) for j in sorted(due, key=lambda j: (j["due_at"], j["id"]))]

    def jobs(self, order_id: str | None = None) -> list[Job]:
        """Pending jobs, all or of one order (for operators and tests)."""
        self._refresh()
        return [
            job_of(j)
            for j in sorted(self.live.jobs.values(), key=lambda j: j["id"])
            if order_id is None or j["order_id"] == order_id
        ]

    def claim_jobs(self) -> list[Job]:
        """The due jobs, for the runner: one process runs them (its runner.lock), so no lease."""
        return self.due_jobs()

    @property
    def marks(self) -> None:
        """Sign-in state and limits stay with the process and accounts.json (one process)."""
        return None

    def document(self, name: str) -> JsonDoc:
        """The support desk's document ``name`` (worker/orders/documents.py): ``<name>.json`` here."""
        return JsonDoc(self.path.with_name(f"{name}.json"))

    def files(self, name: str) -> Folder:
        """The folder ``name`` beside the store (the chat's screenshots)."""
        return Folder(self.path.with_name(name))

    @property
    def shares_jobs(self) -> bool:
        """One process runs the jobs: the one holding the runner.lock (worker/job_runner.py)."""
        return False

    def take_lead(self) -> RunnerLock | None:
        """The right to run this store's jobs and reconciler (one process per store)."""
        return RunnerLock.take(self.path)

    renew_every = float("inf")  # no leases to renew (see claim_jobs)

    def renew_leases(self, job_ids: Iterable[int]) -> None:
        """No leases here (see claim_jobs)."""

    def probe(self) -> None:
        """Write, fsync and remove a file beside the store (GET /readyz); OSError when it cannot."""
        probe = self.path.with_name(f".readyz.{os.getpid()}")
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"ok")
            os.fsync(fd)
        finally:
            os.close(fd)
            probe.unlink(missing_ok=True)

    def next_due_at(self, skip: set[int] | frozenset[int] = frozenset()) -> float | None:
        """When the next job (other than those in ``skip``, e.g. running) falls due."""
        self._refresh()
        return min(
            (j["due_at"] for j in list(self.live.jobs.values()) if j["id"] not in skip),
            default=None,
        )

    def count(self) -> int:
        self._refresh()
        return len(self.live.orders) + sum(1 for i in self.archive.where if i not in self.live.orders)

    # ---- writing -------------------------------------------------------------------

    async def create(self, order: Order) -> None:
        """Store a new order durably. DuplicateOrder if its id, token or id suffix exists."""

        def op(batch: Batch) -> None:
            suffix = order.id[-6:]
            if (batch.order(order.id) is not None or suffix in self.index.suffixes
                    or suffix in batch.new_suffixes):
                raise DuplicateOrder(f"order id {order.id} (or its last six digits) is taken")
            if order.token in self.index.tokens or order.token in batch.new_tokens:
                raise DuplicateOrder(f"order {order.id}: token is taken")
            record = record_of(order)
            record["_rev"] = 1
            batch.orders[order.id] = record
            batch.new_suffixes.add(suffix)
            batch.new_tokens.add(order.token)

        await self._submit(op)

    async def update(
        self, order_id: str, change: Change, enqueue: Iterable[str] = (), delay_s: float = 0.0
    ) -> Order:
        """Apply ``change`` to the freshest copy of the order and write it with new jobs, atomically.

        ``change`` runs in the store's writer thread under the lock: keep it a pure edit of
        the order (on PostgreSQL it may run twice; only the last run's edits count). If it
        raises Unchanged, nothing is written (no jobs either) and the stored order is returned;
        any other error aborts and is raised here. A job kind already pending for this order
        is not added twice: it is made due now (and re-run if running).
        """
        kinds = tuple(enqueue)

        def op(batch: Batch) -> Order:
            record = batch.order(order_id)
            if record is None:
                raise UnknownOrder(order_id)
            order = order_of(record)
            try:
                change(order)
            except Unchanged:
                return order_of(record)
            order.updated_at = utc_now()
            new = record_of(order)
            new["_rev"] = record.get("_rev", 0) + 1
            batch.orders[order_id] = new
            for kind in kinds:
                batch.enqueue(order_id, kind, time.time() + delay_s)
            return order

        result: Order = await self._submit(op)
        return result

    async def enqueue(self, order_id: str, kind: str, delay_s: float = 0.0) -> None:
        """Add a job for an order without changing it (e.g. a webhook hint)."""

        def op(batch: Batch) -> None:
            if batch.order(order_id) is None:
                raise UnknownOrder(order_id)
            batch.enqueue(order_id, kind, time.time() + delay_s)

        await self._submit(op)

    async def finish_job(self, job_id: int, requests: int | None = None) -> None:
        """Remove a done job. If it was asked for again while it ran (``requests`` moved on),
        keep it, due now, so the newer request is served."""
        await self._submit(lambda batch: batch.finish(job_id, requests))

    async def retry_job(
        self, job_id: int, delay_s: float, error: str | None, requests: int | None = None
    ) -> None:
        """Count a failed attempt and make the job due again after ``delay_s``. No personal data
        in error. If it was asked for again while it ran (``requests`` moved on, as in
        finish_job), it stays due now, so the newer request is not pushed back."""
        await self._submit(lambda batch: batch.retry(job_id, delay_s, error, requests))

    # ---- group commit --------------------------------------------------------------

    async def _submit(self, op: Callable[[Batch], Any]) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((op, future))
        if self._committer is None or self._committer.done():
            self._committer = loop.create_task(self._commit_loop())
        return await future

    async def _commit_loop(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            groups = [batch]
            while groups:
                group = groups.pop(0)
                try:
                    with metrics.STORE_WRITE_SECONDS.time():
                        outcomes = await asyncio.to_thread(self._commit, [op for op, _ in group])
                except BaseException as exc:  # the write itself failed: nobody is acknowledged
                    if isinstance(exc, Exception) and len(group) > 1:
                        # One operation's write may be what fails (an archive that cannot grow
                        # while the journal can): commit each alone, so the others do not fail
                        # with it. A failed write left nothing behind, so a retry is safe.
                        groups[:0] = [[item] for item in group]
                        continue
                    for _, future in group:
                        if not future.done():
                            future.set_exception(exc if isinstance(exc, Exception) else RuntimeError(exc))
                    if not isinstance(exc, Exception):
                        raise
                    continue
                await self._after_commit()
                for (_, future), (ok, value) in zip(group, outcomes):
                    if future.done():
                        continue
                    if ok:
                        future.set_result(value)
                    else:
                        future.set_exception(value)

    async def _after_commit(self) -> None:
        if self._checkpoint_due() and (not self._pending or self._checkpoint_due(4)):
            # After the batch is answered, between batches: the rewrite costs the size of
            # the live set, and nobody waits for it unless writes keep pouring in.
            try:
                await asyncio.to_thread(self.checkpoint)
            except OSError:
                log.exception("store: checkpoint failed; the journal still holds everything")
        if self._jobs_added and self.on_jobs_added is not None:
            self._jobs_added = False
            self.on_jobs_added()

    def _commit(self, ops: list[Callable[[Batch], Any]]) -> list[tuple[bool, Any]]:
        with self._flock():
            with self._mem:
                self._writing = True
                self._refresh_locked()
            try:
                batch = Batch(self.live, self._record)
                outcomes: list[tuple[bool, Any]] = []
                for op in ops:
                    saved = batch.save()
                    try:
                        outcomes.append((True, op(batch)))
                    except Exception as exc:  # noqa: BLE001 - re-raised to its caller, effects undone
                        batch.restore(saved)
                        outcomes.append((False, exc))
                self._jobs_added = self._jobs_added or batch.jobs_added
                if batch.orders or batch.jobs:
                    self._write(batch)
            finally:
                with self._mem:
                    self._writing = False
        return outcomes

    def _write(self, batch: Batch) -> None:
        live = dict(self.live.orders)
        jobs = dict(self.live.jobs)
        for job_id, job in batch.jobs.items():
            if job is None:
                jobs.pop(job_id, None)
            else:
                jobs[job_id] = job
        pending: dict[str, int] = {}
        for job in jobs.values():
            pending[job["order_id"]] = pending.get(job["order_id"], 0) + 1
        # Orders whose jobs just finished may be finished too.
        touched = set(batch.orders) | {
            self.live.jobs[j]["order_id"]
            for j, job in batch.jobs.items()
            if job is None and j in self.live.jobs
        }
        to_archive: list[Record] = []
        for order_id in touched:
            record = batch.orders.get(order_id) or live.get(order_id)
            if record is None:  # an archived order whose job finished: nothing to move
                continue
            waiting = pending.get(order_id, 0)
            # An order with a pending job is never finished: skip parsing it (a postLink
            # burst queues a job for every order of the batch).
            if not waiting and is_finished(Order.from_dict(record), waiting):
                if order_id in batch.orders or order_id in live:
                    to_archive.append(record)
                live.pop(order_id, None)
            else:
                live[order_id] = record
        # Only what changed goes to the journal: the orders (None = left the live set), the jobs.
        delta_orders: dict[str, Record | None] = {
            i: live.get(i) for i in touched if live.get(i) is not self.live.orders.get(i)
        }
        # The archive first: a reader that sees an order leave the live set finds it there.
        places: list[tuple[str, Place]] = self.archive.append(to_archive) if to_archive else []
        seq, journal_end = self.live.seq, self.live.journal_end
        if delta_orders or batch.jobs:
            seq, journal_end = self.live.journal(delta_orders, batch.jobs, batch.next_job_id)
        crashpoint("store.written")
        with self._mem:
            self.archive.placed(places)
            self.live.orders = live
            self.live.jobs = jobs
            self.live.next_job_id = batch.next_job_id
            for record in batch.orders.values():
                self.index.add(record)
            self.live.seq, self.live.journal_end = seq, journal_end
            self.live.sig = signature(self.path)

    def _checkpoint_due(self, factor: int = 1) -> bool:
        limit = factor * max(CHECKPOINT_MIN_BYTES, 2 * self.live.checkpoint_size)
        return self.live.journal_end > limit

    def checkpoint(self) -> None:
        """Fold the journal into the TinyDB file now (the worker does it on its own as it goes)."""
        with self._flock():
            with self._mem:
                self._refresh_locked()
                live, jobs = dict(self.live.orders), dict(self.live.jobs)
                next_job_id, seq = self.live.next_job_id, self.live.seq
            self.live.checkpoint(live, jobs, next_job_id, seq)
            with self._mem:
                self.live.checkpointed()

    def compact_archive(self) -> int:
        """Rewrite the archive with only the current version of each archived order, so that
        data erased from an order (issue 6, personal data) leaves no older copy behind.
        Returns the number of orders kept. Other processes notice the new file and reread it."""
        with self._flock(), self._mem:
            self._refresh_locked()
            if not self.archive.path.exists():
                return 0
            kept = self.archive.compact(set(self.live.orders), self.index)
            # Older versions of recently finished orders may still sit in the journal.
            live = self.live
            live.checkpoint(dict(live.orders), dict(live.jobs), live.next_job_id, live.seq)
            live.checkpointed()
        return kept

    # ---- loading -------------------------------------------------------------------

    def _refresh(self) -> None:
        with self._mem:
            if not self._writing:
                self._refresh_locked()

    def _refresh_locked(self) -> None:
        # The live set first, then the archive: a writer appends to the archive before it
        # drops the order from the live set, so this order never misses an order.
        before = (self.live.sig, self.live.seq, self.archive.end)
        self.live.refresh(self.index.add)
        self.archive.read_tail(self.index)
        if (self.live.sig, self.live.seq, self.archive.end) == before:
            return
        # After a crash between the archive append and the journal append, an order is in
        # both with the archive holding the newer version: the archived one is the truth.
        archived = self.archive.where
        for order_id in [i for i in self.live.orders if i in archived]:
            if archived[order_id][2] >= self.live.orders[order_id].get("_rev", 0):
                del self.live.orders[order_id]

    def _record(self, order_id: str) -> Record | None:
        live = self.live.orders.get(order_id)
        return live if live is not None else self.archive.record(order_id)

    def _flock(self) -> WriterLock:
        return WriterLock(self._lock_fd, self._writer)

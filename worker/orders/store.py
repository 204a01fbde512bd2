"""The order store: live orders and jobs in a small TinyDB file plus a journal; finished orders in an append-only archive.

Files, next to ORDERS_DB (e.g. ``var/orders.json``):

- ``orders.json``: a TinyDB database (tables ``orders``, ``jobs``, ``meta``): a checkpoint of
  the orders that are not finished and of every pending job. Rewritten atomically (temp
  file, fsync, rename, fsync of the folder) when the journal has grown past it.
- ``orders.journal.jsonl``: one line per write since that checkpoint, holding only what
  changed (orders, jobs), numbered by ``seq``; appended and fsynced. So a write costs the
  size of the change, not of the live set, and never of the order history.
- ``orders.archive.jsonl``: finished orders, one JSON object per line, appended and fsynced.
  An archived order can still change (a refund, a usage refresh): the new version is
  appended or the order moves back to the live set; the highest ``_rev`` wins.
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
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, is_dataclass
from pathlib import Path
from typing import Any

from worker.crashpoints import crashpoint
from worker.orders.durable import (
    AtomicJSONStorage,
    WriterLock,
    append,
    cut_torn_line,
    fsync_dir,
    signature,
)
from worker.orders.model import Order, utc_now

log = logging.getLogger("worker.orders.store")


class DuplicateOrder(Exception):
    """An order with this id, token, or last six digits of the id already exists."""


class UnknownOrder(KeyError):
    """No order has this id."""


class Unchanged(Exception):
    """Raised by an update's ``change`` to write nothing (the order is already as wanted)."""


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    order_id: str
    attempts: int
    due_at: float  # epoch seconds
    last_error: str | None
    requests: int  # bumped when the job is asked for again while pending (see finish_job)


# The journal is folded into the TinyDB file once it outgrows both of these.
CHECKPOINT_MIN_BYTES = 4 * 1024 * 1024

Change = Callable[[Order], None]
_Record = dict[str, Any]


def email_key(email: str) -> str:
    """What the e-mail index stores instead of the address."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def is_finished(order: Order, pending_jobs: int) -> bool:
    """A finished order leaves the live file for the archive.

    Nothing more will happen to it on its own: its money is settled one way or the other
    and the buyer has what they paid for. A later change (refund, usage) still works.
    """
    if pending_jobs:
        return False
    if order.status in ("payment_failed", "refunded"):
        return True
    if order.status == "delivered":
        return order.email_sent_at is not None
    if order.status == "awaiting_payment":
        return order.abandoned_at is not None
    return False


def _plain(value: object) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return value.__dict__
    raise TypeError(f"{type(value).__name__} cannot be stored")


def _record_of(order: Order) -> _Record:
    """The order as stored: what ``Order.to_dict()`` gives, a few times faster (C json)."""
    record: _Record = json.loads(json.dumps(order.__dict__, default=_plain))
    return record


def _order(record: _Record) -> Order:
    """A fresh Order from a stored record, sharing nothing with it (so edits cannot leak)."""
    return Order.from_dict(json.loads(json.dumps(record)))


class _Txn:
    """One group commit: changes seen by the later operations of the same batch."""

    def __init__(self, store: OrderStore) -> None:
        self.store = store
        self.orders: dict[str, _Record] = {}  # id -> new record
        self.jobs: dict[int, _Record | None] = {}  # id -> new record, None = deleted
        self.next_job_id = store._next_job_id
        self.new_tokens: set[str] = set()  # of orders created in this batch
        self._by_order: dict[str, list[_Record]] | None = None  # the store's jobs per order
        self.new_suffixes: set[str] = set()

    def order(self, order_id: str) -> _Record | None:
        if order_id in self.orders:
            return self.orders[order_id]
        return self.store._record(order_id)

    def pending_jobs(self, order_id: str) -> list[_Record]:
        if self._by_order is None:  # built once per batch, not once per enqueue
            self._by_order = {}
            for j in self.store._jobs.values():
                self._by_order.setdefault(j["order_id"], []).append(j)
        found = {j["id"]: j for j in self._by_order.get(order_id, ())}
        for job_id, job in self.jobs.items():
            if job is None:
                found.pop(job_id, None)
            elif job["order_id"] == order_id:
                found[job_id] = job
        return list(found.values())

    def job(self, job_id: int) -> _Record | None:
        if job_id in self.jobs:
            return self.jobs[job_id]
        return self.store._jobs.get(job_id)


class OrderStore:
    """See the module docstring. One instance per process and path."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.archive_path = path.with_name(f"{path.stem}.archive.jsonl")
        self.lock_path = path.with_name(f"{path.stem}.lock")
        self.journal_path = path.with_name(f"{path.stem}.journal.jsonl")
        self._storage = AtomicJSONStorage(path)
        self._mem = threading.Lock()
        self._writer = threading.Lock()
        self._writing = False
        self._jobs_added = False
        self._live_sig: tuple[int, int, int] | None = None
        self._seq = 0  # of the last journal entry applied
        self._journal_end = 0
        self._checkpoint_size = 0
        self._live: dict[str, _Record] = {}
        self._jobs: dict[int, _Record] = {}
        self._next_job_id = 1
        self._archived: dict[str, tuple[int, int, int]] = {}  # id -> (offset, length, rev)
        self._archive_end = 0
        self._archive_ino: int | None = None  # compact_archive() replaces the file
        self._tokens: dict[str, str] = {}  # token -> id, live and archive
        self._suffixes: set[str] = set()  # last six digits of every id
        # email_key -> "id,id": plain strings, which the garbage collector never has to scan
        self._emails: dict[str, str] = {}
        self._pending: list[tuple[Callable[[_Txn], Any], asyncio.Future[Any]]] = []
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
            if not store.path.exists():
                store._storage.write({"orders": {}, "jobs": {}, "meta": {}})
            store._repair_tails()
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
        return _order(record) if record else None

    def by_token(self, token: str) -> Order | None:
        self._refresh()
        order_id = self._tokens.get(token)
        return self.get(order_id) if order_id else None

    def by_email(self, email: str) -> list[Order]:
        """Every order placed with this address, newest first."""
        self._refresh()
        key = email_key(email)
        found = [self.get(i) for i in self._emails.get(key, "").split(",") if i]
        # The index may still list an order whose address was since erased or corrected.
        mine = [o for o in found if o is not None and o.email and email_key(o.email) == key]
        return sorted(mine, key=lambda o: o.created_at, reverse=True)

    def search(self, predicate: Callable[[Order], bool]) -> list[Order]:
        """Every order (live and archived) for which predicate is true. Reads the archive."""
        self._refresh()
        found = [o for o in self.live_orders() if predicate(o)]
        live = set(self._live)
        where = sorted(w for i, w in list(self._archived.items()) if i not in live)
        if not where:
            return found
        with open(self.archive_path, "rb") as f:  # one pass in file order, not a seek per order
            for offset, length, _ in where:
                f.seek(offset)
                order = Order.from_dict(json.loads(f.read(length)))
                if predicate(order):
                    found.append(order)
        return found

    def live_orders(self) -> list[Order]:
        """The orders that are not finished (a small set): the reconciler's worklist."""
        self._refresh()
        return [_order(r) for r in list(self._live.values())]

    def id_taken(self, order_id: str) -> bool:
        """Whether the id or its last six digits are used (Epay wants both unique)."""
        self._refresh()
        return order_id in self._live or order_id in self._archived or order_id[-6:] in self._suffixes

    def due_jobs(self, now: float | None = None) -> list[Job]:
        self._refresh()
        now = time.time() if now is None else now
        due = [j for j in list(self._jobs.values()) if j["due_at"] <= now]
        return [_job(j) for j in sorted(due, key=lambda j: (j["due_at"], j["id"]))]

    def jobs(self, order_id: str | None = None) -> list[Job]:
        """Pending jobs, all or of one order (for operators and tests)."""
        self._refresh()
        return [
            _job(j)
            for j in sorted(self._jobs.values(), key=lambda j: j["id"])
            if order_id is None or j["order_id"] == order_id
        ]

    def next_due_at(self, skip: set[int] | frozenset[int] = frozenset()) -> float | None:
        """When the next job (other than those in ``skip``, e.g. running) falls due."""
        self._refresh()
        return min(
            (j["due_at"] for j in list(self._jobs.values()) if j["id"] not in skip), default=None
        )

    def count(self) -> int:
        self._refresh()
        return len(self._live) + sum(1 for i in self._archived if i not in self._live)

    # ---- writing -------------------------------------------------------------------

    async def create(self, order: Order) -> None:
        """Store a new order durably. DuplicateOrder if its id, token or id suffix exists."""

        def op(txn: _Txn) -> None:
            suffix = order.id[-6:]
            if txn.order(order.id) is not None or suffix in self._suffixes or suffix in txn.new_suffixes:
                raise DuplicateOrder(f"order id {order.id} (or its last six digits) is taken")
            if order.token in self._tokens or order.token in txn.new_tokens:
                raise DuplicateOrder(f"order {order.id}: token is taken")
            record = _record_of(order)
            record["_rev"] = 1
            txn.orders[order.id] = record
            txn.new_suffixes.add(suffix)
            txn.new_tokens.add(order.token)

        await self._submit(op)

    async def update(
        self, order_id: str, change: Change, enqueue: Iterable[str] = (), delay_s: float = 0.0
    ) -> Order:
        """Apply ``change`` to the freshest copy of the order and write it with new jobs, atomically.

        ``change`` runs in the store's writer thread under the lock: keep it a pure edit of
        the order. If it raises Unchanged, nothing is written (no jobs either) and the stored
        order is returned; any other error aborts and is raised here. A job kind already
        pending for this order is not added twice: it is made due now (and re-run if running).
        """
        kinds = tuple(enqueue)

        def op(txn: _Txn) -> Order:
            record = txn.order(order_id)
            if record is None:
                raise UnknownOrder(order_id)
            order = _order(record)
            try:
                change(order)
            except Unchanged:
                return _order(record)
            order.updated_at = utc_now()
            new = _record_of(order)
            new["_rev"] = record.get("_rev", 0) + 1
            txn.orders[order_id] = new
            for kind in kinds:
                self._enqueue(txn, order_id, kind, time.time() + delay_s)
            return order

        result: Order = await self._submit(op)
        return result

    async def enqueue(self, order_id: str, kind: str, delay_s: float = 0.0) -> None:
        """Add a job for an order without changing it (e.g. a webhook hint)."""

        def op(txn: _Txn) -> None:
            if txn.order(order_id) is None:
                raise UnknownOrder(order_id)
            self._enqueue(txn, order_id, kind, time.time() + delay_s)

        await self._submit(op)

    async def finish_job(self, job_id: int, requests: int | None = None) -> None:
        """Remove a done job. If it was asked for again while it ran (``requests`` moved on),
        keep it, due now, so the newer request is served."""

        def op(txn: _Txn) -> None:
            job = txn.job(job_id)
            if job is None:
                return
            if requests is not None and job["requests"] != requests:
                txn.jobs[job_id] = {**job, "due_at": time.time()}
            else:
                txn.jobs[job_id] = None

        await self._submit(op)

    async def retry_job(
        self, job_id: int, delay_s: float, error: str | None, requests: int | None = None
    ) -> None:
        """Count a failed attempt and make the job due again after ``delay_s``. No personal data
        in error. If it was asked for again while it ran (``requests`` moved on, as in
        finish_job), it stays due now, so the newer request is not pushed back."""

        def op(txn: _Txn) -> None:
            job = txn.job(job_id)
            if job is not None:
                asked_again = requests is not None and job["requests"] != requests
                txn.jobs[job_id] = {
                    **job,
                    "attempts": job["attempts"] + 1,
                    "due_at": time.time() + (0.0 if asked_again else delay_s),
                    "last_error": (error or "")[:500] or None,
                }

        await self._submit(op)

    def _enqueue(self, txn: _Txn, order_id: str, kind: str, due_at: float) -> None:
        self._jobs_added = True
        for job in txn.pending_jobs(order_id):
            if job["kind"] == kind:
                txn.jobs[job["id"]] = {
                    **job,
                    "due_at": min(job["due_at"], due_at),
                    "requests": job["requests"] + 1,
                }
                return
        job_id = txn.next_job_id
        txn.next_job_id += 1
        txn.jobs[job_id] = {
            "id": job_id,
            "kind": kind,
            "order_id": order_id,
            "attempts": 0,
            "due_at": due_at,
            "last_error": None,
            "requests": 0,
            "created_at": utc_now(),
        }

    # ---- group commit --------------------------------------------------------------

    async def _submit(self, op: Callable[[_Txn], Any]) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((op, future))
        if self._committer is None or self._committer.done():
            self._committer = loop.create_task(self._commit_loop())
        return await future

    async def _commit_loop(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                outcomes = await asyncio.to_thread(self._commit, [op for op, _ in batch])
            except BaseException as exc:  # the write itself failed: nobody is acknowledged
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc if isinstance(exc, Exception) else RuntimeError(exc))
                if not isinstance(exc, Exception):
                    raise
                continue
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
            for (_, future), (ok, value) in zip(batch, outcomes):
                if future.done():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)

    def _commit(self, ops: list[Callable[[_Txn], Any]]) -> list[tuple[bool, Any]]:
        with self._flock():
            with self._mem:
                self._writing = True
                self._refresh_locked()
            try:
                txn = _Txn(self)
                outcomes: list[tuple[bool, Any]] = []
                for op in ops:
                    saved = (dict(txn.orders), dict(txn.jobs), txn.next_job_id,
                             set(txn.new_tokens), set(txn.new_suffixes))
                    try:
                        outcomes.append((True, op(txn)))
                    except Exception as exc:  # noqa: BLE001 - re-raised to its caller, effects undone
                        (txn.orders, txn.jobs, txn.next_job_id,
                         txn.new_tokens, txn.new_suffixes) = saved
                        outcomes.append((False, exc))
                if txn.orders or txn.jobs:
                    self._write(txn)
            finally:
                with self._mem:
                    self._writing = False
        return outcomes

    def _write(self, txn: _Txn) -> None:
        live = dict(self._live)
        jobs = dict(self._jobs)
        for job_id, job in txn.jobs.items():
            if job is None:
                jobs.pop(job_id, None)
            else:
                jobs[job_id] = job
        pending: dict[str, int] = {}
        for job in jobs.values():
            pending[job["order_id"]] = pending.get(job["order_id"], 0) + 1
        # Orders whose jobs just finished may be finished too.
        touched = set(txn.orders) | {
            self._jobs[j]["order_id"] for j, job in txn.jobs.items() if job is None and j in self._jobs
        }
        to_archive: list[_Record] = []
        for order_id in touched:
            record = txn.orders.get(order_id) or live.get(order_id)
            if record is None:  # an archived order whose job finished: nothing to move
                continue
            if is_finished(Order.from_dict(record), pending.get(order_id, 0)):
                if order_id in txn.orders or order_id in live:
                    to_archive.append(record)
                live.pop(order_id, None)
            else:
                live[order_id] = record
        # Only what changed goes to the journal: the orders (None = left the live set), the jobs.
        delta_orders: dict[str, _Record | None] = {
            i: live.get(i) for i in touched if live.get(i) is not self._live.get(i)
        }

        appended: list[tuple[str, int, int, int]] = []
        if to_archive:
            lines = [
                json.dumps(r, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
                for r in to_archive
            ]
            chunk = b"".join(lines)
            offset = append(self.archive_path, chunk, "store.archive_appended") - len(chunk)
            if offset == 0:  # we created it: no need to read it again as "a new file"
                self._archive_ino = os.stat(self.archive_path).st_ino
            for record, line in zip(to_archive, lines):
                appended.append((record["id"], offset, len(line), record["_rev"]))
                offset += len(line)
        next_job_id = txn.next_job_id
        seq, journal_end = self._seq, self._journal_end
        if delta_orders or txn.jobs:
            seq += 1
            line = json.dumps(
                {"seq": seq, "orders": delta_orders,
                 "jobs": {str(k): v for k, v in txn.jobs.items()}, "next_job_id": next_job_id},
                ensure_ascii=False, separators=(",", ":"),
            ).encode() + b"\n"
            journal_end = append(self.journal_path, line, "store.journal_appended")
        crashpoint("store.written")
        with self._mem:
            for order_id, offset, length, rev in appended:
                self._archived[order_id] = (offset, length, rev)
            if appended:
                self._archive_end = max(self._archive_end, appended[-1][1] + appended[-1][2])
            self._live = live
            self._jobs = jobs
            self._next_job_id = next_job_id
            for record in txn.orders.values():
                self._index(record)
            self._seq, self._journal_end = seq, journal_end
            self._live_sig = signature(self.path)

    def _checkpoint_due(self, factor: int = 1) -> bool:
        return self._journal_end > factor * max(CHECKPOINT_MIN_BYTES, 2 * self._checkpoint_size)

    def _checkpoint(
        self, live: dict[str, _Record], jobs: dict[int, _Record], next_job_id: int, seq: int
    ) -> None:
        """Write the whole live set to the TinyDB file, then empty the journal it includes."""
        self._storage.write(
            {
                "orders": {r["id"]: r for r in live.values()},
                "jobs": {str(j["id"]): j for j in jobs.values()},
                "meta": {"1": {"next_job_id": next_job_id, "seq": seq}},
            }
        )
        self._checkpoint_size = self.path.stat().st_size
        crashpoint("store.checkpointed")
        # A crash here leaves journal lines the checkpoint already holds: their seq says so.
        try:
            with open(self.journal_path, "rb+") as f:
                f.truncate(0)
                os.fsync(f.fileno())
        except FileNotFoundError:  # nothing journaled yet (e.g. only archive writes so far)
            pass

    def checkpoint(self) -> None:
        """Fold the journal into the TinyDB file now (the worker does it on its own as it goes)."""
        with self._flock():
            with self._mem:
                self._refresh_locked()
                live, jobs = dict(self._live), dict(self._jobs)
                next_job_id, seq = self._next_job_id, self._seq
            self._checkpoint(live, jobs, next_job_id, seq)
            with self._mem:
                self._journal_end = 0
                self._live_sig = signature(self.path)

    # ---- loading -------------------------------------------------------------------

    def _refresh(self) -> None:
        with self._mem:
            if not self._writing:
                self._refresh_locked()

    def _refresh_locked(self) -> None:
        # The live set first, then the archive: a writer appends to the archive before it
        # drops the order from the live set, so this order never misses an order.
        before = (self._live_sig, self._seq, self._archive_end)
        sig = signature(self.path)
        if sig != self._live_sig or not self._read_journal():
            self._load_checkpoint(sig)
            if not self._read_journal():
                # Checkpointed again between our two reads: this one is consistent.
                self._load_checkpoint(signature(self.path))
                self._read_journal()
        self._read_archive_tail()
        if (self._live_sig, self._seq, self._archive_end) == before:
            return
        # After a crash between the archive append and the journal append, an order is in
        # both with the archive holding the newer version: the archived one is the truth.
        for order_id in [i for i in self._live if i in self._archived]:
            if self._archived[order_id][2] >= self._live[order_id].get("_rev", 0):
                del self._live[order_id]

    def _load_checkpoint(self, sig: tuple[int, int, int] | None) -> None:
        data = self._storage.read() or {}
        self._live = {str(r["id"]): r for r in data.get("orders", {}).values()}
        self._jobs = {int(j["id"]): j for j in data.get("jobs", {}).values()}
        meta = data.get("meta", {}).get("1", {})
        self._next_job_id = int(meta.get("next_job_id", 1))
        self._seq = int(meta.get("seq", 0))
        self._journal_end = 0
        self._checkpoint_size = sig[2] if sig else 0
        for record in self._live.values():
            self._index(record)
        self._live_sig = sig

    def _read_journal(self) -> bool:
        """Apply the journal lines written since we last looked. False: it does not follow
        what we hold (a checkpoint emptied it meanwhile); reload from the checkpoint."""
        try:
            size = os.path.getsize(self.journal_path)
        except FileNotFoundError:
            return self._journal_end == 0
        if size < self._journal_end:
            return False
        if size == self._journal_end:
            return True
        offset = self._journal_end
        with open(self.journal_path, "rb") as f:
            f.seek(offset)
            for line in f:
                if not line.endswith(b"\n"):
                    break  # being written: not acknowledged yet
                try:
                    entry = json.loads(line)
                    seq = int(entry["seq"])
                except (ValueError, KeyError, TypeError):
                    return False  # read from a stale offset into a rewritten journal
                if seq > self._seq + 1:
                    return False
                if seq == self._seq + 1:
                    self._apply(entry)
                    self._seq = seq
                offset += len(line)
        self._journal_end = offset
        return True

    def _apply(self, entry: dict[str, Any]) -> None:
        for order_id, record in entry["orders"].items():
            if record is None:
                self._live.pop(order_id, None)
            else:
                self._live[order_id] = record
                self._index(record)
        for job_id, job in entry["jobs"].items():
            if job is None:
                self._jobs.pop(int(job_id), None)
            else:
                self._jobs[int(job_id)] = job
        self._next_job_id = max(self._next_job_id, int(entry["next_job_id"]))

    def _read_archive_tail(self) -> None:
        try:
            st = os.stat(self.archive_path)
        except FileNotFoundError:
            return
        size = st.st_size
        if st.st_ino != self._archive_ino:  # new, or compacted by some process: read it all
            self._archived, self._archive_end, self._archive_ino = {}, 0, st.st_ino
        if size <= self._archive_end:
            return
        offset = self._archive_end
        with open(self.archive_path, "rb") as f:
            f.seek(offset)
            for line in f:  # line by line: the archive may be hundreds of MB
                if not line.endswith(b"\n"):
                    break  # a write in progress (or torn by a crash): not acknowledged yet
                record = json.loads(line)
                known = self._archived.get(record["id"])
                if known is None or known[2] <= record["_rev"]:
                    self._archived[record["id"]] = (offset, len(line), record["_rev"])
                self._index(record)
                offset += len(line)
        self._archive_end = offset

    def _repair_tails(self) -> None:
        """Cut a torn last line left by a crash mid-append (never acknowledged)."""
        for path in (self.archive_path, self.journal_path):
            cut_torn_line(path)

    def compact_archive(self) -> int:
        """Rewrite the archive with only the current version of each archived order, so that
        data erased from an order (issue 6, personal data) leaves no older copy behind.
        Returns the number of orders kept. Other processes notice the new file and reread it."""
        with self._flock(), self._mem:
            self._refresh_locked()
            if not self.archive_path.exists():
                return 0
            current = [w for i, w in self._archived.items() if i not in self._live]
            with open(self.archive_path, "rb") as f:
                lines = []
                for offset, length, _ in sorted(current):
                    f.seek(offset)
                    lines.append(f.read(length))
            tmp = self.archive_path.with_name(f".{self.archive_path.name}.{os.getpid()}.tmp")
            with open(tmp, "wb") as f:
                f.write(b"".join(lines))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.archive_path)
            fsync_dir(self.archive_path.parent)
            self._read_archive_tail()
            # Older versions of recently finished orders may still sit in the journal.
            self._checkpoint(dict(self._live), dict(self._jobs), self._next_job_id, self._seq)
            self._journal_end = 0
            self._live_sig = signature(self.path)
        return len(lines)

    def _index(self, record: _Record) -> None:
        order_id = record["id"]
        self._tokens[record["token"]] = order_id
        self._suffixes.add(order_id[-6:])
        if record.get("email"):
            key = email_key(record["email"])
            ids = self._emails.get(key)
            if ids is None:
                self._emails[key] = order_id
            elif order_id not in ids.split(","):
                self._emails[key] = f"{ids},{order_id}"

    def _record(self, order_id: str) -> _Record | None:
        live = self._live.get(order_id)
        if live is not None:
            return live
        where = self._archived.get(order_id)
        if where is None:
            return None
        offset, length, _ = where
        with open(self.archive_path, "rb") as f:
            f.seek(offset)
            record: _Record = json.loads(f.read(length))
        return record

    def _flock(self) -> WriterLock:
        return WriterLock(self._lock_fd, self._writer)


def _job(record: _Record) -> Job:
    return Job(
        id=record["id"],
        kind=record["kind"],
        order_id=record["order_id"],
        attempts=record["attempts"],
        due_at=record["due_at"],
        last_error=record["last_error"],
        requests=record.get("requests", 0),
    )

"""The store's job queue: the Job row, and a group commit's batch of order and job changes."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from worker.orders.live import LiveSet
from worker.orders.model import utc_now
from worker.orders.records import Record

_Saved = tuple[dict[str, Record], dict[int, Record | None], int, set[str], set[str]]


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    order_id: str
    attempts: int
    due_at: float  # epoch seconds
    last_error: str | None
    requests: int  # bumped when the job is asked for again while pending (see finish_job)
    created_at: str = field(default_factory=utc_now)  # when the job was first enqueued


def job_of(record: Record) -> Job:
    return Job(
        id=record["id"],
        kind=record["kind"],
        order_id=record["order_id"],
        attempts=record["attempts"],
        due_at=record["due_at"],
        last_error=record["last_error"],
        requests=record.get("requests", 0),
        created_at=record.get("created_at") or utc_now(),  # a record from before it was kept
    )


class Batch:
    """One group commit: its changes, seen by the later operations of the same batch."""

    def __init__(self, live: LiveSet, lookup: Callable[[str], Record | None]) -> None:
        self.live = live
        self.lookup = lookup  # an order as stored before this batch
        self.orders: dict[str, Record] = {}  # id -> new record
        self.jobs: dict[int, Record | None] = {}  # id -> new record, None = deleted
        self.next_job_id = live.next_job_id
        self.new_tokens: set[str] = set()  # of orders created in this batch
        self.new_suffixes: set[str] = set()
        self.jobs_added = False  # the runner should look now
        self._by_order: dict[str, list[Record]] | None = None  # the live jobs per order

    def save(self) -> _Saved:
        return (dict(self.orders), dict(self.jobs), self.next_job_id,
                set(self.new_tokens), set(self.new_suffixes))

    def restore(self, saved: _Saved) -> None:
        """Undo an operation that raised: the later ones must not see its effects."""
        self.orders, self.jobs, self.next_job_id, self.new_tokens, self.new_suffixes = saved

    def order(self, order_id: str) -> Record | None:
        if order_id in self.orders:
            return self.orders[order_id]
        return self.lookup(order_id)

    def job(self, job_id: int) -> Record | None:
        if job_id in self.jobs:
            return self.jobs[job_id]
        return self.live.jobs.get(job_id)

    def pending_jobs(self, order_id: str) -> list[Record]:
        if self._by_order is None:  # built once per batch, not once per enqueue
            self._by_order = {}
            for j in self.live.jobs.values():
                self._by_order.setdefault(j["order_id"], []).append(j)
        found = {j["id"]: j for j in self._by_order.get(order_id, ())}
        for job_id, job in self.jobs.items():
            if job is None:
                found.pop(job_id, None)
            elif job["order_id"] == order_id:
                found[job_id] = job
        return list(found.values())

    def enqueue(self, order_id: str, kind: str, due_at: float) -> None:
        """A new job; or, if one of this kind is pending, that one made due and re-requested."""
        self.jobs_added = True
        for job in self.pending_jobs(order_id):
            if job["kind"] == kind:
                self.jobs[job["id"]] = {
                    **job,
                    "due_at": min(job["due_at"], due_at),
                    "requests": job["requests"] + 1,
                }
                return
        job_id = self.next_job_id
        self.next_job_id += 1
        self.jobs[job_id] = {
            "id": job_id,
            "kind": kind,
            "order_id": order_id,
            "attempts": 0,
            "due_at": due_at,
            "last_error": None,
            "requests": 0,
            "created_at": utc_now(),
        }

    def finish(self, job_id: int, requests: int | None) -> None:
        job = self.job(job_id)
        if job is None:
            return
        if requests is not None and job["requests"] != requests:
            self.jobs[job_id] = {**job, "due_at": time.time()}
        else:
            self.jobs[job_id] = None

    def retry(self, job_id: int, delay_s: float, error: str | None, requests: int | None) -> None:
        job = self.job(job_id)
        if job is not None:
            asked_again = requests is not None and job["requests"] != requests
            self.jobs[job_id] = {
                **job,
                "attempts": job["attempts"] + 1,
                "due_at": time.time() + (0.0 if asked_again else delay_s),
                "last_error": (error or "")[:500] or None,
            }

"""Run the store's due jobs concurrently; failures are retried with the policy of `worker.jobs`.
On the embedded store one process runs the jobs (the runner.lock); on PostgreSQL every process
does, each job claimed with a lease (worker/orders/postgres.py). A crash loses no job: after a
restart (or the lease) every pending job runs again, which is why handlers are idempotent."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from worker import alerts, request_ids
from worker.jobs import JOB_RETRY, GiveUp, Handler, RetryLater
from worker.orders.backends import Store
from worker.orders.model import Order
from worker.orders.queue import Job
from worker.retry import Backoff

if TYPE_CHECKING:
    from worker.services import Services

log = logging.getLogger("worker.jobs")

POLL_INTERVAL_S = 1.0
# New jobs wait while requests are being answered (Epay wants its postLink answer fast),
# but never longer than this.
MAX_GIVE_WAY_S = 0.1
UNKNOWN_KIND_RETRY_S = 60.0
# The store could not record a job's outcome (disk full, read-only): the job stays due in the
# store, so this process holds it back itself, longer each time, instead of re-running it at
# once (issue 14: 3,054 tracebacks in 15 s).
STORE_FAILED = Backoff(first_s=1.0, ceiling_s=300.0)
# A job still failing (or still waiting on a partner) this long after it was enqueued gives
# up and alerts support: a day covers a partner's or the mail server's outage overnight.
GIVE_UP_AFTER_S = 24 * 3600.0


class JobRunner:
    """Runs due jobs, at most ``concurrency`` at a time; wakes at once when a job is added."""

    def __init__(
        self,
        services: Services,
        registry: dict[str, Handler],
        concurrency: int = 16,
        busy: Callable[[], bool] = lambda: False,
    ) -> None:
        self.services = services
        self.busy = busy
        self.store: Store = services.store
        self.registry = registry
        self._slots = asyncio.Semaphore(concurrency)
        self._running: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._main: asyncio.Task[None] | None = None
        self._stopping = False
        self._held: dict[int, tuple[float, int]] = {}  # job id → (held until, store failures)

    def wake(self) -> None:
        """A job was enqueued: look now rather than at the next poll."""
        self._wake.set()

    @property
    def alive(self) -> bool:
        """Whether its loop is running (GET /readyz)."""
        return self._main is not None and not self._main.done()

    def start(self) -> None:
        self.store.on_jobs_added = self.wake
        self._main = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        # Python 3.11's wait_for may swallow a cancellation that lands as its wait ends (the
        # loop then ran on and stop() hung): the flag ends the loop at its next turn anyway.
        self._stopping = True
        self._wake.set()
        if self._main is not None:
            self._main.cancel()
            await asyncio.gather(self._main, return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def run_due(self) -> int:
        """Start every due job not already running; return how many were started."""
        started = 0
        # In a thread: on PostgreSQL a claim is a query, and the event loop answers postLinks.
        now = time.time()
        for job in await asyncio.to_thread(self.store.claim_jobs):
            if job.id in self._running or self._held.get(job.id, (0.0, 0))[0] > now:
                continue
            self._running.add(job.id)
            task = asyncio.get_running_loop().create_task(self._run(job))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            started += 1
        return started

    async def _loop(self) -> None:
        while not self._stopping:
            self._wake.clear()
            await self._give_way()
            try:
                if self._running:
                    await asyncio.to_thread(self.store.renew_leases, set(self._running))
                await self.run_due()
            except Exception:  # a store read failed; try again at the next tick
                log.exception("jobs: could not list due jobs")
            # A running job stays due until it ends (its end wakes us): look past it.
            next_due = await asyncio.to_thread(
                self.store.next_due_at, set(self._running) | self._held.keys())
            timeout = POLL_INTERVAL_S
            if self._running:  # their leases (PostgreSQL) must be renewed before they run out
                timeout = min(timeout, self.store.renew_every)
            if next_due is not None:
                timeout = max(0.0, min(timeout, next_due - time.time()))
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                pass

    async def _give_way(self) -> None:
        """Let the requests in flight be answered first, for at most MAX_GIVE_WAY_S."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + MAX_GIVE_WAY_S
        while self.busy() and loop.time() < deadline:
            await asyncio.sleep(0.001)

    async def _run(self, job: Job) -> None:
        request_ids.for_job(job.kind, job.order_id)  # this task's own context: its lines only
        try:
            async with self._slots:
                await self._execute(job)
            self._held.pop(job.id, None)
        except Exception as exc:  # noqa: BLE001 - the store failed; the job is still due there
            failures = self._held.get(job.id, (0.0, 0))[1] + 1
            delay = STORE_FAILED.after_attempts(failures - 1)
            self._held[job.id] = (time.time() + delay, failures)
            log.error(
                "jobs: %s for order %s: the store could not record it (%s: %s); "
                "held back %.0f s (store failure %d)",
                job.kind, job.order_id, type(exc).__name__, exc, delay, failures,
            )
        finally:
            self._running.discard(job.id)
            self._wake.set()  # a finished job may have enqueued the next one

    async def _execute(self, job: Job) -> None:
        handler = self.registry.get(job.kind)
        if handler is None:
            # Kept, not dropped: a paid order's `provision` must survive a misconfigured worker.
            log.error("jobs: no handler for %s (order %s); kept for later", job.kind, job.order_id)
            await self.store.retry_job(job.id, UNKNOWN_KIND_RETRY_S, "no handler for this kind")
            return
        order = self.store.get(job.order_id)
        if order is None:
            log.error("jobs: %s job %s dropped: order %s not found", job.kind, job.id, job.order_id)
            await self.store.finish_job(job.id)
            return
        try:
            await handler(order, self.services)
        except RetryLater as exc:
            if self._too_old(job):
                await self._give_up(job, f"still waiting after {GIVE_UP_AFTER_S / 3600:.0f} h: {exc}")
                return
            await self.store.retry_job(job.id, exc.delay_s, str(exc) or None, job.requests)
        except GiveUp as exc:
            await self._give_up(job, str(exc))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any handler error is a retry, logged
            error = f"{type(exc).__name__}: {exc}"
            if self._too_old(job):
                await self._give_up(job, f"still failing after {GIVE_UP_AFTER_S / 3600:.0f} h: {error}")
                return
            delay = JOB_RETRY.after_attempts(job.attempts)
            log.warning(
                "jobs: %s for order %s failed (attempt %d), retry in %.0f s: %s",
                job.kind, job.order_id, job.attempts + 1, delay, error,
            )
            await self.store.retry_job(job.id, delay, error, job.requests)
        else:
            await self.store.finish_job(job.id, requests=job.requests)

    @staticmethod
    def _too_old(job: Job) -> bool:
        return time.time() - datetime.fromisoformat(job.created_at).timestamp() > GIVE_UP_AFTER_S

    async def _give_up(self, job: Job, reason: str) -> None:
        """Stop the job for good, note it on the order's timeline and tell support."""
        log.error("jobs: %s for order %s gave up: %s", job.kind, job.order_id, alerts.scrub(reason))
        await self._record_give_up(job, reason)
        await self.store.finish_job(job.id)
        try:
            await alerts.alert_support(
                self.services, "job_gave_up",
                f"The {job.kind} job of order {job.order_id} gave up: {reason}\n\n"
                "Nothing will retry it. See the order's timeline (invoke order …) and "
                "docs/operations.md.",
            )
        except Exception:
            log.exception("jobs: support could not be alerted")

    async def _record_give_up(self, job: Job, reason: str) -> None:
        def note(order: Order) -> None:
            order.log("job_gave_up", f"{job.kind}: {reason}"[:300])

        await self.store.update(job.order_id, note)

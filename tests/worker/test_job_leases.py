"""Jobs on PostgreSQL: several processes run them, each job one at a time, and a dead process's
jobs are taken over once its lease has run out (worker/orders/postgres.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from store_helpers import make_order

from worker.job_runner import JobRunner
from worker.orders.model import Order
from worker.orders.postgres import PgOrderStore

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.anyio


@dataclass
class FakeServices:
    store: PgOrderStore


async def until(test: Any, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not test():
            await asyncio.sleep(0.02)


async def test_a_job_held_by_a_live_lease_is_not_claimed_twice(pg_url: str) -> None:
    first, second = PgOrderStore.open(pg_url, lease_s=0.5), PgOrderStore.open(pg_url, lease_s=0.5)
    await first.create(make_order(1))
    await first.enqueue(make_order(1).id, "provision")

    [job] = first.claim_jobs()

    assert second.claim_jobs() == [] and second.due_jobs() == []
    assert second.next_due_at() == pytest.approx(job.due_at + 0.5, abs=0.2)  # when the lease ends
    first.renew_leases([job.id])
    await asyncio.sleep(0.3)
    assert second.claim_jobs() == []  # renewed: still first's
    await asyncio.sleep(0.6)
    [taken] = second.claim_jobs()  # first stopped renewing (it died, say): second takes over
    assert taken.id == job.id
    await first.finish_job(job.id)  # too late: the job is second's now and stays
    assert [j.id for j in second.jobs()] == [job.id]
    await second.finish_job(job.id)
    assert second.jobs() == []
    first.close()
    second.close()


async def test_two_processes_share_the_jobs_and_run_each_once(pg_url: str) -> None:
    stores = [PgOrderStore.open(pg_url, lease_s=5) for _ in range(2)]
    for n in range(40):
        await stores[0].create(make_order(n))
        await stores[0].enqueue(make_order(n).id, "provision")
    runs: Counter[str] = Counter()
    by_runner: Counter[int] = Counter()

    def handler(index: int) -> Any:
        async def provision(order: Order, services: Any) -> None:
            runs[order.id] += 1
            by_runner[index] += 1
            await asyncio.sleep(0.05)
        return provision

    runners = [JobRunner(FakeServices(s), {"provision": handler(i)})  # type: ignore[arg-type]
               for i, s in enumerate(stores)]
    for runner in runners:
        runner.start()
    await until(lambda: stores[0].jobs() == [])
    for runner in runners:
        await runner.stop()

    assert sorted(runs) == [make_order(n).id for n in range(40)]
    assert set(runs.values()) == {1}
    assert by_runner[0] > 0 and by_runner[1] > 0
    for store in stores:
        store.close()


async def test_a_long_job_keeps_its_lease_while_it_runs(pg_url: str) -> None:
    runner_store, other = PgOrderStore.open(pg_url, lease_s=0.3), PgOrderStore.open(pg_url, 0.3)
    await runner_store.create(make_order(1))
    await runner_store.enqueue(make_order(1).id, "provision")
    started = asyncio.Event()

    async def provision(order: Order, services: Any) -> None:
        started.set()
        await asyncio.sleep(1.2)  # four leases long

    runner = JobRunner(FakeServices(runner_store), {"provision": provision})  # type: ignore[arg-type]
    runner.start()
    await asyncio.wait_for(started.wait(), 5)
    stolen = []
    for _ in range(10):
        stolen.extend(other.claim_jobs())
        await asyncio.sleep(0.1)
    await until(lambda: runner_store.jobs() == [])
    await runner.stop()

    assert stolen == []
    runner_store.close()
    other.close()


async def test_a_job_whose_process_was_killed_is_taken_over_after_its_lease(pg_url: str) -> None:
    store = PgOrderStore.open(pg_url, lease_s=1.0)
    await store.create(make_order(1))
    await store.enqueue(make_order(1).id, "provision")
    # Another worker process claims the job and is killed (SIGKILL) while running it.
    script = textwrap.dedent(f"""
        import sys, time
        from worker.orders.postgres import PgOrderStore
        store = PgOrderStore.open({pg_url!r}, lease_s=1.0)
        print(len(store.claim_jobs()), flush=True)
        time.sleep(60)
    """)
    victim = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE,
                              text=True)
    assert victim.stdout is not None and victim.stdout.readline().strip() == "1"
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    ran: list[str] = []

    async def provision(order: Order, services: Any) -> None:
        ran.append(order.id)

    runner = JobRunner(FakeServices(store), {"provision": provision})  # type: ignore[arg-type]
    runner.start()
    await asyncio.sleep(0.5)
    assert ran == []  # the dead process's lease still holds it
    await until(lambda: ran == [make_order(1).id], timeout=5)
    await until(lambda: store.jobs() == [])
    await runner.stop()
    store.close()

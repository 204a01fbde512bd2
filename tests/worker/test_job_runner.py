"""The job runner: due jobs run at once, failures come back later, permanent ones stop."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from worker.job_runner import JobRunner
from worker.jobs import GiveUp, RetryLater
from worker.orders.model import Order
from worker.orders.store import OrderStore

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class FakeServices:
    """Only the store: the runner needs nothing else, and the handlers here are fakes."""

    store: OrderStore
    calls: list[str] = field(default_factory=list)


def order(n: int = 1) -> Order:
    return Order(
        id=str(2_000_000_000 + n), token=f"t{n}" * 20, status="paid", lang="en",
        email="a@b.kz", phone=None, package_code="P", destination="TR", package_title="T",
        amount=100,
    )


async def started(store: OrderStore, handlers: dict[str, Any]) -> JobRunner:
    runner = JobRunner(FakeServices(store), handlers)  # type: ignore[arg-type]
    runner.start()
    return runner


async def until(test: Any, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not test():
            await asyncio.sleep(0.01)


async def test_a_freshly_enqueued_job_runs_at_once_not_at_the_next_poll(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("worker.job_runner.POLL_INTERVAL_S", 3600.0)  # only a wake-up can run it
    store = OrderStore.open(tmp_path / "orders.json")
    await store.create(order())
    ran = asyncio.Event()

    async def provision(o: Order, services: Any) -> None:
        ran.set()

    runner = await started(store, {"provision": provision})
    await asyncio.sleep(0.05)  # the runner is now waiting for its next poll, an hour away
    await store.enqueue(order().id, "provision")
    await asyncio.wait_for(ran.wait(), 10)
    await until(lambda: store.jobs() == [])
    await runner.stop()


async def test_a_failing_job_is_retried_later_with_the_error_kept(tmp_path: Path) -> None:
    store = OrderStore.open(tmp_path / "orders.json")
    await store.create(order())
    await store.enqueue(order().id, "provision")

    async def provision(o: Order, services: Any) -> None:
        raise ConnectionError("aggregator unreachable")

    runner = await started(store, {"provision": provision})
    await until(lambda: store.jobs()[0].attempts == 1)
    await runner.stop()

    [job] = store.jobs()
    assert job.last_error == "ConnectionError: aggregator unreachable"
    assert store.due_jobs() == []  # not hammered: it waits for its backoff


async def test_retry_later_and_give_up(tmp_path: Path) -> None:
    store = OrderStore.open(tmp_path / "orders.json")
    await store.create(order(1))
    await store.create(order(2))
    await store.enqueue(order(1).id, "poll")
    await store.enqueue(order(2).id, "doomed")
    polls: list[str] = []

    async def poll(o: Order, services: Any) -> None:
        polls.append(o.id)
        if len(polls) < 3:
            raise RetryLater(0.01, "not ready")

    async def doomed(o: Order, services: Any) -> None:
        raise GiveUp("the package is no longer sold")

    runner = await started(store, {"poll": poll, "doomed": doomed})
    await until(lambda: store.jobs() == [])
    await runner.stop()

    assert polls == [order(1).id] * 3
    timeline = store.get(order(2).id).timeline  # type: ignore[union-attr]
    assert timeline[-1]["event"] == "job_gave_up"
    assert timeline[-1]["detail"] == "doomed: the package is no longer sold"


async def test_a_webhook_during_a_polling_job_makes_it_run_again_at_once(tmp_path: Path) -> None:
    store = OrderStore.open(tmp_path / "orders.json")
    await store.create(order())
    await store.enqueue(order().id, "provision")
    polls: list[str] = []

    async def provision(o: Order, services: Any) -> None:
        polls.append(o.id)
        if len(polls) == 1:
            await store.enqueue(o.id, "provision")  # the aggregator's webhook: "ready, look now"
            raise RetryLater(300, "not ready")

    runner = await started(store, {"provision": provision})
    await until(lambda: store.jobs() == [])
    await runner.stop()

    assert polls == [order().id] * 2


async def test_a_job_without_a_handler_is_kept_for_a_worker_that_has_one(tmp_path: Path) -> None:
    store = OrderStore.open(tmp_path / "orders.json")
    await store.create(order())
    await store.enqueue(order().id, "provision")

    runner = await started(store, {})
    await until(lambda: store.jobs()[0].attempts == 1)
    await runner.stop()

    assert [j.kind for j in store.jobs()] == ["provision"]


async def test_pending_jobs_run_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "orders.json"
    first = OrderStore.open(path)
    await first.create(order())
    await first.enqueue(order().id, "send_email")
    first.close()  # the worker died before running it
    sent: list[str] = []

    async def send_email(o: Order, services: Any) -> None:
        sent.append(o.id)

    store = OrderStore.open(path)
    runner = await started(store, {"send_email": send_email})
    await until(lambda: store.jobs() == [])
    await runner.stop()
    assert sent == [order().id]


async def test_jobs_run_concurrently(tmp_path: Path) -> None:
    store = OrderStore.open(tmp_path / "orders.json")
    for n in range(5):
        await store.create(order(n))
        await store.enqueue(order(n).id, "slow")
    running = 0
    most = 0

    async def slow(o: Order, services: Any) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.2)
        running -= 1

    runner = await started(store, {"slow": slow})
    await until(lambda: store.jobs() == [])
    await runner.stop()
    assert most == 5


async def test_a_long_running_job_does_not_make_the_runner_spin(tmp_path: Path) -> None:
    store = OrderStore.open(tmp_path / "orders.json")
    await store.create(order())
    await store.enqueue(order().id, "slow")
    listed = 0
    real_next_due_at = store.next_due_at

    def counting(skip: Any = frozenset()) -> float | None:
        nonlocal listed
        listed += 1
        return real_next_due_at(skip)

    store.next_due_at = counting  # type: ignore[method-assign]

    async def slow(o: Order, services: Any) -> None:
        await asyncio.sleep(0.5)

    runner = await started(store, {"slow": slow})
    await asyncio.sleep(0.4)  # the job is due and running the whole time
    looked = listed
    await runner.stop()

    assert looked < 10  # woken by events and the 1 s poll, not a busy loop


async def test_a_new_job_waits_while_requests_are_answered_but_not_for_ever(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = OrderStore.open(tmp_path / "orders.json")
    await store.create(order())
    answering = [True]
    ran = asyncio.Event()

    async def provision(o: Order, services: Any) -> None:
        ran.set()

    monkeypatch.setattr("worker.job_runner.MAX_GIVE_WAY_S", 3600.0)
    runner = JobRunner(FakeServices(store), {"provision": provision},  # type: ignore[arg-type]
                       busy=lambda: answering[0])
    runner.start()
    await store.enqueue(order().id, "provision")
    await asyncio.sleep(0.2)
    assert not ran.is_set()  # a postLink is being answered somewhere on this host
    answering[0] = False
    await asyncio.wait_for(ran.wait(), 10)
    await runner.stop()

    monkeypatch.setattr("worker.job_runner.MAX_GIVE_WAY_S", 0.05)  # requests never stop
    answering[0], ran = True, asyncio.Event()
    runner = JobRunner(FakeServices(store), {"provision": provision},  # type: ignore[arg-type]
                       busy=lambda: answering[0])
    runner.start()
    await store.enqueue(order().id, "provision")
    await asyncio.wait_for(ran.wait(), 10)
    await runner.stop()

"""The order store's contract, run on both backends (embedded files and PostgreSQL): what every
handler relies on, whichever ORDERS_DB chooses."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from typing import Any

import pytest
from store_helpers import make_order

from worker.orders.model import Order
from worker.orders.store import DuplicateOrder, OrderStore, Unchanged, UnknownOrder

Opener = Callable[[], Any]


def run(coro: object) -> Any:
    return asyncio.run(coro)  # type: ignore[arg-type]


def fail(order: Order) -> None:
    order.status = "payment_failed"
    order.failure_reason = "484: Insufficient funds"


def test_a_created_order_is_found_by_id_token_and_email_after_reopening(
        store_backend: Opener) -> None:
    store = store_backend()
    order = make_order(1)
    run(store.create(order))

    again = store_backend()

    assert again.get("1000000001") == order
    assert again.by_token(make_order(1).token).id == "1000000001"
    assert [o.id for o in again.by_email("Buyer1@Example.kz ")] == ["1000000001"]
    assert again.get("1000000002") is None
    assert again.by_token("nope") is None
    assert again.by_email("nobody@example.kz") == []
    assert len(again.new_order_id()) == 10


@pytest.mark.parametrize(
    "clash",
    [
        {"id": "1000000001", "token": "another-token"},
        {"id": "1000000777", "token": make_order(1).token},
        {"id": "9990000001", "token": "another-token"},  # same last six digits
    ],
    ids=["same id", "same token", "same last six digits"],
)
def test_a_clashing_order_is_refused_and_the_first_one_kept(
        store_backend: Opener, clash: dict[str, str]) -> None:
    store = store_backend()
    run(store.create(make_order(1)))

    with pytest.raises(DuplicateOrder):
        run(store.create(make_order(2, **clash)))

    assert store.count() == 1
    assert store.get("1000000001").token == make_order(1).token


def test_an_update_and_its_jobs_are_written_together(store_backend: Opener) -> None:
    store = store_backend()
    run(store.create(make_order(1)))

    def pay(order: Order) -> None:
        order.status = "paid"

    updated = run(store.update("1000000001", pay, enqueue=("provision",)))

    again = store_backend()
    assert updated.status == again.get("1000000001").status == "paid"
    assert [(j.kind, j.order_id, j.attempts) for j in again.jobs()] == [("provision", "1000000001", 0)]
    assert [j.kind for j in again.jobs("1000000001")] == ["provision"]
    assert again.jobs("1000000002") == []


def test_unchanged_and_failing_changes_write_nothing(store_backend: Opener) -> None:
    store = store_backend()
    run(store.create(make_order(1)))

    def keep(order: Order) -> None:
        order.status = "paid"  # a change that must not be written
        raise Unchanged

    def broken(order: Order) -> None:
        order.status = "paid"
        raise ValueError("amount mismatch")

    assert run(store.update("1000000001", keep, enqueue=("provision",))).status == "awaiting_payment"
    with pytest.raises(ValueError, match="amount mismatch"):
        run(store.update("1000000001", broken, enqueue=("provision",)))
    with pytest.raises(UnknownOrder):
        run(store.update("1999999999", fail))
    with pytest.raises(UnknownOrder):
        run(store.enqueue("1999999999", "provision"))

    assert store_backend().get("1000000001").status == "awaiting_payment"
    assert store.jobs() == []


def test_updates_arriving_together_each_get_their_own_outcome(store_backend: Opener) -> None:
    """A burst of postLinks for different orders (PostgreSQL writes them in batches): one
    refused, one already done, one unknown invoice, and the rest paid with their jobs."""
    store = store_backend()
    for n in range(1, 31):
        run(store.create(make_order(n)))

    def outcome_of(order_id: str) -> Callable[[Order], None]:
        def change(order: Order) -> None:
            if order_id == "1000000007":
                raise ValueError("amount mismatch")
            if order_id == "1000000008":
                raise Unchanged
            order.status = "paid"
        return change

    async def burst() -> list[Any]:
        ids = [str(1_000_000_000 + n) for n in range(1, 31)] + ["1999999999"]
        return await asyncio.gather(*(store.update(i, outcome_of(i), enqueue=("provision",))
                                      for i in ids), return_exceptions=True)

    answers = run(burst())

    again = store_backend()
    assert isinstance(answers[6], ValueError) and isinstance(answers[30], UnknownOrder)
    assert answers[7].status == again.get("1000000008").status == "awaiting_payment"
    assert again.get("1000000007").status == "awaiting_payment"
    paid = [a.id for a in answers if isinstance(a, Order) and a.status == "paid"]
    assert paid == [str(1_000_000_000 + n) for n in range(1, 31) if n not in (7, 8)]
    assert sorted(j.order_id for j in again.jobs()) == paid
    assert all(again.get(i).status == "paid" for i in paid)


def test_fifty_concurrent_identical_payments_make_one_transition(store_backend: Opener) -> None:
    """As 50 copies of one postLink would: each checks the freshest order before changing it."""
    store = store_backend()
    run(store.create(make_order(1)))
    # Whether each delivery's change made the transition, as of its last run: a change may
    # run again on a fresher copy (PostgreSQL, when another writer came in between).
    transitioned = [False] * 50

    def pay(delivery: int, order: Order) -> None:
        transitioned[delivery] = False
        time.sleep(0.002)  # checks take time: the other deliveries arrive meanwhile
        if order.status == "paid":
            raise Unchanged
        order.status = "paid"
        order.log("paid")
        transitioned[delivery] = True

    async def burst() -> None:
        await asyncio.gather(*(store.update("1000000001", functools.partial(pay, n),
                                            enqueue=("provision",)) for n in range(50)))

    run(burst())

    paid = store_backend().get("1000000001")
    assert transitioned.count(True) == 1  # one change applied; 49 saw it done
    assert [e["event"] for e in paid.timeline].count("paid") == 1
    assert [(j.kind, j.requests) for j in store.jobs()] == [("provision", 0)]


def test_a_job_asked_for_twice_is_one_job_due_now(store_backend: Opener) -> None:
    store = store_backend()
    run(store.create(make_order(1)))
    run(store.enqueue("1000000001", "provision", delay_s=300))
    [first] = store.jobs()
    assert store.due_jobs() == []
    assert store.next_due_at() == pytest.approx(first.due_at)

    run(store.enqueue("1000000001", "provision"))

    [job] = store.due_jobs()
    assert job.id == first.id and job.requests == first.requests + 1
    # The runner started the job before the second request: finishing keeps it for one more run.
    run(store.finish_job(job.id, requests=first.requests))
    assert [j.id for j in store.due_jobs()] == [job.id]
    run(store.finish_job(job.id, requests=job.requests))
    assert store.jobs() == []
    assert store.next_due_at() is None
    run(store.finish_job(job.id))  # a job already gone: nothing happens


def test_retry_counts_the_attempt_and_delays_the_job(store_backend: Opener) -> None:
    store = store_backend()
    run(store.create(make_order(1)))
    run(store.enqueue("1000000001", "provision"))
    [job] = store.jobs()

    run(store.retry_job(job.id, 60, "TransientError: aggregator timeout"))

    [job] = store_backend().jobs()
    assert job.attempts == 1 and job.last_error == "TransientError: aggregator timeout"
    assert store.due_jobs() == []
    run(store.retry_job(job.id + 1000, 60, "gone"))  # a job already gone: nothing happens


def test_a_retry_keeps_a_request_that_came_while_the_job_ran(store_backend: Opener) -> None:
    store = store_backend()
    run(store.create(make_order(1)))
    run(store.enqueue("1000000001", "provision"))
    [running] = store.claim_jobs()
    run(store.enqueue("1000000001", "provision"))  # a webhook says "check now" meanwhile

    run(store.retry_job(running.id, 60, "RetryLater: not ready", requests=running.requests))

    [job] = store.due_jobs()
    assert job.id == running.id and job.attempts == 1
    run(store.retry_job(job.id, 60, "RetryLater: not ready", requests=job.requests))
    assert store.due_jobs() == []  # no new request: it waits for its delay


def live_ids(store_backend: Opener) -> list[str]:
    """The orders in the live set, as another process opening the store finds them."""
    return [o.id for o in store_backend().live_orders()]


def test_finished_orders_leave_the_live_set_and_stay_readable(store_backend: Opener) -> None:
    store = store_backend()
    run(store.create(make_order(1)))
    run(store.create(make_order(2)))

    run(store.update("1000000001", fail))

    assert live_ids(store_backend) == ["1000000002"]
    again = store_backend()
    assert again.get("1000000001").status == "payment_failed"
    assert again.by_token(make_order(1).token).id == "1000000001"
    assert [o.id for o in again.by_email("Buyer1@Example.kz")] == ["1000000001"]
    assert again.count() == 2
    assert [o.id for o in again.search(lambda o: o.status == "payment_failed")] == ["1000000001"]


def test_an_archived_order_can_still_change_and_the_last_version_wins(store_backend: Opener) -> None:
    store = store_backend()
    run(store.create(make_order(1)))
    run(store.update("1000000001", fail))

    def refund_started(order: Order) -> None:
        order.log("refund_requested")

    run(store.update("1000000001", refund_started, enqueue=("refund",)))
    assert live_ids(store_backend) == ["1000000001"]  # a pending job brings it back to the live set

    def refunded(order: Order) -> None:
        order.status = "refunded"

    run(store.update("1000000001", refunded))
    [job] = store.jobs()
    run(store.finish_job(job.id))

    assert live_ids(store_backend) == []
    again = store_backend()
    assert again.get("1000000001").status == "refunded"
    assert [o.status for o in again.search(lambda o: o.id == "1000000001")] == ["refunded"]
    if isinstance(store, OrderStore):  # the embedded archive keeps each version till compaction
        assert len(store.archive.path.read_text().splitlines()) == 2
    assert again.compact_archive() == 1
    assert again.get("1000000001").status == "refunded"


def test_the_store_answers_the_readiness_probe_until_it_cannot(store_backend: Opener) -> None:
    store = store_backend()
    store.probe()
    if isinstance(store, OrderStore):
        store.path.parent.rename(store.path.parent.with_name("gone"))  # the disk went away
    else:
        store.close()  # the database went away
    with pytest.raises(OSError):
        store.probe()


def test_an_unreachable_database_stops_start_up_naming_orders_db(settings: Any) -> None:
    from dataclasses import replace

    from loopback import free_port

    from worker.config import SettingError
    from worker.orders.backends import open_store

    url = f"postgresql://qazaq:hunter2@127.0.0.1:{free_port()}/qazaq"  # nothing listens there

    with pytest.raises(SettingError, match=r"ORDERS_DB: PostgreSQL at 127\.0\.0\.1.*start it") as error:
        open_store(replace(settings, orders_url=url))
    assert "hunter2" not in str(error.value)

"""What only the PostgreSQL store's updates can get wrong: an order the database refuses
fails its own update, not the others written in the same batch; an order another process
changed between the read and the write is changed again on the fresh copy."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest
from store_helpers import make_order

from worker.orders.model import Order
from worker.orders.postgres import PgOrderStore


def test_an_order_the_database_refuses_fails_alone(pg_url: str) -> None:
    store = PgOrderStore.open(pg_url)

    def pay(order: Order) -> None:
        order.status = "paid"
        if order.id == "1000000005":
            order.failure_reason = "NUL \x00 in a partner's text"  # jsonb takes no \\u0000

    async def burst() -> list[Any]:
        for n in range(1, 11):
            await store.create(make_order(n))
        return await asyncio.gather(*(store.update(str(1_000_000_000 + n), pay,
                                                   enqueue=("provision",)) for n in range(1, 11)),
                                    return_exceptions=True)

    try:
        answers = asyncio.run(burst())
        refused = answers.pop(4)
        assert isinstance(refused, psycopg.Error)
        assert [a.status for a in answers] == ["paid"] * 9
        assert store.get("1000000005").status == "awaiting_payment"
        assert sorted(j.order_id for j in store.jobs()) == [a.id for a in answers]
    finally:
        store.close()


def test_a_lone_update_the_database_refuses_fails_and_writes_nothing(pg_url: str) -> None:
    store = PgOrderStore.open(pg_url)

    def refused(order: Order) -> None:
        order.status = "paid"
        order.failure_reason = "\x00"

    async def scenario() -> None:
        await store.create(make_order(1))
        await store.update("1000000001", refused, enqueue=("provision",))

    try:
        with pytest.raises(psycopg.Error):
            asyncio.run(scenario())
        assert store.get("1000000001").status == "awaiting_payment" and store.jobs() == []
    finally:
        store.close()


def test_an_order_another_process_changed_meanwhile_is_changed_again_on_its_fresh_copy(
        pg_url: str) -> None:
    """Another process writes the order between this one's read and write: this write is
    refused (the revision moved on) and the change runs again on the fresh, locked copy."""
    store = PgOrderStore.open(pg_url)
    seen: list[str | None] = []

    def pay(order: Order) -> None:
        seen.append(order.failure_reason)
        if len(seen) == 1:  # the other process's write lands now
            with psycopg.connect(pg_url, autocommit=True) as other:
                other.execute("UPDATE orders SET rev = rev + 1, data = jsonb_set(data, "
                              "'{failure_reason}', '\"noted by another host\"') WHERE id = %s",
                              (order.id,))
        order.status = "paid"

    async def scenario() -> Order:
        await store.create(make_order(1))
        return await store.update("1000000001", pay, enqueue=("provision",))

    try:
        answer = asyncio.run(scenario())
        stored = store.get("1000000001")
        assert seen == [None, "noted by another host"]
        assert answer == stored
        assert (stored.status, stored.failure_reason) == ("paid", "noted by another host")
        assert [j.kind for j in store.jobs()] == ["provision"]
    finally:
        store.close()

"""What only the PostgreSQL store's batched updates can get wrong: an order the database
refuses fails its own update, not the others written in the same batch."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
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

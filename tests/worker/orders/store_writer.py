"""A process that writes orders as fast as it can and prints each one once it is acknowledged.

Usage: python store_writer.py ORDERS_DB FIRST_NUMBER (a path or a postgresql:// URL). Every third order is then marked
failed (which archives it) and printed as `archived <id>`. The kill -9 test kills it.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

# The checkout first (tests/worker must not shadow the worker package), then tests/ for store_helpers.
TESTS = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(TESTS.parent), str(TESTS)]

from store_helpers import make_order

from worker.orders.model import Order
from worker.orders.postgres import PgOrderStore
from worker.orders.store import OrderStore


def fail(order: Order) -> None:
    order.status = "payment_failed"


async def main(path: str, first: int) -> None:
    store = PgOrderStore.open(path) if path.startswith("postgresql://") else OrderStore.open(path)
    n = first
    while True:
        batch = [make_order(n + i) for i in range(5)]
        # Several writers at once, as concurrent requests would: one group commit.
        await asyncio.gather(*(store.create(o) for o in batch))
        for order in batch:
            print(f"created {order.id}", flush=True)
        await store.update(batch[0].id, fail)
        print(f"archived {batch[0].id}", flush=True)
        n += 5


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))

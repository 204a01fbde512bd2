"""Wait for an order in the store to reach a state, failing with where it got stuck."""

from __future__ import annotations

import time
from collections.abc import Callable

from worker.orders.model import Order
from worker.orders.store import OrderStore


def stored(store: OrderStore, order_id: str) -> Order:
    order = store.get(order_id)
    assert order is not None, f"order {order_id} is not in the store"
    return order


def wait_until(
    store: OrderStore, order_id: str, test: Callable[[Order], bool],
    timeout: float = 10.0, interval: float = 0.02,
) -> Order:
    """The order once ``test`` is true of it; AssertionError with its status and timeline if
    that takes longer than ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        order = stored(store, order_id)
        if test(order):
            return order
        if time.monotonic() > deadline:
            raise AssertionError(f"order {order_id} stuck: {order.status}, {order.timeline}")
        time.sleep(interval)

"""Settle orders whose callback never came: ask check-status about orders awaiting payment, each
on its own backing-off schedule (worker/payments/status_schedule.py), within a budget of calls.

Runs every RECONCILE_INTERVAL seconds in the worker's lifespan. An order Epay still knows
nothing about at the end of the payment window is marked abandoned (it stays
`awaiting_payment` for the buyer, leaves the live set and is no longer polled); a late
callback still settles it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from worker import metrics
from worker.orders.model import Order, utc_now
from worker.orders.store import Unchanged
from worker.payments.confirm import PaymentMismatch, settle
from worker.payments.epay import EpayError
from worker.payments.status_schedule import PAYMENT_WINDOW_S, calls_per_pass, next_ask
from worker.services import Services

log = logging.getLogger("worker.payments.reconciler")

CONCURRENCY = 4


def due_orders(services: Services, now: datetime) -> list[tuple[Order, float]]:
    """The orders awaiting payment whose next ask has come, youngest first, with their age."""
    asked = services.status_asks
    due = []
    waiting = [o for o in services.store.live_orders()
               if o.status == "awaiting_payment" and o.abandoned_at is None]
    for gone in asked.keys() - {o.id for o in waiting}:  # settled meanwhile by a callback
        del asked[gone]
    for o in waiting:
        age = (now - datetime.fromisoformat(o.created_at)).total_seconds()
        at = next_ask(asked.get(o.id))
        if at is not None and at <= age:
            due.append((o, age))
    return sorted(due, key=lambda pair: pair[1])


async def reconcile_once(
    services: Services, now: datetime | None = None, budget: int | None = None
) -> dict[str, int]:
    """One pass over the orders due to be asked (at most ``budget``); how many ended in each outcome."""
    now = now or datetime.now(UTC)
    waiting = due_orders(services, now)[:budget]
    counts = {"paid": 0, "failed": 0, "pending": 0, "abandoned": 0, "error": 0}
    slots = asyncio.Semaphore(CONCURRENCY)

    async def one(order: Order, age: float) -> None:
        async with slots:
            services.status_asks[order.id] = age
            try:
                outcome: str = await settle(services, order)
            except (EpayError, PaymentMismatch) as exc:
                log.warning("reconciler: order %s: %s", order.id, exc)
                counts["error"] += 1
                return
            if outcome == "pending" and age >= PAYMENT_WINDOW_S:
                await abandon(services, order)
                outcome = "abandoned"
            if outcome != "pending":
                services.status_asks.pop(order.id, None)
            counts[outcome] += 1

    await asyncio.gather(*(one(o, age) for o, age in waiting))
    if any(counts[k] for k in ("paid", "failed", "abandoned")):
        log.info("reconciler: %s", counts)
    return counts


async def abandon(services: Services, order: Order) -> None:
    def change(o: Order) -> None:
        if o.status != "awaiting_payment" or o.abandoned_at:
            raise Unchanged
        o.abandoned_at = utc_now()
        o.log("abandoned", "Epay knows no payment at the end of the payment window")

    await services.store.update(order.id, change)


async def run(services: Services) -> None:
    """Reconcile forever, every RECONCILE_INTERVAL seconds (the lifespan cancels it)."""
    budget = calls_per_pass(services.settings.reconcile_interval)
    while True:
        await asyncio.sleep(services.settings.reconcile_interval)
        try:
            await reconcile_once(services, budget=budget)
        except Exception:  # keep reconciling; the next pass retries
            metrics.RECONCILER_PASSES.labels("failed").inc()
            log.exception("reconciler: pass failed")
        else:
            metrics.RECONCILER_PASSES.labels("done").inc()

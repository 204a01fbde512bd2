"""Settle orders whose callback never came: ask check-status for every order awaiting payment.

Runs every RECONCILE_INTERVAL seconds in the worker's lifespan (orders older than an hour
on every tenth pass). An order Epay still knows nothing about a day after checkout is marked
abandoned (it stays `awaiting_payment` for the buyer, leaves the live set and is no longer
polled); a late callback still settles it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from worker import metrics
from worker.orders.model import Order, utc_now
from worker.orders.store import Unchanged
from worker.payments.confirm import PaymentMismatch, settle
from worker.payments.epay import EpayError
from worker.services import Services

log = logging.getLogger("worker.payments.reconciler")

ABANDON_AFTER = timedelta(hours=24)
# Orders older than this are asked about on every OLD_EVERY-th pass only: a buyer who left
# the payform an hour ago rarely pays now, and Epay need not hear from us every minute.
RECENT = timedelta(hours=1)
OLD_EVERY = 10
CONCURRENCY = 4


async def reconcile_once(
    services: Services, now: datetime | None = None, old_too: bool = True
) -> dict[str, int]:
    """One pass over the orders awaiting payment; returns how many ended in each outcome."""
    now = now or datetime.now(UTC)
    waiting = [
        o for o in services.store.live_orders()
        if o.status == "awaiting_payment" and o.abandoned_at is None
        and (old_too or now - datetime.fromisoformat(o.created_at) < RECENT)
    ]
    counts = {"paid": 0, "failed": 0, "pending": 0, "abandoned": 0, "error": 0}
    slots = asyncio.Semaphore(CONCURRENCY)

    async def one(order: Order) -> None:
        async with slots:
            try:
                outcome: str = await settle(services, order)
            except (EpayError, PaymentMismatch) as exc:
                log.warning("reconciler: order %s: %s", order.id, exc)
                counts["error"] += 1
                return
            if outcome == "pending" and now - datetime.fromisoformat(order.created_at) > ABANDON_AFTER:
                await abandon(services, order)
                outcome = "abandoned"
            counts[outcome] += 1

    await asyncio.gather(*(one(o) for o in waiting))
    if any(counts[k] for k in ("paid", "failed", "abandoned")):
        log.info("reconciler: %s", counts)
    return counts


async def abandon(services: Services, order: Order) -> None:
    def change(o: Order) -> None:
        if o.status != "awaiting_payment" or o.abandoned_at:
            raise Unchanged
        o.abandoned_at = utc_now()
        o.log("abandoned", "Epay knows no payment a day after checkout")

    await services.store.update(order.id, change)


async def run(services: Services) -> None:
    """Reconcile forever, every RECONCILE_INTERVAL seconds (the lifespan cancels it)."""
    passes = 0
    while True:
        await asyncio.sleep(services.settings.reconcile_interval)
        passes += 1
        try:
            await reconcile_once(services, old_too=passes % OLD_EVERY == 0)
        except Exception:  # keep reconciling; the next pass retries
            metrics.RECONCILER_PASSES.labels("failed").inc()
            log.exception("reconciler: pass failed")
        else:
            metrics.RECONCILER_PASSES.labels("done").inc()

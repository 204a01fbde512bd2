"""The `refresh_usage` job: data used and install state of a delivered eSIM, as the aggregator
reports them (it updates usage every 2-3 hours), for "My eSIMs" and the refund rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from worker.orders.backends import Store
from worker.orders.model import Order, utc_now
from worker.orders.store import Unchanged

if TYPE_CHECKING:
    from worker.services import Services

STALE_AFTER = timedelta(hours=1)


def stale(order: Order, now: datetime | None = None) -> bool:
    """A delivered eSIM whose usage was not asked for within STALE_AFTER."""
    profile = order.profile
    if order.status != "delivered" or profile is None:
        return False
    if profile.usage_checked_at is None:
        return True
    checked = datetime.fromisoformat(profile.usage_checked_at)
    return (now or datetime.now(UTC)) - checked > STALE_AFTER


async def ask_for_fresh_usage(store: Store, orders: list[Order]) -> None:
    """Queue a refresh for each stale order; the page shows the new figures next time."""
    for order in orders:
        if stale(order):
            await store.enqueue(order.id, "refresh_usage")


async def refresh_usage(order: Order, services: Services) -> None:
    profile = order.profile
    if profile is None or not stale(order):
        return
    provider = services.provider
    usage = await provider.usage([profile.esim_tran_no])
    status = await provider.status(profile.provider_order_no)
    used = max([u.used_bytes for u in usage] + [0])
    installed = status is not None and status.installed

    def change(o: Order) -> None:
        if o.profile is None:
            raise Unchanged
        o.profile.used_bytes = max(used, o.profile.used_bytes or 0)
        o.profile.installed = o.profile.installed or installed
        o.profile.usage_checked_at = utc_now()

    await services.store.update(order.id, change)

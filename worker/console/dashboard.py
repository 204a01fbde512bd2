"""The console's dashboard: the last 30 days per day, from the order store (no third-party script:
the charts are SVG drawn by the template)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from worker.orders.backends import Store
from worker.orders.model import Order

DAYS = 30


@dataclass(frozen=True)
class Day:
    day: str
    orders: int  # paid orders
    revenue: int  # ₸ paid
    refunds: int  # ₸ refunded
    delivery_p50: float | None  # seconds from payment to delivery
    delivery_p95: float | None


def _delivered_at(order: Order) -> str | None:
    return next((e["at"] for e in order.timeline if e["event"] == "delivered"), None)


def _seconds(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def days(store: Store, today: date | None = None) -> list[Day]:
    """One Day for each of the last 30 days, oldest first (UTC dates)."""
    last = today or datetime.now(UTC).date()
    first = (last - timedelta(days=DAYS - 1)).isoformat()
    paid = store.search(lambda o: o.payment is not None and o.payment.paid_at[:10] >= first)
    refunded = store.search(lambda o: o.refund is not None and (o.refund.epay_refunded_at or "")[:10] >= first)
    result = []
    for n in range(DAYS):
        day = (last - timedelta(days=DAYS - 1 - n)).isoformat()
        mine = [o for o in paid if o.payment and o.payment.paid_at[:10] == day]
        waits = sorted(_seconds(o.payment.paid_at, at) for o in mine
                       if o.payment and (at := _delivered_at(o)))
        result.append(Day(
            day, len(mine), sum(o.amount for o in mine),
            sum(o.refund.amount for o in refunded
                if o.refund and (o.refund.epay_refunded_at or "")[:10] == day),
            statistics.median(waits) if waits else None,
            waits[min(len(waits) - 1, int(len(waits) * 0.95))] if waits else None,
        ))
    return result

"""Reconciliation: each order of a period against Epay's status and the aggregator's profile.

Lists every mismatch (money taken and no eSIM, an eSIM and no money, a refund in one place
and not the other) for a person to settle; it changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from worker.orders.model import Order
from worker.payments.epay import EpayError
from worker.provisioning.provider import ProviderError

from .support import in_period

if TYPE_CHECKING:
    from worker.services import Services

# An order still paid or provisioning after this long is stuck, not in progress.
IN_PROGRESS = timedelta(hours=1)
KINDS = {
    "paid_not_delivered": "Epay took the money but the buyer has no eSIM",
    "delivered_not_paid": "the buyer has an eSIM but Epay has no captured payment",
    "refunded_here_only": "refunded in our records, not at Epay",
    "refunded_at_epay_only": "refunded at Epay, not in our records",
    "not_cancelled_at_aggregator": "refunded, but the profile is not cancelled at the aggregator",
    "cancelled_at_aggregator_only": "cancelled at the aggregator, but not refunded here",
    "profile_missing": "delivered, but the aggregator has no profile for the order",
    "unchecked": "Epay or the aggregator did not answer: run again",
}


@dataclass(frozen=True)
class Mismatch:
    order_id: str
    kind: str  # a key of KINDS
    ours: str  # our status
    epay: str | None  # Epay statusName (and refunded amount), None if unknown there
    aggregator: str | None  # esimStatus/smdpStatus, None if no profile there
    detail: str


async def find_mismatches(services: Services, start: date, end: date) -> list[Mismatch]:
    orders = services.store.search(lambda o: in_period(o.created_at, start, end))
    found: list[Mismatch] = []
    for order in sorted(orders, key=lambda o: o.created_at):
        found += await check(services, order)
    return found


async def check(services: Services, order: Order) -> list[Mismatch]:
    order_no = order.profile.provider_order_no if order.profile else order.provider_order_no
    try:
        status = await services.epay.check_status(order.id)
        agg = await services.provider.status(order_no) if order_no else None
    except (EpayError, ProviderError) as error:
        return [Mismatch(order.id, "unchecked", order.status, None, None, str(error)[:200])]
    tx = status.transaction if status.found else None
    name = status.status_name if tx else None
    payout = _number(tx.get("payoutAmount")) if tx else 0.0
    epay_refunded = name == "REFUND" or payout > 0
    epay_charged = name == "CHARGE" and not epay_refunded
    epay = f"{name} (refunded {payout:g})" if epay_refunded else name
    ours_refunded = order.status == "refunded"
    refunding = order.refund is not None and not ours_refunded
    stuck = order.status in ("paid", "provisioning") and _age(order) > IN_PROGRESS

    kinds = []
    if epay_charged and (order.status in ("awaiting_payment", "payment_failed")
                         or stuck or (order.status == "provisioning_failed" and not refunding)):
        kinds.append("paid_not_delivered")
    if order.status in ("delivered", "paid", "provisioning") and not epay_charged and not epay_refunded:
        kinds.append("delivered_not_paid")
    if ours_refunded and not epay_refunded:
        kinds.append("refunded_here_only")
    if epay_refunded and not ours_refunded and not refunding:
        kinds.append("refunded_at_epay_only")
    if ours_refunded and order.profile is not None and agg is not None and not agg.gone:
        kinds.append("not_cancelled_at_aggregator")
    if agg is not None and agg.cancelled and not ours_refunded and not refunding:
        kinds.append("cancelled_at_aggregator_only")
    if order.status == "delivered" and agg is None:
        kinds.append("profile_missing")
    aggregator = agg.words if agg else None
    return [Mismatch(order.id, kind, order.status, epay, aggregator, KINDS[kind]) for kind in kinds]


def _number(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0


def _age(order: Order) -> timedelta:
    return datetime.now(UTC) - datetime.fromisoformat(order.updated_at)

"""What the console shows before a refund: the offer's rule for this order and the facts it rests on."""

from __future__ import annotations

from dataclasses import dataclass

from worker.orders.model import Order
from worker.provisioning.provider import ProviderError
from worker.refunds import RefundRefused, check_rules, check_unused
from worker.services import Services

# The clause of the public offer behind each rule of worker/refunds.py.
CLAUSES = {
    "paid": "6.3", "not_refunded_already": "6.3", "at_most_paid": "6.3",
    "failed_or_non_functional": "5.2, 5.4", "zero_usage": "5.4", "never_installed": "5.3, 5.4",
    "epay_minimum": "Epay's minimum refund", "reason": "our records", "order_exists": "our records",
}


@dataclass(frozen=True)
class Facts:
    status: str
    amount_paid: int
    delivered: bool
    installed: bool | None
    used_bytes: int | None
    aggregator_status: str | None


@dataclass(frozen=True)
class Verdict:
    facts: Facts
    allowed: bool
    rule: str | None = None
    clause: str | None = None
    detail: str = ""


def clause(rule: str | None) -> str:
    return CLAUSES.get(rule or "", "the offer")


async def facts(services: Services, order: Order) -> Facts:
    """The facts, the usage and status fresh from the aggregator (unknown when it does not answer)."""
    profile = order.profile
    used = profile.used_bytes if profile else None
    installed = profile.installed if profile else None
    words: str | None = None
    if profile is not None:
        try:
            usage = await services.provider.usage([profile.esim_tran_no])
            status = await services.provider.status(profile.provider_order_no)
        except ProviderError:
            pass
        else:
            used = max([u.used_bytes for u in usage] + [used or 0])
            words = status.words if status else None
            installed = installed or bool(status and status.installed)
    return Facts(order.status, order.amount, order.status == "delivered" or bool(order.email_sent_at),
                 installed, used, words)


async def verdict(services: Services, order: Order, *, non_functional: bool) -> Verdict:
    """Would the offer allow refunding the whole amount now? The same rules the refund applies."""
    found = await facts(services, order)
    try:
        check_rules(order, non_functional, order.amount)
        if order.status == "delivered":
            await check_unused(services, order)
    except RefundRefused as refused:
        return Verdict(found, False, refused.rule, clause(refused.rule), str(refused))
    return Verdict(found, True)

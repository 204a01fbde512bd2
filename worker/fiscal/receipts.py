"""The `fiscal_sale` and `fiscal_return` jobs: register the receipt, keep it, mail the buyer its link.

Each step is persisted before the next: the receipt in `order.fiscal[operation]`, then the
e-mail in `order.fiscal[operation + "_mailed_at"]`. An outage of the register raises, so
the job runner retries with backoff; delivery never waits for a receipt. The pending jobs
are the operator's "pending receipts" queue (worker/operator).
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

from worker.jobs import RetryLater
from worker.mail import after_sale, smtp
from worker.orders.model import Order, utc_now
from worker.orders.store import Unchanged

from .register import Receipt, Ticket

if TYPE_CHECKING:
    from worker.services import Services

log = logging.getLogger("worker.fiscal")

KINDS = ("fiscal_sale", "fiscal_return")
# One id per order groups its sale and its return on the register's public page.
LINK_NAMESPACE = uuid.UUID("5d7f3a52-6c1e-4a8e-9f0b-1c2d3e4f5a6b")


def jobs_after_payment(services: Services) -> tuple[str, ...]:
    """The jobs to enqueue with the `paid` transition: a sale receipt unless receipts are off."""
    return ("fiscal_sale",) if services.register is not None else ()


def ticket(order: Order, operation: str, amount: int) -> Ticket:
    assert order.payment is not None
    prefix = "sale" if operation == "sale" else "return"
    return Ticket(
        key=f"{prefix}-{order.payment.transaction_id}",  # persisted with the payment: stable
        item_name=f"eSIM {order.package_title}",
        amount_tiyn=amount * 100,
        order_id=order.id,
        link_id=str(uuid.uuid5(LINK_NAMESPACE, order.id)),
        email=order.email,
    )


async def fiscal_sale(order: Order, services: Services) -> None:
    if services.register is None or order.payment is None:
        return
    if "sale" not in order.fiscal:
        receipt = await services.register.sale(ticket(order, "sale", order.amount))
        order = await _keep(services, order.id, "sale", receipt)
    await _mail(services, order, "sale")


async def fiscal_return(order: Order, services: Services) -> None:
    if services.register is None or order.payment is None or order.refund is None:
        return
    if "return" not in order.fiscal:
        sale = order.fiscal.get("sale")
        if sale is None:  # the sale job is still pending: the return must cite its receipt
            raise RetryLater(60, "waiting for the sale receipt")
        receipt = await services.register.refund(
            ticket(order, "return", order.refund.amount), Receipt.from_dict(sale)
        )
        order = await _keep(services, order.id, "return", receipt)
    await _mail(services, order, "return")


async def _keep(services: Services, order_id: str, operation: str, receipt: Receipt) -> Order:
    def change(o: Order) -> None:
        if operation in o.fiscal:
            raise Unchanged
        o.fiscal[operation] = receipt.to_dict()
        offline = " (offline)" if receipt.offline else ""
        o.log(f"fiscal_{operation}", f"receipt {receipt.fiscal_number}{offline}")

    updated = await services.store.update(order_id, change)
    log.info("fiscal: order %s %s receipt registered", order_id, operation)
    return updated


async def _mail(services: Services, order: Order, operation: str) -> None:
    mailed = f"{operation}_mailed_at"
    if order.email is None or mailed in order.fiscal:
        return
    try:
        await smtp.send(
            services.settings, after_sale.fiscal_receipt(order, services.settings, operation)
        )
        outcome = utc_now()
    except smtp.MailError as error:
        if not error.permanent:
            raise
        outcome = "refused"  # the address is refused for good: the receipt stays on the order
        log.warning("fiscal: order %s receipt e-mail refused: %s", order.id, error)

    def change(o: Order) -> None:
        if mailed in o.fiscal:
            raise Unchanged
        o.fiscal[mailed] = outcome

    await services.store.update(order.id, change)

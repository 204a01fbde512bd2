"""Settle an order's payment from Epay's check-status: the only thing that marks an order paid.

Used by the `confirm_payment` job (after a verified callback), by the return links and by
the reconciler. Idempotent: the `paid` transition (with its `provision` or `apply_topup` job) is written at
most once, because it only applies to an order still awaiting payment (or failed, when
Epay later reports the money captured: a paid order is never lost).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Literal

from worker.crashpoints import crashpoint
from worker.fiscal.receipts import jobs_after_payment
from worker.jobs import GiveUp, RetryLater
from worker.orders.model import SETTLEABLE, Order, Payment
from worker.orders.store import Unchanged
from worker.payments.epay import EpayError, Status
from worker.retry import Backoff
from worker.services import Services

log = logging.getLogger("worker.payments")

Outcome = Literal["paid", "failed", "pending"]

FAILED = {"REJECT", "FAILED", "3D", "CANCEL", "CANCEL_OLD", "REFUND"}
# After a decline the buyer may try again on the payform with the same invoice; ask Epay
# once more this much later, in case a second try was charged and its callback lost.
RECHECK_AFTER_S = 1800.0
# resultCode: 102 unknown invoice (not paid yet, or never), 107 in progress.
PENDING_CODES = {102, 107}
STATUS_POLL = Backoff(first_s=1.0, ceiling_s=300.0, share=0.2)  # Epay has no final status yet


class PaymentMismatch(Exception):
    """Epay's transaction does not match the order (amount, currency or terminal)."""


async def settle(services: Services, order: Order) -> Outcome:
    """Ask check-status once (charging an AUTH hold) and write the outcome if it is final."""
    if order.status not in SETTLEABLE:
        return "paid"  # every status past the two settleable ones was paid first
    status = await services.epay.check_status(order.id)
    if status.result_code in PENDING_CODES:
        return "pending"
    if status.result_code == 101:
        await mark_failed(services, order, status.result_message or "rejected")
        return "failed"
    if not status.found or status.transaction is None:
        raise EpayError(f"check-status {order.id}: resultCode {status.result_code}")
    _check_matches(services, order, status)
    name = status.status_name
    if name == "AUTH":
        # Two-step terminal: the money is only held. Capture it, then believe the status.
        await services.epay.charge(str(status.transaction["id"]))
        crashpoint("confirm.after_charge")
        status = await services.epay.check_status(order.id)
        name = status.status_name
        if not status.found:
            raise EpayError(f"check-status {order.id} after charge: resultCode {status.result_code}")
        _check_matches(services, order, status)
    if name == "CHARGE":
        await mark_paid(services, order, status)
        return "paid"
    if name in FAILED:
        tx = status.transaction or {}
        await mark_failed(services, order, _reason(tx.get("reasonCode"), tx.get("reason")) or name)
        return "failed"
    return "pending"  # NEW, FINGERPRINT, AUTH not yet charged: ask again later


async def confirm_payment(order: Order, services: Services) -> None:
    """The `confirm_payment` job, enqueued with a verified callback."""
    if order.status not in SETTLEABLE:
        return
    try:
        outcome = await settle(services, order)
    except PaymentMismatch as exc:
        raise GiveUp(str(exc)) from None
    if outcome != "pending" or order.status == "payment_failed":
        return  # settled, or nothing new since the decline (recheck_payment looks later)
    callback = order.epay_callback or {}
    if callback.get("code") not in (None, "ok") and order.status == "awaiting_payment":
        # Epay told us, with the order's secret, that the payment failed, and its status API
        # has nothing better: the buyer sees the decline now rather than waiting.
        reason = _reason(callback.get("reason_code"), callback.get("reason")) or "declined"
        await mark_failed(services, order, reason)
        return
    raise RetryLater(_poll_delay(order), "Epay has no final status yet")


async def recheck_payment(order: Order, services: Services) -> None:
    """The `recheck_payment` job: a declined order, asked about once more (RECHECK_AFTER_S)."""
    if order.status == "payment_failed":
        await settle(services, order)


async def mark_paid(services: Services, order: Order, status: Status) -> None:
    tx = status.transaction or {}

    def change(o: Order) -> None:
        if o.status not in SETTLEABLE:
            raise Unchanged
        o.status = "paid"
        o.failure_reason = None
        o.abandoned_at = None
        o.payment = Payment(
            transaction_id=str(tx["id"]),
            reference=_text(tx.get("reference")),
            approval_code=_text(tx.get("approvalCode")),
            card_mask=_text(tx.get("cardMask")),
            card_type=_text(tx.get("cardType")),
            status_name="CHARGE",
        )
        o.log("paid", f"epay transaction {tx['id']}")

    crashpoint("confirm.before_paid")
    # A top-up adds to the eSIM it was bought for; a purchase buys one.
    deliver = "apply_topup" if order.topup_of else "provision"
    enqueue = (deliver, *jobs_after_payment(services))  # a receipt never delays the eSIM
    updated = await services.store.update(order.id, change, enqueue=enqueue)
    if updated.status == "paid":
        log.info("payments: order %s paid", order.id)


async def mark_failed(services: Services, order: Order, reason: str) -> None:
    def change(o: Order) -> None:
        if o.status != "awaiting_payment":
            raise Unchanged
        o.status = "payment_failed"
        o.failure_reason = reason[:200]
        o.log("payment_failed", reason[:200])

    await services.store.update(
        order.id, change, enqueue=("recheck_payment",), delay_s=RECHECK_AFTER_S
    )
    log.info("payments: order %s payment failed: %s", order.id, reason[:200])


def _check_matches(services: Services, order: Order, status: Status) -> None:
    tx = status.transaction or {}
    problems = []
    if not _same_amount(tx.get("amount"), order.amount):
        problems.append("amount")
    if str(tx.get("currency", order.currency)) != order.currency:
        problems.append("currency")
    terminal = tx.get("terminalID")
    if terminal is not None and str(terminal) != services.settings.epay_terminal_id:
        problems.append("terminal")
    if problems:
        log.error(
            "security: check-status of order %s disagrees on %s; not settled",
            order.id, ", ".join(problems),
        )
        raise PaymentMismatch(f"check-status disagrees on {', '.join(problems)}")


def _same_amount(value: object, amount: int) -> bool:
    try:
        return float(str(value)) == float(amount)
    except ValueError:
        return False


def _reason(code: object, text: object) -> str:
    code_s = str(code).strip() if code not in (None, "", 0, "0") else ""
    text_s = str(text).strip() if text else ""
    return f"{code_s}: {text_s}" if code_s and text_s else code_s or text_s


def _text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def _poll_delay(order: Order) -> float:
    """Ask often just after the callback (the buyer is waiting), then less: 1 s up to 5 min."""
    since = (order.epay_callback or {}).get("at") or order.created_at
    waited = (datetime.now(UTC) - datetime.fromisoformat(since)).total_seconds()
    return STATUS_POLL.after_waiting(waited)


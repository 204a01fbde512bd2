"""What support and the accountant ask of the order store: find, show, resend, queues, CSV exports."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

import phonenumbers

from worker.orders.backends import Store
from worker.orders.model import Order
from worker.orders.rules import mailable, request_email
from worker.payments.epay import EpayError
from worker.provisioning.provider import ProviderError
from worker.refunds import RefundFailed, RefundInProgress, RefundRefused, carry_out, request_refund
from worker.services import Services

FISCAL_JOBS = ("fiscal_sale", "fiscal_return")


def find_orders(store: Store, query: str) -> list[Order]:
    """Orders matching an e-mail address, a phone number, an invoice id (our order number) or an ICCID."""
    q = query.strip()
    if not q:
        return []
    if "@" in q:
        wanted = q.lower()
        return [o for o in store.by_email(wanted) if o.email and o.email.strip().lower() == wanted]
    phone = _e164(q)
    found = {o.id: o for o in [store.get(q)] if o is not None}
    for order in store.search(
        lambda o: (o.profile is not None and o.profile.iccid == q) or (phone is not None and o.phone == phone)
    ):
        found[order.id] = order
    return sorted(found.values(), key=lambda o: o.created_at, reverse=True)


def _e164(text: str) -> str | None:
    try:
        number = phonenumbers.parse(text, "KZ")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def summary(order: Order) -> dict[str, Any]:
    """One line of a search result, for a support person (personal data included: they need it)."""
    return {
        "order_id": order.id, "status": order.status, "created_at": order.created_at,
        "email": order.email, "phone": order.phone, "package": order.package_code,
        "amount": order.amount, "iccid": order.profile.iccid if order.profile else None,
    }


def detail(order: Order, store: Store) -> dict[str, Any]:
    """The whole order with its timeline and pending jobs; never the LPA or activation code."""
    data = order.to_dict()
    data.pop("secret_hash", None)
    data.pop("token", None)
    if data.get("profile"):
        data["profile"] = {k: v for k, v in data["profile"].items()
                           if k not in ("lpa", "activation_code")}
    data["jobs"] = [
        {"kind": j.kind, "attempts": j.attempts, "last_error": j.last_error}
        for j in store.jobs(order.id)
    ]
    return data


async def resend_qr(store: Store, order_id: str, operator: str) -> Order:
    """Send the delivery e-mail with the QR again (the `send_email` job)."""
    def change(o: Order) -> None:
        if not mailable(o):
            raise ValueError(f"order {o.id} has no delivered eSIM and address to send it to "
                             f"(status {o.status})")
        request_email(o, f"by {operator[:100]}")

    return await store.update(order_id, change, enqueue=("send_email",))


def pending_receipts(store: Store) -> list[dict[str, Any]]:
    """Fiscal receipts not registered yet (the register is down, or refuses): why and how often."""
    return [
        {"order_id": j.order_id, "kind": j.kind, "attempts": j.attempts,
         "last_error": j.last_error, "next_try": datetime.fromtimestamp(j.due_at).isoformat()}
        for j in store.jobs() if j.kind in FISCAL_JOBS
    ]


def in_period(order_time: str | None, start: date, end: date) -> bool:
    """`start` ≤ day ≤ `end`, both inclusive, by the UTC date of the ISO time."""
    return order_time is not None and start.isoformat() <= order_time[:10] <= end.isoformat()


ORDER_COLUMNS = ["order_id", "created_at", "status", "package", "amount_kzt", "currency",
                 "paid_at", "epay_transaction_id", "epay_reference", "fiscal_sale_number",
                 "refunded_kzt", "refunded_at"]
REFUND_COLUMNS = ["order_id", "requested_at", "refunded_at", "amount_kzt", "paid_kzt", "operator",
                  "reason", "epay_transaction_id", "profile_cancelled_at", "fiscal_return_number"]


def orders_csv(store: Store, start: date, end: date) -> str:
    """Orders created in the period, for the accountant: money records, no personal data."""
    rows = []
    for o in sorted(store.search(lambda o: in_period(o.created_at, start, end)), key=lambda o: o.created_at):
        refunded = o.refund is not None and o.refund.epay_refunded_at is not None
        rows.append([
            o.id, o.created_at, o.status, o.package_code, o.amount, o.currency,
            o.payment.paid_at if o.payment else "",
            o.payment.transaction_id if o.payment else "",
            (o.payment.reference or "") if o.payment else "",
            o.fiscal.get("sale", {}).get("fiscal_number", ""),
            o.refund.amount if o.refund and refunded else "",
            o.refund.epay_refunded_at if o.refund and refunded else "",
        ])
    return _csv(ORDER_COLUMNS, rows)


def refunds_csv(store: Store, start: date, end: date) -> str:
    """Refunds completed in the period: who, when, why, how much."""
    done = store.search(lambda o: o.refund is not None and in_period(o.refund.epay_refunded_at, start, end))
    rows = []
    for o in sorted(done, key=lambda o: o.refund.epay_refunded_at or ""):  # type: ignore[union-attr]
        r = o.refund
        assert r is not None
        rows.append([
            o.id, r.requested_at, r.epay_refunded_at, r.amount, o.amount, r.operator, r.reason,
            o.payment.transaction_id if o.payment else "", r.profile_cancelled_at or "",
            o.fiscal.get("return", {}).get("fiscal_number", ""),
        ])
    return _csv(REFUND_COLUMNS, rows)


def _csv(header: list[str], rows: list[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([[_cell(v) for v in row] for row in rows])
    return out.getvalue()


def _cell(value: Any) -> Any:
    """A text starting with = + - @ (or a tab or CR, or spaces before one of them) would be a
    formula in a spreadsheet: quote it."""
    if isinstance(value, str) and (value[:1] in ("\t", "\r")
                                   or value.lstrip(" \t\r\n")[:1] in ("=", "+", "-", "@")):
        return "'" + value
    return value


@dataclass(frozen=True)
class RefundOutcome:
    """What an operator's refund came to. ``refunded``: ``order`` is set; ``refused``: ``rule``
    names the rule; ``in_progress`` (another process) and ``retrying`` (the `refund` job
    carries on) are not failures; ``failed`` is. ``detail`` says why, for a person."""

    state: Literal["refunded", "refused", "in_progress", "retrying", "failed"]
    order: Order | None = None
    rule: str | None = None
    detail: str = ""


async def refund(
    services: Services, order_id: str, *, reason: str, operator: str, non_functional: bool,
    amount: int | None,
) -> RefundOutcome:
    """Request a refund and carry it out now: `invoke refund` and the operator API."""
    try:
        order = await request_refund(services, order_id, reason=reason, operator=operator,
                                     non_functional=non_functional, amount=amount)
        order = await carry_out(services, order.id)
    except RefundRefused as refused:
        return RefundOutcome("refused", rule=refused.rule, detail=str(refused))
    except RefundInProgress as waiting:
        return RefundOutcome("in_progress", detail=str(waiting))
    except RefundFailed as failed:
        return RefundOutcome("failed", detail=str(failed))
    except (EpayError, ProviderError) as error:  # recorded: the `refund` job carries on
        return RefundOutcome("retrying", detail=str(error))
    return RefundOutcome("refunded", order=order)

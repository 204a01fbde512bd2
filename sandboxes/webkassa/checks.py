"""Validation of a Webkassa v4 `Check` request, as the spec (§3, §11 step 5) describes it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .state import LOCAL, Receipt, State

CENT = Decimal("0.01")


class Invalid(Exception):
    """A validation failure: Webkassa answers code 9 with this text, naming the field."""


def lower_keys(value: Any) -> Any:
    """JSON keys are case-insensitive at Webkassa; the sandbox reads them lowercased."""
    if isinstance(value, dict):
        return {str(k).lower(): lower_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [lower_keys(v) for v in value]
    return value


def money(value: Any, name: str, *, allow_zero: bool = True) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise Invalid(f"{name} must be a number, got {value!r}")
    amount = Decimal(value)
    if amount != amount.quantize(CENT):
        raise Invalid(f"{name}={value} has more than 2 decimals")
    if amount < 0 or (amount == 0 and not allow_zero):
        raise Invalid(f"{name}={value} must be {'zero or ' if allow_zero else ''}positive")
    return amount


def request_hash(body: dict[str, Any]) -> str:
    payload = {k: v for k, v in body.items() if k != "token"}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def parse_basis_date(value: Any) -> datetime:
    """[V] writes ISO dates, [S] `yyyy-MM-dd HH:mm:ss`; the local `dd.MM.yyyy` form is accepted too."""
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        for parse in (
            datetime.fromisoformat,
            lambda s: datetime.strptime(s, "%Y-%m-%d %H:%M:%S"),
            lambda s: datetime.strptime(s, "%d.%m.%Y %H:%M:%S"),
        ):
            try:
                parsed = parse(text)
            except ValueError:
                continue
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=LOCAL)
    raise Invalid(f"ReturnBasisDetails.DateTime={value!r} is not a date")


@dataclass
class CheckRequest:
    operation_type: int
    total: Decimal
    positions: list[dict[str, Any]]
    payments: list[tuple[int, Decimal]]
    key: str | None
    email: str | None
    link_id: str | None
    basis: Receipt | None


def position_sum(position: dict[str, Any], i: int) -> Decimal:
    name = f"Positions[{i}]"
    count = money(position.get("count"), f"{name}.Count", allow_zero=False)
    price = money(position.get("price"), f"{name}.Price")
    discount = money(position.get("discount", 0) or 0, f"{name}.Discount")
    markup = money(position.get("markup", 0) or 0, f"{name}.Markup")
    if not str(position.get("positionname") or "").strip():
        raise Invalid(f"{name}.PositionName is required")
    if not isinstance(position.get("unitcode"), int):
        raise Invalid(f"{name}.UnitCode is required (796 piece, 5114 service)")
    total = (count * price - discount + markup).quantize(CENT, ROUND_HALF_UP)
    tax_type = position.get("taxtype")
    if tax_type not in (0, 100):
        raise Invalid(f"{name}.TaxType={tax_type!r} must be 0 (no VAT) or 100 (VAT)")
    percent = money(position.get("taxpercent", 0) or 0, f"{name}.TaxPercent")
    tax = money(position.get("tax", 0) or 0, f"{name}.Tax")
    if tax_type == 0 and (percent or tax):
        raise Invalid(f"{name}: TaxType 0 needs TaxPercent 0 and Tax 0")
    expected = (total * percent / (100 + percent)).quantize(CENT, ROUND_HALF_UP)
    if abs(tax - expected) > CENT:
        raise Invalid(f"{name}.Tax={tax} but {total}×{percent}/(100+{percent}) is {expected}")
    return total


def validate(state: State, cashbox: str, body: dict[str, Any]) -> CheckRequest:
    """Raise Invalid naming the first bad field; return the parsed request otherwise."""
    operation = body.get("operationtype")
    if operation not in (0, 1, 2, 3):
        raise Invalid(f"OperationType={operation!r} must be 0, 1, 2 (sale) or 3 (sale return)")
    positions = body.get("positions")
    if not isinstance(positions, list) or not positions:
        raise Invalid("Positions must list at least one position")
    if not state.cashboxes[cashbox].vat_payer and any(
        isinstance(p, dict) and p.get("taxtype") == 100 for p in positions
    ):
        raise Invalid("TaxType 100 (VAT) is not allowed: the cashbox's organisation pays no VAT")
    total = Decimal(0)
    for i, position in enumerate(positions):
        if not isinstance(position, dict):
            raise Invalid(f"Positions[{i}] must be an object")
        total += position_sum(position, i)
    for i, modifier in enumerate(body.get("ticketmodifiers") or []):
        amount = money(modifier.get("sum"), f"TicketModifiers[{i}].Sum")
        kind = modifier.get("type")
        if kind not in (1, 2):
            raise Invalid(f"TicketModifiers[{i}].Type={kind!r} must be 1 (discount) or 2 (markup)")
        total += amount if kind == 2 else -amount
    payments_in = body.get("payments")
    if not isinstance(payments_in, list) or not payments_in:
        raise Invalid("Payments must list at least one payment")
    payments: list[tuple[int, Decimal]] = []
    for i, payment in enumerate(payments_in):
        kind = payment.get("paymenttype") if isinstance(payment, dict) else None
        if kind not in (0, 1, 2, 3, 4):
            raise Invalid(f"Payments[{i}].PaymentType={kind!r} must be 0, 1, 2, 3 or 4")
        if any(kind == seen for seen, _ in payments):
            raise Invalid(f"Payments[{i}].PaymentType={kind} appears twice")
        payments.append((kind, money(payment.get("sum"), f"Payments[{i}].Sum")))
    paid = sum((amount for _, amount in payments), Decimal(0))
    change_in = body.get("change")
    change = paid - total if change_in is None else money(change_in, "Change")
    if change < 0 or paid - change != total:
        raise Invalid(
            f"Payments minus Change is {paid - change} but the positions and modifiers total {total}"
        )
    key = body.get("externalchecknumber")
    if key is not None and (not isinstance(key, str) or not 1 <= len(key) <= 50):
        raise Invalid("ExternalCheckNumber must be 1-50 characters")
    basis = None
    if operation == 3:
        basis = return_basis(state, cashbox, body.get("returnbasisdetails"), total)
    email = body.get("customeremail")
    link_id = body.get("externallinkid")
    return CheckRequest(
        operation_type=operation,
        total=total,
        positions=positions,
        payments=payments,
        key=key,
        email=email if isinstance(email, str) and email else None,
        link_id=str(link_id) if link_id else None,
        basis=basis,
    )


def return_basis(state: State, cashbox: str, details: Any, total: Decimal) -> Receipt | None:
    if not isinstance(details, dict):
        raise Invalid("ReturnBasisDetails is required on a sale return (OperationType 3)")
    for name in ("checknumber", "datetime", "registrationnumber", "total", "isoffline"):
        if details.get(name) is None:
            raise Invalid(f"ReturnBasisDetails.{name} is required")
    parse_basis_date(details["datetime"])
    basis_total = money(details["total"], "ReturnBasisDetails.Total")
    if not state.faults.strict_returns:
        return None
    sale = next(
        (
            r for r in state.receipts
            if r.cashbox == cashbox and r.operation_type == 2
            and r.check_number == str(details["checknumber"])
        ),
        None,
    )
    registration = state.cashboxes[cashbox].registration_number
    if sale is None or str(details["registrationnumber"]) != registration:
        raise Invalid("ReturnBasisDetails does not match a sale on this cashbox")
    if basis_total != sale.total or bool(details["isoffline"]) != sale.offline:
        raise Invalid("ReturnBasisDetails.Total or IsOffline differs from the original sale")
    if total > sale.total - sale.returned:
        raise Invalid(
            f"return of {total} exceeds what remains of the sale ({sale.total - sale.returned})"
        )
    return sale

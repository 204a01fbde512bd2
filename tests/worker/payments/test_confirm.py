"""Settling a payment (worker/payments/confirm.py) against the Epay sandbox: a transaction that
does not match the order is never marked paid, a stale job settles once, a decline the callback
reported is shown at once, a finished order is not asked about again."""

from __future__ import annotations

from dataclasses import replace

import pytest
from after_sale import AfterSale

from worker.jobs import GiveUp
from worker.orders.model import Order
from worker.payments.confirm import confirm_payment, settle
from worker.services import Services

pytestmark = pytest.mark.anyio


async def test_money_charged_for_another_amount_does_not_pay_the_order(after_sale: AfterSale) -> None:
    order = await after_sale.order("awaiting_payment")
    after_sale.charge(order.id, 100)  # not the 4990 KZT the order costs

    with pytest.raises(GiveUp, match="check-status disagrees on amount"):
        await confirm_payment(order, after_sale.services)

    after = after_sale.store.get(order.id)
    assert after is not None and after.status == "awaiting_payment" and after.payment is None
    assert after_sale.store.jobs(order.id) == []  # no eSIM is bought


@pytest.mark.parametrize(("change", "problem"), [
    ({"currency": "USD"}, "currency"), ({"terminal": "0f0e0d0c-0000-4000-8000-000000000000"}, "terminal")])
async def test_a_payment_in_another_currency_or_to_another_terminal_is_refused(
        after_sale: AfterSale, change: dict[str, str], problem: str) -> None:
    order = await after_sale.order("awaiting_payment")
    after_sale.charge(order.id, 4990)
    if "currency" in change:
        order = await after_sale.store.update(order.id, lambda o: setattr(o, "currency", "USD"))
        services = after_sale.services
    else:  # our terminal is another one of the merchant's: this money is not this shop's
        other = {"terminals": {after_sale.services.settings.epay_terminal_id: "sms",
                               change["terminal"]: "sms"}}
        after_sale.epay.post("/_sandbox/options", json=other).raise_for_status()
        services = Services.open(replace(after_sale.services.settings,
                                         epay_terminal_id=change["terminal"]))
    try:
        with pytest.raises(GiveUp, match=f"disagrees on {problem}"):
            await confirm_payment(order, services)
    finally:
        if services is not after_sale.services:
            await services.aclose()
    after = after_sale.store.get(order.id)
    assert after is not None and after.status == "awaiting_payment"


async def test_a_stale_copy_of_a_paid_order_pays_it_once(after_sale: AfterSale) -> None:
    order = await after_sale.order("awaiting_payment")
    after_sale.charge(order.id, 4990)

    await confirm_payment(order, after_sale.services)
    await confirm_payment(order, after_sale.services)  # the job again, with its old copy

    after = after_sale.store.get(order.id)
    assert after is not None and after.status == "paid"
    assert [e["event"] for e in after.timeline].count("paid") == 1
    assert [j.kind for j in after_sale.store.jobs(order.id)] == ["provision"]


async def test_a_decline_reported_by_the_callback_is_shown_when_epay_has_no_status(
        after_sale: AfterSale) -> None:
    order = await after_sale.order("awaiting_payment")  # never charged: check-status says 102

    def declined(o: Order) -> None:
        o.epay_callback = {"code": "error", "reason_code": "05", "reason": "Do not honour"}

    order = await after_sale.store.update(order.id, declined)
    await confirm_payment(order, after_sale.services)

    after = after_sale.store.get(order.id)
    assert after is not None and after.status == "payment_failed"
    assert after.failure_reason == "05: Do not honour"


async def test_a_paid_order_is_not_asked_about_again(after_sale: AfterSale) -> None:
    delivered = await after_sale.order("delivered")
    refunded = await after_sale.order("provisioning_failed")
    refunded = await after_sale.store.update(refunded.id, lambda o: setattr(o, "status", "refunded"))
    # Epay is out of reach: an answer without asking it is the only way to pass.
    cut_off = Services.open(replace(after_sale.services.settings, epay_api_url="http://127.0.0.1:9",
                                    epay_oauth_url="http://127.0.0.1:9/oauth2/token"))
    try:
        assert await settle(cut_off, delivered) == "paid"
        assert await settle(cut_off, refunded) == "paid"
    finally:
        await cut_off.aclose()

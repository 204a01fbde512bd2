"""Reconciliation finds each kind of mismatch planted in the Epay and aggregator sandboxes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from after_sale import ROOT, AfterSale

from worker.operator.mismatches import find_mismatches
from worker.orders.model import Order, Refund, utc_now

pytestmark = pytest.mark.anyio


def period() -> tuple[datetime, datetime]:
    today = datetime.now(UTC).date()
    return today, today  # type: ignore[return-value]


async def mismatches(after_sale: AfterSale) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for m in await find_mismatches(after_sale.services, *period()):  # type: ignore[arg-type]
        found.setdefault(m.order_id, []).append(m.kind)
    return found


async def test_orders_that_agree_everywhere_are_not_listed(after_sale: AfterSale) -> None:
    await after_sale.order("delivered")
    await after_sale.order("payment_failed")
    assert await mismatches(after_sale) == {}


async def test_money_taken_without_an_esim_is_listed(after_sale: AfterSale) -> None:
    order = await after_sale.order("payment_failed")
    after_sale.charge(order.id, order.amount)  # Epay charged after all; we think it failed
    assert await mismatches(after_sale) == {order.id: ["paid_not_delivered"]}


async def test_an_esim_without_money_is_listed(after_sale: AfterSale) -> None:
    order = await after_sale.order("awaiting_payment")
    profile = await after_sale.buy(order.id)

    def deliver(o: Order) -> None:  # a bug delivered an unpaid order
        o.status, o.profile = "delivered", profile

    await after_sale.store.update(order.id, deliver)
    assert await mismatches(after_sale) == {order.id: ["delivered_not_paid"]}


async def test_a_refund_made_only_in_the_epay_cabinet_is_listed(after_sale: AfterSale) -> None:
    order = await after_sale.order("delivered")
    after_sale.epay_refund(order, 4990)
    assert await mismatches(after_sale) == {order.id: ["refunded_at_epay_only"]}


async def test_a_refund_recorded_only_here_is_listed(after_sale: AfterSale) -> None:
    order = await after_sale.order("provisioning_failed")

    def record(o: Order) -> None:  # marked refunded, but the Epay call never happened
        o.status = "refunded"
        o.refund = Refund(amount=4990, reason="x", operator="y", epay_refunded_at=utc_now())

    await after_sale.store.update(order.id, record)
    assert await mismatches(after_sale) == {order.id: ["refunded_here_only"]}


async def test_a_profile_cancelled_only_at_the_aggregator_is_listed(after_sale: AfterSale) -> None:
    order = await after_sale.order("delivered")
    assert order.profile is not None and after_sale.services.provider is not None
    await after_sale.services.provider.cancel(order.profile.esim_tran_no)
    assert await mismatches(after_sale) == {order.id: ["cancelled_at_aggregator_only"]}


async def test_the_reconcile_task_prints_the_mismatches_and_fails(after_sale: AfterSale) -> None:
    clean = await after_sale.order("delivered")
    order = await after_sale.order("delivered")
    after_sale.epay_refund(order, 4990)
    settings = after_sale.services.settings
    env = {**os.environ, "ORDERS_DB": str(settings.orders_db),
           "CATALOG_PATH": str(settings.catalog_path),
           "EPAY_OAUTH_URL": settings.epay_oauth_url, "EPAY_API_URL": settings.epay_api_url,
           "ESIMACCESS_URL": settings.esimaccess_url,
           "ESIMACCESS_ACCESS_CODE": settings.esimaccess_access_code,
           "ESIMACCESS_SECRET_KEY": str(settings.esimaccess_secret_key)}
    day = str(period()[0])
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "invoke", "reconcile", "--from", day, "--to", day],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1, done.stderr
    assert f"{order.id}  refunded_at_epay_only" in done.stdout
    assert clean.id not in done.stdout and "1 mismatch(es)" in done.stdout


async def test_a_refund_here_whose_profile_still_works_is_listed(after_sale: AfterSale) -> None:
    order = await after_sale.order("delivered")
    after_sale.epay_refund(order, 4990)

    def record(o: Order) -> None:  # refunded, but the cancel at the aggregator never happened
        o.status = "refunded"
        o.refund = Refund(amount=4990, reason="x", operator="y", epay_refunded_at=utc_now())

    await after_sale.store.update(order.id, record)
    assert await mismatches(after_sale) == {order.id: ["not_cancelled_at_aggregator"]}


async def test_an_order_the_partners_cannot_be_asked_about_is_listed_as_unchecked(
        after_sale: AfterSale) -> None:
    from dataclasses import replace

    from worker.services import Services

    order = await after_sale.order("delivered")
    cut_off = Services.open(replace(after_sale.services.settings, esimaccess_url="http://127.0.0.1:9"))
    try:
        [found] = await find_mismatches(cut_off, *period())  # type: ignore[arg-type]
    finally:
        await cut_off.aclose()
    assert (found.order_id, found.kind) == (order.id, "unchecked")
    assert "unreachable" in found.detail

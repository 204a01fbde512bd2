"""Refunds by the offer's rules, against the Epay and aggregator sandboxes over loopback."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from dataclasses import replace

import pytest
from after_sale import ROOT, AfterSale

from worker.jobs import GiveUp, RetryLater
from worker.mail.smtp import MailError
from worker.orders.model import Order, utc_now
from worker.payments.epay import EpayError
from worker.refunds import (
    RefundInProgress,
    RefundRefused,
    carry_out,
    refund_email,
    refund_job,
    request_refund,
)
from worker.services import Services

pytestmark = pytest.mark.anyio


async def refund(after_sale: AfterSale, order: Order, **options: object) -> Order:
    requested = await request_refund(after_sale.services, order.id, reason="profile does not work",
                                     operator="aigerim", **options)  # type: ignore[arg-type]
    return await carry_out(after_sale.services, requested.id)


async def test_a_paid_order_that_could_not_be_provisioned_is_refunded_in_full(after_sale: AfterSale) -> None:
    order = await after_sale.order("provisioning_failed")
    done = await refund(after_sale, order)
    assert done.status == "refunded" and done.refund is not None
    assert (done.refund.amount, done.refund.operator, done.refund.reason) == (
        4990, "aigerim", "profile does not work")
    tx = after_sale.transaction(order.id)
    assert (tx["status"], tx["refunded"]) == ("REFUND", "4990")
    assert [r["externalID"] for r in tx["refunds"]] == [f"refund-{order.id}"]
    assert [e["event"] for e in done.timeline][-3:] == [
        "refund_requested", "refund_profile_cancelled", "refunded"]


async def test_the_buyer_is_told_by_email(after_sale: AfterSale, after_sale_mailbox) -> None:  # type: ignore[no-untyped-def]
    order = await after_sale.order("provisioning_failed", lang="en")
    await refund(after_sale, order)
    assert await after_sale.run_jobs("refund_email") == ["refund_email"]
    [mail] = after_sale_mailbox.wait_for(1)
    assert mail["To"] == "buyer@example.kz" and order.id in mail["Subject"]
    assert "We have refunded 4,990" in mail.get_body(("plain",)).get_content()


async def test_a_delivered_unused_profile_confirmed_broken_is_cancelled_and_refunded(
        after_sale: AfterSale) -> None:
    order = await after_sale.order("delivered")
    assert order.profile is not None
    done = await refund(after_sale, order, non_functional=True)
    assert done.status == "refunded" and done.refund and done.refund.non_functional
    assert after_sale.profile(order.profile.esim_tran_no)["esimStatus"] == "CANCEL"
    assert after_sale.transaction(order.id)["status"] == "REFUND"


async def test_a_partial_refund_takes_no_more_than_asked(after_sale: AfterSale) -> None:
    order = await after_sale.order("provisioning_failed")
    done = await refund(after_sale, order, amount=1000)
    assert done.status == "refunded"
    assert after_sale.transaction(order.id)["refunded"] == "1000"


@pytest.mark.parametrize(
    ("status", "options", "phone", "rule"),
    [
        ("awaiting_payment", {}, None, "paid"),
        ("payment_failed", {}, None, "paid"),
        ("provisioning", {}, None, "failed_or_non_functional"),
        ("delivered", {}, None, "failed_or_non_functional"),
        ("delivered", {"non_functional": True}, ("consume", {"bytes": 1}), "zero_usage"),
        ("delivered", {"non_functional": True}, ("install", {}), "never_installed"),
        ("provisioning_failed", {"amount": 5000}, None, "at_most_paid"),
        ("provisioning_failed", {"amount": 9}, None, "epay_minimum"),
    ],
)
async def test_a_refund_the_offer_forbids_is_refused_naming_the_rule_and_changes_nothing(
        after_sale: AfterSale, status: str, options: dict[str, object],
        phone: tuple[str, dict[str, int]] | None, rule: str) -> None:
    order = await after_sale.order(status)  # type: ignore[arg-type]
    if phone:
        assert order.profile is not None
        if phone[0] == "consume":
            after_sale.phone(order.profile.esim_tran_no, "install")
        after_sale.phone(order.profile.esim_tran_no, phone[0], **phone[1])
    with pytest.raises(RefundRefused) as refused:
        await refund(after_sale, order, **options)
    assert refused.value.rule == rule
    after = after_sale.store.get(order.id)
    assert after is not None and after.status == status and after.refund is None
    assert after_sale.store.jobs(order.id) == []
    if order.payment:
        assert after_sale.transaction(order.id)["refunded"] == "0"
    if order.profile:
        assert after_sale.profile(order.profile.esim_tran_no)["esimStatus"] != "CANCEL"


async def test_a_refunded_order_is_not_refunded_again(after_sale: AfterSale) -> None:
    order = await after_sale.order("provisioning_failed")
    await refund(after_sale, order)
    with pytest.raises(RefundRefused) as refused:
        await refund(after_sale, order)
    assert refused.value.rule == "not_refunded_already"
    assert len(after_sale.transaction(order.id)["refunds"]) == 1


async def test_concurrent_refunds_of_one_order_refund_once(after_sale: AfterSale) -> None:
    order = await after_sale.order("provisioning_failed")
    # A partial amount: Epay would take a second one, so only our claim prevents it.
    outcomes = await asyncio.gather(*(refund(after_sale, order, amount=1000) for _ in range(5)),
                                    return_exceptions=True)
    done = [o for o in outcomes if isinstance(o, Order)]
    assert done and all(o.status == "refunded" for o in done)
    assert all(isinstance(o, Order | RefundInProgress) for o in outcomes), outcomes
    assert len(after_sale.transaction(order.id)["refunds"]) == 1
    final = after_sale.store.get(order.id)
    assert final is not None and final.status == "refunded"
    assert [e["event"] for e in final.timeline].count("refunded") == 1


async def test_concurrent_refunds_of_a_delivered_order_cancel_and_refund_once(
        after_sale: AfterSale) -> None:
    order = await after_sale.order("delivered")
    outcomes = await asyncio.gather(
        *(refund(after_sale, order, non_functional=True, amount=1000) for _ in range(3)),
        return_exceptions=True)
    assert all(isinstance(o, Order | RefundInProgress) for o in outcomes), outcomes
    assert len(after_sale.transaction(order.id)["refunds"]) == 1


def invoke_refund(after_sale: AfterSale, order_id: str, crash_at: str | None, *extra: str) -> int:
    """`invoke refund` in its own process, killed at a crash point if asked."""
    settings = after_sale.services.settings
    env = {**os.environ, "ORDERS_DB": str(settings.orders_db),
           "CATALOG_PATH": str(settings.catalog_path),
           "EPAY_OAUTH_URL": settings.epay_oauth_url, "EPAY_API_URL": settings.epay_api_url,
           "ESIMACCESS_URL": settings.esimaccess_url,
           "ESIMACCESS_ACCESS_CODE": settings.esimaccess_access_code,
           "ESIMACCESS_SECRET_KEY": str(settings.esimaccess_secret_key),
           "SMTP_PORT": str(settings.smtp_port)}
    if crash_at:
        env["QAZAQ_CRASH_AT"] = crash_at
    done = subprocess.run(
        [sys.executable, "-m", "invoke", "refund", order_id, "--reason", "QR never worked",
         "--operator", "aigerim", *extra],
        check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    return done.returncode


@pytest.mark.slow
async def test_a_crash_between_the_cancel_and_the_epay_refund_resumes(after_sale: AfterSale) -> None:
    order = await after_sale.order("provisioning_failed")
    assert await asyncio.to_thread(invoke_refund, after_sale, order.id, "refund.after_cancel") == 137
    crashed = after_sale.store.get(order.id)
    assert crashed is not None and crashed.refund is not None
    assert crashed.refund.profile_cancelled_at and crashed.status == "provisioning_failed"
    assert after_sale.transaction(order.id)["refunds"] == []
    assert await asyncio.to_thread(invoke_refund, after_sale, order.id, None) == 0
    done = after_sale.store.get(order.id)
    assert done is not None and done.status == "refunded"
    assert len(after_sale.transaction(order.id)["refunds"]) == 1


@pytest.mark.slow
async def test_a_crash_after_the_epay_refund_never_refunds_twice(after_sale: AfterSale) -> None:
    order = await after_sale.order("delivered")
    assert order.profile is not None
    code = await asyncio.to_thread(invoke_refund, after_sale, order.id, "refund.after_epay",
                                   "--non-functional", "--amount", "1000")  # Epay takes a second
    assert code == 137
    assert len(after_sale.transaction(order.id)["refunds"]) == 1
    with pytest.raises(RefundInProgress):  # the lease: the crashed sender might still be alive
        await carry_out(after_sale.services, order.id)
    done = await carry_out(after_sale.services, order.id, lease_s=0)  # it is not: ask Epay
    assert done.status == "refunded"
    assert len(after_sale.transaction(order.id)["refunds"]) == 1


async def test_an_epay_outage_mid_refund_leaves_it_recorded_and_the_job_finishes_it(
        after_sale: AfterSale) -> None:
    order = await after_sale.order("provisioning_failed")
    cut_off = Services.open(replace(after_sale.services.settings, epay_api_url="http://127.0.0.1:9"))
    try:
        requested = await request_refund(cut_off, order.id, reason="never provisioned",
                                         operator="aigerim")
        with pytest.raises(EpayError):
            await carry_out(cut_off, requested.id)
    finally:
        await cut_off.aclose()
    pending = after_sale.store.get(order.id)
    assert pending is not None and pending.refund is not None and pending.status == "provisioning_failed"
    assert [j.kind for j in after_sale.store.jobs(order.id)] == ["refund"]
    assert after_sale.transaction(order.id)["refunds"] == []
    with pytest.raises(RetryLater):  # the attempt's lease: its outcome is not known yet
        await refund_job(pending, after_sale.services)
    done = await carry_out(after_sale.services, order.id, lease_s=0)  # the lease has passed
    assert done.status == "refunded" and len(after_sale.transaction(order.id)["refunds"]) == 1


@pytest.mark.slow
async def test_two_operators_refunding_at_once_from_two_processes_refund_once(
        after_sale: AfterSale) -> None:
    order = await after_sale.order("provisioning_failed")
    codes = await asyncio.gather(*(
        asyncio.to_thread(invoke_refund, after_sale, order.id, None, "--amount", "1000")
        for _ in range(2)))
    assert sorted(codes) in ([0, 0], [0, 1]), codes  # the loser says it is done or in progress
    done = after_sale.store.get(order.id)
    assert done is not None and done.status == "refunded"
    assert len(after_sale.transaction(order.id)["refunds"]) == 1


@pytest.mark.parametrize(("order_id", "reason", "rule"), [
    ("123456789", "never provisioned", "order_exists"), (None, "  ", "reason")])
async def test_a_refund_of_no_order_or_without_a_reason_is_refused(
        after_sale: AfterSale, order_id: str | None, reason: str, rule: str) -> None:
    order = await after_sale.order("provisioning_failed")
    with pytest.raises(RefundRefused) as refused:
        await request_refund(after_sale.services, order_id or order.id, reason=reason,
                             operator="aigerim")
    assert refused.value.rule == rule
    assert after_sale.store.jobs(order.id) == []


async def test_carrying_out_needs_a_requested_refund(after_sale: AfterSale) -> None:
    order = await after_sale.order("provisioning_failed")
    with pytest.raises(RefundRefused, match="there is no order 123456789"):
        await carry_out(after_sale.services, "123456789")
    untouched = await carry_out(after_sale.services, order.id)  # nothing requested: no money moves
    assert untouched.status == "provisioning_failed" and untouched.refund is None
    assert after_sale.transaction(order.id)["refunds"] == []


async def test_a_refund_is_refused_while_the_aggregator_cannot_confirm_zero_usage(
        after_sale: AfterSale) -> None:
    order = await after_sale.order("delivered")
    cut_off = Services.open(replace(after_sale.services.settings, esimaccess_url="http://127.0.0.1:9"))
    try:
        with pytest.raises(RefundRefused, match="could not confirm.*try again later") as refused:
            await request_refund(cut_off, order.id, reason="QR never worked", operator="aigerim",
                                 non_functional=True)
    finally:
        await cut_off.aclose()
    assert refused.value.rule == "zero_usage"
    assert after_sale.store.jobs(order.id) == []


async def test_a_profile_already_cancelled_at_the_aggregator_is_not_cancelled_again(
        after_sale: AfterSale) -> None:
    order = await after_sale.order("delivered")
    assert order.profile is not None and after_sale.services.provider is not None
    await after_sale.services.provider.cancel(order.profile.esim_tran_no)

    done = await refund(after_sale, order, non_functional=True)

    assert done.status == "refunded"
    [cancelled] = [e for e in done.timeline if e["event"] == "refund_profile_cancelled"]
    assert cancelled["detail"].startswith("nothing to cancel (aggregator status")


async def test_a_profile_allocated_after_provisioning_gave_up_is_cancelled(
        after_sale: AfterSale) -> None:
    order = await after_sale.order("provisioning_failed")
    provider = after_sale.services.provider
    assert provider is not None
    package = (await provider.list_packages())[0].code
    placed = await provider.order(order.id, package, since=utc_now())
    after_sale.aggregator.post("/_sandbox/orders/allocate").raise_for_status()  # allocated late

    def remember(o: Order) -> None:
        o.provider_order_no = placed.order_no

    await after_sale.store.update(order.id, remember)
    allocated = await provider.query(placed.order_no)
    assert allocated is not None

    done = await refund(after_sale, order)

    assert done.status == "refunded"
    assert after_sale.profile(allocated.provider_id)["esimStatus"] == "CANCEL"


async def test_a_refund_epay_refuses_gives_the_job_up(after_sale: AfterSale) -> None:
    order = await after_sale.order("provisioning_failed")
    after_sale.epay_refund(order, 100)  # in the Epay cabinet: the whole amount is no longer there
    requested = await request_refund(after_sale.services, order.id, reason="never provisioned",
                                     operator="aigerim")

    with pytest.raises(GiveUp, match="Epay refused the refund"):
        await refund_job(requested, after_sale.services)

    after = after_sale.store.get(order.id)
    assert after is not None and after.status == "provisioning_failed"


async def test_the_refund_email_is_retried_after_an_outage_and_dropped_when_refused(
        after_sale: AfterSale, after_sale_mailbox) -> None:  # type: ignore[no-untyped-def]
    order = await after_sale.order("provisioning_failed")
    done = await refund(after_sale, order)
    after_sale_mailbox.down()
    with pytest.raises(MailError):  # the job runner retries
        await refund_email(done, after_sale.services)
    after_sale_mailbox.up()
    after_sale_mailbox.refuse_recipients = True
    await refund_email(done, after_sale.services)  # refused for good: nothing to retry
    assert after_sale_mailbox.messages == []
    after_sale_mailbox.refuse_recipients = False

    def purged(o: Order) -> None:
        o.email = None

    await refund_email(await after_sale.store.update(order.id, purged), after_sale.services)
    assert after_sale_mailbox.messages == []

"""Fiscal receipts after the sale and the refund: registered at the Webkassa sandbox, mailed to
the buyer, retried through an outage without holding up delivery, pending ones listed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from after_sale import ROOT, AfterSale
from smtp_mailbox import Mailbox
from starlette.datastructures import Secret

from worker.config import Settings
from worker.fiscal.receipts import fiscal_return, fiscal_sale
from worker.fiscal.register import RegisterUnavailable
from worker.jobs import RetryLater
from worker.mail.smtp import MailError
from worker.operator.support import pending_receipts
from worker.orders.model import Order
from worker.payments.confirm import mark_paid
from worker.payments.epay import Status
from worker.refunds import carry_out, request_refund
from worker.services import Services

pytestmark = pytest.mark.anyio


@pytest.fixture
async def kassa(after_sale_settings: Settings, webkassa_url: str) -> AsyncIterator[AfterSale]:
    """The after-sale harness with receipts on (FISCAL_PROVIDER=webkassa, the sandbox)."""
    settings = replace(
        after_sale_settings, fiscal_provider="webkassa", webkassa_url=webkassa_url,
        webkassa_api_key=Secret("WKD-00000000-0000-0000-0000-000000000000"),
        webkassa_login="demo@qazaq-esim.com", webkassa_password=Secret("demo"),
        webkassa_cashbox="SWK00000001",
    )
    services = Services.open(settings)
    harness = AfterSale(services, settings.epay_api_url, settings.esimaccess_url)
    yield harness
    harness.close()
    await services.aclose()


def sandbox(url: str, action: str, **body: Any) -> Any:
    answer = httpx.post(f"{url}/_sandbox/{action}", json=body)
    answer.raise_for_status()
    return answer.json()


async def test_a_paid_order_gets_a_sale_job_only_when_receipts_are_on(
        kassa: AfterSale, after_sale: AfterSale) -> None:
    for harness, expected in ((kassa, ["provision", "fiscal_sale"]), (after_sale, ["provision"])):
        order = await harness.order("awaiting_payment")
        await mark_paid(harness.services, order, Status(100, "SUCCESS", {"id": f"tx-{order.id}"}))
        assert [j.kind for j in harness.store.jobs(order.id)] == expected


async def test_the_sale_is_registered_and_its_receipt_mailed_to_the_buyer(
        kassa: AfterSale, webkassa_url: str, after_sale_mailbox: Mailbox) -> None:
    order = await kassa.order("delivered", lang="en")
    await fiscal_sale(order, kassa.services)
    stored = kassa.store.get(order.id)
    assert stored is not None and stored.status == "delivered"
    sale = stored.fiscal["sale"]
    [receipt] = sandbox(webkassa_url, "state")["receipts"]
    assert (receipt["key"], receipt["check_number"], receipt["total"]) == (
        f"sale-{order.payment.transaction_id}", sale["fiscal_number"], 4990)  # type: ignore[union-attr]
    [mail] = after_sale_mailbox.wait_for(1)
    assert mail["To"] == "buyer@example.kz" and "fiscal receipt" in mail["Subject"]
    assert sale["ticket_url"] in mail.get_body(("plain",)).get_content()
    async with httpx.AsyncClient() as http:
        assert sale["fiscal_number"] in (await http.get(sale["ticket_url"])).text
    await fiscal_sale(kassa.store.get(order.id), kassa.services)  # type: ignore[arg-type]
    assert len(sandbox(webkassa_url, "state")["receipts"]) == 1 and len(after_sale_mailbox.messages) == 1


async def test_an_outage_leaves_the_esim_delivered_and_the_receipt_pending_until_it_is_over(
        kassa: AfterSale, webkassa_url: str) -> None:
    order = await kassa.order("awaiting_payment")
    await mark_paid(kassa.services, order, Status(100, "SUCCESS", {"id": f"tx-{order.id}"}))
    sandbox(webkassa_url, "fail-next", mode="commit_then_504")  # registered, reply lost
    [job] = [j for j in kassa.store.jobs(order.id) if j.kind == "fiscal_sale"]
    paid = kassa.store.get(order.id)
    assert paid is not None
    with pytest.raises(RegisterUnavailable):
        await fiscal_sale(paid, kassa.services)
    await kassa.store.retry_job(job.id, 0, "RegisterUnavailable: Webkassa HTTP 504")
    [pending] = pending_receipts(kassa.store)
    assert (pending["order_id"], pending["kind"], pending["attempts"]) == (order.id, "fiscal_sale", 1)
    assert "504" in pending["last_error"]
    assert await kassa.run_jobs("fiscal_sale") == ["fiscal_sale"]  # the register is back
    assert pending_receipts(kassa.store) == []
    assert len(sandbox(webkassa_url, "state")["receipts"]) == 1
    assert "sale" in kassa.store.get(order.id).fiscal  # type: ignore[union-attr]


async def test_a_refund_registers_a_return_citing_the_sale(
        kassa: AfterSale, webkassa_url: str, after_sale_mailbox: Mailbox) -> None:
    order = await kassa.order("provisioning_failed")
    await fiscal_sale(order, kassa.services)
    await request_refund(kassa.services, order.id, reason="never provisioned", operator="aigerim")
    await carry_out(kassa.services, order.id)
    assert sorted(await kassa.run_jobs("fiscal_return", "refund_email")) == ["fiscal_return",
                                                                           "refund_email"]
    refunded = kassa.store.get(order.id)
    assert refunded is not None
    sale, ret = sandbox(webkassa_url, "state")["receipts"]
    assert (sale["operation_type"], ret["operation_type"], ret["total"]) == (2, 3, 4990)
    assert refunded.fiscal["return"]["fiscal_number"] == ret["check_number"]
    subjects = [m["Subject"] for m in after_sale_mailbox.wait_for(3)]
    assert any("чек возврата" in s for s in subjects)


async def test_a_return_waits_for_its_sale_receipt(kassa: AfterSale) -> None:
    order = await kassa.order("provisioning_failed")
    await request_refund(kassa.services, order.id, reason="never provisioned", operator="aigerim")
    refunded = await carry_out(kassa.services, order.id)
    with pytest.raises(RetryLater):
        await fiscal_return(refunded, kassa.services)


async def test_receipts_off_registers_nothing(after_sale: AfterSale) -> None:
    order: Order = await after_sale.order("delivered")
    await fiscal_sale(order, after_sale.services)
    await request_refund(after_sale.services, order.id, reason="QR never worked", operator="aigerim",
                         non_functional=True)
    refunded = await carry_out(after_sale.services, order.id)
    await fiscal_return(refunded, after_sale.services)
    assert after_sale.store.get(order.id).fiscal == {}  # type: ignore[union-attr]


async def test_a_stale_sale_job_registers_and_mails_once(
        kassa: AfterSale, webkassa_url: str, after_sale_mailbox: Mailbox) -> None:
    order = await kassa.order("delivered")
    await fiscal_sale(order, kassa.services)
    await fiscal_sale(order, kassa.services)  # the job again, with its copy from before

    assert len(sandbox(webkassa_url, "state")["receipts"]) == 1
    stored = kassa.store.get(order.id)
    assert stored is not None
    assert [e["event"] for e in stored.timeline].count("fiscal_sale") == 1
    assert len(after_sale_mailbox.wait_for(1)) == 1


async def test_the_receipt_email_is_retried_after_an_outage_and_dropped_when_refused(
        kassa: AfterSale, after_sale_mailbox: Mailbox) -> None:
    order = await kassa.order("delivered")
    after_sale_mailbox.down()
    with pytest.raises(MailError):  # the job runner retries; the receipt is kept meanwhile
        await fiscal_sale(order, kassa.services)
    kept = kassa.store.get(order.id)
    assert kept is not None and "sale" in kept.fiscal and "sale_mailed_at" not in kept.fiscal

    after_sale_mailbox.up()
    after_sale_mailbox.refuse_recipients = True
    await fiscal_sale(kept, kassa.services)  # refused for good: the job ends

    done = kassa.store.get(order.id)
    assert done is not None and done.fiscal["sale_mailed_at"] == "refused"
    assert after_sale_mailbox.messages == []


async def test_the_daily_close_shift_task_closes_the_open_shift(kassa: AfterSale, webkassa_url: str) -> None:
    order = await kassa.order("delivered")
    await fiscal_sale(order, kassa.services)
    settings = kassa.services.settings
    env = {**os.environ, "ORDERS_DB": str(settings.orders_db), "FISCAL_PROVIDER": "webkassa",
           "WEBKASSA_URL": webkassa_url, "WEBKASSA_API_KEY": str(settings.webkassa_api_key),
           "WEBKASSA_LOGIN": settings.webkassa_login,
           "WEBKASSA_PASSWORD": str(settings.webkassa_password),
           "WEBKASSA_CASHBOX": settings.webkassa_cashbox, "CATALOG_PATH": str(settings.catalog_path)}
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "invoke", "close-shift"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    [shift] = sandbox(webkassa_url, "state")["cashboxes"]["SWK00000001"]["shifts"]
    assert shift["close_date"] is not None and shift["documents"] == 1

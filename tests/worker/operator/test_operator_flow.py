"""The running worker does the after-sale work itself: its job runner registers the receipts
and mails the buyer after an operator's refund through the API."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from after_sale import AfterSale
from loopback import ServerThread
from smtp_mailbox import Mailbox
from starlette.datastructures import Secret

from worker.app import create_app
from worker.config import Settings

pytestmark = pytest.mark.anyio
TOKEN = "operator-token-0123456789-abcdefghijklmnop"  # tests/worker/conftest.py


@pytest.fixture
def running(after_sale_settings: Settings, webkassa_url: str) -> Iterator[str]:
    settings = replace(
        after_sale_settings, fiscal_provider="webkassa", webkassa_url=webkassa_url,
        webkassa_api_key=Secret("WKD-00000000-0000-0000-0000-000000000000"),
        webkassa_login="demo@qazaq-esim.com", webkassa_password=Secret("demo"),
        webkassa_cashbox="SWK00000001",
    )
    with ServerThread(create_app(settings)) as server:
        yield server.url


async def until(check: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)
    return found


async def test_an_operator_refund_ends_with_the_buyer_mailed_and_a_return_receipt(
        after_sale: AfterSale, running: str, webkassa_url: str,
        after_sale_mailbox: Mailbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    order = await after_sale.order("provisioning_failed", lang="en")
    await after_sale.store.enqueue(order.id, "fiscal_sale")  # as the `paid` transition does
    webkassa = httpx.AsyncClient(base_url=webkassa_url)
    receipts = []

    async def registered(count: int) -> list[dict[str, Any]]:
        nonlocal receipts
        receipts = (await webkassa.get("/_sandbox/state")).json()["receipts"]
        return receipts if len(receipts) >= count else []

    deadline = time.monotonic() + 15
    while not await registered(1):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    async with httpx.AsyncClient(base_url=running, timeout=30,
                                 headers={"Authorization": f"Bearer {TOKEN}"}) as desk:
        queue = (await desk.get("/operator/queues/refundable")).json()["orders"]
        assert [o["order_id"] for o in queue] == [order.id]
        answer = await desk.post(f"/operator/orders/{order.id}/refund",
                                 json={"reason": "never provisioned", "operator": "aigerim"})
        assert answer.status_code == 200 and answer.json()["status"] == "refunded"
    while not await registered(2):
        assert time.monotonic() < deadline + 15
        await asyncio.sleep(0.05)
    await webkassa.aclose()
    assert [r["operation_type"] for r in receipts] == [2, 3]
    subjects = await until(lambda: [m["Subject"] for m in after_sale_mailbox.messages]
                           if len(after_sale_mailbox.messages) >= 3 else None)
    assert sorted(subjects) == sorted([
        f"Order {order.id}: your fiscal receipt", f"Order {order.id}: your refund of 4,990\u00a0₸",
        f"Order {order.id}: your refund receipt"])
    assert after_sale.transaction(order.id)["status"] == "REFUND"
    ours = "\n".join(r.getMessage() for r in caplog.records  # not the test mailbox's own log
                     if r.name.split(".")[0] in ("worker", "httpx", "uvicorn"))
    assert "refunds: order" in ours  # the log says what happened, to whom it does not
    for personal in ("buyer@example.kz", "+77011234567", order.payment.card_mask):  # type: ignore[union-attr]
        assert personal not in ours

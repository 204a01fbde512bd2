"""worker/order_page/routes.py: the QR images and "send the e-mail again" (rate-limited), over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from provisioning_helpers import Aggregator, Worker, paid_order, store_paid
from smtp_mailbox import Mailbox

from worker.config import Settings
from worker.orders.model import Order
from worker.orders.store import OrderStore


def test_send_again_mails_the_qr_once_more_then_429_when_asked_too_often(
    wired: Settings, aggregator: Aggregator, mailbox: Mailbox, start_worker: Callable[..., Worker]
) -> None:
    order = paid_order()
    store_paid(wired.orders_db, order)
    worker = start_worker()
    first = worker.wait_until(order.id, lambda o: o.email_sent_at is not None)
    assert worker.http.get(f"/api/orders/{order.token}").json()["can_resend_email"] is True

    answer = worker.http.post(f"/api/orders/{order.token}/resend-email")

    assert answer.status_code == 202
    again = worker.wait_until(
        order.id,
        lambda o: o.email_sent_at is not None and o.email_message_id != first.email_message_id,
    )
    one, two = mailbox.wait_for(2)
    assert one["Message-ID"] == first.email_message_id
    assert two["Message-ID"] == again.email_message_id != one["Message-ID"]
    assert one.get_body(("plain",)).get_content() == two.get_body(("plain",)).get_content()
    view = worker.http.get(f"/api/orders/{order.token}").json()
    assert view["email_sent"] is True and view["can_resend_email"] is False

    too_soon = worker.http.post(f"/api/orders/{order.token}/resend-email")
    assert too_soon.status_code == 429 and "Retry-After" in too_soon.headers
    assert len(mailbox.messages) == 2


def test_send_again_before_delivery_or_for_an_unknown_token_changes_nothing(
    wired: Settings, aggregator: Aggregator, mailbox: Mailbox, start_worker: Callable[..., Worker]
) -> None:
    aggregator.config(allocation_stuck=True)
    order = paid_order()
    store_paid(wired.orders_db, order)
    worker = start_worker()
    worker.wait_until(order.id, lambda o: o.provider_order_no is not None)

    early = worker.http.post(f"/api/orders/{order.token}/resend-email")
    unknown = worker.http.post("/api/orders/" + "x" * 43 + "/resend-email")

    assert early.status_code == 409
    assert unknown.status_code == 404 and unknown.json() == {"error": "not found"}
    assert [j.kind for j in worker.services.store.jobs(order.id)] == ["provision"]
    assert mailbox.messages == []


def test_the_qr_of_a_refunded_order_is_gone(
    wired: Settings, aggregator: Aggregator, mailbox: Mailbox, start_worker: Callable[..., Worker]
) -> None:
    order = paid_order()
    store_paid(wired.orders_db, order)
    worker = start_worker()
    worker.wait_until(order.id, lambda o: o.email_sent_at is not None)
    assert worker.http.get(f"/api/orders/{order.token}/qr.png").status_code == 200

    def refunded(o: Order) -> None:
        o.status = "refunded"

    asyncio.run(_update(wired.orders_db, order.id, refunded))  # as `invoke refund` does

    for kind in ("svg", "png"):
        assert worker.http.get(f"/api/orders/{order.token}/qr.{kind}").status_code == 404


async def _update(path: Path, order_id: str, change: Callable[[Order], None]) -> None:
    store = OrderStore.open(path)
    try:
        await store.update(order_id, change)
    finally:
        store.close()

"""POST /aggregator/webhook/{secret}: a secret URL, de-duplicated, and only a hint to query."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from provisioning_helpers import ACCESS_CODE, SECRET_KEY, Aggregator, Worker, paid_order, store_paid

from worker.config import Settings
from worker.provisioning.esimaccess import EsimAccess


def notice(notify_id: str, transaction_id: str, order_no: str = "B1") -> dict[str, Any]:
    return {
        "notifyType": "ORDER_STATUS",
        "notifyId": notify_id,
        "eventGenerateTime": "2026-11-25T10:00:00Z",
        "content": {
            "orderNo": order_no,
            "orderStatus": "GOT_RESOURCE",
            "transactionId": transaction_id,
        },
    }


def save_webhook(aggregator: Aggregator, url: str) -> None:
    """webhook/save, signed, as the operator does once; the sandbox checks it with CHECK_HEALTH."""

    async def save() -> None:
        client = EsimAccess(aggregator.url, ACCESS_CODE, SECRET_KEY)
        try:
            await client.save_webhook(url)
        finally:
            await client.aclose()

    asyncio.run(save())


def test_a_wrong_secret_is_404_like_any_unknown_path(
    wired: Settings, start_worker: Callable[..., Worker]
) -> None:
    worker = start_worker()
    secret = str(wired.aggregator_webhook_secret)
    for wrong in ("nope", secret[:-1], secret + "x", secret.upper()):
        answer = worker.http.post(f"/aggregator/webhook/{wrong}", json=notice("a" * 32, "1"))
        assert answer.status_code == 404 and answer.json() == {"error": "not found"}
    assert worker.http.post("/aggregator/webhook/", json={}).status_code == 404


def test_the_aggregator_can_save_our_webhook_url(
    wired: Settings, aggregator: Aggregator, start_worker: Callable[..., Worker]
) -> None:
    worker = start_worker()
    url = f"{worker.url}/aggregator/webhook/{wired.aggregator_webhook_secret}"
    save_webhook(aggregator, url)  # raises unless our CHECK_HEALTH answer was 200
    assert aggregator.http.get("/_sandbox/state").json()["webhook"] == url


def test_order_status_makes_the_waiting_order_query_at_once(
    wired: Settings, aggregator: Aggregator, start_worker: Callable[..., Worker]
) -> None:
    aggregator.config(allocation_delay_s=600)
    worker = start_worker()
    save_webhook(aggregator, f"{worker.url}/aggregator/webhook/{wired.aggregator_webhook_secret}")
    order = paid_order()
    store_paid(wired.orders_db, order)
    # Polling has backed off: the next look is a second or more away.
    worker.wait_until(order.id, lambda o: _next_look(worker, o.id) > time.time() + 1.0)
    due_at = _next_look(worker, order.id)

    aggregator.allocate_now()  # the sandbox posts ORDER_STATUS to the saved URL

    delivered = worker.wait_until(order.id, lambda o: o.status == "delivered", timeout=5)
    assert time.time() < due_at, "delivered by the hint, before the next scheduled look"
    assert delivered.profile is not None


def _next_look(worker: Worker, order_id: str) -> float:
    jobs = [j for j in worker.services.store.jobs(order_id) if j.kind == "provision"]
    return jobs[0].due_at if jobs else 0.0


def test_a_duplicate_notification_is_ignored_and_a_stranger_changes_nothing(
    wired: Settings, aggregator: Aggregator, start_worker: Callable[..., Worker]
) -> None:
    aggregator.config(allocation_delay_s=600)
    worker = start_worker()
    order = paid_order()
    store_paid(wired.orders_db, order)
    worker.wait_until(order.id, lambda o: _next_look(worker, o.id) > time.time() + 0.5)
    url = f"/aggregator/webhook/{wired.aggregator_webhook_secret}"

    first = worker.http.post(url, json=notice("f" * 32, order.id))
    assert first.status_code == 200 and first.json() == {"ok": True}
    asked = _next_look(worker, order.id)
    assert asked <= time.time() + 0.5  # due now: the job queries the aggregator
    worker.wait_until(order.id, lambda o: _next_look(worker, o.id) > time.time() + 0.5)
    later = _next_look(worker, order.id)

    again = worker.http.post(url, json=notice("f" * 32, order.id))
    assert again.status_code == 200 and again.json() == {"ok": True, "duplicate": True}
    stranger = worker.http.post(url, json=notice("e" * 32, "999999999"))
    assert stranger.status_code == 200
    assert _next_look(worker, order.id) == later  # neither one moved the job
    assert worker.order(order.id).status == "provisioning"  # a webhook is never the truth
    assert worker.http.post(url, content=b"not json").status_code == 400
    assert worker.http.post(url, json=[notice("c" * 32, order.id)]).status_code == 400


def test_a_notice_for_a_delivered_order_queues_nothing(
    wired: Settings, aggregator: Aggregator, start_worker: Callable[..., Worker]
) -> None:
    worker = start_worker()
    order = paid_order()
    store_paid(wired.orders_db, order)
    worker.wait_until(order.id, lambda o: o.status == "delivered" and not _next_look(worker, o.id))

    answer = worker.http.post(f"/aggregator/webhook/{wired.aggregator_webhook_secret}",
                              json=notice("d" * 32, order.id))

    assert answer.status_code == 200
    assert "provision" not in [j.kind for j in worker.services.store.jobs(order.id)]  # no query

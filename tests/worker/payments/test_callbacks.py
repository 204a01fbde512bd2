"""postLink / failurePostLink: forged callbacks change nothing; repeats change the order once."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest
from epay_buyer import DECLINED_484, FORM, Shop


def genuine_callback(shop: Shop, **changes: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check out and pay with the callback lost; return (checkout answer, the body Epay made)."""
    shop.sandbox(callback="lost")
    answer = shop.checkout()
    assert shop.pay(answer["payment"]).status_code == 303
    [tx] = [t for t in shop.transactions() if t["invoice_id"] == answer["order_id"]]
    return answer, {**tx["callback"], **changes}


FORGERIES = {
    "wrong secret_hash": {"secret_hash": "guessed-secret"},
    "no secret_hash": {"secret_hash": None},
    "wrong amount": {"amount": 1},
    "amount as text": {"amount": "4990.5"},
    "wrong currency": {"currency": "USD"},
    "wrong terminal": {"terminal": "00000000-0000-0000-0000-000000000000"},
    "unknown invoice": {"invoiceId": "999999999999"},
    "not a number invoice": {"invoiceId": "../../etc"},
}


@pytest.mark.parametrize("forgery", FORGERIES.values(), ids=FORGERIES.keys())
def test_a_forged_callback_changes_nothing_and_is_logged_without_personal_data(
    shop: Shop, forgery: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    answer, body = genuine_callback(shop, **forgery)
    before = shop.order(answer["order_id"])

    with caplog.at_level(logging.WARNING, logger="worker"):
        reply = shop.worker.post("/epay/post-link", json=body)

    assert reply.status_code == 200
    after = shop.order(answer["order_id"])
    assert after == before
    shop.jobs_settle_to(after.id, [])
    security = [r.getMessage() for r in caplog.records if "security" in r.getMessage()]
    assert len(security) == 1
    assert FORM["email"] not in security[0] and "7012345678" not in security[0]
    # No card digits (test card …5096); the order id is random digits and may hold them.
    assert "5096" not in security[0].replace(answer["order_id"], "<order>")


def test_a_callback_saying_ok_for_a_declined_payment_does_not_mark_it_paid(shop: Shop) -> None:
    # The body is genuine (right secret) but claims success; check-status knows the truth.
    shop.sandbox(callback="lost")
    declined = shop.checkout()
    shop.pay(declined["payment"], card=DECLINED_484)
    [tx] = [t for t in shop.transactions() if t["invoice_id"] == declined["order_id"]]
    forged = {**tx["callback"], "code": "ok", "reason": "success", "reasonCode": 0}

    assert shop.worker.post("/epay/post-link", json=forged).status_code == 200

    order = shop.wait_until(declined["order_id"], lambda o: o.status != "awaiting_payment")
    assert order.status == "payment_failed"
    assert order.payment is None
    shop.jobs_settle_to(order.id, ["recheck_payment"])


def test_a_callback_for_an_order_epay_never_charged_leaves_it_awaiting_payment(shop: Shop) -> None:
    answer = shop.checkout()
    order = shop.order(answer["order_id"])
    body = {"invoiceId": order.id, "amount": 4990, "currency": "KZT", "code": "ok",
            "terminal": "67e34d63-102f-4bd1-898e-370781d0074d", "secret_hash": order.secret_hash,
            "id": "3f0c6c9e-1111-4111-8111-111111111111"}

    assert shop.worker.post("/epay/post-link", json=body).status_code == 200

    order = shop.wait_until(order.id, lambda o: bool(o.epay_callback))
    [job] = shop.services.store.jobs(order.id)
    assert job.kind == "confirm_payment"
    shop.wait_until(order.id, lambda o: shop.services.store.jobs(o.id)[0].attempts >= 1)
    assert shop.order(order.id).status == "awaiting_payment"
    assert shop.order(order.id).payment is None


def test_an_unreadable_callback_gets_400(shop: Shop) -> None:
    reply = shop.worker.post(
        "/epay/post-link", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert reply.status_code == 400


def test_a_form_encoded_callback_is_accepted_too(shop: Shop) -> None:
    answer, body = genuine_callback(shop)
    form = {k: str(v) for k, v in body.items() if v is not None}

    assert shop.worker.post("/epay/post-link", data=form).status_code == 200

    assert shop.wait_until(answer["order_id"], lambda o: o.status == "paid")


def test_fifty_concurrent_identical_callbacks_mark_the_order_paid_once(shop: Shop) -> None:
    answer, body = genuine_callback(shop)
    url = f"{shop.worker.base_url}/epay/post-link"

    async def deliver_all() -> list[int]:
        async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=60)) as http:
            replies = await asyncio.gather(*(http.post(url, json=body) for _ in range(50)))
        return [r.status_code for r in replies]

    assert asyncio.run(deliver_all()) == [200] * 50

    order = shop.wait_until(answer["order_id"], lambda o: o.status == "paid")
    assert [e["event"] for e in order.timeline].count("callback") == 1
    assert [e["event"] for e in order.timeline].count("paid") == 1
    shop.jobs_settle_to(order.id, ["provision"])


def test_a_repeated_callback_after_payment_changes_nothing(shop: Shop) -> None:
    answer, body = genuine_callback(shop)
    shop.worker.post("/epay/post-link", json=body)
    paid = shop.wait_until(answer["order_id"], lambda o: o.status == "paid")

    for _ in range(3):
        assert shop.worker.post("/epay/post-link", json=body).status_code == 200

    assert shop.order(paid.id) == paid
    shop.jobs_settle_to(paid.id, ["provision"])


def test_callbacks_are_answered_even_while_the_job_is_slow(shop: Shop) -> None:
    # Epay takes 2 s before check-status knows the payment: the callback must not wait for it,
    # so the answer comes while the order still awaits the job's confirmation.
    shop.sandbox(new_seconds=2.0)
    answer, body = genuine_callback(shop)

    reply = shop.worker.post("/epay/post-link", json=body)

    assert reply.status_code == 200
    assert shop.order(answer["order_id"]).status == "awaiting_payment"
    assert shop.wait_until(answer["order_id"], lambda o: o.status == "paid", timeout=20)

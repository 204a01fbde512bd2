"""The money path over real HTTP: worker ⇄ Epay sandbox, from checkout to a paid order."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from epay_buyer import DECLINED_484, Shop

from worker.orders.store import OrderStore
from worker.payments import status_schedule

TERMINAL = "67e34d63-102f-4bd1-898e-370781d0074d"


def test_paying_with_a_test_card_marks_the_order_paid_and_queues_provisioning(shop: Shop) -> None:
    answer = shop.checkout()
    payment = answer["payment"]

    paid_page = shop.pay(payment)

    assert paid_page.status_code == 303
    assert paid_page.headers["location"] == payment["backLink"]
    order = shop.wait_until(answer["order_id"], lambda o: o.status == "paid")
    assert order.payment is not None and order.payment.card_mask == "440563...5096"
    shop.jobs_settle_to(order.id, ["provision"])
    view = shop.view(answer["token"])
    assert view["status"] == "paid"
    assert view["payment"]["card_mask"] == "440563...5096"


def test_the_return_link_sends_the_buyer_to_the_order_page_in_their_language(shop: Shop) -> None:
    answer = shop.checkout(lang="kk")

    back = shop.worker.get(f"/epay/back/{answer['token']}")

    assert back.status_code == 303
    site = shop.services.settings.site_url
    assert back.headers["location"] == f"{site}/kk/order/#{answer['token']}"


def test_a_return_link_with_an_unknown_token_is_404(shop: Shop) -> None:
    for path in ("/epay/back/", "/epay/failure-back/", "/api/orders/"):
        answer = shop.worker.get(path + "x" * 43)
        assert answer.status_code == 404
        assert answer.json() == {"error": "not found"}


def test_a_lost_callback_is_settled_when_the_buyer_comes_back(shop: Shop) -> None:
    shop.sandbox(callback="lost")
    answer = shop.checkout()
    paid_page = shop.pay(answer["payment"])

    back = shop.worker.get(paid_page.headers["location"])

    assert back.status_code == 303
    order = shop.order(answer["order_id"])
    assert order.status == "paid"  # settled before the redirect: the order page shows it at once
    shop.jobs_settle_to(order.id, ["provision"])


def test_a_lost_callback_and_no_return_is_settled_by_the_reconciler(
    make_shop: Callable[..., Shop], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The schedule in seconds rather than minutes (worker/payments/status_schedule.py).
    monkeypatch.setattr(status_schedule, "ASK_AT_S", (0.2, 0.4, 0.8, 1.6, 3.2))
    shop = make_shop(reconcile_interval=0.2)
    shop.sandbox(callback="lost")
    answer = shop.checkout()

    shop.pay(answer["payment"])  # the browser never follows the redirect

    order = shop.wait_until(answer["order_id"], lambda o: o.status == "paid")
    assert "callback" not in [e["event"] for e in order.timeline]
    shop.jobs_settle_to(order.id, ["provision"])


def test_a_late_callback_after_the_return_link_settled_changes_nothing(shop: Shop) -> None:
    shop.sandbox(callback="late", late_seconds=1.0)
    answer = shop.checkout()
    paid_page = shop.pay(answer["payment"])
    shop.worker.get(paid_page.headers["location"])
    settled = shop.order(answer["order_id"])
    assert settled.status == "paid"

    deadline = time.monotonic() + 10
    while not any(d["http_status"] == 200 for d in shop.deliveries()):
        assert time.monotonic() < deadline, "the sandbox never delivered the late callback"
        time.sleep(0.05)

    assert shop.order(settled.id) == settled
    shop.jobs_settle_to(settled.id, ["provision"])


def test_duplicate_deliveries_mark_the_order_paid_once(shop: Shop) -> None:
    shop.sandbox(callback="duplicate", duplicates=5)
    answer = shop.checkout()
    shop.pay(answer["payment"])

    order = shop.wait_until(answer["order_id"], lambda o: o.status == "paid")
    deadline = time.monotonic() + 10
    while len([d for d in shop.deliveries() if d["http_status"] == 200]) < 5:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    order = shop.order(order.id)
    assert [e["event"] for e in order.timeline].count("paid") == 1
    shop.jobs_settle_to(order.id, ["provision"])


def test_a_two_step_terminal_is_charged_before_the_order_is_paid(shop: Shop) -> None:
    shop.sandbox(terminals={TERMINAL: "dms"})
    answer = shop.checkout()
    shop.pay(answer["payment"])

    order = shop.wait_until(answer["order_id"], lambda o: o.status == "paid")

    [tx] = [t for t in shop.transactions() if t["invoice_id"] == order.id]
    assert tx["status"] == "CHARGE"
    assert tx["charged"] == "4990"
    assert order.payment is not None and order.payment.transaction_id == tx["id"]


def test_a_declined_card_marks_the_order_failed_with_the_reason(shop: Shop) -> None:
    answer = shop.checkout(lang="en")

    page = shop.pay(answer["payment"], card=DECLINED_484)

    assert page.headers["location"] == answer["payment"]["failureBackLink"]
    order = shop.wait_until(answer["order_id"], lambda o: o.status == "payment_failed")
    assert order.failure_reason == "484: Insufficient funds"
    shop.jobs_settle_to(order.id, ["recheck_payment"])
    back = shop.worker.get(page.headers["location"])
    assert back.status_code == 303
    assert back.headers["location"].endswith(f"/en/order/#{answer['token']}")
    view = shop.view(answer["token"])
    assert (view["status"], view["failure_reason"], view["payment"]) == (
        "payment_failed", "484: Insufficient funds", None
    )


@pytest.mark.parametrize(
    "options",
    [
        {"expires_in_as_string": True},
        {"error_http_status": 400},
        {"new_seconds": 1.0},
        {"callback": "early"},
        {"post_link_source": "payment_object"},
    ],
    ids=["expires_in as a string", "non-100 results with HTTP 400", "in progress (107) first",
         "callback before the redirect", "postLink taken from the paymentObject"],
)
def test_epays_documented_variants_still_end_paid(shop: Shop, options: dict[str, Any]) -> None:
    shop.sandbox(**options)
    answer = shop.checkout()
    shop.pay(answer["payment"])

    assert shop.wait_until(answer["order_id"], lambda o: o.status == "paid", timeout=20)


def test_a_second_try_after_a_decline_is_found_even_if_its_callback_is_lost(shop: Shop) -> None:
    answer = shop.checkout()
    shop.pay(answer["payment"], card=DECLINED_484)
    failed = shop.wait_until(answer["order_id"], lambda o: o.status == "payment_failed")
    shop.jobs_settle_to(failed.id, ["recheck_payment"])
    [recheck] = shop.services.store.jobs(failed.id)
    assert recheck.due_at > time.time() + 25 * 60  # asked again half an hour later

    shop.sandbox(callback="lost")
    shop.pay(answer["payment"])  # the buyer went back and paid with another card
    # Half an hour on: make the recheck due now, as another process sharing the store could.
    asyncio.run(OrderStore.open(shop.services.settings.orders_db).enqueue(failed.id, "recheck_payment"))

    paid = shop.wait_until(failed.id, lambda o: o.status == "paid")
    assert paid.failure_reason is None and paid.payment is not None
    shop.jobs_settle_to(paid.id, ["provision"])

"""A paid order, bought from the aggregator sandbox over HTTP and delivered to a real mailbox."""

from __future__ import annotations

import io
from collections.abc import Callable
from email.message import EmailMessage

import pytest
import zxingcpp
from after_sale import AfterSale
from PIL import Image
from provisioning_helpers import Aggregator, Worker, paid_order, store_paid
from smtp_mailbox import Mailbox

from worker.config import Settings
from worker.orders.model import Lang, Order
from worker.provisioning.provision import provision

SUBJECTS: dict[Lang, str] = {
    "kk": "eSIM дайын",
    "ru": "Ваша eSIM готова",
    "en": "Your eSIM is ready",
}
BODIES: dict[Lang, str] = {
    "kk": "Сапарыңыз сәтті болсын",
    "ru": "Хорошей поездки",
    "en": "Have a good trip",
}


def qr_in(mail: EmailMessage) -> str:
    [image] = [part for part in mail.walk() if part.get_content_type() == "image/png"]
    png = image.get_payload(decode=True)
    assert isinstance(png, bytes)
    [result] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return str(result.text)


def test_paid_orders_arrive_in_the_mailbox_in_each_language_with_a_qr_that_decodes(
    wired: Settings,
    aggregator: Aggregator,
    mailbox: Mailbox,
    start_worker: Callable[..., Worker],
) -> None:
    orders = {lang: paid_order(f"10000012{i}", lang) for i, lang in enumerate(("kk", "ru", "en"))}
    store_paid(wired.orders_db, *orders.values())

    worker = start_worker()

    for lang, order in orders.items():
        delivered = worker.wait_until(order.id, lambda o: o.email_sent_at is not None)
        assert delivered.status == "delivered" and delivered.profile is not None
        [mail] = [m for m in mailbox.wait_for(3) if m["To"] == order.email]
        assert SUBJECTS[lang] in mail["Subject"]
        assert BODIES[lang] in mail.get_body(("plain",)).get_content()
        # The QR in the e-mail is the profile the aggregator allocated for this very order.
        [sold] = [p for p in aggregator.profiles() if p["transactionId"] == order.id]
        assert qr_in(mail) == sold["ac"] == delivered.profile.lpa
        assert delivered.profile.iccid == sold["iccid"]
        # When the plan's days start, as the aggregator sold it: for the page and the e-mail.
        starts = {1: "install", 2: "first_use"}[sold["activeType"]]
        assert (delivered.profile.validity_starts, delivered.profile.plan_days) == (starts, sold["totalDuration"])
        assert mail["Message-ID"] == delivered.email_message_id
        assert aggregator.count(order.id)["profiles"] == 1
    assert len(mailbox.messages) == 3


def test_the_order_page_shows_the_qr_while_the_mail_server_is_down(
    wired: Settings,
    aggregator: Aggregator,
    mailbox: Mailbox,
    start_worker: Callable[..., Worker],
) -> None:
    mailbox.down()
    order = paid_order()
    store_paid(wired.orders_db, order)
    worker = start_worker()

    delivered = worker.wait_until(order.id, lambda o: o.status == "delivered")
    view = worker.http.get(f"/api/orders/{order.token}").json()
    assert view["status"] == "delivered" and view["email_sent"] is False
    assert view["esim"]["lpa"] == delivered.profile.lpa  # type: ignore[union-attr]
    svg = worker.http.get(f"/api/orders/{order.token}/qr.svg")
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    png = worker.http.get(f"/api/orders/{order.token}/qr.png")
    [decoded] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    assert decoded.text == view["esim"]["lpa"]
    worker.wait_until(order.id, lambda o: worker.services.store.jobs(o.id)[0].attempts >= 1)

    mailbox.up()
    # The job runner retries with backoff; the first retries come within seconds.
    sent = worker.wait_until(order.id, lambda o: o.email_sent_at is not None, timeout=30)
    assert len(mailbox.wait_for(1)) == 1
    assert sent.email_message_id == mailbox.messages[0]["Message-ID"]


def test_qr_of_an_undelivered_or_unknown_order_is_404(
    wired: Settings, aggregator: Aggregator, start_worker: Callable[..., Worker]
) -> None:
    aggregator.config(allocation_stuck=True)
    order = paid_order()
    store_paid(wired.orders_db, order)
    worker = start_worker()
    worker.wait_until(order.id, lambda o: o.provider_order_no is not None)
    for token in (order.token, "x" * 43):
        for kind in ("svg", "png"):
            answer = worker.http.get(f"/api/orders/{token}/qr.{kind}")
            assert answer.status_code == 404 and answer.json() == {"error": "not found"}


@pytest.mark.parametrize("mode", ["same-order", "310402"])
def test_a_lost_order_reply_is_retried_with_the_same_id_and_buys_one_profile(
    mode: str,
    wired: Settings,
    aggregator: Aggregator,
    mailbox: Mailbox,
    start_worker: Callable[..., Worker],
) -> None:
    aggregator.config(duplicate_mode=mode)
    # The order is committed at the aggregator, and its answer is lost on the way back.
    aggregator.fault(endpoint="esim/order", kind="lost_response", status=502, times=1)
    aggregator.fault(endpoint="esim/order", kind="drop", times=1)
    order = paid_order()
    store_paid(wired.orders_db, order)
    worker = start_worker()

    delivered = worker.wait_until(order.id, lambda o: o.email_sent_at is not None, timeout=30)

    assert aggregator.count(order.id) == {
        "transactionId": order.id,
        "orders": 1,
        "profiles": 1,
        "total_orders": 1,
        "total_profiles": 1,
    }
    [sold] = aggregator.profiles()
    assert delivered.profile is not None and delivered.profile.lpa == sold["ac"]
    assert len(mailbox.wait_for(1)) == 1


@pytest.mark.parametrize(
    "rules",
    [
        [{"endpoint": "esim/order", "kind": "http", "status": 500, "times": 2}],
        [{"endpoint": "esim/order", "kind": "non_json", "times": 2}],
        [{"endpoint": "esim/order", "kind": "error", "code": "900001", "times": 2}],
        [{"endpoint": "esim/query", "kind": "http", "status": 502, "times": 2}],
        [
            {"endpoint": "esim/query", "kind": "non_json", "times": 1},
            {"endpoint": "esim/query", "kind": "drop", "times": 1},
        ],
        [{"endpoint": "esim/query", "kind": "error", "code": "000001", "times": 2}],
    ],
    ids=["order-500", "order-html", "order-busy", "query-502", "query-malformed", "query-error"],
)
def test_aggregator_outages_are_retried_until_the_order_is_delivered(
    rules: list[dict[str, object]],
    wired: Settings,
    aggregator: Aggregator,
    mailbox: Mailbox,
    start_worker: Callable[..., Worker],
) -> None:
    for rule in rules:
        aggregator.fault(**rule)
    order = paid_order()
    store_paid(wired.orders_db, order)
    worker = start_worker()

    delivered = worker.wait_until(order.id, lambda o: o.email_sent_at is not None, timeout=30)

    assert delivered.status == "delivered"
    assert any(e["event"] == "aggregator_error" for e in delivered.timeline)
    assert aggregator.count(order.id)["profiles"] == 1
    assert len(mailbox.wait_for(1)) == 1


def test_past_the_bound_the_order_fails_support_is_alerted_and_the_buyer_told(
    wired: Settings,
    aggregator: Aggregator,
    mailbox: Mailbox,
    start_worker: Callable[..., Worker],
) -> None:
    aggregator.config(allocation_stuck=True)
    order = paid_order(lang="en")
    store_paid(wired.orders_db, order)
    worker = start_worker(provision_give_up_after=3.0)

    failed = worker.wait_until(order.id, lambda o: o.status == "provisioning_failed", timeout=20)

    assert failed.profile is None and failed.failure_reason
    mails = mailbox.wait_for(2)
    alert = next(m for m in mails if m["To"] == wired.support_email)
    notice = next(m for m in mails if m["To"] == order.email)
    body = alert.get_content()
    assert order.id in alert["Subject"] and "provisioning_started" in body
    assert failed.provider_order_no is not None and failed.provider_order_no in body
    assert "refund" in notice["Subject"]
    assert "support team has been alerted" in notice.get_body(("plain",)).get_content()
    view = worker.http.get(f"/api/orders/{order.token}").json()
    assert view["status"] == "provisioning_failed" and view["esim"] is None
    worker.wait_until(order.id, lambda o: not worker.services.store.jobs(o.id))
    assert len(mailbox.messages) == 2


def test_an_unknown_package_fails_at_once_without_buying_anything(
    wired: Settings,
    aggregator: Aggregator,
    mailbox: Mailbox,
    start_worker: Callable[..., Worker],
) -> None:
    order = paid_order(package_code="NO-SUCH-PACKAGE")
    store_paid(wired.orders_db, order)
    worker = start_worker()

    failed = worker.wait_until(order.id, lambda o: o.status == "provisioning_failed")

    assert "NO-SUCH-PACKAGE" in (failed.failure_reason or "")
    assert aggregator.count(order.id)["orders"] == 0
    assert len(mailbox.wait_for(2)) == 2


def test_a_day_pass_is_ordered_for_the_days_the_buyer_paid_for(
    wired: Settings,
    aggregator: Aggregator,
    mailbox: Mailbox,
    start_worker: Callable[..., Worker],
) -> None:
    order = paid_order(package_code="TR-UNL-1GB-7D", package_title="Turkey unlimited, 7 days")
    store_paid(wired.orders_db, order)
    worker = start_worker()

    delivered = worker.wait_until(order.id, lambda o: o.email_sent_at is not None)

    [sold] = aggregator.profiles()
    assert sold["transactionId"] == order.id and sold["totalDuration"] == 7
    assert delivered.profile is not None and delivered.profile.total_bytes == 7 * 1024**3


@pytest.mark.slow
def test_an_order_that_times_out_is_asked_again_with_the_same_id_not_failed(
    wired: Settings,
    aggregator: Aggregator,
    mailbox: Mailbox,
    start_worker: Callable[..., Worker],
) -> None:
    # The aggregator takes longer than our 10 s timeout, then places the order anyway.
    aggregator.fault(endpoint="esim/order", kind="latency", seconds=11, times=1)
    order = paid_order()
    store_paid(wired.orders_db, order)
    worker = start_worker()

    delivered = worker.wait_until(order.id, lambda o: o.email_sent_at is not None, timeout=40)

    assert any("timed out; outcome unknown" in e["detail"] for e in delivered.timeline)
    assert aggregator.count(order.id)["orders"] == 1
    assert aggregator.count(order.id)["profiles"] == 1
    assert len(mailbox.wait_for(1)) == 1


@pytest.mark.parametrize(
    "switches",
    [
        {"pending_style": "empty", "allocation_delay_s": 1.5},
        {"success_as_string": True, "message_field": "errorMessage", "allocation_delay_s": 1.5},
        {"rate_limit_style": "envelope", "rate_limit_per_s": 1},
    ],
    ids=["pending-as-empty-list", "success-as-string", "rate-limited"],
)
def test_every_dialect_of_the_aggregator_ends_in_one_delivery(
    switches: dict[str, object],
    wired: Settings,
    aggregator: Aggregator,
    mailbox: Mailbox,
    start_worker: Callable[..., Worker],
) -> None:
    aggregator.config(**switches)
    order = paid_order()
    store_paid(wired.orders_db, order)
    worker = start_worker()

    delivered = worker.wait_until(order.id, lambda o: o.email_sent_at is not None, timeout=30)

    assert delivered.profile is not None
    assert aggregator.count(order.id)["profiles"] == 1
    assert len(mailbox.wait_for(1)) == 1


@pytest.mark.anyio
async def test_a_profile_bought_for_another_order_is_never_handed_out(after_sale: AfterSale) -> None:
    other = await after_sale.order("delivered")
    assert other.profile is not None

    def muddled(o: Order) -> None:  # the aggregator pointed us at another order's number
        o.status = "provisioning"
        o.provider_transaction_id = o.id
        o.provider_order_no = other.profile.provider_order_no  # type: ignore[union-attr]

    order = await after_sale.order("paid")
    order = await after_sale.store.update(order.id, muddled)

    await provision(order, after_sale.services)

    failed = after_sale.store.get(order.id)
    assert failed is not None and failed.status == "provisioning_failed" and failed.profile is None
    assert failed.failure_reason is not None and "belongs to another transaction" in failed.failure_reason


@pytest.mark.anyio
async def test_a_stale_provision_job_leaves_a_delivered_order_alone(after_sale: AfterSale) -> None:
    paid = await after_sale.order("paid")
    await provision(paid, after_sale.services)
    delivered = after_sale.store.get(paid.id)
    assert delivered is not None and delivered.status == "delivered"

    await provision(paid, after_sale.services)  # the job again, with its copy from before

    assert after_sale.store.get(paid.id) == delivered

"""GET /api/orders/{token}: the fields the order page reads, and nothing it must not see."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.testclient import TestClient
from store_helpers import LPA, make_order
from store_helpers import delivered_order as delivered

from worker.app import create_app
from worker.config import Settings
from worker.order_page.public_view import mask_email
from worker.orders.model import Order, Payment, Profile, Refund

@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, handlers={})) as client:
        yield client


def store_order(client: TestClient, order: Order) -> None:
    asyncio.run(client.app.state.services.store.create(order))  # type: ignore[attr-defined]


def test_a_new_order_shows_awaiting_payment_and_nothing_else(client: TestClient) -> None:
    order = make_order(1, lang="kk")
    store_order(client, order)

    view = client.get(f"/api/orders/{order.token}").json()

    assert view == {
        "order_id": order.id, "status": "awaiting_payment", "lang": "kk",
        "created_at": order.created_at,
        "package": {"code": "TR-10GB-30D", "title": "Turkey 10 GB, 30 days", "destination": "TR",
                    "titles": {"kk": "Түркия 10 ГБ, 30 күн", "ru": "Турция 10 ГБ, 30 дней",
                               "en": "Türkiye 10 GB, 30 days"},
                    "data_mb": 10240, "days": 30},
        "amount": 4990, "currency": "KZT", "email_masked": "b***@example.kz",
        "payment": None, "failure_reason": None, "decline_code": None, "abandoned": False,
        "esim": None, "email_sent": False,
        "can_resend_email": False, "refund": None,
    }


def test_a_delivered_order_shows_the_esim_and_the_payment(client: TestClient, settings: Settings) -> None:
    order = delivered()
    store_order(client, order)

    answer = client.get(f"/api/orders/{order.token}")

    view = answer.json()
    ios = urlsplit(view["esim"].pop("ios_install_url"))
    assert (ios.netloc, ios.path) == ("esimsetup.apple.com", "/esim_qrcode_provisioning")
    assert parse_qs(ios.query) == {"carddata": [LPA]}
    assert answer.headers["cache-control"] == "no-store"
    assert view["payment"] == {"paid_at": order.payment.paid_at,  # type: ignore[union-attr]
                               "card_mask": "440563...5096", "reference": "512345678901"}
    assert view["esim"] == {
        "qr_svg_url": f"{settings.worker_url}/api/orders/{order.token}/qr.svg",
        "lpa": LPA, "smdp_address": "rsp.example.com", "activation_code": "ABCD1234",
        "iccid": "8986000000000000001", "expires_at": "2027-01-01T00:00:00+00:00",
        "validity_starts": None, "plan_days": None,
        "used_bytes": 0, "total_bytes": 10737418240, "installed": False,
    }
    assert view["email_sent"] is True and view["can_resend_email"] is True
    text = answer.text
    for secret in (order.secret_hash, "buyer@example.kz", "7012345678", "tx-1", "774411"):
        assert secret not in text


def test_a_refunded_order_shows_the_refund(client: TestClient) -> None:
    order = delivered(status="refunded", refund=Refund(
        amount=4990, reason="profile failed", operator="support",
        epay_refunded_at="2026-11-26T10:00:00+00:00"))
    store_order(client, order)

    view = client.get(f"/api/orders/{order.token}").json()

    assert view["refund"] == {"amount": 4990, "refunded_at": "2026-11-26T10:00:00+00:00"}
    assert view["can_resend_email"] is False


def test_a_refunded_order_shows_no_esim_and_no_qr(client: TestClient) -> None:
    order = delivered(status="refunded", refund=Refund(
        amount=4990, reason="changed plans", operator="support",
        epay_refunded_at="2026-11-26T10:00:00+00:00"))
    store_order(client, order)

    answer = client.get(f"/api/orders/{order.token}")
    images = [client.get(f"/api/orders/{order.token}/qr.{kind}") for kind in ("svg", "png")]

    assert answer.json()["esim"] is None
    for secret in (LPA, "ABCD1234", "8986000000000000001"):
        assert secret not in answer.text
    assert [(i.status_code, i.json()) for i in images] == [(404, {"error": "not found"})] * 2


def test_an_unknown_token_is_404_without_a_hint(client: TestClient) -> None:
    store_order(client, make_order(1))

    answers = [client.get(f"/api/orders/{t}") for t in (make_order(2).token, make_order(1).id, "x")]

    assert [(a.status_code, a.json()) for a in answers] == [(404, {"error": "not found"})] * 3


def test_the_view_and_the_route_agree_after_three_resends(client: TestClient) -> None:
    now = datetime.now(UTC)
    order = delivered(email_requested_at=(now - timedelta(minutes=5)).isoformat())
    for minutes_ago in (30, 20, 5):
        at = (now - timedelta(minutes=minutes_ago)).isoformat()
        order.timeline.append({"at": at, "event": "email_resend_requested", "detail": ""})
    store_order(client, order)

    view = client.get(f"/api/orders/{order.token}").json()
    answer = client.post(f"/api/orders/{order.token}/resend-email")

    assert view["can_resend_email"] is False
    assert answer.status_code == 429


@pytest.mark.parametrize(
    ("email", "masked"),
    [("buyer@example.kz", "b***@example.kz"), ("a@b.kz", "a***@b.kz"), (None, None)],
)
def test_email_masks(email: str | None, masked: str | None) -> None:
    assert mask_email(email) == masked


@pytest.mark.parametrize(("status", "reason", "code"), [
    ("payment_failed", "484: Insufficient funds", 484),
    ("payment_failed", "499: 3-D Secure password wrong or not entered", 499),
    ("payment_failed", "REJECT", None),  # no code: the page gives the general advice
    ("delivered", "484: Insufficient funds", None),  # a later try was charged after all
])
def test_a_decline_comes_with_epays_reason_code(client: TestClient, status: str, reason: str,
                                                code: int | None) -> None:
    order = make_order(2, status=status, failure_reason=reason)
    store_order(client, order)

    assert client.get(f"/api/orders/{order.token}").json()["decline_code"] == code


def test_an_abandoned_order_says_so_and_a_withdrawn_package_keeps_its_stored_title(client: TestClient) -> None:
    order = make_order(3, abandoned_at="2026-11-26T10:00:00+00:00", package_code="GONE-1GB-7D",
                       package_title="Turkey 1 GB, 7 days")
    store_order(client, order)

    view = client.get(f"/api/orders/{order.token}").json()

    assert view["abandoned"] is True and view["status"] == "awaiting_payment"
    assert view["package"]["titles"] is None and view["package"]["title"] == "Turkey 1 GB, 7 days"

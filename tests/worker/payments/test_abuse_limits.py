"""Issue 14: card testing and cost amplification. Checkouts over a limit get 429 with
Retry-After in the buyer's language, the counts survive a restart, the return link reuses a
fresh Epay answer. A real worker on loopback against the Epay sandbox."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from epay_buyer import FORM, Shop

from worker.api_errors import message
from worker.payments import back_links
from worker.payments.epay import Status


def test_checkouts_over_the_address_limit_are_refused_and_the_count_survives_a_restart(
    make_shop: Callable[..., Shop],
) -> None:
    shop = make_shop(checkout_rate_limit="2/minute;30/hour")
    shop.checkout(email="one@example.kz")
    shop.checkout(email="two@example.kz")

    refused = shop.worker.post("/api/checkout", json={**FORM, "email": "three@example.kz"})

    assert refused.status_code == 429
    assert refused.json() == {"error": message("too_many_checkouts", "ru")}
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["x-content-type-options"] == "nosniff"
    assert shop.services.store.count() == 2  # nothing stored, no Epay token asked for

    counted = shop.services.settings.orders_db.with_name("orders.limits.json")
    deadline = time.monotonic() + 5  # written in the background, just after each checkout
    while "checkout_address" not in (counted.read_text() if counted.exists() else ""):
        assert time.monotonic() < deadline, "the counts were never written"
        time.sleep(0.02)
    restarted = make_shop(checkout_rate_limit="2/minute;30/hour")  # same store folder
    again = restarted.worker.post("/api/checkout", json={**FORM, "email": "four@example.kz"})
    assert again.status_code == 429


def test_one_e_mail_address_is_limited_from_any_client_address(
    make_shop: Callable[..., Shop],
) -> None:
    shop = make_shop(checkout_email_rate_limit="1/minute")
    shop.checkout(email="victim@example.kz")

    refused = shop.worker.post("/api/checkout", json={**FORM, "email": "Victim@example.kz",
                                                      "lang": "kk"})

    assert refused.status_code == 429
    assert refused.json() == {"error": message("too_many_checkouts", "kk")}
    shop.checkout(email="someone.else@example.kz")


def test_unpaid_orders_per_e_mail_are_capped(make_shop: Callable[..., Shop]) -> None:
    shop = make_shop(unpaid_orders_per_email=2)
    shop.checkout()
    shop.checkout()

    refused = shop.worker.post("/api/checkout", json={**FORM, "lang": "en"})

    assert refused.status_code == 429
    assert refused.json() == {"error": message("unpaid_orders", "en")}
    assert int(refused.headers["retry-after"]) > 3600  # till the oldest leaves the payment window


def test_a_non_ascii_local_part_is_refused_and_an_idn_domain_kept_as_punycode(
    shop: Shop,
) -> None:
    for address in ("покупатель@example.com", "😀@example.com"):
        refused = shop.worker.post("/api/checkout", json={**FORM, "email": address})
        assert refused.status_code == 422
        assert refused.json() == {"errors": {"email": message("email_not_ascii", "ru")}}

    created = shop.checkout(email="buyer@пример.рф")

    assert shop.order(created["order_id"]).email == "buyer@xn--e1afmkfd.xn--p1ai"


def test_a_reloaded_return_link_reuses_the_fresh_status_answer(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(back_links, "REUSE_ANSWER_S", 1.0)
    created = shop.checkout()
    other = shop.checkout()
    asked: list[str] = []
    epay = shop.services.epay
    real = epay.check_status

    async def counted(invoice_id: str) -> Status:
        asked.append(invoice_id)
        return await real(invoice_id)

    epay.check_status = counted  # type: ignore[method-assign]
    for _ in range(5):
        back = shop.worker.get(f"/epay/back/{created['token']}", follow_redirects=False)
        assert back.status_code == 303

    assert asked == [created["order_id"]]
    time.sleep(1.0)  # the answer has aged: the next return asks again, the stale note goes
    shop.worker.get(f"/epay/back/{other['token']}", follow_redirects=False)
    shop.worker.get(f"/epay/back/{created['token']}", follow_redirects=False)
    assert asked == [created["order_id"], other["order_id"], created["order_id"]]

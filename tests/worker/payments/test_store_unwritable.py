"""Issue 14: with the store unwritable, checkout and Epay's postLink get JSON 503 with the CORS
and security headers, the postLink is never acknowledged, and the shop recovers by itself.
A real worker on loopback against the Epay sandbox; tests/store_faults.py breaks the store."""

from __future__ import annotations

import time

from epay_buyer import FORM, Shop
from store_faults import journal, unwritable


def test_an_unwritable_store_answers_503_and_acknowledges_nothing(shop: Shop) -> None:
    site = shop.services.settings.site_url
    created = shop.checkout()

    with unwritable(journal(shop.services.settings.orders_db)):
        refused = shop.worker.post("/api/checkout", json=FORM,
                                    headers={"Origin": site, "Accept-Language": "en"})
        shop.pay(created["payment"])  # the sandbox delivers the postLink now
        deadline = time.monotonic() + 10
        while not (deliveries := shop.deliveries()):
            assert time.monotonic() < deadline, "the sandbox never delivered the postLink"
            time.sleep(0.05)

    assert refused.status_code == 503
    # In the form's language (FORM is Russian), whatever the browser's Accept-Language says.
    assert refused.json()["error"].startswith("Магазин сейчас не может сохранить данные.")
    assert refused.headers["retry-after"] == "30"
    assert refused.headers["access-control-allow-origin"] == site
    assert refused.headers["content-security-policy"].startswith("default-src 'none'")
    assert [d["http_status"] for d in deliveries] == [503]  # Epay is not told "recorded"
    assert shop.order(created["order_id"]).epay_callback is None

    deadline = time.monotonic() + 5
    while (answer := shop.worker.post("/api/checkout", json=FORM)).status_code != 201:
        assert time.monotonic() < deadline, answer.text

"""A buyer in Debian's Chromium: a merchant page calls halyk.pay / showPaymentWidget, pays a card."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from epay_helpers import Epay, Receiver
from playwright.sync_api import Browser, FrameLocator, Page

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    yield context.new_page()
    context.close()


def merchant_page(epay: Epay, call: str, payment: dict[str, object]) -> str:
    return (f'<!doctype html><html><head><title>shop</title>'
            f'<script src="{epay.url}/payform/payment-api.js"></script></head>'
            f'<body><h1>Qazaq eSIM checkout</h1><script>{call}({json.dumps(payment)}'
            ', function (result) { document.title = "paid: " + result.success; });</script>'
            '</body></html>')


def type_card(form: Page | FrameLocator, pan: str, expiry: str, cvc: str) -> None:
    form.locator("#pan").fill(pan)
    form.locator("#expiry").fill(expiry)
    form.locator("#cvc").fill(cvc)
    form.locator("#name").fill("AIGERIM SARSENOVA")
    form.locator("button[type=submit]").click()


def test_buyer_pays_with_the_visa_test_card_and_lands_on_the_back_link(
        epay: Epay, receiver: Receiver, page: Page) -> None:
    payment = epay.payment(amount=4990, language="eng", description="Turkey 10 GB, 30 days")
    receiver.pages["/shop"] = merchant_page(epay, "halyk.pay", payment)

    page.goto(f"{receiver.url}/shop")
    page.wait_for_url(f"{epay.url}/payform/?params=*")
    assert page.locator("h1").inner_text() == "Order payment"
    assert page.locator("#amount").inner_text() == "4\u00a0990 KZT"
    type_card(page, "4405 6397 0401 5096", "01/27", "321")
    page.wait_for_url(f"{receiver.url}/back")

    assert "Back at the shop" in page.locator("h1").inner_text()
    [callback] = receiver.wait_for(1)
    assert callback.body["invoiceId"] == payment["invoiceId"]
    assert callback.body["code"] == "ok"
    assert callback.body["cardMask"] == "440563...5096"
    assert callback.body["secret_hash"] == f"secret-{payment['invoiceId']}"


def test_widget_overlay_reports_a_decline_to_the_merchant_page_and_closes(
        epay: Epay, receiver: Receiver, page: Page) -> None:
    payment = epay.payment(amount=1500, language="kaz")
    receiver.pages["/shop"] = merchant_page(epay, "halyk.showPaymentWidget", payment)

    page.goto(f"{receiver.url}/shop")
    form = page.frame_locator("#halyk-payment-widget iframe")
    assert form.locator("h1").inner_text() == "Тапсырысты төлеу"
    type_card(form, "4000 0000 0000 4848", "12/30", "123")
    page.wait_for_function("document.title === 'paid: false'")

    assert page.locator("#halyk-payment-widget").count() == 0
    [callback] = receiver.wait_for(1)
    assert (callback.body["code"], callback.body["reasonCode"]) == ("error", 484)

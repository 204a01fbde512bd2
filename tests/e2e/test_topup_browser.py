"""A buyer adds data in Chromium (issue 12): the order page's "Add data", the Epay sandbox
payform, and the eSIM's new totals back on the order page."""

from __future__ import annotations

import email
import email.policy
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from worker_env import LAX_LIMITS

from sandboxes.epay.texts import TEXTS as PAYFORM_TEXTS
from scripts.payform import card_form
from scripts.stack import ROOT, Ports, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

@pytest.fixture(scope="module")
def topup_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole shop as `make demo` runs it, with the top-ups it reads from the aggregator
    sandbox at start (Stack.write_topups)."""
    root = tmp_path_factory.mktemp("topup-shop")
    stack = Stack(state_dir=root / "state", site_dir=root / "site", ports=Ports.free(),
                  aggregator_allocation_delay=0.0, extra_worker_env=dict(LAX_LIMITS))
    stack.build_site()
    with stack:
        yield stack


def delivered_esim(shop: Stack, buyer: str = "traveller@example.kz") -> str:
    """A Turkish 10 GB eSIM bought over HTTP, as test_purchase.py buys it in the browser."""
    with httpx.Client(base_url=shop.worker_url, timeout=15) as worker:
        answer = worker.post("/api/checkout", json={
            "package": "TR-10GB-30D", "email": buyer, "phone": "+77051234567",
            "lang": "en", "device_ok": True, "offer_accepted": True}).json()
        httpx.post(f"{shop.url(shop.ports.epay)}/payform/", data=card_form(answer["payment"]))
        deadline = time.monotonic() + 20
        while worker.get(f"/api/orders/{answer['token']}").json()["status"] != "delivered":
            assert time.monotonic() < deadline, "the eSIM was not delivered in 20 s"
            time.sleep(0.2)
    return str(answer["token"])


def test_the_demo_stack_offers_the_sandboxs_topups_for_a_delivered_esim(topup_shop: Stack) -> None:
    token = delivered_esim(topup_shop, "demo@example.kz")
    offered = httpx.get(f"{topup_shop.worker_url}/api/orders/{token}/topups",
                        params={"lang": "ru"}, timeout=15).json()
    assert offered["reason"] is None
    assert [(o["package"], o["title"]) for o in offered["topups"]][:2] == [
        ("TR-TOPUP-1GB-7D", "Пополнение: +1 ГБ, 7 дней"),
        ("TR-TOPUP-3GB-15D", "Пополнение: +3 ГБ, 15 дней")]
    assert all(o["price_kzt"] >= 990 and o["price_kzt"] % 100 == 90 for o in offered["topups"])
    # The file is the stack's own, beside its copy of the catalogue; content/data/ is untouched.
    assert (topup_shop.state_dir / "topups.json").exists()
    assert not (ROOT / "content" / "data" / "topups.json").exists()


def test_a_buyer_adds_data_from_the_order_page_and_sees_the_new_totals(
    browser: Any, topup_shop: Stack
) -> None:
    token = delivered_esim(topup_shop)
    context = browser.new_context(locale="en-US")
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{topup_shop.site_url}/en/order/#{token}")
    expect(page.locator("#order")).to_contain_text("0 GB of 10 GB")
    expect(page.get_by_role("heading", name="Add data")).to_be_visible()

    page.get_by_role("button", name=re.compile(r"Top-up: \+1 GB, 7 days")).click()
    page.wait_for_url(f"{topup_shop.url(topup_shop.ports.epay)}/payform/**")
    words = PAYFORM_TEXTS["eng"]
    page.get_by_label(words["pan"]).fill("4405 6397 0401 5096")
    page.get_by_label(words["expiry"]).fill("01/27")
    page.get_by_label(words["cvc"]).fill("321")
    page.get_by_label(words["name"]).fill("AIGERIM SAPAROVA")
    page.get_by_role("button", name=words["pay"]).click()
    page.wait_for_url(f"{topup_shop.site_url}/en/order/#{token}")

    expect(page.locator("#order")).to_contain_text("0 GB of 11 GB")
    expect(page.locator("#topups")).to_contain_text("Top-up: +1 GB, 7 days: added")
    expect(page.locator("#topups")).to_contain_text(
        re.compile(r"0 GB of 11 GB used, updated (this minute|\d+ minutes? ago)"))
    context.close()
    assert not errors, errors


def sign_in_link(shop: Stack, address: str) -> str:
    """The My eSIMs sign-in link the worker mails to ``address``, from the demo mailbox's files."""
    before = set(shop.mail_dir.glob("*.eml"))
    answer = httpx.post(f"{shop.worker_url}/api/account/sign-in-link",
                        json={"email": address, "lang": "en"}, timeout=15)
    assert answer.status_code == 202, answer.text
    deadline = time.monotonic() + 15
    while True:
        for path in set(shop.mail_dir.glob("*.eml")) - before:
            mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            found = re.search(r"\S+/en/account/#login=\S+", str(mail.get_body(("plain",)).get_content()))
            if found:
                return found.group(0)
        assert time.monotonic() < deadline, "no sign-in link in the mailbox within 15 s"
        time.sleep(0.2)


def test_add_data_in_my_esims_leads_to_the_esims_topups(browser: Any, topup_shop: Stack) -> None:
    token = delivered_esim(topup_shop, "returning@example.kz")
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 700})
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(sign_in_link(topup_shop, "returning@example.kz"))
    expect(page.locator("#order-list .order")).to_contain_text("0 GB of 10 GB")

    page.locator("#order-list").get_by_role("link", name="Add data").click()
    page.wait_for_url(f"{topup_shop.site_url}/en/order/?add-data#{token}")
    offer = page.locator("#topups").get_by_role("button", name=re.compile(r"Top-up: \+1 GB, 7 days"))
    expect(offer).to_be_in_viewport()  # scrolled to the list, below the eSIM's QR and codes
    context.close()
    assert not errors, errors

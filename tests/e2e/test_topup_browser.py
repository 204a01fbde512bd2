"""A buyer adds data in Chromium (issue 12): the order page's "Add data", the Epay sandbox
payform, and the eSIM's new totals back on the order page."""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from sandboxes.epay.texts import TEXTS as PAYFORM_TEXTS
from scripts.payform import card_form
from scripts.stack import ROOT, Ports, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ONE_GB = {"code": "TR-TOPUP-1GB-7D", "provider_code": "TOPUP_TR_1_7", "data_mb": 1024,
          "days": 7, "price_kzt": 990}


@pytest.fixture(scope="module")
def topup_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole shop as `make demo` runs it, its catalogue beside a topups.json."""
    root = tmp_path_factory.mktemp("topup-shop")
    catalog = root / "catalog.json"
    shutil.copy(ROOT / "content" / "data" / "catalog.json", catalog)
    (root / "topups.json").write_text(json.dumps(
        {"plans": {"TR-10GB-30D": "TR"}, "topups": {"TR": [ONE_GB]}}))
    stack = Stack(state_dir=root / "state", site_dir=root / "site", ports=Ports.free(),
                  aggregator_allocation_delay=0.0,
                  extra_worker_env={"CATALOG_PATH": str(catalog)})
    stack.build_site()
    with stack:
        yield stack


def delivered_esim(shop: Stack) -> str:
    """A Turkish 10 GB eSIM bought over HTTP, as test_purchase.py buys it in the browser."""
    with httpx.Client(base_url=shop.worker_url, timeout=15) as worker:
        answer = worker.post("/api/checkout", json={
            "package": "TR-10GB-30D", "email": "traveller@example.kz", "phone": "+77051234567",
            "lang": "en", "device_ok": True, "offer_accepted": True}).json()
        httpx.post(f"{shop.url(shop.ports.epay)}/payform/", data=card_form(answer["payment"]))
        deadline = time.monotonic() + 20
        while worker.get(f"/api/orders/{answer['token']}").json()["status"] != "delivered":
            assert time.monotonic() < deadline, "the eSIM was not delivered in 20 s"
            time.sleep(0.2)
    return str(answer["token"])


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

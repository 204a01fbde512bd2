"""Both sides of the support chat in Chromium (issue 11): a buyer asks from their order page,
a signed-in operator sees the question with the order in the console inbox and answers, the
buyer's open panel shows the answer without a reload; refunds through the console follow the
offer; a claim shows its deadline."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from after_sale import AfterSale
from PIL import Image
from playwright.sync_api import expect
from starlette.datastructures import Secret

from scripts.stack import AGGREGATOR_ACCESS_CODE, AGGREGATOR_SECRET_KEY, Stack
from worker.config import load_settings
from worker.console.accounts import Accounts
from worker.orders.documents import JsonDoc
from worker.orders.model import Order
from worker.services import Services

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
PASSWORD = "night shift password"
PAYLOAD = 'My QR <img src=x onerror="document.title=1"> <script>document.title=2</script>'


def make_orders(shop: Stack, tmp: Path) -> dict[str, Order]:
    """A delivered (charged, profile at the aggregator) and a provisioning_failed order, written
    into the running worker's store from this process, as an `invoke` command would."""
    empty = tmp / "empty.env"
    empty.write_text("")
    env = shop.worker_env()
    settings = replace(
        load_settings(env_file=empty), orders_db=Path(env["ORDERS_DB"]),
        epay_oauth_url=env["EPAY_OAUTH_URL"], epay_api_url=env["EPAY_API_URL"],
        esimaccess_url=env["ESIMACCESS_URL"], esimaccess_access_code=AGGREGATOR_ACCESS_CODE,
        esimaccess_secret_key=Secret(AGGREGATOR_SECRET_KEY), catalog_path=Path(env["CATALOG_PATH"]),
    )
    made: dict[str, Order] = {}

    async def make() -> None:
        services = Services.open(settings)
        harness = AfterSale(services, env["EPAY_API_URL"], env["ESIMACCESS_URL"])
        try:
            made["delivered"] = await harness.order("delivered", lang="en")
            made["failed"] = await harness.order("provisioning_failed", lang="en")
        finally:
            harness.close()
            await services.aclose()

    # Playwright's sync API keeps a loop running in this thread: run ours in another one.
    worker = threading.Thread(target=lambda: asyncio.run(make()))
    worker.start()
    worker.join()
    return made


@pytest.fixture(scope="module")
def orders(shop: Stack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Order]:
    return make_orders(shop, tmp_path_factory.mktemp("orders"))


@pytest.fixture
def operator(browser: Any, shop: Stack) -> Iterator[Any]:
    """A second browser profile: the support person, signed in to the console."""
    token, _ = Accounts(JsonDoc(shop.state_dir / "operators.json")).add("aigerim@qazaq-esim.com", "Aigerim")
    context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    tab.goto(f"{shop.worker_url}/console/set-password/{token}")
    tab.get_by_label("New password").fill(PASSWORD)
    tab.get_by_role("button", name="Set password").click()
    tab.get_by_label("E-mail").fill("aigerim@qazaq-esim.com")
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Sign in").click()
    expect(tab.get_by_role("heading", name="Inbox")).to_be_visible()
    yield tab
    context.close()


def test_a_buyer_asks_support_answers_and_the_buyer_sees_it_without_reloading(
        page: Any, operator: Any, shop: Stack, orders: dict[str, Order]) -> None:
    delivered = orders["delivered"]
    page.goto(f"{shop.site_url}/en/order/#{delivered.token}")
    expect(page.locator("#order .status")).to_be_visible()
    loaded: list[str] = []
    page.on("request", lambda request: loaded.append(request.url))
    page.get_by_role("link", name="Chat with support").click()
    panel = page.get_by_role("dialog", name="Chat with support")
    expect(panel).to_contain_text("We answer every day")
    expect(panel.get_by_role("link", name="+7 705 454 49 65")).to_have_attribute(
        "href", "https://wa.me/77054544965")
    assert any(u.endswith("/theme/js/chat.js") for u in loaded)
    panel.get_by_label("Your question").fill(PAYLOAD)
    panel.get_by_role("button", name="Send").click()
    expect(panel.locator(".chat-buyer p")).to_have_text(PAYLOAD)  # as text, not markup

    operator.reload()
    entry = operator.locator(".thread").filter(has_text="My QR")
    expect(entry).to_contain_text(f"order {delivered.id} (delivered)")
    entry.get_by_role("link").click()
    expect(operator.locator(".m.buyer p")).to_have_text(PAYLOAD)
    assert delivered.token not in operator.content()
    operator.get_by_label("Answer").fill("Scan it from another screen <b>please</b>")
    operator.get_by_role("button", name="Send answer").click()

    expect(panel.locator(".chat-support p")).to_have_text(
        "Scan it from another screen <b>please</b>", timeout=10_000)
    assert page.title() not in ("1", "2") and operator.title() not in ("1", "2")

    # A screenshot: support sees the image, the buyer a note.
    shot = io.BytesIO()
    Image.new("RGB", (30, 20), "red").save(shot, "PNG")
    panel.get_by_label("Attach a screenshot").set_input_files(
        files=[{"name": "error.png", "mimeType": "image/png", "buffer": shot.getvalue()}])
    expect(panel.locator(".chat-m p").last).to_have_text("Screenshot sent")
    operator.reload()
    expect(operator.locator("img.shot")).to_be_visible()
    assert operator.locator("img.shot").evaluate("image => image.naturalWidth") == 30

    # The buyer reloads: the thread is still there (its key is in this browser).
    page.reload()
    page.get_by_role("link", name="Chat with support").click()
    expect(page.locator(".chat-m")).to_have_count(3)

    # A claim from the conversation: received today, answered within 30 days.
    operator.get_by_text("Open a claim").click()
    operator.get_by_label("What the buyer claims").fill("The QR does not scan")
    operator.get_by_role("button", name="Open claim").click()
    deadline = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
    expect(operator.locator(".claim")).to_contain_text(f"answer by {deadline}")


def test_a_console_refund_is_refused_with_the_clause_for_a_delivered_esim_and_done_for_a_failed_one(
        operator: Any, shop: Stack, orders: dict[str, Order]) -> None:
    operator.get_by_role("link", name="Orders").click()
    operator.get_by_label("E-mail, phone, order number or ICCID").fill(orders["delivered"].id)
    operator.get_by_role("button", name="Search").click()
    operator.get_by_role("link", name=orders["delivered"].id).click()
    operator.get_by_role("link", name="Refund…").click()
    expect(operator.locator(".refused")).to_contain_text("Refused by offer 5.2, 5.4")
    expect(operator.get_by_role("button", name="Refund 4990 ₸")).to_have_count(0)

    operator.goto(f"{shop.worker_url}/console/orders/{orders['failed'].id}/refund")
    expect(operator.locator(".ok")).to_have_text("The offer allows refunding 4990 ₸.")
    operator.get_by_label("Reason").fill("the eSIM was never issued")
    operator.get_by_role("button", name="Refund 4990 ₸").click()
    expect(operator.locator(".notice")).to_contain_text("Refund: refunded.")
    expect(operator.locator(".timeline")).to_contain_text("by Aigerim")

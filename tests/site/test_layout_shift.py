"""Nothing a buyer is reading moves while the checkout, the order page and My eSIMs load
(issue 15: the checkout's layout shift was 0.73, the order page's 0.15, My eSIMs' 0.2).

Two measures in Chromium at phone size: where the page's main elements are when the document
is parsed (DOMContentLoaded: styles applied, deferred scripts run) and again when the network
is idle (the package, the order or the session came back); and Chromium's own layout-shift
entries from the first paint on, summed as Lighthouse does (target ≤ 0.1), with the scripts
arriving after the first paint as they do on a slow phone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from site_helpers import TEST_WORKER_URL

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PHONE = {"viewport": {"width": 412, "height": 823}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}

# Runs in the page before its own scripts: the boxes at DOMContentLoaded and every layout shift.
WATCH = """
window.__shifts = [];
new PerformanceObserver(list => list.getEntries().forEach(e => { if (!e.hadRecentInput) window.__shifts.push(e.value); }))
  .observe({type: "layout-shift", buffered: true});
window.__boxes = s => s.map(sel => { const el = document.querySelector(sel); if (!el) return null;
  const r = el.getBoundingClientRect(); return [sel, Math.round(r.top + scrollY), Math.round(r.left)]; });
document.addEventListener("DOMContentLoaded", () => { window.__parsed = window.__boxes(window.__watched); });
"""


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(**PHONE)
    yield context.new_page()
    context.close()


def late_script(route: Any) -> None:
    """The page's scripts arrive after its first paint, as on a slow phone network."""
    time.sleep(0.3)
    route.continue_()


def moves(phone: Any, url: str, selectors: list[str]) -> tuple[list[Any], list[Any], float]:
    phone.add_init_script(f"window.__watched = {selectors!r};" + WATCH)
    phone.route("**/theme/js/*.js", late_script)
    phone.goto(url, wait_until="networkidle")
    phone.wait_for_timeout(300)  # a last frame after the answers arrived
    parsed = phone.evaluate("window.__parsed")
    settled = phone.evaluate(f"window.__boxes({selectors!r})")
    shift = phone.evaluate("new Promise(r => requestAnimationFrame(() => r(window.__shifts.reduce((a, b) => a + b, 0))))")
    return parsed, settled, shift


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_the_checkout_does_not_move_when_the_package_arrives(phone: Any, site_url: str, catalogue: dict[str, Any],
                                                            lang: str) -> None:
    code = next(d for d in catalogue["destinations"] if d["code"] == "TR")["packages"][0]["code"]
    parsed, settled, shift = moves(phone, f"{site_url}/{lang}/checkout/?package={code}",
                                   ["h1", "#summary", "#email", "#phone", "#pay", "footer"])
    assert phone.locator("#summary a").is_visible() and phone.is_enabled("#pay")  # the package did arrive
    assert settled == parsed
    assert shift <= 0.1, shift


@pytest.mark.parametrize(("lang", "path", "state"), [
    ("kk", "order/", "#order-missing"),  # no order token in the link
    ("ru", "order/#t0k", "#order-offline"),  # the worker does not answer
    ("en", "account/", "#sign-in"),
])
def test_the_order_page_and_my_esims_do_not_move_when_the_script_decides(phone: Any, site_url: str, lang: str,
                                                                        path: str, state: str) -> None:
    phone.route(f"{TEST_WORKER_URL}/**", lambda route: route.abort())
    parsed, settled, shift = moves(phone, f"{site_url}/{lang}/{path}", ["h1", ".states", "footer"])
    assert phone.locator(state).is_visible()
    assert settled == parsed
    assert shift <= 0.1, shift


def test_my_esims_with_a_session_does_not_move_when_the_worker_is_unreachable(phone: Any, site_url: str) -> None:
    phone.route(f"{TEST_WORKER_URL}/**", lambda route: route.abort())
    phone.add_init_script("sessionStorage.setItem('qe-session', 's3ss10n')")
    parsed, settled, shift = moves(phone, f"{site_url}/kk/account/", ["h1", ".states", "footer"])
    assert phone.locator("#account-unavailable").is_visible()
    assert settled == parsed
    assert shift <= 0.1, shift

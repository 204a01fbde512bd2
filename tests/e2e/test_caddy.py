"""The production front: Caddy from deploy/Caddyfile (`tls internal`, free loopback ports)
serving a release made by `invoke publish` and proxying the worker, with the sandboxes
behind it; a buyer pays in Chromium over HTTPS under the Content-Security-Policy."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from test_purchase import VISA, buy, status, tr
from worker_env import LAX_LIMITS

import scripts.publish
from scripts.caddy import Caddy
from scripts.publish import build, publish
from scripts.stack import Ports, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

YEAR_IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass
class HttpsStack(Stack):
    """The shop as buyers reach it in production: the site and the worker through Caddy."""

    caddy: Caddy | None = None

    @property
    def site_url(self) -> str:
        assert self.caddy is not None
        return self.caddy.site_url

    @property
    def worker_url(self) -> str:
        assert self.caddy is not None
        return self.caddy.api_url

    @property
    def release(self) -> Path:
        assert self.caddy is not None
        return self.caddy.site_root.resolve()


def build_some_pages(source: Path, out: Path) -> None:
    """The real build, less the destination pages no test opens (the compression of ~700
    pages would take most of this suite's time)."""
    build(source, out)
    for page in out.glob("*/esim/*/"):
        if page.name not in ("tr", "ae"):
            shutil.rmtree(page)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpsStack]:
    root = tmp_path_factory.mktemp("https-shop")
    ports = Ports.free()
    caddy = Caddy(site_root=root / "site" / "current", worker_upstream=f"127.0.0.1:{ports.worker}",
                  epay_origin=f"http://127.0.0.1:{ports.epay}")
    saved = {k: os.environ.get(k) for k in ("WORKER_URL", "SITE_URL", "SSL_CERT_FILE")}
    try:
        os.environ.update(WORKER_URL=caddy.api_url, SITE_URL=caddy.site_url)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(scripts.publish, "build", build_some_pages)
            publish(str(root / "site"), worker_catalogue=None, say=lambda line: None)
        with caddy:
            # The sandboxes call the worker back through Caddy: they trust its local CA.
            os.environ["SSL_CERT_FILE"] = str(caddy.root_certificate)
            (root / "unused").mkdir()
            stack = HttpsStack(state_dir=root / "state", site_dir=root / "unused", ports=ports,
                               aggregator_allocation_delay=1.0, caddy=caddy,
                               extra_worker_env=dict(LAX_LIMITS))
            with stack:
                yield stack
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture
def client(shop: HttpsStack) -> Iterator[httpx.Client]:
    assert shop.caddy is not None
    with httpx.Client(verify=shop.caddy.trust(), timeout=10) as client:
        yield client


@pytest.fixture
def page(browser: Any, shop: HttpsStack) -> Iterator[Any]:
    """A tab that accepts Caddy's local certificate; the test fails on any error our pages
    log or throw, a refused Content-Security-Policy above all."""
    context = browser.new_context(locale="en-US", ignore_https_errors=True)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(f"{tab.url}: {error}"))
    tab.on("console", lambda message: errors.append(f"{tab.url}: {message.text}")
           if message.type == "error" and (tab.url.startswith(shop.site_url)
                                           or "Content Security Policy" in message.text)
           else None)
    yield tab
    context.close()
    assert not errors, errors


@pytest.mark.parametrize("path", ["/en/", "/en/checkout/", "/ru/esim/tr/", "/nope/"])
def test_every_page_carries_the_security_headers(
    client: httpx.Client, shop: HttpsStack, path: str
) -> None:
    answer = client.get(f"{shop.site_url}{path}")
    assert answer.status_code == (404 if path == "/nope/" else 200)
    csp = answer.headers["content-security-policy"]
    assert f"script-src 'self' {shop.url(shop.ports.epay)}" in csp
    assert f"connect-src 'self' {shop.worker_url}" in csp
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp
    assert answer.headers["strict-transport-security"].startswith("max-age=31536000")
    assert answer.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in answer.headers["permissions-policy"]
    assert answer.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_text_is_served_precompressed(client: httpx.Client, shop: HttpsStack, encoding: str
                                      ) -> None:
    page = shop.release / "en" / "index.html"
    suffix = {"br": ".br", "gzip": ".gz"}[encoding]
    with client.stream("GET", f"{shop.site_url}/en/",
                       headers={"Accept-Encoding": encoding}) as home:
        assert home.headers["content-encoding"] == encoding
        sent = b"".join(home.iter_raw())
    assert sent == Path(f"{page}{suffix}").read_bytes()  # the file publish wrote, as it is
    assert len(sent) < page.stat().st_size / 3
    plain = client.get(f"{shop.site_url}/en/", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == page.read_bytes()


def test_hashed_assets_are_kept_a_year_and_pages_minutes(client: httpx.Client, shop: HttpsStack
                                                          ) -> None:
    home = client.get(f"{shop.site_url}/en/")
    assert home.headers["cache-control"] == "public, max-age=300"
    assets = re.findall(r'"(/theme/[^"]+\.(?:css|js|svg))"', home.text)
    assert len(assets) >= 3
    for asset in assets:
        answer = client.get(f"{shop.site_url}{asset}")
        assert answer.status_code == 200, asset
        assert answer.headers["cache-control"] == YEAR_IMMUTABLE, asset
    data = client.get(f"{shop.site_url}/data/search.en.json")
    assert data.headers["cache-control"] == "public, max-age=300"


def test_the_api_host_proxies_the_worker_but_not_its_metrics(
    client: httpx.Client, shop: HttpsStack
) -> None:
    assert client.get(f"{shop.worker_url}/healthz").json() == {"ok": True}
    assert client.get(f"{shop.worker_url}/readyz").status_code == 200
    assert client.get(f"{shop.worker_url}/metrics").status_code == 404


def test_a_buyer_pays_over_https_through_caddy_under_the_csp(page: Any, shop: HttpsStack) -> None:
    visited = buy(page, shop, "en", "aigerim.https@example.kz", VISA)
    assert any(url.startswith(f"{shop.worker_url}/epay/back/") for url in visited), visited
    ready = tr("en", "Your eSIM is ready. Install it with the QR code or the codes below.")
    expect(status(page)).to_have_text(ready, timeout=30_000)
    qr = page.get_by_role("img", name=tr("en", "QR code of your eSIM"))
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=qr.element_handle())

"""Fixtures of the after-sale tests (issue 6): the aggregator and Webkassa sandboxes, and the
`after_sale` harness."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import httpx
import pytest
from after_sale import AGGREGATOR_ACCESS_CODE, AGGREGATOR_SECRET, AfterSale
from loopback import ServerThread
from smtp_mailbox import Mailbox
from starlette.datastructures import Secret

from worker.config import Settings
from worker.services import Services

OPERATOR_TOKEN = "operator-token-0123456789-abcdefghijklmnop"


@pytest.fixture(scope="session")
def after_sale_aggregator_server() -> Iterator[str]:
    """The aggregator sandbox, allocating at once (tests finish allocation explicitly)."""
    from sandboxes.aggregator.app import create_app
    from sandboxes.aggregator.options import Options

    with ServerThread(create_app(Options(allocation_delay_s=0.0, signature_mode="required"))) as server:
        yield server.url


@pytest.fixture(scope="session")
def webkassa_server() -> Iterator[str]:
    from sandboxes.webkassa.app import create_app

    with ServerThread(create_app()) as server:  # .env.example's credentials
        yield server.url


@pytest.fixture
def webkassa_url(webkassa_server: str) -> str:
    """The Webkassa sandbox, with fresh state (no receipts, shifts, tokens or switches)."""
    httpx.post(f"{webkassa_server}/_sandbox/reset").raise_for_status()
    return webkassa_server


@pytest.fixture
def after_sale_mailbox() -> Iterator[Mailbox]:
    with Mailbox() as box:
        yield box


@pytest.fixture
def after_sale_settings(settings: Settings, epay_sandbox: str, after_sale_aggregator_server: str,
                        after_sale_mailbox: Mailbox) -> Settings:
    """Settings wired to the Epay and aggregator sandboxes and the mailbox; operator API on."""
    agg = after_sale_aggregator_server
    httpx.post(f"{agg}/_sandbox/reset").raise_for_status()
    return replace(
        settings,
        epay_oauth_url=f"{epay_sandbox}/oauth2/token",
        epay_api_url=epay_sandbox,
        epay_payment_js_url=f"{epay_sandbox}/payform/payment-api.js",
        esimaccess_url=agg,
        esimaccess_access_code=AGGREGATOR_ACCESS_CODE,
        esimaccess_secret_key=Secret(AGGREGATOR_SECRET),
        smtp_port=after_sale_mailbox.port,
        operator_token=Secret(OPERATOR_TOKEN),
    )


@pytest.fixture
async def after_sale(after_sale_settings: Settings) -> AsyncIterator[AfterSale]:
    services = Services.open(after_sale_settings)
    harness = AfterSale(services, after_sale_settings.epay_api_url,
                        after_sale_settings.esimaccess_url)
    yield harness
    harness.close()
    await services.aclose()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"

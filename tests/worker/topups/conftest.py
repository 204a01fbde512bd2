"""A worker with every job running, wired to the Epay and aggregator sandboxes and a mailbox."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from loopback import ServerThread
from smtp_mailbox import Mailbox
from starlette.datastructures import Secret
from topup_world import World, write_offers

from worker.app import create_app
from worker.config import Settings


def _world(settings: Settings, mailbox: Mailbox, **changes: Any) -> Iterator[World]:
    server = ServerThread()
    settings = replace(settings, worker_url=server.url, **changes)
    write_offers(settings.catalog_path)
    server.app = create_app(settings)
    with server:
        world = World(server.url, settings, server.app.state.services, mailbox)
        yield world
        world.close()


@pytest.fixture
def world(after_sale_settings: Settings, after_sale_mailbox: Mailbox) -> Iterator[World]:
    yield from _world(after_sale_settings, after_sale_mailbox)


@pytest.fixture
def fiscal_world(
    after_sale_settings: Settings, after_sale_mailbox: Mailbox, webkassa_url: str
) -> Iterator[World]:
    """The world with receipts on (FISCAL_PROVIDER=webkassa, the Webkassa sandbox)."""
    yield from _world(
        after_sale_settings, after_sale_mailbox, fiscal_provider="webkassa",
        webkassa_url=webkassa_url,
        webkassa_api_key=Secret("WKD-00000000-0000-0000-0000-000000000000"),
        webkassa_login="demo@qazaq-esim.com", webkassa_password=Secret("demo"),
        webkassa_cashbox="SWK00000001",
    )


@pytest.fixture
def limited_world(after_sale_settings: Settings, after_sale_mailbox: Mailbox) -> Iterator[World]:
    """The world with the checkout limits tight: 2 checkouts a minute per address, 3 unpaid
    orders per e-mail address."""
    yield from _world(after_sale_settings, after_sale_mailbox,
                      checkout_rate_limit="2/minute", unpaid_orders_per_email=3)

"""A real worker on a free loopback port, talking to the Epay sandbox over HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from epay_buyer import Shop
from loopback import ServerThread

from worker.app import create_app
from worker.config import Settings
from worker.payments.confirm import confirm_payment, recheck_payment

# Only the payment's own jobs run here: the `provision` it hands over stays queued, visible.
PAYMENT_JOBS = {"confirm_payment": confirm_payment, "recheck_payment": recheck_payment}


@pytest.fixture
def make_shop(settings: Settings, epay_sandbox: str) -> Iterator[Callable[..., Shop]]:
    """Start a worker (settings overridable) wired to the sandbox; return its Shop."""
    started: list[tuple[ServerThread, Shop]] = []

    def make(**changes: Any) -> Shop:
        server = ServerThread()
        wired = replace(
            settings,
            worker_url=server.url,
            epay_oauth_url=f"{epay_sandbox}/oauth2/token",
            epay_api_url=epay_sandbox,
            epay_payment_js_url=f"{epay_sandbox}/payform/payment-api.js",
            **changes,
        )
        server.app = create_app(wired, handlers=PAYMENT_JOBS)
        server.__enter__()
        shop = Shop(server.url, epay_sandbox, server.app.state.services)
        started.append((server, shop))
        return shop

    yield make
    for server, shop in started:
        shop.close()
        server.__exit__(None, None, None)


@pytest.fixture
def shop(make_shop: Callable[..., Shop]) -> Shop:
    return make_shop()

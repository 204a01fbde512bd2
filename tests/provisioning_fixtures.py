"""Fixtures: the worker wired to the aggregator sandbox (over HTTP) and a real SMTP server
(aiosmtpd); the conftest of each folder whose tests need them imports them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from loopback import ServerThread
from provisioning_helpers import (
    ACCESS_CODE,
    PROVISIONING_JOBS,
    SECRET_KEY,
    TURKEY_DAY_PASS,
    TURKEY_SLUG,
    Aggregator,
    Worker,
)
from smtp_mailbox import Mailbox
from starlette.applications import Starlette
from starlette.datastructures import Secret
from starlette.responses import Response
from starlette.routing import Route

from sandboxes.aggregator import Options
from sandboxes.aggregator import create_app as create_sandbox
from worker.app import create_app
from worker.config import Settings

# The National Bank of Kazakhstan's rates_all.xml, as it looks.
RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Official exchange rates</title>
<item><title>EUR</title><pubDate>25.11.26</pubDate><description>548.20</description><quant>1</quant></item>
<item><title>USD</title><pubDate>25.11.26</pubDate><description>471.35</description><quant>1</quant></item>
<item><title>JPY</title><pubDate>25.11.26</pubDate><description>30.49</description><quant>10</quant></item>
</channel></rss>"""


@pytest.fixture(scope="session")
def national_bank() -> Iterator[str]:
    """The National Bank's feed on a free loopback port."""

    async def rates(request: object) -> Response:
        return Response(RSS, media_type="application/xml")

    with ServerThread(Starlette(routes=[Route("/rss/rates_all.xml", rates)])) as server:
        yield f"{server.url}/rss/rates_all.xml"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def catalog_path(catalog_path: Path) -> Path:
    """The shared small catalogue, its Turkish plans pointing at packages the sandbox sells."""
    catalog = json.loads(catalog_path.read_text(encoding="utf-8"))
    turkey = catalog["destinations"][0]["packages"]
    turkey[0]["provider_code"] = TURKEY_SLUG
    turkey.append(
        {
            **turkey[0],
            "code": "TR-UNL-1GB-7D",
            "provider_code": TURKEY_DAY_PASS,
            "data_mb": None,
            "fair_use": {"daily_high_speed_mb": 1024, "throttled_kbps": 384},
            "days": 7,
            "price_kzt": 3590,
            "provider_period": 7,
        }
    )
    catalog_path.write_text(json.dumps(catalog, ensure_ascii=False), encoding="utf-8")
    return catalog_path


@pytest.fixture(scope="session")
def aggregator_server() -> Iterator[str]:
    with ServerThread(create_sandbox(Options(signature_mode="required"))) as server:
        yield server.url


@pytest.fixture
def aggregator(aggregator_server: str) -> Iterator[Aggregator]:
    sandbox = Aggregator(aggregator_server)
    assert sandbox.http.post("/_sandbox/reset").status_code == 200
    sandbox.config(allocation_delay_s=0.5)
    yield sandbox
    sandbox.http.close()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with Mailbox() as box:
        yield box


@pytest.fixture
def wired(settings: Settings, aggregator: Aggregator, mailbox: Mailbox) -> Settings:
    """Settings pointing at the sandbox and the mailbox (the worker URL is set per server)."""
    return replace(
        settings,
        esimaccess_url=aggregator.url,
        esimaccess_access_code=ACCESS_CODE,
        esimaccess_secret_key=Secret(SECRET_KEY),
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
        smtp_security="none",
    )


@pytest.fixture
def start_worker(wired: Settings) -> Iterator[Callable[..., Worker]]:
    started: list[Worker] = []

    def start(**changes: Any) -> Worker:
        server = ServerThread()
        server.app = create_app(
            replace(wired, worker_url=server.url, **changes), handlers=PROVISIONING_JOBS
        )
        server.__enter__()
        worker = Worker(server)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.http.close()
        worker.server.__exit__(None, None, None)

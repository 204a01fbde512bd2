"""GET /metrics (worker/monitor.py, worker/metrics.py): the shop's figures, for this host only."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace

import httpx
import pytest
from loopback import ServerThread
from starlette.datastructures import Secret
from starlette.testclient import TestClient

from worker.app import create_app
from worker.config import Settings
from worker.metrics import EXTERNAL_ERRORS, CountingTransport
from worker.orders.model import Order
from worker.orders.store import OrderStore

TOKEN = "metrics-token-0123456789-abcdefghijklmnop"


def order(n: int, status: str = "awaiting_payment") -> Order:
    return Order(id=str(5_000_000_000 + n), token=f"metrics-token-{n:04d}-" + "x" * 32,
                 status=status, lang="en", email=f"m{n}@example.kz", phone="+77012345678",  # type: ignore[arg-type]
                 package_code="TR-10GB-30D", destination="TR", package_title="Turkey", amount=4990)


def figure(text: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    assert found, f"{name} not in /metrics"
    return float(found.group(1))


@pytest.fixture
def shop_settings(settings: Settings) -> Settings:
    """Two orders awaiting payment, one paid whose `provision` job is two minutes overdue."""

    async def fill() -> None:
        store = OrderStore.open(settings.orders_db)
        await store.create(order(1))
        await store.create(order(2))
        await store.create(order(3, "paid"))
        await store.enqueue(order(3).id, "provision", delay_s=-120)
        store.close()

    asyncio.run(fill())
    return replace(settings, metrics_token=Secret(TOKEN))


def test_metrics_with_the_token_show_orders_jobs_and_store_writes(shop_settings: Settings) -> None:
    client = TestClient(create_app(shop_settings, handlers={}))  # no lifespan: no job runs
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    text = answer.text
    assert figure(text, 'qazaq_live_orders{status="awaiting_payment"}') == 2
    assert figure(text, 'qazaq_live_orders{status="paid"}') == 1
    assert figure(text, "qazaq_orders_stored") == 3
    assert figure(text, 'qazaq_jobs_pending{kind="provision"}') == 1
    assert 119 < figure(text, 'qazaq_job_oldest_due_seconds{kind="provision"}') < 200
    assert figure(text, "qazaq_store_write_seconds_count") >= 4
    assert "qazaq_payment_to_delivery_seconds_bucket" in text


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token"}])
def test_metrics_from_elsewhere_without_the_token_are_refused(
    shop_settings: Settings, headers: dict[str, str]
) -> None:
    client = TestClient(create_app(shop_settings, handlers={}))  # a client that is not loopback
    answer = client.get("/metrics", headers=headers)
    assert answer.status_code == 403
    assert "qazaq_" not in answer.text


def test_metrics_answer_this_host_but_not_requests_through_the_proxy(settings: Settings) -> None:
    with ServerThread(create_app(settings, handlers={})) as server:
        direct = httpx.get(f"{server.url}/metrics")
        proxied = httpx.get(f"{server.url}/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert direct.status_code == 200 and "qazaq_job_runner_alive 1.0" in direct.text
    assert proxied.status_code == 403


def test_failed_partner_calls_are_counted_by_service_and_kind() -> None:
    def before(service: str, kind: str) -> float:
        return EXTERNAL_ERRORS.labels(service, kind)._value.get()

    busy = before("epay", "http_503"), before("aggregator", "unreachable")

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "down.example":
            raise httpx.ConnectError("refused")
        return httpx.Response(503 if request.url.host == "epay.example" else 200)

    hosts = {"epay.example": "epay"}

    async def calls() -> None:
        inner = httpx.MockTransport(answer)
        async with httpx.AsyncClient(transport=CountingTransport(hosts, inner)) as client:
            assert (await client.get("http://epay.example/")).status_code == 503
            assert (await client.get("http://fine.example/")).status_code == 200
        async with httpx.AsyncClient(transport=CountingTransport("aggregator", inner)) as client:
            with pytest.raises(httpx.ConnectError):
                await client.get("http://down.example/")

    asyncio.run(calls())
    assert before("epay", "http_503") == busy[0] + 1
    assert before("aggregator", "unreachable") == busy[1] + 1
    assert before("other", "http_200") == 0

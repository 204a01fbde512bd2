"""Issue 14: a job gives up after a limit and support hears of it, through ALERT_WEBHOOK_URL
when the mail server is down (a real HTTP receiver on loopback), and in the log."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from loopback import ServerThread
from smtp_mailbox import Mailbox
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from worker import alerts, job_runner
from worker.app import create_app
from worker.config import Settings
from worker.jobs import GiveUp, RetryLater
from worker.orders.model import Order
from worker.services import Services


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A chat webhook on loopback: the JSON bodies it was posted."""
    posted: list[dict[str, Any]] = []

    async def hook(request: Request) -> Response:
        posted.append(await request.json())
        return Response(status_code=200)

    with ServerThread(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as server:
        yield f"{server.url}/hook", posted


def order(n: int) -> Order:
    return Order(id=str(3_100_000_000 + n), token=f"alert-{n}-" + "t" * 40, status="paid",
                 lang="en", email="buyer@example.kz", phone=None, package_code="P",
                 destination="TR", package_title="T", amount=100)


async def doomed(o: Order, services: Any) -> None:
    raise GiveUp("the aggregator refused buyer@example.kz for good")


async def failing(o: Order, services: Any) -> None:
    raise RuntimeError("the partner is down")


async def polling(o: Order, services: Any) -> None:
    raise RetryLater(0.01, "no final status yet")


def run_jobs(settings: Settings, kinds: list[str], done: Callable[[], bool]) -> None:
    handlers = {"doomed": doomed, "failing": failing, "polling": polling}
    with TestClient(create_app(settings, handlers=handlers)) as client:
        store = client.app.state.services.store  # type: ignore[attr-defined]
        for n, kind in enumerate(kinds, start=1):
            client.portal.call(store.create, order(n))  # type: ignore[union-attr]
            client.portal.call(store.enqueue, order(n).id, kind)  # type: ignore[union-attr]
        deadline = time.monotonic() + 10
        while not (done() and not store.jobs()):
            assert time.monotonic() < deadline, "the jobs did not give up"
            time.sleep(0.02)


def test_a_job_that_gives_up_alerts_support_through_the_webhook_when_mail_is_down(
    settings: Settings, receiver: tuple[str, list[dict[str, Any]]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, posted = receiver  # SMTP_PORT 9 of the tests: nobody listens, the mail fails
    with caplog.at_level(logging.WARNING):
        run_jobs(replace(settings, alert_webhook_url=url), ["doomed"], lambda: len(posted) == 1)

    assert [p["kind"] for p in posted] == ["job_gave_up"]
    assert "doomed job of order 3100000001 gave up" in posted[0]["text"]
    assert "buyer@example.kz" not in posted[0]["text"] + caplog.text  # no buyer's data
    assert "alerts: job_gave_up posted to ALERT_WEBHOOK_URL" in caplog.text


def test_jobs_failing_or_waiting_past_the_limit_give_up_and_alert(
    settings: Settings, receiver: tuple[str, list[dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, posted = receiver
    monkeypatch.setattr(job_runner, "GIVE_UP_AFTER_S", 0.0)  # every job is past it at once

    run_jobs(replace(settings, alert_webhook_url=url), ["failing", "polling"],
             lambda: len(posted) == 2)

    texts = sorted(p["text"] for p in posted)
    assert len(texts) == 2
    assert "still failing after 0 h: RuntimeError: the partner is down" in texts[0]
    assert "still waiting after 0 h: no final status yet" in texts[1]


def test_when_both_channels_fail_the_alert_is_still_in_the_log(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    unreachable = replace(settings, alert_webhook_url="http://127.0.0.1:9/hook")
    with caplog.at_level(logging.WARNING):
        run_jobs(unreachable, ["doomed"], lambda: "could not be posted" in caplog.text)

    assert "alerts: job_gave_up alert could not be mailed" in caplog.text
    assert "alerts: job_gave_up: The doomed job of order 3100000001 gave up" in caplog.text


def test_without_a_webhook_a_failed_alert_mail_is_logged(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        run_jobs(settings, ["doomed"], lambda: "could not be mailed" in caplog.text)

    assert "ALERT_WEBHOOK_URL" not in caplog.text


def test_an_alert_subject_stays_on_one_line(settings: Settings, after_sale_mailbox: Mailbox) -> None:
    async def scenario() -> bool:
        services = Services.open(replace(settings, smtp_port=after_sale_mailbox.port))
        try:
            return await alerts.alert_support(
                services, "job_gave_up", "aggregator said: no\r\nBcc: someone@example.org\nmore")
        finally:
            await services.aclose()

    assert asyncio.run(scenario())
    mail = after_sale_mailbox.wait_for(1)[0]
    assert mail["Subject"] == "[alert] job gave up: aggregator said: no"
    assert mail["Bcc"] is None

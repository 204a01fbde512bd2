"""Alerts to support (worker/alerts.py): overdue jobs, failing deliveries, a low aggregator
balance; mailed through real SMTP, at most once per kind per 15 minutes."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import pytest
from smtp_mailbox import Mailbox

from worker import alerts
from worker.alerts import Alerts
from worker.config import Settings
from worker.orders.model import Order
from worker.services import Services


def paid_order() -> Order:
    return Order(id="7000000001", token="alert-token-" + "x" * 32, status="paid", lang="en",
                 email="buyer@example.kz", phone="+77012345678", package_code="TR-10GB-30D",
                 destination="TR", package_title="Turkey", amount=4990)


def test_support_gets_each_alert_once_per_quarter_hour(
    after_sale_settings: Settings, after_sale_mailbox: Mailbox
) -> None:
    # The sandbox's balance is 1,000,000 USD: below a threshold of 2,000,000.
    settings = replace(after_sale_settings, aggregator_balance_alert_usd=2_000_000)

    async def scenario() -> list[list[str]]:
        services = Services.open(settings)
        try:
            store = services.store
            await store.create(paid_order())
            await store.enqueue("7000000001", "provision")
            [job] = store.jobs()
            for _ in range(3):  # failed three times, and due for 12 minutes now
                await store.retry_job(job.id, -12 * 60, "TransientError: eSIM Access timed out")
            now = [time.time()]
            alerts = Alerts(services, clock=lambda: now[0])
            mailed = [await alerts.check()]
            now[0] += 60
            mailed.append(await alerts.check())
            now[0] += 15 * 60
            mailed.append(await alerts.check())
            return mailed
        finally:
            await services.aclose()

    first, again, later = asyncio.run(scenario())
    assert sorted(first) == ["balance_low", "deliveries_failing", "job_overdue"]
    assert again == []
    assert sorted(later) == sorted(first)
    messages = after_sale_mailbox.wait_for(6)
    assert {m["To"] for m in messages} == {settings.support_email}
    bodies = "\n".join(m.get_content() for m in messages[:3])
    assert "provision for order 7000000001" in bodies
    assert "1000000.00 USD" in bodies
    assert "buyer@example.kz" not in bodies  # no personal data in alerts


def test_no_alert_while_all_is_well(after_sale_settings: Settings, after_sale_mailbox: Mailbox
                                    ) -> None:
    async def scenario() -> list[str]:
        services = Services.open(after_sale_settings)
        try:
            return await Alerts(services).check()
        finally:
            await services.aclose()

    assert asyncio.run(scenario()) == []


def test_an_unreachable_aggregator_does_not_hide_the_other_alerts(
    after_sale_settings: Settings, after_sale_mailbox: Mailbox
) -> None:
    settings = replace(after_sale_settings, esimaccess_url="http://127.0.0.1:9",
                       aggregator_balance_alert_usd=2_000_000)

    async def scenario() -> list[str]:
        services = Services.open(settings)
        try:
            await services.store.create(paid_order())
            await services.store.enqueue("7000000001", "provision")
            [job] = services.store.jobs()
            await services.store.retry_job(job.id, -12 * 60, "TransientError: eSIM Access down")
            return await Alerts(services).check()
        finally:
            await services.aclose()

    assert asyncio.run(scenario()) == ["job_overdue"]  # no balance known: no balance alert
    [mail] = after_sale_mailbox.wait_for(1)
    assert mail["Subject"].startswith("[alert] job overdue: 1 job(s)")


def test_an_alert_the_mail_server_did_not_take_is_sent_at_the_next_check(
    after_sale_settings: Settings, after_sale_mailbox: Mailbox
) -> None:
    settings = replace(after_sale_settings, aggregator_balance_alert_usd=2_000_000)

    async def scenario() -> list[list[str]]:
        services = Services.open(settings)
        try:
            alerts = Alerts(services)
            after_sale_mailbox.down()
            first = await alerts.check()
            after_sale_mailbox.up()
            return [first, await alerts.check()]
        finally:
            await services.aclose()

    assert asyncio.run(scenario()) == [[], ["balance_low"]]
    assert len(after_sale_mailbox.wait_for(1)) == 1


def test_the_watch_goes_on_after_a_failed_check(
    after_sale_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    async def check(self: Alerts) -> list[str]:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("the store's disk is full")
        return []

    monkeypatch.setattr(alerts, "CHECK_EVERY_S", 0.01)
    monkeypatch.setattr(Alerts, "check", check)

    async def scenario() -> None:
        services = Services.open(after_sale_settings)
        watch = asyncio.create_task(alerts.run(services))
        try:
            for _ in range(500):
                if len(calls) >= 3:
                    break
                await asyncio.sleep(0.01)
        finally:
            watch.cancel()
            await services.aclose()

    asyncio.run(scenario())
    assert len(calls) >= 3

"""Usage alerts over HTTP (issue 12): the aggregator sandbox's DATA_USAGE webhooks, confirmed
with esim/query, mail the buyer once per top-up period in the order's language, with the usage,
the "Add data" link and a one-click way out; a periodic refresh finds what no webhook said."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, tzinfo

import httpx
import pytest
from loopback import ServerThread
from smtp_mailbox import Mailbox
from topup_world import GB, World, write_offers

from worker.app import create_app
from worker.config import Settings
from worker.orders.model import Order, Profile
from worker.provisioning.esimaccess import EsimAccess
from worker.topups import usage_alerts
from worker.topups.usage_alerts import due

pytestmark = pytest.mark.slow


def save_webhook(world: World) -> None:
    url = f"{world.worker.base_url}/aggregator/webhook/{world.settings.aggregator_webhook_secret}"

    async def save() -> None:
        client = EsimAccess(world.settings.esimaccess_url, world.settings.esimaccess_access_code,
                            str(world.settings.esimaccess_secret_key))
        try:
            await client.save_webhook(url)
        finally:
            await client.aclose()

    asyncio.run(save())


def phone(world: World, esim: Order, action: str, **body: object) -> None:
    assert esim.profile is not None
    answer = world.aggregator.post(f"/_sandbox/esims/{esim.profile.esim_tran_no}/{action}",
                                   json=body)
    assert answer.status_code == 200, answer.text


def alerts(world: World, esim: Order, count: int) -> list[str]:
    """The usage alerts recorded on the order once there are ``count`` of them."""
    order = world.wait_until(esim.id, lambda o: len(o.usage_alerts) >= count)
    return [key.partition("@")[0] for key in order.usage_alerts]


def test_data_alerts_come_once_per_period_in_the_orders_language_until_turned_off(
    world: World,
) -> None:
    esim = world.esim(lang="ru")
    phone(world, esim, "install")
    save_webhook(world)

    phone(world, esim, "consume", bytes=int(8.5 * GB))  # DATA_USAGE at 50 % and 80 %
    assert alerts(world, esim, 1) == ["data_80"]
    [first] = world.mailbox.wait_for(1)
    assert "израсходовано 80 процентов" in str(first["Subject"])
    body = first.get_body(("plain",)).get_content()
    assert "8,5 ГБ" in body and "10 ГБ" in body and f"/ru/order/#{esim.token}" in body
    off = first["List-Unsubscribe"].strip("<>")
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" and off in body

    phone(world, esim, "consume", bytes=GB // 2)  # DATA_USAGE at 90 %: still the same period
    phone(world, esim, "consume", bytes=GB)  # used up
    phone(world, esim, "notify", notifyType="DATA_USAGE")
    assert alerts(world, esim, 2) == ["data_80", "data_100"]
    time.sleep(0.5)
    assert len(world.mailbox.messages) == 2
    assert "трафик eSIM закончился" in str(world.mailbox.messages[1]["Subject"])

    bought = world.buy(esim).json()  # a new period: 11 GB, 10 GB used
    world.pay(bought["payment"])
    world.wait_until(bought["order_id"], lambda o: o.email_sent_at is not None)
    phone(world, esim, "notify", notifyType="DATA_USAGE")
    assert alerts(world, esim, 3)[2] == "data_80"

    page = httpx.get(off)
    assert page.status_code == 200 and "Уведомления о расходе отключены" in page.text
    assert httpx.post(off).status_code == 200  # the mail client's one-click POST, again
    assert world.order(esim.id).alerts_off
    phone(world, esim, "consume", bytes=GB)
    phone(world, esim, "notify", notifyType="DATA_USAGE")
    time.sleep(0.7)
    assert len(world.order(esim.id).usage_alerts) == 3  # nothing after turning them off
    usage = world.offers(esim)["usage"]
    assert usage["used_bytes"] == usage["total_bytes"] == 11 * GB and usage["updated_at"]


def test_a_webhook_for_an_esim_we_do_not_know_changes_nothing(world: World) -> None:
    secret = world.settings.aggregator_webhook_secret
    notice = {"notifyType": "DATA_USAGE", "notifyId": "f" * 32,
              "content": {"transactionId": "1000000000", "esimTranNo": "1"}}
    assert world.worker.post(f"/aggregator/webhook/{secret}", json=notice).status_code == 200
    assert world.worker.get("/api/orders/nope/alerts/off").status_code == 404


def test_a_refused_address_is_not_asked_again(world: World) -> None:
    esim = world.esim(lang="en")
    phone(world, esim, "install")
    phone(world, esim, "consume", bytes=10 * GB)
    save_webhook(world)
    world.mailbox.refuse_recipients = True

    phone(world, esim, "notify", notifyType="DATA_USAGE")

    assert alerts(world, esim, 1) == ["data_100"]
    assert world.mailbox.messages == []


def test_the_last_day_alert_comes_once_per_end_date() -> None:
    now = datetime(2026, 12, 6, 12, tzinfo=UTC)
    order = Order(id="1000000001", token="t" * 43, status="delivered", lang="kk",
                  email="b@example.kz", phone=None, package_code="TR-10GB-30D",
                  destination="TR", package_title="Turkey 10 GB, 30 days", amount=4990)
    order.profile = Profile(esim_tran_no="1", iccid="8986", lpa="LPA:1$a$b", smdp_address="a",
                            activation_code="b", provider_order_no="B1", used_bytes=0,
                            total_bytes=10 * GB,
                            expires_at=(now + timedelta(hours=20)).isoformat())
    assert [key.partition("@")[0] for key in due(order, now)] == ["last_day"]
    order.usage_alerts = due(order, now)
    assert due(order, now) == []
    order.profile.expires_at = (now + timedelta(days=7, hours=20)).isoformat()  # a top-up
    assert due(order, now) == []
    assert [k.partition("@")[0] for k in due(order, now + timedelta(days=7))] == ["last_day"]


def clock_ahead(ahead: timedelta) -> type[datetime]:
    """The worker's clock (of the alerts) ``ahead`` of the real one, as the sandbox's is."""

    class Later(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Later:
            return cls.fromtimestamp(time.time(), tz) + ahead

    return Later


def test_the_last_day_alert_comes_once_over_http_in_the_orders_language(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    esim = world.esim(lang="kk")
    phone(world, esim, "install")  # a 30-day plan: it ends 30 days from now
    save_webhook(world)
    ahead = timedelta(days=29, hours=1)
    # 29 days later on both clocks: the sandbox's business clock (its control endpoint; it then
    # sends its own VALIDITY_USAGE webhook, spec §7) and the worker's, which reads esim/query's
    # expiredTime against its own. Everything between them is real: HTTP, the job, SMTP.
    monkeypatch.setattr(usage_alerts, "datetime", clock_ahead(ahead))
    moved = world.aggregator.post("/_sandbox/clock/advance", json={"seconds": ahead.total_seconds()})
    assert moved.status_code == 200, moved.text

    assert alerts(world, esim, 1) == ["last_day"]
    [mail] = world.mailbox.wait_for(1)
    assert str(mail["Subject"]) == f"Тапсырыс {esim.id}: eSIM мерзімі бір тәулік ішінде аяқталады"
    assert f"/kk/order/#{esim.token}" in mail.get_body(("plain",)).get_content()  # "Add data"
    sent = world.aggregator.get("/_sandbox/webhooks").json()["webhooks"]
    assert "VALIDITY_USAGE" in str(sent)

    def checked(order: Order) -> str | None:
        return order.profile.usage_checked_at if order.profile else None

    before = checked(world.order(esim.id))
    phone(world, esim, "notify", notifyType="VALIDITY_USAGE")  # the same hint again
    world.wait_until(esim.id, lambda o: checked(o) != before)  # esim/query asked again
    world.wait_for_jobs_to_end(esim.id)
    assert len(world.mailbox.messages) == 1
    assert len(world.order(esim.id).usage_alerts) == 1


@pytest.fixture
def refreshing_world(after_sale_settings: Settings, after_sale_mailbox: Mailbox) -> Iterator[World]:
    """A worker that refreshes the usage of every active eSIM twice a second."""
    server = ServerThread()
    settings = replace(after_sale_settings, worker_url=server.url, usage_refresh_interval=0.5)
    write_offers(settings.catalog_path)
    server.app = create_app(settings)
    with server:
        world = World(server.url, settings, server.app.state.services, after_sale_mailbox)
        yield world
        world.close()


def test_the_periodic_refresh_alerts_without_a_webhook(refreshing_world: World) -> None:
    world = refreshing_world
    expired = world.esim(expires_at=(datetime.now(UTC) - timedelta(days=1)).isoformat())
    esim = world.esim(lang="en")
    phone(world, esim, "install")
    phone(world, esim, "consume", bytes=9 * GB)  # no webhook saved: nobody is told

    assert alerts(world, esim, 1) == ["data_80"]
    [mail] = world.mailbox.wait_for(1)
    assert "80 percent of your eSIM's data is used" in str(mail["Subject"])
    assert world.order(expired.id).profile.usage_checked_at == expired.profile.usage_checked_at  # type: ignore[union-attr]

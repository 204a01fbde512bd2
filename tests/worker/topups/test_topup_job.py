"""The apply_topup job in process against the aggregator sandbox: a repeated or stale run adds
nothing, an unknown outcome is retried with the same key, then given up; the offers file and
the client's odd answers (issue 12)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from after_sale import AfterSale
from topup_world import GB, ONE_GB, new_esim, write_offers

from worker.config import Settings
from worker.jobs import RetryLater
from worker.orders.model import Order, Payment
from worker.provisioning.esimaccess import EsimAccess
from worker.provisioning.provider import TransientError
from worker.services import Services
from worker.topups.apply import apply_topup
from worker.topups.offers import TopUpOffers, refusal

pytestmark = pytest.mark.anyio


@pytest.fixture
async def services(after_sale_settings: Settings) -> AsyncIterator[Services]:
    write_offers(after_sale_settings.catalog_path)
    opened = Services.open(after_sale_settings)
    yield opened
    await opened.aclose()


def paid_topup(esim: Order, digit: int = 5) -> Order:
    topup_id = esim.id[:-1] + str((int(esim.id[-1]) + digit) % 10)
    return Order(
        id=topup_id, token=f"t-{topup_id}-" + "x" * 32, status="paid", lang="en",
        email=esim.email, phone=None, package_code=ONE_GB["code"], destination="TR",
        package_title="Top-up: +1 GB, 7 days", amount=990, topup_of=esim.id,
        topup={"provider_code": ONE_GB["provider_code"], "data_mb": 1024, "days": 7},
        payment=Payment(transaction_id=f"epay-{topup_id}"),
    )


async def _stored(services: Services, *orders: Order) -> None:
    for order in orders:
        await services.store.create(order)


def _volume(settings: Settings, esim: Order) -> int:
    profiles = httpx.get(f"{settings.esimaccess_url}/_sandbox/profiles").json()["profiles"]
    assert esim.profile is not None
    [found] = [p for p in profiles if p["esimTranNo"] == esim.profile.esim_tran_no]
    return int(found["totalVolume"])


def _fault(settings: Settings, **rule: object) -> None:
    httpx.post(f"{settings.esimaccess_url}/_sandbox/faults", json=rule).raise_for_status()


async def test_a_second_run_of_a_stale_job_adds_nothing(
    services: Services, after_sale_settings: Settings
) -> None:
    esim = await new_esim(after_sale_settings)
    await services.store.create(esim)
    topup = paid_topup(esim)
    await _stored(services, topup)

    await apply_topup(topup, services)
    await apply_topup(topup, services)  # the same (stale, still "paid") copy again
    _fault(after_sale_settings, endpoint="esim/topup", kind="error", code="200002", times=1)
    await apply_topup(replace(topup, status="applying"), services)  # refused now: stays applied

    stored = services.store.get(topup.id)
    assert stored is not None and stored.status == "applied"
    assert _volume(after_sale_settings, esim) == 11 * GB
    again = services.store.get(esim.id)
    assert again is not None and again.profile is not None
    assert again.profile.total_bytes == 11 * GB
    assert [e["event"] for e in again.timeline].count("topped_up") == 1
    await apply_topup(stored, services)  # applied: nothing to do
    assert _volume(after_sale_settings, esim) == 11 * GB


async def test_an_unknown_outcome_is_retried_then_given_up(
    services: Services, after_sale_settings: Settings
) -> None:
    esim = await new_esim(after_sale_settings)
    await services.store.create(esim)
    topup = paid_topup(esim)
    await _stored(services, topup)
    _fault(after_sale_settings, endpoint="esim/topup", kind="http", status=502)

    with pytest.raises(RetryLater):
        await apply_topup(topup, services)
    services.settings = replace(services.settings, provision_give_up_after=0.001)
    await apply_topup(topup, services)

    failed = services.store.get(topup.id)
    assert failed is not None and failed.status == "failed"
    assert "502" in (failed.failure_reason or "")
    assert _volume(after_sale_settings, esim) == 10 * GB


async def test_a_topup_whose_esim_is_gone_fails(services: Services, after_sale_settings: Settings) -> None:
    esim = await new_esim(after_sale_settings)
    await services.store.create(esim)
    topup = replace(paid_topup(esim), topup_of="1000000000")
    await _stored(services, topup)

    await apply_topup(topup, services)

    failed = services.store.get(topup.id)
    assert failed is not None and failed.status == "failed"
    assert "has no eSIM" in (failed.failure_reason or "")


def test_offers_come_from_the_file_and_survive_a_broken_edit(tmp_path: Path) -> None:
    offers = TopUpOffers(tmp_path / "topups.json")
    assert offers.for_package("TR-10GB-30D") == []  # no file: no top-ups
    write_offers(tmp_path / "catalog.json")
    assert offers.find("TR-10GB-30D", ONE_GB["code"]) is not None
    (tmp_path / "topups.json").write_text(json.dumps({"plans": {}}))  # no "topups"
    assert [o.code for o in offers.for_package("TR-10GB-30D")] == [
        "TR-TOPUP-1GB-7D", "TR-TOPUP-3GB-15D"]
    assert offers.find("TR-10GB-30D", "TR-TOPUP-9GB") is None


def test_an_undelivered_order_cannot_be_topped_up() -> None:
    order = Order(id="1000000001", token="t" * 43, status="paid", lang="en", email=None,
                  phone=None, package_code="TR-10GB-30D", destination="TR",
                  package_title="Turkey 10 GB, 30 days", amount=4990)
    assert refusal(order) == "topup_not_delivered"


@pytest.mark.parametrize("answer", ["no match", "no obj"])
async def test_odd_topup_answers_are_transient(answer: str) -> None:
    def reply(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("esim/topup") and answer == "no match":
            return httpx.Response(200, json={"success": False, "errorCode": "310402",
                                             "errorMsg": "duplicate transactionId"})
        if request.url.path.endswith("esim/topup"):
            return httpx.Response(200, json={"success": True, "errorCode": "0", "obj": None})
        return httpx.Response(200, json={"success": True, "errorCode": "0",
                                         "obj": {"esimList": [{"esimTranNo": "other"}]}})

    client = EsimAccess("http://aggregator.test", "code", "secret",
                        transport=httpx.MockTransport(reply))
    with pytest.raises(TransientError):
        await client.topup("26120614300001", "TOPUP_TR_1_7", "topup-1000000005", "B1")
    await client.aclose()


async def test_list_topups_asks_for_the_topup_type(after_sale_settings: Settings) -> None:
    client = EsimAccess(after_sale_settings.esimaccess_url, after_sale_settings.esimaccess_access_code,
                        str(after_sale_settings.esimaccess_secret_key))
    topups = await client.list_topups()
    await client.aclose()
    assert topups and all(p.code.startswith("TOPUP_") for p in topups)


async def test_usage_of_an_esim_that_is_gone_or_not_delivered_is_left_alone(
    services: Services, after_sale_settings: Settings
) -> None:
    from worker.topups.usage_alerts import check_usage

    esim = await new_esim(after_sale_settings)
    await services.store.create(esim)
    assert esim.profile is not None
    await services.provider.cancel(esim.profile.esim_tran_no)  # cancelled: esim/query says so

    await check_usage(esim, services)
    await check_usage(replace(esim, status="refunded"), services)

    stored = services.store.get(esim.id)
    assert stored is not None and stored.usage_alerts == [] and stored.profile is not None
    assert stored.profile.usage_checked_at == esim.profile.usage_checked_at


async def test_an_alert_waits_for_the_mail_server(
    services: Services, after_sale_settings: Settings
) -> None:
    from worker.mail.smtp import MailError
    from worker.topups.usage_alerts import check_usage

    esim = await new_esim(after_sale_settings)
    assert esim.profile is not None
    esim.profile.used_bytes = esim.profile.total_bytes  # as the last refresh found it
    await services.store.create(esim)
    services.settings = replace(services.settings, smtp_port=9)  # nobody listens

    with pytest.raises(MailError):
        await check_usage(esim, services)
    stored = services.store.get(esim.id)
    assert stored is not None and stored.usage_alerts == []  # asked again by the job's retry


async def test_a_failed_refresh_pass_does_not_stop_the_refreshes() -> None:
    import asyncio
    from types import SimpleNamespace

    from worker.topups.usage_alerts import run

    passes: list[int] = []

    def search(predicate: object) -> list[Order]:
        passes.append(1)
        raise OSError("the archive could not be read")

    fake = SimpleNamespace(settings=SimpleNamespace(usage_refresh_interval=0.01),
                           store=SimpleNamespace(search=search))
    task = asyncio.get_running_loop().create_task(run(fake))  # type: ignore[arg-type]
    while len(passes) < 2:
        await asyncio.sleep(0.01)
    task.cancel()
    assert len(passes) >= 2


async def test_a_failed_topup_is_refunded_without_touching_its_esim(after_sale: AfterSale) -> None:
    from worker.refunds import carry_out, request_refund

    services = after_sale.services
    esim = await new_esim(services.settings)
    await services.store.create(esim)
    topup = replace(paid_topup(esim), status="failed", failure_reason="200002")
    tx = after_sale.charge(topup.id, 990)  # paid at the Epay sandbox with a test card
    topup.payment = Payment(transaction_id=tx["id"])
    await services.store.create(topup)

    await request_refund(services, topup.id, reason="the aggregator refused it", operator="t")
    refunded = await carry_out(services, topup.id)

    assert refunded.status == "refunded" and refunded.refund is not None
    assert refunded.refund.amount == 990
    assert esim.profile is not None
    assert after_sale.profile(esim.profile.esim_tran_no)["esimStatus"] == "GOT_RESOURCE"

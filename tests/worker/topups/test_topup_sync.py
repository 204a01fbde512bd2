"""`invoke sync-catalog` keeps the top-ups by the base plan they fit, priced like the catalogue."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from worker.config import Settings
from worker.provisioning.catalogue_sync import load_destinations, sync
from worker.provisioning.esimaccess import EsimAccess
from worker.provisioning.pricing import load_pricing
from worker.topups.offers import TopUpOffers

pytestmark = pytest.mark.anyio


async def test_sync_writes_the_topups_of_each_plan_that_takes_them(
    after_sale_settings: Settings, tmp_path: Path
) -> None:
    pricing = replace(load_pricing(), national_bank_url="",
                      package_overrides={"TR-TOPUP-1GB-7D": {"price_kzt": 777}})
    client = EsimAccess(after_sale_settings.esimaccess_url,
                        after_sale_settings.esimaccess_access_code,
                        str(after_sale_settings.esimaccess_secret_key))
    lines: list[str] = []
    try:
        summary = await sync(client, pricing, load_destinations(), tmp_path / "catalog.json",
                             say=lines.append, progress=False)
    finally:
        await client.aclose()

    offers = TopUpOffers(tmp_path / "topups.json")
    turkey = offers.for_package("TR-10GB-30D")
    assert [(o.code, o.data_mb, o.days) for o in turkey] == [
        ("TR-TOPUP-1GB-7D", 1024, 7), ("TR-TOPUP-3GB-15D", 3072, 15),
        ("TR-TOPUP-5GB-30D", 5120, 30), ("TR-TOPUP-10GB-30D", 10240, 30)]
    assert all(o.provider_code.startswith("TOPUP_") for o in turkey)
    assert turkey[0].price_kzt == 777  # pricing.json's package override
    assert all(o.price_kzt % 100 == 90 for o in turkey[1:])  # the shop's rounding
    assert offers.for_package("TR-50GB-30D") == []  # its plan takes no top-ups
    assert offers.for_package("TR-UNL-1GB-7D") == []  # day passes are extended, not topped up
    assert offers.for_package("EUROPE-1GB-7D") == offers.for_package("EUROPE-10GB-30D") != []
    assert summary.topups > 500 and f"top-ups: {summary.topups} (topups.json)" in summary.lines()


def test_two_topups_of_one_size_get_codes_of_their_own() -> None:
    from worker.provisioning.catalogue_sync import build_topups
    from worker.provisioning.provider import Package

    def package(code: str, top_up: bool = True) -> Package:
        return Package(code=code, slug=code, name=code, location_code="TR", countries=("TR",),
                       wholesale_price=10_000, retail_price=20_000, currency="USD",
                       price_scale=10_000, data_bytes=1024**3, days=7, daily=False,
                       throttled_kbps=None, speed="4G", networks=(), top_up=top_up, sms=False)

    catalog = {"generated_at": "2026-12-06T10:00:00Z", "source": "esimaccess",
               "destinations": [{"code": "TR", "packages": [
                   {"code": "TR-1GB-7D", "provider_code": "BASE1"}]}]}
    written = build_topups([package("BASE1"), package("NOTOP", top_up=False)],
                           [package("TOPUP_A"), package("TOPUP_B")], catalog,
                           replace(load_pricing(), national_bank_url=""), 520.0)

    assert written["plans"] == {"TR-1GB-7D": "TR"}
    assert [e["code"] for e in written["topups"]["TR"]] == [
        "TR-TOPUP-1GB-7D", "TR-TOPUP-1GB-7D-TOPUP_B"]

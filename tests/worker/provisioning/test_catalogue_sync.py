"""`invoke sync-catalog` against the aggregator sandbox over HTTP: a catalogue the site accepts."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from provisioning_helpers import ACCESS_CODE, SECRET_KEY, Aggregator

from plugins.catalogue.schema import load_catalogue
from worker.provisioning.catalogue_sync import (
    SyncRefused,
    build_catalog,
    exchange_rate,
    load_destinations,
    main,
    sync,
)
from worker.provisioning.esimaccess import EsimAccess
from worker.provisioning.pricing import Pricing, PricingError, load_pricing
from worker.provisioning.provider import Network, Package

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(aggregator: Aggregator) -> Any:
    provider = EsimAccess(aggregator.url, ACCESS_CODE, SECRET_KEY)
    yield provider
    await provider.aclose()


@pytest.fixture
def pricing() -> Pricing:
    return replace(load_pricing(), national_bank_url="")  # the configured rate, no network


async def test_sync_writes_every_country_and_region_in_the_sites_schema(
    client: EsimAccess, pricing: Pricing, tmp_path: Path
) -> None:
    output = tmp_path / "catalog.json"
    lines: list[str] = []

    summary = await sync(client, pricing, load_destinations(), output, say=lines.append)

    catalog = load_catalogue(output)  # the site build's own check
    countries = [d for d in catalog["destinations"] if d["type"] == "country"]
    regions = {d["code"]: d for d in catalog["destinations"] if d["type"] == "region"}
    assert len(countries) >= 200 and {"europe", "asia", "global"} <= regions.keys()
    assert regions["europe"]["names"]["ru"] == "Европа" and "FR" in regions["europe"]["countries"]
    turkey = next(d for d in countries if d["code"] == "TR")
    assert turkey["popular"] is True
    assert {p["code"] for p in turkey["packages"]} >= {"TR-1GB-7D", "TR-10GB-30D"}
    assert next(p for p in turkey["packages"] if p["code"] == "TR-10GB-30D")["price_kzt"] == 4990
    unlimited = [p for p in turkey["packages"] if p["data_mb"] is None]
    assert unlimited and all(
        p["provider_period"] == p["days"] and p["fair_use"]["throttled_kbps"] > 0 for p in unlimited
    )
    assert all(p["price_kzt"] % 100 == 90 for d in catalog["destinations"] for p in d["packages"])
    # When the days start (activeType 1: installation, 2: first connection), for the cards.
    activations = {p["activation"] for d in catalog["destinations"] for p in d["packages"]}
    assert activations == {"install", "first_use"}
    assert summary.written and len(summary.added) == summary.packages > 1000
    assert summary.skipped  # day passes are not sold yet, and the summary says so
    assert f"{summary.rate:.2f}" == f"{pricing.usd_kzt:.2f}"


async def test_the_provider_code_in_the_catalogue_is_orderable(
    client: EsimAccess, pricing: Pricing, tmp_path: Path
) -> None:
    output = tmp_path / "catalog.json"
    await sync(client, pricing, load_destinations(), output, progress=False)
    catalog = json.loads(output.read_text(encoding="utf-8"))
    package = catalog["destinations"][0]["packages"][0]
    placed = await client.order(
        "900000001", package["provider_code"], since="2026-11-25T00:00:00+00:00"
    )
    assert placed.order_no


async def test_a_second_sync_reports_what_was_repriced(
    client: EsimAccess, pricing: Pricing, tmp_path: Path
) -> None:
    output = tmp_path / "catalog.json"
    await sync(client, pricing, load_destinations(), output, progress=False)

    dearer = replace(pricing, markup_percent=pricing.markup_percent + 20)
    summary = await sync(client, dearer, load_destinations(), output, progress=False)

    assert not summary.added and not summary.removed
    assert len(summary.repriced) > 1000
    assert ("TR-10GB-30D", 4990, 4990) not in summary.repriced  # fixed by an override
    assert any(line.startswith("  repriced ") for line in summary.lines())


async def test_losing_too_many_destinations_is_refused_unless_forced(
    client: EsimAccess, pricing: Pricing, tmp_path: Path
) -> None:
    output = tmp_path / "catalog.json"
    await sync(client, pricing, load_destinations(), output, progress=False)
    before = output.read_bytes()
    places = load_destinations()
    places["exclude"] = [d["code"] for d in json.loads(before)["destinations"]][:40]

    with pytest.raises(SyncRefused, match="40 of 223 destinations would disappear"):
        await sync(client, pricing, places, output, progress=False)
    assert output.read_bytes() == before

    summary = await sync(client, pricing, places, output, force=True, progress=False)
    assert len(summary.lost_destinations) == 40 and summary.written


async def test_an_unreachable_national_bank_falls_back_to_the_configured_rate(
    client: EsimAccess, pricing: Pricing, tmp_path: Path
) -> None:
    from loopback import free_port

    offline = replace(pricing, national_bank_url=f"http://127.0.0.1:{free_port()}/rss.xml")
    lines: list[str] = []
    summary = await sync(
        client, offline, load_destinations(), tmp_path / "c.json", say=lines.append
    )
    assert summary.rate == pricing.usd_kzt
    assert any("National Bank of Kazakhstan rate unavailable" in line for line in lines)


def package(code: str, location: str, countries: tuple[str, ...] = ("TR",), *,
            operators: tuple[str, ...] = ("Turkcell",)) -> Package:
    return Package(code=code, slug=code.lower(), name=code, location_code=location,
                   countries=countries, wholesale_price=57000, retail_price=80000, currency="USD",
                   price_scale=10000, data_bytes=10 * 1024**3, days=30, daily=False,
                   throttled_kbps=None, speed="4G/5G",
                   networks=tuple(Network(c, operators) for c in countries), top_up=False,
                   sms=False)


def test_packages_the_storefront_cannot_show_are_skipped_and_counted(pricing: Pricing) -> None:
    places = {"regions": {"EU": {"slug": "europe", "names": {"kk": "Еуропа", "ru": "Европа",
                                                               "en": "Europe"}}},
              "exclude": ["RU"]}
    skipped: Counter[str] = Counter()
    packages = [
        package("CKH002", "TR"), package("CKH003", "TR"),  # the same plan twice
        package("XX-1", "XX-12", ("DE",)),  # a region destinations.json does not name
        package("RU-1", "RU", ("RU",)),  # excluded
        package("EU-1", "EU-2", ("ZZ",)),  # no country the site knows
        package("TR-2", "TR", operators=()),  # no network to show
    ]

    catalog = build_catalog(packages, pricing, places, 500.0, "esimaccess", skipped)

    [turkey] = catalog["destinations"]
    assert sorted(p["code"] for p in turkey["packages"]) == ["TR-10GB-30D", "TR-10GB-30D-CKH003"]
    assert skipped == {"region XX-12 is not in destinations.json": 1,
                       "excluded in destinations.json": 1, "no known country": 1,
                       "no operators listed": 1}


def test_a_missing_or_incomplete_destinations_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "destinations.json"
    with pytest.raises(PricingError, match="destinations.json: cannot read it"):
        load_destinations(path)
    path.write_text(json.dumps({"regions": {"EU": {"slug": "europe", "names": {"ru": "Европа"}}}}))
    with pytest.raises(PricingError, match=r"regions\['EU'\] needs a slug and names in kk, ru, en"):
        load_destinations(path)


def test_the_national_banks_rate_is_used_when_its_feed_answers(
        pricing: Pricing, national_bank: str) -> None:
    said: list[str] = []

    rate = exchange_rate(replace(pricing, national_bank_url=national_bank), said.append)

    assert rate == (471.35, "National Bank of Kazakhstan") and said == []


def test_the_command_stops_on_a_bad_setting_naming_it(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ESIMACCESS_URL", "esimaccess.com")

    assert main(["--output", "/nonexistent/catalog.json"]) == 2

    assert capsys.readouterr().err.startswith("sync-catalog: ESIMACCESS_URL='esimaccess.com'")

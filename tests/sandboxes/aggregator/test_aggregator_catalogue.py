"""The seeded catalogue: the real one's size and shape, in the provider's units (spec §5, §8)."""

from __future__ import annotations

import re

from aggregator_helpers import GB, Aggregator
from babel import Locale

from sandboxes.aggregator.catalogue import build
from sandboxes.aggregator.geography import NOT_SOLD

PACKAGE_FIELDS = {
    "packageCode",
    "slug",
    "name",
    "price",
    "currencyCode",
    "volume",
    "smsStatus",
    "dataType",
    "unusedValidTime",
    "duration",
    "durationUnit",
    "location",
    "locationCode",
    "description",
    "activeType",
    "favorite",
    "retailPrice",
    "speed",
    "ipExport",
    "supportTopUpType",
    "fupPolicy",
    "locationNetworkList",
}


def test_unfiltered_list_is_as_large_as_the_real_one(aggregator: Aggregator) -> None:
    base = aggregator.packages()
    topups = aggregator.packages(type="TOPUP")
    assert 2600 <= len(base) + len(topups) <= 3000
    assert all(p["packageCode"].startswith("TOPUP_") for p in topups)
    assert not any(p["packageCode"].startswith("TOPUP_") for p in base)


def test_every_country_has_packages_and_a_location(aggregator: Aggregator) -> None:
    territories = Locale("en").territories
    expected = {c for c in territories if len(c) == 2 and c.isalpha()} - NOT_SOLD
    assert len(expected) >= 200
    assert len(NOT_SOLD) < 70  # only groupings, uninhabited places and tiny territories
    assert {"KZ", "TR", "AE", "GE", "UZ", "KG", "TH", "US", "CN", "RU", "DE"} <= expected
    sold = {p["locationCode"] for p in aggregator.packages()}
    assert expected <= sold
    locations = aggregator.ok("location/list")["locationList"]
    countries = {loc["code"]: loc for loc in locations if loc["type"] == 1}
    assert set(countries) == expected
    assert countries["TR"]["name"] == territories["TR"]


def test_regions_list_their_members_and_are_sold(aggregator: Aggregator) -> None:
    regions = [loc for loc in aggregator.ok("location/list")["locationList"] if loc["type"] == 2]
    assert len(regions) >= 8
    codes = {r["code"] for r in regions}
    assert {"NA-3", "GL-139"} <= codes
    assert any(c.startswith("EU-") for c in codes)
    for region in regions:
        members = [m["code"] for m in region["subLocationList"]]
        assert re.fullmatch(rf"[A-Z]+-{len(members)}", region["code"]), region["code"]
        packages = aggregator.packages(locationCode=region["code"])
        assert packages, region["code"]
        assert packages[0]["location"].split(",") == members
        assert [n["locationCode"] for n in packages[0]["locationNetworkList"]] == members
    assert {p["locationCode"] for p in aggregator.packages(locationCode="!GL")} == {"GL-139"}
    regional = {p["locationCode"] for p in aggregator.packages(locationCode="!RG")}
    assert regional == codes - {"GL-139"}


def test_fixed_plans_use_bytes_days_and_ten_thousandths_of_a_dollar(aggregator: Aggregator) -> None:
    packages = aggregator.packages(locationCode="TR")
    assert all(set(p) == PACKAGE_FIELDS for p in packages)
    by_slug = {p["slug"]: p for p in packages}
    ten = by_slug["TR_10_30"]
    assert (ten["volume"], ten["duration"], ten["durationUnit"]) == (10 * GB, 30, "DAY")
    assert ten["dataType"] == 1 and ten["fupPolicy"] == ""
    assert ten["currencyCode"] == "USD"
    # 10 GB for a month in Turkey costs a few dollars wholesale: 1/10000 USD units.
    assert 10_000 <= ten["price"] < ten["retailPrice"] <= 400_000
    for gigabytes, days in [(1, 7), (3, 15), (5, 30), (10, 30), (20, 30)]:
        assert by_slug[f"TR_{gigabytes}_{days}"]["volume"] == gigabytes * GB
    prices = [by_slug[f"TR_{g}_30"]["price"] for g in (5, 10, 20)]
    assert prices == sorted(prices)


def test_day_passes_and_unlimited_style_plans(aggregator: Aggregator) -> None:
    passes = aggregator.packages(locationCode="TR", dataType=2)
    assert passes and all(p["dataType"] != 1 and p["duration"] == 1 for p in passes)
    assert all(p["supportTopUpType"] == 3 for p in passes)
    unlimited = [p for p in passes if p["dataType"] == 2 and p["fupPolicy"]]
    assert any(p["volume"] == 2 * GB and p["fupPolicy"] == "1 Mbps" for p in unlimited)
    assert all(p["dataType"] == 1 for p in aggregator.packages(locationCode="TR", dataType=1))


def test_major_countries_name_their_real_operators(aggregator: Aggregator) -> None:
    turkey = aggregator.package("TR_10_30")
    (network,) = turkey["locationNetworkList"]
    names = [o["operatorName"] for o in network["operatorList"]]
    assert names == ["Turkcell", "Vodafone", "Türk Telekom"]
    assert turkey["speed"] == "4G/5G"
    kazakhstan = aggregator.package("KZ_5_30")
    assert "Kcell" in [
        o["operatorName"] for o in kazakhstan["locationNetworkList"][0]["operatorList"]
    ]


def test_package_code_filter_takes_a_code_or_a_slug(aggregator: Aggregator) -> None:
    by_slug = aggregator.package("GE_3_15")
    assert aggregator.packages(packageCode=by_slug["packageCode"]) == [by_slug]
    assert aggregator.packages(slug="GE_3_15") == [by_slug]
    assert aggregator.packages(packageCode="NOPE01") == []


def test_topup_list_for_an_esim_fits_its_destination(aggregator: Aggregator) -> None:
    profile = aggregator.ready_profile("TR_10_30")
    fitting = aggregator.packages(type="TOPUP", iccid=profile["iccid"])
    assert fitting and {p["locationCode"] for p in fitting} == {"TR"}


def test_same_seed_gives_the_same_catalogue_and_another_seed_does_not() -> None:
    first, second, other = build(7), build(7), build(8)
    assert first.packages == second.packages
    assert [p["packageCode"] for p in first.packages] != [p["packageCode"] for p in other.packages]
    codes = [p["packageCode"] for p in first.packages]
    assert len(codes) == len(set(codes))
    slugs = [p["slug"] for p in first.packages]
    assert len(slugs) == len(set(slugs))

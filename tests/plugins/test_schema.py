"""catalog.json is checked against the schema; a bad entry is named with its field and the fix."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from catalogue.schema import CatalogueError, load_catalogue, validate

ROOT = Path(__file__).resolve().parents[2]


def sample() -> dict[str, Any]:
    package = {
        "code": "TR-10GB-30D", "provider": "esimaccess", "provider_code": "CKH002", "data_mb": 10240,
        "fair_use": None, "days": 30, "price_kzt": 4990, "speed": "4G/5G", "hotspot": True,
        "networks": [{"country": "TR", "operators": ["Turkcell", "Vodafone"]}],
    }
    return {
        "version": 1, "generated_at": "2026-11-25T10:00:00Z", "source": "esimaccess", "currency": "KZT",
        "destinations": [
            {"code": "TR", "type": "country", "countries": ["TR"], "names": None, "popular": True,
             "packages": [package]},
            {"code": "balkans", "type": "region", "countries": ["RS", "ME"], "popular": False,
             "names": {"kk": "Балқан", "ru": "Балканы", "en": "Balkans"},
             "packages": [{**package, "code": "BALKANS-UNL-7D", "data_mb": None, "days": 7,
                           "fair_use": {"daily_high_speed_mb": 2048, "throttled_kbps": 512},
                           "networks": [{"country": "RS", "operators": ["mts"]},
                                        {"country": "ME", "operators": ["One"]}]}]},
        ],
    }


def test_the_shipped_catalogue_is_valid_and_as_large_as_a_wholesale_one() -> None:
    catalogue = load_catalogue(ROOT / "content" / "data" / "catalog.json")
    destinations = catalogue["destinations"]
    assert sum(d["type"] == "country" for d in destinations) >= 150
    assert sum(d["type"] == "region" for d in destinations) >= 8
    assert all(len(d["packages"]) >= 3 for d in destinations)


def test_a_valid_catalogue_passes() -> None:
    validate(sample())


def break_package(field: str, value: Any) -> dict[str, Any]:
    data = sample()
    data["destinations"][0]["packages"][0][field] = value
    return data


@pytest.mark.parametrize(("field", "value", "says"), [
    ("price_kzt", -100, "positive whole number of tenge"),
    ("price_kzt", 4990.5, "positive whole number of tenge"),
    ("price_kzt", "4990", "positive whole number of tenge"),
    ("days", 0, "positive whole number of days"),
    ("data_mb", 0, "null for unlimited"),
    ("data_mb", None, "daily_high_speed_mb and throttled_kbps"),
    ("speed", "6G", "must be one of"),
    ("hotspot", "yes", "true or false"),
    ("activation", "on_payment", "install, first_use"),
    ("networks", [{"country": "FR", "operators": ["Orange"]}], "countries this destination covers"),
    ("networks", [{"country": "TR", "operators": []}], "operator names"),
    ("provider_code", "", "non-empty string"),
    ("code", "TR 10GB", "letters, digits"),
])
def test_a_bad_package_is_named_with_its_destination_and_field(field: str, value: Any, says: str) -> None:
    with pytest.raises(CatalogueError) as error:
        validate(break_package(field, value))
    message = str(error.value)
    assert "'TR'" in message and "TR-10GB-30D" in message or field == "code"
    assert f"'{'fair_use' if field == 'data_mb' and value is None else field}'" in message
    assert says in message


@pytest.mark.parametrize(("change", "says"), [
    (lambda d: d.update(code="XX"), "ISO 3166 alpha-2"),
    (lambda d: d.update(countries=["TR", "GE"]), "of a country must be ['TR']"),
    (lambda d: d.update(type="city"), "'country' or 'region'"),
    (lambda d: d.update(packages=[]), "non-empty list"),
    (lambda d: d.update(popular=None), "true or false"),
])
def test_a_bad_country_is_named(change: Any, says: str) -> None:
    data = sample()
    change(data["destinations"][0])
    with pytest.raises(CatalogueError, match="destination") as error:
        validate(data)
    assert says in str(error.value)


def test_a_region_without_a_kazakh_name_is_refused() -> None:
    data = sample()
    del data["destinations"][1]["names"]["kk"]
    with pytest.raises(CatalogueError, match=r"destination 'balkans': field 'names' .* kk, ru and en"):
        validate(data)


def test_a_region_listing_an_unknown_country_is_refused() -> None:
    data = sample()
    data["destinations"][1]["countries"].append("QQ")
    with pytest.raises(CatalogueError, match=r"'balkans': field 'countries'.*'QQ'"):
        validate(data)


def test_a_package_code_used_twice_is_refused_naming_both_destinations() -> None:
    data = sample()
    data["destinations"][1]["packages"][0]["code"] = "TR-10GB-30D"
    with pytest.raises(CatalogueError, match=r"'balkans', package 'TR-10GB-30D'.*'TR'.*unique"):
        validate(data)


def test_a_destination_listed_twice_is_refused() -> None:
    data = sample()
    twin = copy.deepcopy(data["destinations"][0])
    twin["packages"][0]["code"] = "OTHER"
    data["destinations"].append(twin)
    with pytest.raises(CatalogueError, match="'TR': code appears twice"):
        validate(data)


@pytest.mark.parametrize(("top", "says"), [({"version": 2}, "version must be 1"), ({"currency": "USD"}, "'KZT'")])
def test_a_wrong_version_or_currency_is_refused(top: dict[str, Any], says: str) -> None:
    with pytest.raises(CatalogueError, match=says):
        validate({**sample(), **top})


def test_a_file_that_is_not_json_says_so(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_text("{", encoding="utf-8")
    with pytest.raises(CatalogueError, match="not valid JSON"):
        load_catalogue(path)
    with pytest.raises(CatalogueError, match="sync-catalog"):
        load_catalogue(tmp_path / "missing.json")


def test_loading_returns_the_data(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(sample()), encoding="utf-8")
    assert load_catalogue(path)["destinations"][0]["code"] == "TR"

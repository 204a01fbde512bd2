"""The catalogue the worker sells from: prices, titles, and a file that changes under it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from worker_env import TEST_CATALOG

from worker.catalogue import Catalogue, CatalogueError, Package


def test_packages_are_found_with_their_catalogue_price(catalog_path: Path) -> None:
    catalog = Catalogue.load(catalog_path)

    package = catalog.package("TR-10GB-30D")

    assert package is not None
    assert (package.price_kzt, package.destination, package.data_mb, package.days) == (4990, "TR", 10240, 30)
    assert catalog.package("tr-10gb-30d") is None


@pytest.mark.parametrize(
    ("code", "lang", "title"),
    [
        ("TR-10GB-30D", "en", "Türkiye 10 GB, 30 days"),
        ("TR-10GB-30D", "ru", "Турция 10 ГБ, 30 дней"),
        ("TR-10GB-30D", "kk", "Түркия 10 ГБ, 30 күн"),
        ("EU-UNL-7D", "en", "Europe unlimited, 7 days"),
        ("EU-UNL-7D", "ru", "Европа безлимит, 7 дней"),
        ("EU-UNL-7D", "kk", "Еуропа шексіз, 7 күн"),
    ],
)
def test_titles_in_each_language(catalog_path: Path, code: str, lang: str, title: str) -> None:
    package = Catalogue.load(catalog_path).package(code)
    assert package is not None
    assert package.title(lang) == title  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("lang", "titles"),
    [
        ("ru", ["Турция 1 ГБ, 1 день", "Турция 2 ГБ, 2 дня", "Турция 5 ГБ, 5 дней",
                "Турция 21 ГБ, 21 день", "Турция 1,5 ГБ, 22 дня"]),
        ("kk", ["Түркия 1 ГБ, 1 күн", "Түркия 2 ГБ, 2 күн", "Түркия 5 ГБ, 5 күн",
                "Түркия 21 ГБ, 21 күн", "Түркия 1,5 ГБ, 22 күн"]),
        ("en", ["Türkiye 1 GB, 1 day", "Türkiye 2 GB, 2 days", "Türkiye 5 GB, 5 days",
                "Türkiye 21 GB, 21 days", "Türkiye 1.5 GB, 22 days"]),
    ],
)
def test_titles_take_the_plural_form_and_number_format_of_the_language(
        lang: str, titles: list[str]) -> None:
    packages = [Package(code="TR", provider="esimaccess", provider_code="TR", destination="TR",
                        destination_names=None, data_mb=data_mb, days=days, price_kzt=1)
                for data_mb, days in ((1024, 1), (2048, 2), (5120, 5), (21504, 21), (1536, 22))]
    assert [package.title(lang) for package in packages] == titles  # type: ignore[arg-type]


def test_a_broken_catalogue_stops_start_up_naming_the_entry(tmp_path: Path) -> None:
    broken = json.loads(json.dumps(TEST_CATALOG))
    broken["destinations"][0]["packages"][0]["price_kzt"] = "4990"
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(broken))

    with pytest.raises(CatalogueError, match="'TR-10GB-30D'.*price_kzt"):
        Catalogue.load(path)


def test_a_new_catalogue_on_disk_changes_the_price_and_a_broken_one_does_not(catalog_path: Path) -> None:
    catalog = Catalogue.load(catalog_path)
    repriced = json.loads(catalog_path.read_text())
    repriced["destinations"][0]["packages"][0]["price_kzt"] = 5490
    catalog_path.write_text(json.dumps(repriced))
    os.utime(catalog_path, ns=(1, 10**18))

    assert catalog.package("TR-10GB-30D").price_kzt == 5490  # type: ignore[union-attr]

    catalog_path.write_text("{ half written")
    os.utime(catalog_path, ns=(1, 2 * 10**18))
    assert catalog.package("TR-10GB-30D").price_kzt == 5490  # type: ignore[union-attr]


def test_a_missing_catalogue_stops_start_up_and_a_removed_one_keeps_the_last(
        catalog_path: Path, tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="no such file; set CATALOG_PATH"):
        Catalogue.load(tmp_path / "nowhere.json")
    catalogue = Catalogue.load(catalog_path)

    catalog_path.unlink()  # mid-deploy: the shop keeps selling from what it read

    package = catalogue.package("TR-10GB-30D")
    assert package is not None and package.price_kzt == 4990

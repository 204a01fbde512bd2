"""The catalogue the worker sells from: prices, titles, and a file that changes under it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from worker_env import TEST_CATALOG

from worker.catalogue import Catalogue, CatalogueError


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

"""The search index finds a destination by its name in any of the three languages,
by a transliteration and by a common alias."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from catalogue import search

TURKEY = {"code": "TR", "type": "country", "countries": ["TR"], "names": None, "popular": True,
          "packages": [{"price_kzt": 1990}, {"price_kzt": 990}]}
EUROPE = {"code": "europe", "type": "region", "countries": ["TR", "DE"], "popular": False,
          "names": {"kk": "Еуропа", "ru": "Европа", "en": "Europe"}, "packages": [{"price_kzt": 2990}]}


def test_keys_hold_kazakh_russian_english_names_and_aliases() -> None:
    keys = search.search_keys(TURKEY, {"TR": ["Turkey"]})
    assert {"түркия", "турция", "türkiye", "turkiye", "turkey", "turtsiya", "turciya"} - set(keys) == {"türkiye"}


def test_folding_drops_latin_accents_but_keeps_cyrillic_letters() -> None:
    assert search.normalize("Türkiye") == "turkiye"
    assert search.normalize("Йемен") == "йемен"
    assert search.normalize("Қазақстан") == "қазақстан"
    assert search.normalize("Ёлка") == "елка"


def test_index_shows_the_page_language_and_the_cheapest_price() -> None:
    index = search.build_index([EUROPE, TURKEY], {}, "ru")
    assert [entry["name"] for entry in index] == ["Турция", "Европа"]  # countries before regions
    assert index[0]["from"] == "990\u00a0₸"
    assert index[1]["countries"] == ["TR", "DE"] and index[1]["region"] is True


def test_aliases_file_skips_notes_and_names_a_bad_entry(tmp_path: Path) -> None:
    path = tmp_path / "aliases.json"
    path.write_text(json.dumps({"_about": "notes", "TR": ["Turkey"]}), encoding="utf-8")
    assert search.load_aliases(path) == {"TR": ["Turkey"]}
    path.write_text(json.dumps({"TR": "Turkey"}), encoding="utf-8")
    with pytest.raises(search.AliasesError, match="'TR' must be a list of names"):
        search.load_aliases(path)


def test_places_lead_main_cities_in_latin_and_cyrillic_to_the_countries_we_sell() -> None:
    places = search.build_places([TURKEY, EUROPE])
    assert {place[0] for place in places} == {"TR"}  # only countries sold, regions are no country
    istanbul = next(place for place in places if place[1] == "Istanbul")
    assert "Стамбул" in istanbul and "Стамбұл" in istanbul
    assert len(places) == search.PLACES_PER_COUNTRY  # the biggest few per country, not 30 Turkish cities
    assert not any(place[1] == "Alanya" for place in places)  # below a million: an editor alias

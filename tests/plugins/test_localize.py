"""Names and prices in the page's language come from CLDR (Babel)."""

from __future__ import annotations

import pytest
from catalogue import localize


@pytest.mark.parametrize(("lang", "expected"), [("kk", "4\u00a0990\u00a0₸"), ("ru", "1\u00a0234\u00a0990\u00a0₸"), ("en", "₸4,990")])
def test_prices_are_whole_tenge_formatted_for_the_locale(lang: str, expected: str) -> None:
    amount = 1234990 if lang == "ru" else 4990
    assert localize.price(amount, lang) == expected


@pytest.mark.parametrize(("lang", "amount", "expected"), [("ru", 12490, "12\u00a0490\u00a0₸"), ("en", 12490, "₸12,490")])
def test_the_browser_gets_the_same_price_pattern(lang: str, amount: int, expected: str) -> None:
    template = localize.price_template(lang)
    grouped = f"{amount:,}".replace(",", template["group"])
    assert template["pattern"].replace("{n}", grouped) == expected


@pytest.mark.parametrize(("lang", "expected"), [
    ("kk", "2026\u202fж. 26 қараша"), ("ru", "26 ноября 2026\u202fг."), ("en", "November 26, 2026"),
])
def test_the_browser_gets_a_date_pattern_with_month_names_in_the_language(lang: str, expected: str) -> None:
    template = localize.date_template(lang)
    written = template["pattern"].replace("{d}", "26").replace("{month}", template["months"][10]).replace("{y}", "2026")
    assert written == expected


@pytest.mark.parametrize(("code", "lang", "name"), [
    ("TR", "kk", "Түркия"), ("TR", "ru", "Турция"), ("TR", "en", "Türkiye"),
    ("DE", "kk", "Германия"), ("AE", "ru", "ОАЭ"), ("US", "en", "United States"),
])
def test_country_names_come_from_cldr(code: str, lang: str, name: str) -> None:
    assert localize.country_name(code, lang) == name


@pytest.mark.parametrize(("mb", "lang", "text"), [(10240, "ru", "10 ГБ"), (1536, "en", "1.5 GB"), (512, "en", "512 MB")])
def test_data_volumes_read_naturally(mb: int, lang: str, text: str) -> None:
    assert localize.volume(mb, lang).replace("\u00a0", " ") == text


@pytest.mark.parametrize(("lang", "names", "expected"), [
    ("kk", ["Үндістан", "Өзбекстан", "Әзербайжан", "Ауғанстан", "Жапония"],
     ["Ауғанстан", "Әзербайжан", "Жапония", "Өзбекстан", "Үндістан"]),
    ("ru", ["Ямайка", "Египет", "Австрия"], ["Австрия", "Египет", "Ямайка"]),
    ("en", ["Zambia", "Åland Islands", "Réunion", "Romania"], ["Åland Islands", "Réunion", "Romania", "Zambia"]),
])
def test_names_sort_in_the_alphabet_of_the_language(lang: str, names: list[str], expected: list[str]) -> None:
    assert sorted(names, key=lambda name: localize.sort_key(name, lang)) == expected

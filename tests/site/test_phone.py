"""What a buyer sees on a phone (390 px wide), in each language: packages grouped with their
plain words, flags as images, city searches that lead to the country, search results on one
aligned row, and a home page a few screens long."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from site_helpers import PHONE

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]



def loaded_flags(tab: Any, selector: str) -> list[dict[str, Any]]:
    """Each flag image under `selector`: drawn (an SVG that decoded), and where it sits."""
    return tab.eval_on_selector_all(f"{selector} img.flag", """flags => flags.map(f => ({
        src: f.getAttribute('src'), drawn: f.complete && f.naturalWidth > 0,
        box: f.getBoundingClientRect().toJSON()}))""")


@pytest.mark.parametrize(("lang", "group", "plain"), [
    ("kk", "Шексіз, күн сайынғы толық жылдамдық көлемімен",
     "Шексіз: күніне 2 ГБ толық жылдамдықпен, одан кейін 1 Мбит/с"),
    ("ru", "Безлимит с дневным объёмом на полной скорости",
     "Безлимит: 2 ГБ в день на полной скорости, затем 1 Мбит/с: хватит для карт, мессенджеров и музыки"),
    ("en", "Unlimited, with a daily full-speed allowance",
     "Unlimited: 2 GB a day at full speed, then 1 Mbit/s: enough for maps, messengers and music"),
])
def test_turkiye_packages_are_grouped_with_plain_words_and_a_drawn_flag(
        phone: Any, site_url: str, lang: str, group: str, plain: str) -> None:
    phone.goto(f"{site_url}/{lang}/esim/tr/")
    headings = phone.locator(".group h3").all_inner_texts()
    assert len(headings) == 2 and headings[1] == group
    daily = phone.locator("#p-TR-UNL-2GB-7D")
    assert plain in daily.inner_text()
    assert phone.locator(".package.best").count() == 2  # one per group
    # Nothing runs off the card's right edge at phone width.
    overflowing = phone.eval_on_selector_all(
        ".package", "cards => cards.filter(c => c.scrollWidth > c.clientWidth + 1).length")
    assert overflowing == 0
    [flag] = loaded_flags(phone, "h1")
    assert flag["src"] == "/theme/flags/tr.svg" and flag["drawn"]
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.parametrize(("lang", "typed", "code", "city"), [
    ("en", "Istanbul", "tr", "Istanbul"),
    ("ru", "Стамбул", "tr", "Стамбул"),
    ("kk", "Стамбұл", "tr", "Стамбұл"),
    ("kk", "Antalya", "tr", None),
    ("ru", "Анталья", "tr", None),  # an editor alias: the country itself
    ("en", "Bali", "id", None),
    ("ru", "Dubai", "ae", None),
])
def test_a_city_island_or_resort_leads_to_its_country(phone: Any, site_url: str, lang: str, typed: str,
                                                       code: str, city: str | None) -> None:
    phone.goto(f"{site_url}/{lang}/")
    phone.fill("#q", typed)
    first = phone.locator("#results a").first
    first.wait_for()
    assert first.get_attribute("href") == f"/{lang}/esim/{code}/"
    if city:
        assert city in first.inner_text()
    [flag] = loaded_flags(phone, "#results li:first-child")
    assert flag["src"] == f"/theme/flags/{code}.svg"
    phone.wait_for_function("() => document.querySelector('#results img.flag').naturalWidth > 0")


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_search_results_keep_flag_name_and_price_on_one_row(phone: Any, site_url: str, lang: str) -> None:
    phone.goto(f"{site_url}/{lang}/")
    phone.fill("#q", {"kk": "Әлем", "ru": "Весь мир", "en": "World"}[lang])
    phone.locator("#results a").first.wait_for()
    rows = phone.eval_on_selector_all("#results a", """rows => rows.map(a => {
        const box = e => e.getBoundingClientRect();
        const [flag, name, price] = [a.querySelector('.flag'), a.querySelector('.card-name'), a.querySelector('.card-from')];
        return {flag: box(flag), name: box(name), price: box(price), row: box(a),
                nameLines: Math.round(box(name).height / parseFloat(getComputedStyle(name).lineHeight))};
    })""")
    for row in rows:
        # Name beside the flag, not under it; the price at the row's right edge, on the same line.
        assert row["name"]["left"] >= row["flag"]["right"]
        assert row["flag"]["top"] < row["name"]["bottom"] and row["name"]["top"] < row["flag"]["bottom"]
        assert abs(row["price"]["right"] - (row["row"]["right"] - 12.8)) < 2
        assert row["price"]["height"] < 30  # one line
    assert rows[0]["nameLines"] == 1  # "Весь мир" is not broken over two lines


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_home_is_a_few_screens_long_with_popular_destinations_in_order_of_popularity(
        phone: Any, site_url: str, lang: str) -> None:
    popular = json.loads((ROOT / "content" / "data" / "destinations.json").read_text(encoding="utf-8"))["popular"]
    phone.goto(f"{site_url}/{lang}/")
    assert phone.evaluate("document.documentElement.scrollHeight") < 4500
    shown = phone.eval_on_selector_all("section:nth-of-type(2) .card", "cards => cards.map(c => c.getAttribute('href'))")
    countries = [code for code in popular if len(code) == 2]
    assert shown == [f"/{lang}/esim/{code.lower()}/" for code in countries]
    phone.locator(".card img.flag").last.scroll_into_view_if_needed()
    phone.wait_for_function("() => [...document.querySelectorAll('.card img.flag')].every(f => f.complete && f.naturalWidth > 0)")
    # Every country is still one tap away, A to Z.
    phone.click(".az summary")
    assert phone.locator(f'.az a[href="/{lang}/esim/mx/"]').is_visible()

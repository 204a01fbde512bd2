"""The built storefront: every destination in every language with its packages and prices,
languages wired together (lang, hreflang, canonical, switcher), search-engine files, and
what every page must show (support, seller, no cookie), SVG flags instead of emoji."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from site_helpers import LANGS, TEST_WORKER_URL, Page, read, tenge

SITE_URL = "https://qazaq-esim.test"
SELLER_IIN = "910109301239"


def test_every_destination_has_a_page_in_every_language_with_every_package_and_price(
    site: Path, catalogue: dict[str, Any]
) -> None:
    for destination in catalogue["destinations"]:
        for lang in LANGS:
            page = read(site, f"/{lang}/esim/{destination['code'].lower()}/")
            for package in destination["packages"]:
                buy = page.find("a", href=f"/{lang}/checkout/?package={package['code']}")
                assert buy, f"{lang} {destination['code']}: no Buy link for {package['code']}"
                assert tenge(package["price_kzt"], lang) in page.text, (lang, package["code"])


def cards(site: Path, lang: str, code: str) -> list[tuple[str, str, str]]:
    """(package code, group kind, visible text) of every package card on a destination page."""
    html = (site / lang / "esim" / code.lower() / "index.html").read_text(encoding="utf-8")
    found = []
    for kind, body in re.findall(r'<section class="group group-(\w+)"(.*?)</section>', html, re.DOTALL):
        for chunk in body.split('<li class="package')[1:]:
            package = re.search(r'id="p-([^"]+)"', chunk)
            assert package, chunk[:200]
            found.append((package.group(1), kind, Page(chunk.split(">", 1)[1]).text))
    return found


def described(site: Path, lang: str, code: str) -> list[str]:
    """What each card says about its package, without the price and the price per GB: two
    packages told apart only by their price are as good as the same to a buyer."""
    html = (site / lang / "esim" / code.lower() / "index.html").read_text(encoding="utf-8")
    found = []
    for chunk in html.split('<li class="package')[1:]:
        found.append(Page(chunk.split(">", 1)[1].split('<div class="package-buy">')[0]).text)
    return found


@pytest.mark.parametrize("lang", LANGS)
def test_packages_are_grouped_by_kind_and_sorted_within_each(site: Path, catalogue: dict[str, Any], lang: str) -> None:
    for destination in catalogue["destinations"][:40]:
        by_code = {p["code"]: p for p in destination["packages"]}
        shown = cards(site, lang, destination["code"])
        assert sorted(code for code, _, _ in shown) == sorted(by_code)
        kinds = [kind for _, kind, _ in shown]
        assert kinds == sorted(kinds, key=["volume", "daily"].index), destination["code"]
        fixed = [by_code[code] for code, kind, _ in shown if kind == "volume"]
        daily = [by_code[code] for code, kind, _ in shown if kind == "daily"]
        assert all(p["data_mb"] for p in fixed) and not any(p["data_mb"] for p in daily)
        assert fixed == sorted(fixed, key=lambda p: (p["data_mb"], p["days"]))
        assert daily == sorted(daily, key=lambda p: (p["days"], p["fair_use"]["daily_high_speed_mb"]))


def test_no_destination_shows_two_packages_a_buyer_can_tell_apart_only_by_price(site: Path, catalogue: dict[str, Any]) -> None:
    for destination in catalogue["destinations"]:
        for lang in LANGS:
            texts = described(site, lang, destination["code"])
            twins = {text for text in texts if texts.count(text) > 1}
            assert not twins, (lang, destination["code"], twins)


def test_every_unlimited_card_says_in_plain_words_what_the_slow_speed_is_good_for(site: Path) -> None:
    shown = dict((code, text) for code, _, text in cards(site, "ru", "TR"))
    assert ("Безлимит: 1 ГБ в день на полной скорости, затем 384 кбит/с: хватит для карт и мессенджеров, "
            "но не для видео.") in shown["TR-UNL-1GB-7D"]
    assert ("Безлимит: 2 ГБ в день на полной скорости, затем 1 Мбит/с: хватит для карт, мессенджеров и музыки, "
            "видео только в низком качестве.") in shown["TR-UNL-2GB-7D"]
    english = dict((code, text) for code, _, text in cards(site, "en", "TR"))
    assert "2 GB a day" in english["TR-UNL-2GB-7D"] and "1 Mbit/s" in english["TR-UNL-2GB-7D"]


@pytest.mark.parametrize("lang", LANGS)
def test_each_card_says_when_its_days_start_and_the_best_value_per_gb_is_marked(
        site: Path, catalogue: dict[str, Any], lang: str) -> None:
    starts = {"kk": ("алғаш қосылғаннан", "орнатқаннан"), "ru": ("с первого подключения", "с установки"),
              "en": ("from the first connection", "from installation")}[lang]
    best_label = {"kk": "1 ГБ үшін ең тиімді", "ru": "Выгоднее всего за ГБ", "en": "Best value per GB"}[lang]
    for destination in catalogue["destinations"][:60]:
        by_code = {p["code"]: p for p in destination["packages"]}
        shown = cards(site, lang, destination["code"])
        for code, _, text in shown:
            first_use = by_code[code].get("activation") == "first_use"
            assert starts[0 if first_use else 1] in text and starts[1 if first_use else 0] not in text, (code, text)
        for kind in ("volume", "daily"):
            group = [(by_code[code], text) for code, k, text in shown if k == kind]
            if len(group) < 2:
                continue
            marked = [p for p, text in group if best_label in text]
            per_gb = lambda p: p["price_kzt"] / (p["data_mb"] or p["fair_use"]["daily_high_speed_mb"] * p["days"])
            assert len(marked) == 1 and per_gb(marked[0]) == min(per_gb(p) for p, _ in group), destination["code"]


@pytest.mark.parametrize(("lang", "name"), [("kk", "Түркия"), ("ru", "Турция"), ("en", "Türkiye")])
def test_country_is_named_in_the_page_language(site: Path, catalogue: dict[str, Any], lang: str,
                                               name: str) -> None:
    turkey = next(d for d in catalogue["destinations"] if d["code"] == "TR")
    cheapest = min(p["price_kzt"] for p in turkey["packages"])
    page = read(site, f"/{lang}/esim/tr/")
    assert name in page.find("meta", name="description")[0]["content"]
    assert name in page.text
    assert tenge(cheapest, lang) in page.text


@pytest.mark.parametrize("lang", LANGS)
def test_region_page_lists_and_links_its_countries(site: Path, catalogue: dict[str, Any], lang: str) -> None:
    europe = next(d for d in catalogue["destinations"] if d["code"] == "europe")
    page = read(site, f"/{lang}/esim/europe/")
    assert europe["names"][lang] in page.text
    sold = {d["code"] for d in catalogue["destinations"]}
    for country in europe["countries"]:
        if country in sold:
            assert page.find("a", href=f"/{lang}/esim/{country.lower()}/"), country
    france = {"kk": "Франция", "ru": "Франция", "en": "France"}[lang]
    assert france in page.text


def test_country_page_suggests_the_regions_that_also_cover_it(site: Path, catalogue: dict[str, Any]) -> None:
    regions = [d for d in catalogue["destinations"] if d["type"] == "region"]
    for country in [d for d in catalogue["destinations"] if d["type"] == "country"][:60]:
        links = read(site, f"/ru/esim/{country['code'].lower()}/").links()
        for region in regions:
            covers = country["code"] in region["countries"]
            assert (f"/ru/esim/{region['code']}/" in links) == covers, (country["code"], region["code"])


@pytest.mark.parametrize("path", ["", "esim/tr/", "esim/europe/", "devices/", "checkout/", "offer/", "faq/"])
@pytest.mark.parametrize("lang", LANGS)
def test_page_declares_its_language_alternates_and_canonical_url(site: Path, lang: str, path: str) -> None:
    html = (site / lang / path / "index.html").read_text(encoding="utf-8")
    assert f'<html lang="{lang}">' in html
    page = read(site, f"/{lang}/{path}")
    assert page.find("link", rel="canonical")[0]["href"] == f"{SITE_URL}/{lang}/{path}"
    alternates = {a["hreflang"]: a["href"] for a in page.find("link", rel="alternate")}
    assert {other: alternates[other] for other in LANGS} == {other: f"{SITE_URL}/{other}/{path}" for other in LANGS}
    assert alternates["x-default"] == (f"{SITE_URL}/" if path == "" else f"{SITE_URL}/en/{path}")
    # The switcher leads to the same page in each other language.
    switch = {a["hreflang"]: a["href"] for a in page.find("a") if "data-keep" in a}
    assert switch == {other: f"/{other}/{path}" for other in LANGS if other != lang}


def test_root_is_a_language_chooser_and_the_x_default(site: Path) -> None:
    page = read(site, "/")
    assert {a["href"] for a in page.find("a") if a["href"] in ("/kk/", "/ru/", "/en/")} == {"/kk/", "/ru/", "/en/"}
    alternates = {a["hreflang"]: a["href"] for a in page.find("link", rel="alternate")}
    assert alternates["x-default"] == f"{SITE_URL}/"
    assert "Выберите язык" in page.text and "Тілді таңдаңыз" in page.text


def test_sitemap_lists_every_indexable_page_with_its_language_alternates(
    site: Path, catalogue: dict[str, Any]
) -> None:
    xml = (site / "sitemap.xml").read_text(encoding="utf-8")
    urls = re.findall(r"<url><loc>([^<]+)</loc>(.*?)</url>", xml)
    locs = {loc for loc, _ in urls}
    for destination in catalogue["destinations"]:
        for lang in LANGS:
            assert f"{SITE_URL}/{lang}/esim/{destination['code'].lower()}/" in locs
    assert f"{SITE_URL}/ru/offer/" in locs and f"{SITE_URL}/kk/devices/" in locs
    assert not any("/checkout/" in loc or "/order/" in loc or "/account/" in loc for loc in locs)
    for loc, links in urls:
        hreflangs = re.findall(r'hreflang="([^"]+)"', links)
        assert sorted(hreflangs) == sorted([*LANGS, "x-default"]), loc


def test_robots_txt_points_to_the_sitemap(site: Path) -> None:
    robots = (site / "robots.txt").read_text(encoding="utf-8")
    assert f"Sitemap: {SITE_URL}/sitemap.xml" in robots
    assert "Disallow: /*/checkout/" in robots


def test_destination_page_carries_product_and_offers_priced_in_tenge(
    site: Path, catalogue: dict[str, Any]
) -> None:
    html = (site / "ru" / "esim" / "tr" / "index.html").read_text(encoding="utf-8")
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html).group(1))
    turkey = next(d for d in catalogue["destinations"] if d["code"] == "TR")
    assert data["@type"] == "Product" and "Турция" in data["name"]
    assert {o["sku"]: (o["price"], o["priceCurrency"]) for o in data["offers"]} == {
        p["code"]: (str(p["price_kzt"]), "KZT") for p in turkey["packages"]
    }
    page = read(site, "/ru/esim/tr/")
    assert page.find("meta", property="og:type")[0]["content"] == "product"
    assert page.find("meta", property="og:url")[0]["content"] == f"{SITE_URL}/ru/esim/tr/"


def test_packages_json_gives_the_checkout_every_package_and_price(site: Path, catalogue: dict[str, Any]) -> None:
    packages = json.loads((site / "data" / "packages.json").read_text(encoding="utf-8"))
    expected = {
        p["code"]: (p["price_kzt"], d["code"], p["data_mb"], p["days"])
        for d in catalogue["destinations"] for p in d["packages"]
    }
    assert {code: (v["price_kzt"], v["destination"], v["data_mb"], v["days"]) for code, v in packages.items()} == expected


@pytest.mark.parametrize("lang", LANGS)
def test_checkout_gets_each_package_in_the_page_language(site: Path, catalogue: dict[str, Any], lang: str) -> None:
    shards = {}
    for file in (site / "data" / "checkout" / lang).glob("*.json"):
        shards.update(json.loads(file.read_text(encoding="utf-8")))
    for destination in catalogue["destinations"]:
        for package in destination["packages"]:
            summary = shards[package["code"]]
            assert summary["price_kzt"] == package["price_kzt"]
            assert summary["price"] == tenge(package["price_kzt"], lang)
            assert summary["slug"] == destination["code"].lower()


def test_search_index_finds_each_destination_by_its_kazakh_russian_and_english_names(site: Path) -> None:
    for lang in LANGS:
        index = {entry["code"].lower(): entry for entry in json.loads((site / "data" / f"search.{lang}.json").read_text())}
        keys = index["tr"]["keys"]
        for spelling in ("түркия", "турция", "turkiye", "turkey"):
            assert spelling in keys, (lang, spelling)
        assert {"германия", "germany"} <= set(index["de"]["keys"])
        assert index["tr"]["name"] == {"kk": "Түркия", "ru": "Турция", "en": "Türkiye"}[lang]


def test_worker_url_from_the_build_environment_is_on_every_page(site: Path) -> None:
    for lang in LANGS:
        for path in ("", "checkout/", "order/", "account/", "esim/tr/"):
            assert read(site, f"/{lang}/{path}").find("meta", name="worker-url")[0]["content"] == TEST_WORKER_URL


def all_pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_every_page_offers_support_names_the_seller_and_says_it_sets_no_cookie(site: Path) -> None:
    for file in all_pages(site):
        html = file.read_text(encoding="utf-8")
        where = file.relative_to(site)
        assert 'href="https://wa.me/77054544965"' in html, where
        assert 'href="mailto:support@qazaq-esim.com"' in html, where
        if file.parent != site:  # the language chooser and root 404 stay minimal
            assert SELLER_IIN in html, where
            # No consent banner: nothing on the site needs consent (issue 15), the footer says so.
            assert 'id="no-tracking"' in html and 'id="cookie"' not in html, where


@pytest.mark.parametrize(("lang", "seller"), [
    ("kk", "ЖК Исламбакиев Ш.А."), ("ru", "ИП Исламбакиев Ш.А."), ("en", "IE Islambakiyev Sh.A."),
])
def test_footer_gives_the_seller_requisites_in_the_page_language(site: Path, lang: str, seller: str) -> None:
    text = read(site, f"/{lang}/").text
    assert seller in text and SELLER_IIN in text and ("33A" in text or "33А" in text)


def test_every_page_has_its_own_meta_description(site: Path) -> None:
    seen: dict[str, Path] = {}
    for file in all_pages(site):
        if file.name == "404.html":
            continue
        html = file.read_text(encoding="utf-8")
        description = re.search(r'<meta name="description" content="([^"]+)">', html)
        assert description and len(description.group(1)) > 30, file
        assert description.group(1) not in seen, (file, seen.get(description.group(1)))
        seen[description.group(1)] = file


def test_no_request_leaves_the_site_and_no_script_blocks_rendering(site: Path) -> None:
    for file in all_pages(site):
        html = file.read_text(encoding="utf-8")
        for tag in re.findall(r"<(?:script|link|img|iframe)\b[^>]*>", html):
            source = re.search(r'\b(?:src|href)="([^"]*)"', tag)
            if tag.startswith("<link") and 'rel="stylesheet"' not in tag and 'rel="icon"' not in tag:
                continue  # canonical and alternates are not requests
            if source:
                url = source.group(1)
                assert url.startswith("data:") or (url.startswith("/") and not url.startswith("//")), (file, tag)
            if tag.startswith("<script") and source:
                assert " defer" in tag, (file, tag)


@pytest.mark.parametrize("lang", LANGS)
def test_markdown_pages_are_rendered_in_the_theme_with_their_summary(site: Path, lang: str) -> None:
    for md in sorted((Path(__file__).resolve().parents[2] / "content" / "pages" / lang).glob("*.md")):
        meta = dict(re.findall(r"^(\w+): (.+)$", md.read_text(encoding="utf-8").split("\n\n", 1)[0], re.MULTILINE))
        page = read(site, f"/{lang}/{meta['Slug']}/")
        assert page.find("h1") and meta["Title"] in page.text
        assert page.find("meta", name="description")[0]["content"] == meta["Summary"]


@pytest.mark.parametrize(("lang", "title"), [("kk", "Бет табылмады"), ("ru", "Страница не найдена"), ("en", "Page not found")])
def test_not_found_page_exists_in_every_language(site: Path, lang: str, title: str) -> None:
    assert title in read(site, f"/{lang}/404.html").text
    assert title in read(site, "/404.html").text


def test_device_page_lists_every_device_with_the_eid_check_and_carrier_lock_warning(site: Path) -> None:
    devices = json.loads((Path(__file__).resolve().parents[2] / "content" / "data" / "devices.json").read_text())
    for lang in LANGS:
        page = read(site, f"/{lang}/devices/")
        assert "*#06#" in page.text and "EID" in page.text
        for device in devices["devices"]:
            assert device["model"] in page.text, (lang, device["model"])
            if device["notes"]:
                assert re.sub(r"\s+", " ", device["notes"][lang]).strip() in page.text
    assert "не привязан" in read(site, "/ru/devices/").text


@pytest.mark.parametrize("lang", LANGS)
def test_checkout_form_requires_email_phone_and_both_confirmations(site: Path, lang: str) -> None:
    page = read(site, f"/{lang}/checkout/")
    email, phone = page.find("input", name="email")[0], page.find("input", name="phone")[0]
    assert email["type"] == "email" and "required" in email
    assert phone["type"] == "tel" and "required" in phone
    for box in ("device_ok", "offer_accepted"):
        assert "required" in page.find("input", name=box)[0]
    links = page.links()
    assert f"/{lang}/offer/" in links and f"/{lang}/devices/" in links
    assert "5.2" in page.text and "5.4" in page.text


REGIONAL_INDICATORS = re.compile("[\U0001F1E6-\U0001F1FF]")


def test_no_page_or_data_file_of_the_built_site_uses_a_flag_emoji(site: Path) -> None:
    """Windows shows emoji flags as letter pairs: every flag is an SVG image."""
    files = [*site.rglob("*.html"), *site.rglob("*.json"), *site.rglob("*.js")]
    assert len(files) > 700
    for file in files:
        found = REGIONAL_INDICATORS.search(file.read_text(encoding="utf-8"))
        assert not found, f"{file.relative_to(site)} has a flag emoji"


def test_flags_are_the_used_svg_files_of_flag_icons_and_pages_name_them_with_a_size(
        site: Path, catalogue: dict[str, Any]) -> None:
    countries = {c for d in catalogue["destinations"] for c in d["countries"]}
    shipped = {p.stem.upper() for p in (site / "theme" / "flags").glob("*.svg")} - {"GLOBE"}
    assert shipped == countries  # only the flags used
    assert (site / "theme" / "flags" / "tr.svg").read_text(encoding="utf-8").startswith("<svg")
    page = read(site, "/en/esim/tr/")
    flag = page.find("img", src="/theme/flags/tr.svg")[0]
    assert flag["width"] == "24" and flag["height"] == "18" and flag["alt"] == ""
    home = read(site, "/ru/")
    assert page.find("img", src="/theme/flags/tr.svg") and home.find("img", src="/theme/flags/ae.svg")


def test_russian_pages_name_the_country_without_an_undeclined_phrase(site: Path) -> None:
    """ "eSIM для страны Турция" reads as machine text: the name stands where it needs no case."""
    for path, name in (("/ru/esim/tr/", "Турция"), ("/ru/esim/ae/", "ОАЭ"), ("/ru/esim/de/", "Германия")):
        html = (site / path.lstrip("/") / "index.html").read_text(encoding="utf-8")
        for phrase in (f"для страны {name}", f"в стране {name}"):
            assert phrase not in html, (path, phrase)
    assert "eSIM: Турция — мобильный интернет от" in (site / "ru/esim/tr/index.html").read_text(encoding="utf-8")


def test_kazakh_warning_says_do_not_delete_the_esim(site: Path) -> None:
    text = read(site, "/kk/esim/tr/").text
    assert "eSIM-ді телефоннан жоймаңыз" in text and "өшірмеңіз" not in text


@pytest.mark.parametrize(("lang", "updated", "version"), [
    ("kk", "Тізім 2026 ж. 25 қараша жаңартылды. Дереккөздер:", "Редакциясы: 2026 ж. 25 қараша"),
    ("ru", "Список обновлён 25 ноября 2026 г. Источники:", "Редакция от 25 ноября 2026 г."),
    ("en", "List updated on November 25, 2026. Sources:", "Version of November 25, 2026"),
])
def test_devices_list_date_and_offer_version_read_as_dates(site: Path, lang: str, updated: str, version: str) -> None:
    assert updated in read(site, f"/{lang}/devices/").text.replace("\u00a0", " ").replace("\u202f", " ")
    assert version in read(site, f"/{lang}/offer/").text.replace("\u00a0", " ").replace("\u202f", " ")

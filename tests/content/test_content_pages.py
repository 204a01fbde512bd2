"""The editorial content: every Markdown page in kk, ru and en with its metadata, the public
offer complete in each language, links that lead to pages that exist, and a well-formed
device list. Reads the files only; the site build has its own tests."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = ROOT / "content" / "pages"
DEVICES = ROOT / "content" / "data" / "devices.json"

LANGS = ("kk", "ru", "en")
SLUGS = ("offer", "privacy", "install-ios", "install-android", "faq", "contacts")
# Pages the site build writes from data rather than Markdown, which content may link to.
BUILT_PAGES = ("devices", "account")

# Numbered clauses of the seller's offer (../shared/seed/public-offer.en.txt); a translation
# that drops one is not faithful.
OFFER_CLAUSES = (
    "2.1",
    "2.2",
    "3.1",
    "3.2",
    "3.3",
    "3.4",
    "4.1",
    "4.2",
    "4.3",
    "5.1",
    "5.2",
    "5.3",
    "5.4",
    "6.1",
    "6.2",
    "6.3",
    "7.1",
    "7.2",
    "7.3",
    "7.4",
    "8.1",
    "8.2",
)
# The seller's facts have one source, which the site build and the worker read; the Markdown
# pages quote them in prose, so these tests tell an editor which page to update after a change.
SELLER = json.loads((ROOT / "content" / "data" / "seller.json").read_text(encoding="utf-8"))
SELLER_IIN = SELLER["iin"]
SUPPORT_PHONE = SELLER["support"]["phone"]
SUPPORT_EMAIL = SELLER["support"]["email"]
WHATSAPP_URL = SELLER["support"]["whatsapp"]
ZERO_MB = {"en": "0 MB", "ru": "0 МБ", "kk": "0 МБ"}
# The word a translated offer uses to say that it is one.
TRANSLATION_WORD = {"ru": "перевод", "kk": "аударма"}
# Letters Kazakh has and Russian does not.
KAZAKH_LETTERS = set("әғқңөұүһіӘҒҚҢӨҰҮҺІ")

DEVICE_TYPES = {"phone", "tablet", "watch", "laptop"}

LINK = re.compile(r"\]\(([^)\s]+)\)")


def read_page(lang: str, slug: str) -> tuple[dict[str, str], str]:
    """Pelican's Markdown metadata (the `Key: value` lines up to the first blank line) and the body."""
    text = (PAGES / lang / f"{slug}.md").read_text(encoding="utf-8")
    head, _, body = text.partition("\n\n")
    meta = {}
    for line in head.splitlines():
        key, sep, value = line.partition(":")
        assert sep, f"{lang}/{slug}.md: metadata line without 'Key: value': {line!r}"
        meta[key.strip().lower()] = value.strip()
    return meta, body


def offer_clause(body: str, number: str) -> str:
    """The text of one numbered clause of the offer, up to the next clause or heading."""
    match = re.search(
        rf"\*\*{re.escape(number)}\.(.*?)(?=\n\*\*\d\.\d\.|\n## |\Z)", body, re.DOTALL
    )
    assert match, f"clause {number} not found"
    return match.group(1)


def load_devices() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DEVICES.read_text(encoding="utf-8"))
    return data


ALL_PAGES = [(lang, slug) for lang in LANGS for slug in SLUGS]


@pytest.mark.parametrize(("lang", "slug"), ALL_PAGES)
def test_every_page_exists_in_every_language_with_its_metadata(lang: str, slug: str) -> None:
    meta, body = read_page(lang, slug)

    assert meta.get("title"), f"{lang}/{slug}.md has no Title"
    assert meta.get("slug") == slug
    assert meta.get("lang") == lang
    assert meta.get("summary"), f"{lang}/{slug}.md has no Summary"
    assert len(body.split()) > 100, f"{lang}/{slug}.md is nearly empty"


@pytest.mark.parametrize(("lang", "slug"), ALL_PAGES)
def test_summary_fits_a_search_result(lang: str, slug: str) -> None:
    summary = read_page(lang, slug)[0]["summary"]

    assert summary.endswith("."), (
        f"{lang}/{slug}: the summary is a sentence and ends with a full stop"
    )
    assert 60 <= len(summary) <= 200, f"{lang}/{slug}: summary is {len(summary)} characters"


@pytest.mark.parametrize("slug", SLUGS)
def test_each_language_has_its_own_title(slug: str) -> None:
    titles = {lang: read_page(lang, slug)[0]["title"] for lang in LANGS}

    assert len(set(titles.values())) == len(LANGS), (
        f"{slug}: a title was left untranslated: {titles}"
    )


@pytest.mark.parametrize("slug", SLUGS)
def test_kazakh_pages_are_written_in_kazakh_cyrillic(slug: str) -> None:
    _, body = read_page("kk", slug)

    kazakh = sum(char in KAZAKH_LETTERS for char in body)
    assert kazakh > 50, f"kk/{slug}.md has {kazakh} Kazakh letters; is it Russian or Latin?"


@pytest.mark.parametrize("slug", SLUGS)
def test_russian_pages_contain_no_kazakh_letters(slug: str) -> None:
    _, body = read_page("ru", slug)

    assert not KAZAKH_LETTERS & set(body), f"ru/{slug}.md mixes in Kazakh letters"


@pytest.mark.parametrize("lang", LANGS)
def test_offer_names_the_seller_and_the_support_contacts(lang: str) -> None:
    _, body = read_page(lang, "offer")

    assert SELLER_IIN in body
    assert SUPPORT_PHONE in body
    assert SUPPORT_EMAIL in body


@pytest.mark.parametrize("lang", LANGS)
def test_offer_has_every_section_and_clause_of_the_seller_text(lang: str) -> None:
    _, body = read_page(lang, "offer")

    missing_sections = [n for n in range(1, 9) if not re.search(rf"^## {n}\. ", body, re.MULTILINE)]
    missing_clauses = [c for c in OFFER_CLAUSES if f"**{c}." not in body]
    assert not missing_sections, f"{lang} offer lacks sections {missing_sections}"
    assert not missing_clauses, f"{lang} offer lacks clauses {missing_clauses}"


@pytest.mark.parametrize("lang", LANGS)
def test_offer_refunds_only_an_unused_esim_with_zero_traffic(lang: str) -> None:
    _, body = read_page(lang, "offer")

    assert ZERO_MB[lang] in offer_clause(body, "5.4")


def test_english_offer_is_the_seller_text_without_the_cookie_banner() -> None:
    _, body = read_page("en", "offer")

    assert body.startswith("Please read the text of this public offer carefully.")
    assert "Article 395 of the Civil Code of the Republic of Kazakhstan" in body
    assert "Individual Entrepreneur Islambakiyev Sh.A." in body
    assert "cookie" not in body.lower()
    assert not re.search(r"^\s*Allow\s*$", body, re.MULTILINE)


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_translated_offer_opens_by_saying_it_is_a_translation_of_the_english_text(
    lang: str,
) -> None:
    _, body = read_page(lang, "offer")
    note = body.split("\n\n", 1)[0]

    assert TRANSLATION_WORD[lang] in note.lower()
    assert "](/en/offer/)" in note, "the note links the English original"


@pytest.mark.parametrize(("lang", "slug"), ALL_PAGES)
def test_internal_links_lead_to_pages_that_exist(lang: str, slug: str) -> None:
    _, body = read_page(lang, slug)
    known = "|".join(re.escape(s) for s in (*SLUGS, *BUILT_PAGES))
    page_url = re.compile(rf"^/({'|'.join(LANGS)})/(({known})/)?$")

    internal = [url for url in LINK.findall(body) if url.startswith("/")]
    broken = [url for url in internal if not page_url.match(url)]
    assert not broken, f"{lang}/{slug}.md links to pages that will not exist: {broken}"


@pytest.mark.parametrize(("lang", "slug"), ALL_PAGES)
def test_links_stay_in_the_page_language_except_to_the_original_offer(lang: str, slug: str) -> None:
    _, body = read_page(lang, slug)
    # Translations point to the English original; the Kazakh install guides also offer the
    # Russian guide, whose menu names match a phone set to Russian.
    allowed = {"/en/offer/"} | (
        {"/ru/install-ios/", "/ru/install-android/"} if lang == "kk" else set()
    )

    foreign = [
        url
        for url in LINK.findall(body)
        if url.startswith("/") and not url.startswith(f"/{lang}/") and url not in allowed
    ]
    assert not foreign, f"{lang}/{slug}.md sends the reader to another language: {foreign}"


@pytest.mark.parametrize(("lang", "slug"), ALL_PAGES)
def test_whatsapp_links_open_the_support_chat(lang: str, slug: str) -> None:
    _, body = read_page(lang, slug)

    chats = [url for url in LINK.findall(body) if "wa.me" in url]
    assert all(url == WHATSAPP_URL for url in chats), chats


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("slug", SLUGS)
def test_every_phone_iin_and_address_quoted_is_the_one_in_seller_json(lang: str, slug: str) -> None:
    _, body = read_page(lang, slug)

    assert set(re.findall(r"\+7(?: ?\d){10}", body)) <= {SUPPORT_PHONE}
    assert set(re.findall(r"(?<!\d)\d{12}(?!\d)", body)) <= {SELLER_IIN}
    assert set(re.findall(r"[\w.+-]+@qazaq-esim\.com", body)) <= {SUPPORT_EMAIL}


@pytest.mark.parametrize("lang", LANGS)
def test_contacts_give_support_the_seller_and_the_claim_period(lang: str) -> None:
    _, body = read_page(lang, "contacts")

    assert f"]({WHATSAPP_URL})" in body
    assert SUPPORT_PHONE in body and SUPPORT_EMAIL in body and SELLER_IIN in body
    assert "30" in body


@pytest.mark.parametrize("lang", LANGS)
def test_faq_states_the_zero_mb_refund_rule(lang: str) -> None:
    _, body = read_page(lang, "faq")

    assert ZERO_MB[lang] in body


def test_device_list_is_dated_and_names_its_sources() -> None:
    data = load_devices()

    date.fromisoformat(data["updated"])
    assert data["sources"], "name where the list comes from"
    for source in data["sources"]:
        assert source["name"].strip()
        assert source["url"].startswith("https://"), source


def test_every_device_has_brand_model_and_a_known_type() -> None:
    devices = load_devices()["devices"]

    assert len(devices) >= 200
    for device in devices:
        assert isinstance(device["brand"], str) and device["brand"].strip(), device
        assert isinstance(device["model"], str) and device["model"].strip(), device
        assert device["type"] in DEVICE_TYPES, device


def test_every_device_note_is_given_in_kazakh_russian_and_english() -> None:
    for device in load_devices()["devices"]:
        notes = device["notes"]
        if notes is None:
            continue
        label = f"{device['brand']} {device['model']}"
        assert set(notes) == set(LANGS), f"{label}: notes in {sorted(notes)}"
        assert all(isinstance(notes[lang], str) and notes[lang].strip() for lang in LANGS), label
        assert not re.search("[а-яА-ЯёЁ]", notes["en"]), f"{label}: the English note is not English"
        assert KAZAKH_LETTERS & set(notes["kk"]), f"{label}: the Kazakh note has no Kazakh letters"
        assert re.search("[а-яё]", notes["ru"]) and not KAZAKH_LETTERS & set(notes["ru"]), label


def test_no_device_is_listed_twice() -> None:
    seen: set[tuple[str, str]] = set()
    for device in load_devices()["devices"]:
        key = (device["brand"].casefold(), " ".join(device["model"].casefold().split()))
        assert key not in seen, f"listed twice: {device['brand']} {device['model']}"
        seen.add(key)

"""Names, prices and volumes in the page's language, from Babel's CLDR data."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import cache
from typing import Any

from babel import Locale
from babel.dates import format_date, get_date_format
from babel.numbers import format_currency, get_group_symbol
from babel.units import format_unit

LANGS = ("kk", "ru", "en")
# Alphabetical order as a reader expects it (code point order puts Ё before А and the
# Kazakh letters after Я).
_ALPHABETS = {
    "kk": "аәбвгғдеёжзийкқлмнңоөпрстуұүфхһцчшщъыіьэюя",
    "ru": "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
}


@cache
def _locale(lang: str) -> Locale:
    return Locale.parse(lang)


@cache
def _price_pattern(lang: str) -> str:
    # The locale's currency pattern without decimals (tenge are whole) and with the
    # tenge sign: CLDR's English symbol for KZT is "KZT", buyers here read "₸".
    pattern = str(_locale(lang).currency_formats["standard"].pattern).split(";")[0]
    return pattern.replace(".00", "").replace("¤", "'₸'")


@cache  # a catalogue repeats the same prices and volumes thousands of times
def price(amount_kzt: int, lang: str) -> str:
    """4990 → "4 990 ₸" (kk, ru) or "₸4,990" (en)."""
    return format_currency(amount_kzt, "KZT", format=_price_pattern(lang), locale=lang,
                           currency_digits=False)


def price_template(lang: str) -> dict[str, str]:
    """How the browser formats a price the same way: {"pattern": "{n} ₸", "group": " "}."""
    sample = price(0, lang)
    return {"pattern": sample.replace("0", "{n}", 1), "group": get_group_symbol(locale=lang)}


def date_template(lang: str) -> dict[str, Any]:
    """How the browser writes a date in the language, from CLDR's long date format:
    {"pattern": "{d} {month} {y} г.", "months": ["января", …]}. Browsers' own Intl data
    lacks Kazakh on some phones ("2026 M11 26"), so the page brings its own."""
    pattern = get_date_format("long", locale=lang).pattern
    fields = {"y": "{y}", "M": "{month}", "L": "{month}", "d": "{d}"}
    text = "".join(
        part[1:-1] if part.startswith("'") else fields.get(part[:1], part)
        for part in re.split(r"('[^']*'|y+|[ML]+|d+)", pattern)
    )
    months = _locale(lang).months["format"]["wide"]
    return {"pattern": text, "months": [str(months[month]) for month in range(1, 13)]}


def long_date(iso: str | date, lang: str) -> str:
    """ "2026-11-25" → "25 ноября 2026 г." / "November 25, 2026" (CLDR's long format)."""
    day = iso if isinstance(iso, date) else date.fromisoformat(str(iso))
    return str(format_date(day, "long", locale=lang))


def country_name(code: str, lang: str) -> str:
    """ISO 3166 code → the country's CLDR name in the language."""
    return str(_locale(lang).territories[code])


def destination_name(destination: dict[str, Any], lang: str) -> str:
    if destination["type"] == "region":
        return str(destination["names"][lang])
    return country_name(destination["code"], lang)


@cache
def volume(data_mb: int, lang: str) -> str:
    """10240 → "10 GB" / "10 ГБ"; below a gigabyte in MB."""
    if data_mb >= 1024:
        return str(format_unit(round(data_mb / 1024, 1), "digital-gigabyte", length="short", locale=lang))
    return str(format_unit(data_mb, "digital-megabyte", length="short", locale=lang))


def language_name(lang: str) -> str:
    """The language's own name, capitalised: "Қазақ тілі", "Русский", "English"."""
    name = _locale(lang).languages[lang]
    return str(name[:1].upper() + name[1:])


def sort_key(text: str, lang: str) -> tuple[int, ...]:
    """Key to list names alphabetically in the language: "Åland" with the As, "Ёлка" after "Елка"."""
    alphabet = _ALPHABETS.get(lang, "")
    key = []
    for char in unicodedata.normalize("NFC", text.lower()):
        position = alphabet.find(char)
        if position < 0:
            # Latin letters without their accents (Türkiye, Curaçao, Réunion) come first.
            base = unicodedata.normalize("NFD", char)[0]
            key.append(ord(base) if base.isalpha() else 0)
        else:
            key.append(0x10000 + position)
    return tuple(key)

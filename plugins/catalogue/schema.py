"""Load content/data/catalog.json and check it against the schema in docs/architecture.md.

Pure Python (no Pelican), so the worker can check the same file at start-up:
`load_catalogue(path)` returns the parsed dict or raises `CatalogueError` naming the
destination, the package and the field, and what a valid value looks like.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from babel import Locale

LANGS = ("kk", "ru", "en")
SPEEDS = ("3G", "4G", "4G/5G", "5G")
# When a package's days start: at installation, or at the first connection at the destination.
ACTIVATIONS = ("install", "first_use")
REGION_SLUG = re.compile(r"^[a-z][a-z0-9-]*$")
# Two-letter codes CLDR names in all three languages (a page needs the name in each),
# less the groupings CLDR also lists (EU, UN, ...) that are no country.
NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"}
COUNTRY_CODES = frozenset.intersection(*(
    frozenset(str(code) for code in Locale(lang).territories
              if len(str(code)) == 2 and code not in NOT_COUNTRIES)
    for lang in LANGS
))


class CatalogueError(ValueError):
    """catalog.json breaks the schema; the message names the entry, the field and the fix."""


def load_catalogue(path: Path) -> dict[str, Any]:
    """Read and validate the catalogue file; raise CatalogueError on the first problem."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogueError(f"{path}: no such file; run `invoke sync-catalog`") from None
    except json.JSONDecodeError as error:
        raise CatalogueError(f"{path}: not valid JSON ({error})") from None
    validate(data, str(path))
    return data  # type: ignore[no-any-return]


def validate(data: Any, where: str = "catalog.json") -> None:
    """Raise CatalogueError naming the first entry that breaks the schema."""
    if not isinstance(data, dict):
        raise CatalogueError(f"{where}: the top level must be an object with 'destinations'")
    if data.get("version") != 1:
        raise CatalogueError(f"{where}: version must be 1, got {data.get('version')!r}")
    if data.get("currency") != "KZT":
        raise CatalogueError(f"{where}: currency must be 'KZT', got {data.get('currency')!r}")
    destinations = data.get("destinations")
    if not isinstance(destinations, list) or not destinations:
        raise CatalogueError(f"{where}: 'destinations' must be a non-empty list")
    seen_destinations: set[str] = set()
    seen_packages: dict[str, str] = {}
    for index, destination in enumerate(destinations):
        label = f"{where}: destination #{index}"
        if isinstance(destination, dict) and isinstance(destination.get("code"), str):
            label = f"{where}: destination {destination['code']!r}"
        _check_destination(destination, label)
        code = destination["code"]
        if code.lower() in seen_destinations:
            raise CatalogueError(f"{label}: code appears twice (slugs are lowercased codes)")
        seen_destinations.add(code.lower())
        for package in destination["packages"]:
            if package["code"] in seen_packages:
                raise CatalogueError(
                    f"{label}, package {package['code']!r}: code is also used by destination "
                    f"{seen_packages[package['code']]!r}; package codes must be unique"
                )
            seen_packages[package["code"]] = code


def _fail(label: str, field: str, message: str, value: Any) -> CatalogueError:
    return CatalogueError(f"{label}: field '{field}' {message}, got {value!r}")


def _check_destination(destination: Any, label: str) -> None:
    if not isinstance(destination, dict):
        raise CatalogueError(f"{label}: must be an object")
    kind = destination.get("type")
    code = destination.get("code")
    countries = destination.get("countries")
    if kind not in ("country", "region"):
        raise _fail(label, "type", "must be 'country' or 'region'", kind)
    if not isinstance(countries, list) or not countries:
        raise _fail(label, "countries", "must be a non-empty list of ISO 3166 codes", countries)
    for country in countries:
        if country not in COUNTRY_CODES:
            raise _fail(label, "countries", "must hold ISO 3166 alpha-2 codes such as 'TR'", country)
    if kind == "country":
        if code not in COUNTRY_CODES:
            raise _fail(label, "code", "must be an ISO 3166 alpha-2 code such as 'TR'", code)
        if countries != [code]:
            raise _fail(label, "countries", f"of a country must be [{code!r}]", countries)
        if destination.get("names") is not None:
            raise _fail(label, "names", "must be null for a country (CLDR names it)", destination["names"])
    else:
        if not isinstance(code, str) or not REGION_SLUG.match(code):
            raise _fail(label, "code", "of a region must be a lowercase slug such as 'europe'", code)
        names = destination.get("names")
        if not isinstance(names, dict) or any(
            not isinstance(names.get(lang), str) or not names[lang].strip() for lang in LANGS
        ):
            raise _fail(label, "names", "of a region must give a name in kk, ru and en", names)
    if not isinstance(destination.get("popular"), bool):
        raise _fail(label, "popular", "must be true or false", destination.get("popular"))
    packages = destination.get("packages")
    if not isinstance(packages, list) or not packages:
        raise _fail(label, "packages", "must be a non-empty list", packages)
    for index, package in enumerate(packages):
        name = package.get("code") if isinstance(package, dict) else None
        package_label = f"{label}, package {name!r}" if isinstance(name, str) else f"{label}, package #{index}"
        _check_package(package, package_label, set(countries))


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _check_package(package: Any, label: str, countries: set[str]) -> None:
    if not isinstance(package, dict):
        raise CatalogueError(f"{label}: must be an object")
    for field in ("code", "provider", "provider_code"):
        value = package.get(field)
        if not isinstance(value, str) or not value.strip() or value != value.strip():
            raise _fail(label, field, "must be a non-empty string without spaces around it", value)
    # The code names a file of the built site (/data/checkout/{lang}/{code}.json).
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", package["code"]):
        raise _fail(label, "code", "may hold only letters, digits, '.', '_' and '-', "
                    "and must start with a letter or digit", package["code"])
    data_mb, fair_use = package.get("data_mb"), package.get("fair_use")
    if data_mb is None:
        if not isinstance(fair_use, dict) or not all(
            _whole(fair_use.get(key)) for key in ("daily_high_speed_mb", "throttled_kbps")
        ):
            raise _fail(
                label, "fair_use",
                "must give daily_high_speed_mb and throttled_kbps (positive whole numbers) "
                "when data_mb is null (unlimited)", fair_use,
            )
    elif not _whole(data_mb):
        raise _fail(label, "data_mb", "must be a positive whole number of MB, or null for unlimited", data_mb)
    elif fair_use is not None:
        raise _fail(label, "fair_use", "must be null when data_mb is set", fair_use)
    if not _whole(package.get("days")):
        raise _fail(label, "days", "must be a positive whole number of days", package.get("days"))
    if not _whole(package.get("price_kzt")):
        raise _fail(label, "price_kzt", "must be a positive whole number of tenge", package.get("price_kzt"))
    if package.get("speed") not in SPEEDS:
        raise _fail(label, "speed", f"must be one of {', '.join(SPEEDS)}", package.get("speed"))
    # When the days start (eSIM Access's activeType); optional, "install" when absent.
    if package.get("activation", "install") not in ACTIVATIONS:
        raise _fail(label, "activation", f"must be one of {', '.join(ACTIVATIONS)} (or absent)",
                    package.get("activation"))
    if not isinstance(package.get("hotspot"), bool):
        raise _fail(label, "hotspot", "must be true or false", package.get("hotspot"))
    networks = package.get("networks")
    if not isinstance(networks, list) or not networks:
        raise _fail(label, "networks", "must be a non-empty list of {country, operators}", networks)
    for network in networks:
        if not isinstance(network, dict) or network.get("country") not in countries:
            raise _fail(label, "networks", "must name countries this destination covers", network)
        operators = network.get("operators")
        if not isinstance(operators, list) or not operators or not all(
            isinstance(op, str) and op.strip() for op in operators
        ):
            raise _fail(label, "networks", "must list operator names per country", network)

"""A destination's packages as the buyer compares them: grouped by kind, sorted, every
"unlimited" in plain words, when the days start, the price per GB and the best value.

Computed once per destination and language here, so the template only prints strings
(the template used to call gettext and filters thousands of times per build).
"""

from __future__ import annotations

from typing import Any

from babel.numbers import format_decimal
from babel.support import Translations

from . import localize


def data_text(package: dict[str, Any], lang: str, translations: Translations) -> str:
    """ "10 GB", or "Unlimited" for a fair-use package."""
    if package["data_mb"] is None:
        return str(translations.gettext("Unlimited"))
    return localize.volume(package["data_mb"], lang)


def days_text(days: int, translations: Translations) -> str:
    return str(translations.ngettext("%(num)d day", "%(num)d days", days) % {"num": days})


def speed_text(kbps: int, lang: str, translations: Translations) -> str:
    """384 → "384 kbit/s", 1024 → "1 Mbit/s" in the language."""
    if kbps < 1024:
        return str(translations.gettext("%(num)s kbit/s") % {"num": format_decimal(kbps, locale=lang)})
    return str(translations.gettext("%(num)s Mbit/s") % {"num": format_decimal(round(kbps / 1024, 1), locale=lang)})


def slow_speed_use(kbps: int, translations: Translations) -> str:
    """What a buyer can still do at the throttled speed, in plain words."""
    if kbps < 256:
        return str(translations.gettext("enough for messages, too slow for maps and video"))
    if kbps < 1024:
        return str(translations.gettext("enough for maps and messengers, not for video"))
    if kbps < 3072:
        return str(translations.gettext("enough for maps, messengers and music, video in low quality only"))
    return str(translations.gettext("enough for video in standard quality"))


def starts_text(package: dict[str, Any], translations: Translations) -> str:
    """When the package's days start counting, and what that means for installing it."""
    # schema.ACTIVATIONS, from the aggregator's activeType; absent = "install", the reading
    # that never makes a buyer install too early.
    if package.get("activation", "install") == "first_use":
        return str(translations.gettext("Days count from the first connection abroad: install the eSIM any time before."))
    return str(translations.gettext("Days count from installation: install the eSIM just before you leave."))


def _per_gb_mb(package: dict[str, Any]) -> int:
    """Full-speed megabytes the package gives over its whole validity."""
    if package["data_mb"] is not None:
        return int(package["data_mb"])
    return int(package["fair_use"]["daily_high_speed_mb"]) * int(package["days"])


def card(package: dict[str, Any], destination: dict[str, Any], lang: str,
         translations: Translations) -> dict[str, Any]:
    """Everything one package card shows, as strings in the language."""
    _ = translations.gettext
    fair_use = package["fair_use"]
    days = days_text(package["days"], translations)
    if fair_use:
        fast = localize.volume(fair_use["daily_high_speed_mb"], lang)
        headline = str(_("%(volume)s a day") % {"volume": fast})
        plain = str(_("Unlimited: %(fast)s a day at full speed, then %(slow)s: %(use)s.") % {
            "fast": fast, "slow": speed_text(fair_use["throttled_kbps"], lang, translations),
            "use": slow_speed_use(fair_use["throttled_kbps"], translations)})
        per_day = localize.price(round(package["price_kzt"] / package["days"]), lang)
        unit = str(_("%(price)s a day") % {"price": per_day})
    else:
        headline = localize.volume(package["data_mb"], lang)
        plain = ""  # the group's note says it once for all fixed volumes
        unit = ""
    per_gb = package["price_kzt"] * 1024 / _per_gb_mb(package)
    networks = ""
    if destination["type"] == "country":
        operators = [op for network in package["networks"] for op in network["operators"]]
        label = _("Networks:")
        networks = f"{label} {', '.join(dict.fromkeys(operators))}"
    return {
        "code": package["code"],
        "headline": headline,
        "days": days,
        "plain": plain,
        "starts": starts_text(package, translations),
        "per_gb": str(_("%(price)s per GB") % {"price": localize.price(round(per_gb), lang)}),
        "per_gb_value": per_gb,
        "unit": unit,
        "best": False,
        "speed": package["speed"],
        "hotspot": str(_("Hotspot: you can share the internet") if package["hotspot"] else _("Hotspot: not allowed")),
        "networks": networks,
        "price": localize.price(package["price_kzt"], lang),
        "buy_label": f"{headline}, {days}",
    }


def groups(destination: dict[str, Any], lang: str, translations: Translations) -> list[dict[str, Any]]:
    """[{"kind", "title", "note", "cards"}]: fixed volumes (by volume, then days), then the
    daily allowances (by days, then allowance); the lowest price per GB in each group is
    marked "best value"."""
    _ = translations.gettext
    fixed = sorted((p for p in destination["packages"] if p["data_mb"] is not None),
                   key=lambda p: (p["data_mb"], p["days"], p["price_kzt"]))
    daily = sorted((p for p in destination["packages"] if p["data_mb"] is None),
                   key=lambda p: (p["days"], p["fair_use"]["daily_high_speed_mb"], p["price_kzt"]))
    result = []
    for kind, packages, title, note in (
        ("volume", fixed, _("A fixed amount of data"),
         _("One volume for the whole trip, at full speed.")),
        ("daily", daily, _("Unlimited, with a daily full-speed allowance"),
         _("A new full-speed allowance every day; after it the internet stays on, slower.")),
    ):
        if not packages:
            continue
        cards = [card(p, destination, lang, translations) for p in packages]
        if len(cards) > 1:
            min(cards, key=lambda c: c["per_gb_value"])["best"] = True
        result.append({"kind": kind, "title": str(title), "note": str(note), "cards": cards})
    return result

"""Retail prices in tenge from wholesale prices: exchange rate, markup, shop-like rounding,
and the editor's overrides from content/data/pricing.json (the offer, 4.1: the seller sets
prices unilaterally)."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from worker.config import ROOT

PRICING_PATH = ROOT / "content" / "data" / "pricing.json"


class PricingError(ValueError):
    """pricing.json is missing or malformed; the message names the key and the fix."""


@dataclass(frozen=True)
class Pricing:
    usd_kzt: float  # the configured rate: tenge per US dollar
    national_bank_url: str  # the National Bank of Kazakhstan's rates feed ("" = never ask)
    national_bank_timeout_s: float
    markup_percent: float
    round_step: int  # prices end on ...`round_ending` within steps of this many tenge
    round_ending: int
    min_price_kzt: int
    max_lost_destinations_share: float
    hotspot: bool  # eSIM Access does not say; our plans allow tethering unless overridden
    day_pass_periods: tuple[int, ...]  # days a day pass is sold for ("unlimited, 7 days")
    destination_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    package_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)

    def retail_kzt(
        self, wholesale: int, scale: int, currency: str, rate: float, destination: str, code: str
    ) -> int:
        """Whole tenge the buyer pays for a package bought at `wholesale`/`scale` `currency`."""
        override = self.package_overrides.get(code, {})
        if "price_kzt" in override:
            return int(override["price_kzt"])
        if currency != "USD":
            raise PricingError(f"package {code}: wholesale currency {currency} has no rate")
        markup = override.get(
            "markup_percent",
            self.destination_overrides.get(destination, {}).get(
                "markup_percent", self.markup_percent
            ),
        )
        raw = wholesale / scale * rate * (1 + float(markup) / 100)
        return max(self.min_price_kzt, shop_round(raw, self.round_step, self.round_ending))

    def hotspot_for(self, destination: str, code: str) -> bool:
        for override in (
            self.package_overrides.get(code, {}),
            self.destination_overrides.get(destination, {}),
        ):
            if "hotspot" in override:
                return bool(override["hotspot"])
        return self.hotspot


def shop_round(amount: float, step: int, ending: int) -> int:
    """The next price at or above `amount` that ends on `ending`: 4533 → 4590 (step 100, 90)."""
    candidate = math.floor(amount / step) * step + ending
    return int(candidate if candidate >= amount else candidate + step)


def load_pricing(path: Path = PRICING_PATH) -> Pricing:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PricingError(
            f"{path}: no such file; copy it from git (content/data/pricing.json)"
        ) from None
    except json.JSONDecodeError as error:
        raise PricingError(f"{path}: not valid JSON ({error})") from None

    def number(key: str, low: float, high: float) -> float:
        value = data.get(key)
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not low <= value <= high
        ):
            raise PricingError(
                f"{path}: '{key}' must be a number from {low} to {high}, got {value!r}"
            )
        return float(value)

    step = int(number("round_step", 1, 100_000))
    ending = int(number("round_ending", 0, step - 1))
    for kind in ("destination_overrides", "package_overrides"):
        overrides = data.get(kind, {})
        if not isinstance(overrides, dict) or not all(
            isinstance(v, dict) for v in overrides.values()
        ):
            raise PricingError(
                f"{path}: '{kind}' must map codes to objects like {{\"markup_percent\": 30}}"
            )
        for code, override in overrides.items():
            unknown = set(override) - {"markup_percent", "price_kzt", "hotspot", "note"}
            if unknown:
                raise PricingError(
                    f"{path}: {kind}[{code!r}] has unknown keys {sorted(unknown)}; "
                    "use markup_percent, price_kzt (packages), hotspot or note"
                )
            price = override.get("price_kzt")
            if price is not None and (
                not isinstance(price, int) or isinstance(price, bool) or price <= 0
            ):
                raise PricingError(
                    f"{path}: {kind}[{code!r}].price_kzt must be whole tenge, got {price!r}"
                )
    periods = data.get("day_pass_periods", [])
    if not isinstance(periods, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 365 for d in periods
    ):
        raise PricingError(
            f"{path}: 'day_pass_periods' must list days from 1 to 365, got {periods!r}"
        )
    return Pricing(
        usd_kzt=number("usd_kzt", 1, 100_000),
        national_bank_url=str(data.get("national_bank_url") or ""),
        national_bank_timeout_s=number("national_bank_timeout_s", 0.1, 30),
        markup_percent=number("markup_percent", 0, 1000),
        round_step=step,
        round_ending=ending,
        min_price_kzt=int(number("min_price_kzt", 1, 1_000_000)),
        max_lost_destinations_share=number("max_lost_destinations_share", 0, 1),
        hotspot=bool(data.get("hotspot", True)),
        day_pass_periods=tuple(periods),
        destination_overrides=data.get("destination_overrides", {}),
        package_overrides=data.get("package_overrides", {}),
    )


def national_bank_usd_rate(url: str, timeout_s: float) -> float:
    """Tenge per dollar from the National Bank of Kazakhstan's RSS (rates_all.xml).

    Raises httpx.HTTPError or ValueError when the feed is unreachable or has no USD rate.
    """
    response = httpx.get(url, timeout=timeout_s, follow_redirects=True)
    response.raise_for_status()
    root = ET.fromstring(response.content)
    for item in root.iter("item"):
        if (item.findtext("title") or "").strip() == "USD":
            quantity = float(item.findtext("quant") or 1)
            return float((item.findtext("description") or "").strip()) / quantity
    raise ValueError("the feed has no USD item")

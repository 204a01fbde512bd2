"""`invoke sync-catalog`: the aggregator's packages → content/data/catalog.json, in tenge.

The file is checked with the site build's own validator (plugins/catalogue/schema.py)
before it replaces the old one, and a sync that loses more than the configured share of
destinations is refused unless forced. Then rebuild the site: the worker sells at the
prices of the file the site was built from.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from tqdm import tqdm

from plugins.catalogue.schema import COUNTRY_CODES, CatalogueError, validate
from worker.atomic_file import replace_atomically
from worker.config import ROOT, SettingError, load_settings
from worker.provisioning import open_provider
from worker.provisioning.pricing import Pricing, PricingError, load_pricing, national_bank_usd_rate
from worker.provisioning.provider import Package, Provider, ProviderError
from worker.topups.offers import FILE_NAME as TOPUPS_FILE

DESTINATIONS_PATH = ROOT / "content" / "data" / "destinations.json"
MB = 1024**2
GB = 1024**3

Say = Callable[[str], None]


class SyncRefused(RuntimeError):
    """The new catalogue would lose too many destinations (or is invalid); nothing was written."""


@dataclass
class Summary:
    rate: float
    rate_source: str
    packages: int = 0
    destinations: int = 0
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    repriced: list[tuple[str, int, int]] = field(default_factory=list)
    lost_destinations: list[str] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    topups: int = 0
    written: bool = False

    def lines(self) -> list[str]:
        out = [
            f"rate: {self.rate:.2f} KZT/USD ({self.rate_source})",
            f"catalogue: {self.destinations} destinations, {self.packages} packages",
            f"added: {len(self.added)}  removed: {len(self.removed)}  repriced: {len(self.repriced)}",
            f"top-ups: {self.topups} ({TOPUPS_FILE})",
        ]
        for code, old, new in sorted(self.repriced, key=lambda r: abs(r[2] - r[1]), reverse=True)[
            :10
        ]:
            out.append(f"  repriced {code}: {old} → {new} KZT")
        if self.added:
            out.append(
                "  added " + ", ".join(self.added[:10]) + (" …" if len(self.added) > 10 else "")
            )
        if self.removed:
            out.append(
                "  removed "
                + ", ".join(self.removed[:10])
                + (" …" if len(self.removed) > 10 else "")
            )
        if self.lost_destinations:
            out.append("destinations gone: " + ", ".join(self.lost_destinations))
        for reason, count in sorted(self.skipped.items()):
            out.append(f"skipped {count} packages: {reason}")
        return out


def load_destinations(path: Path = DESTINATIONS_PATH) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError) as error:
        raise PricingError(f"{path}: cannot read it ({error})") from None
    for prefix, region in data.get("regions", {}).items():
        if (
            not isinstance(region, dict)
            or not isinstance(region.get("slug"), str)
            or not all(
                isinstance((region.get("names") or {}).get(lang), str)
                for lang in ("kk", "ru", "en")
            )
        ):
            raise PricingError(f"{path}: regions[{prefix!r}] needs a slug and names in kk, ru, en")
    return data


def exchange_rate(pricing: Pricing, say: Say) -> tuple[float, str]:
    """The National Bank's USD rate when its feed answers quickly, else the configured one."""
    if pricing.national_bank_url:
        try:
            rate = national_bank_usd_rate(
                pricing.national_bank_url, pricing.national_bank_timeout_s
            )
        except (httpx.HTTPError, ValueError, ET.ParseError) as error:
            say(
                f"National Bank of Kazakhstan rate unavailable ({type(error).__name__}); "
                f"using the configured {pricing.usd_kzt:.2f} KZT/USD (usd_kzt in pricing.json)"
            )
        else:
            return rate, "National Bank of Kazakhstan"
    return pricing.usd_kzt, "usd_kzt in content/data/pricing.json"


def _speed(speed: str) -> str:
    if "5G" in speed:
        return "4G/5G"
    return "4G" if "4G" in speed else "3G"


def _size(data_bytes: int) -> str:
    return f"{data_bytes // GB}GB" if data_bytes % GB == 0 else f"{round(data_bytes / MB)}MB"


def build_catalog(
    packages: Iterable[Package],
    pricing: Pricing,
    places: dict[str, Any],
    rate: float,
    source: str,
    skipped: Counter[str],
) -> dict[str, Any]:
    """The storefront's catalogue (docs/architecture.md) from normalised packages."""
    regions: dict[str, Any] = places.get("regions", {})
    popular = set(places.get("popular", []))
    excluded = set(places.get("exclude", []))
    destinations: dict[str, dict[str, Any]] = {}
    for package in packages:
        if package.daily and (package.throttled_kbps is None or package.data_bytes is None):
            skipped["daily plans cut off at a daily cap (the shop has no form for them)"] += 1
            continue
        if len(package.location_code) == 2 and package.location_code in COUNTRY_CODES:
            code, kind, names = package.location_code, "country", None
            countries = [code]
        else:
            region = regions.get(package.location_code.split("-")[0])
            if region is None:
                skipped[f"region {package.location_code} is not in destinations.json"] += 1
                continue
            code, kind, names = region["slug"], "region", region["names"]
            countries = [c for c in package.countries if c in COUNTRY_CODES]
        if code in excluded or not countries:
            skipped[
                "excluded in destinations.json" if code in excluded else "no known country"
            ] += 1
            continue
        networks = [
            {"country": n.country, "operators": list(n.operators)}
            for n in package.networks
            if n.country in countries and n.operators
        ]
        if not networks or package.data_bytes is None:
            skipped["no operators listed"] += 1
            continue
        destination = destinations.setdefault(
            code,
            {
                "code": code,
                "type": kind,
                "countries": countries,
                "names": names,
                "popular": code in popular,
                "packages": [],
            },
        )
        size = _size(package.data_bytes)
        offers: list[tuple[str, int, int | None]]
        if package.daily:
            # A day pass: "unlimited" with a daily high-speed volume, sold for fixed periods.
            offers = [
                (f"{code.upper()}-UNL-{size}-{days}D", days, days)
                for days in pricing.day_pass_periods
            ]
        else:
            offers = [(f"{code.upper()}-{size}-{package.days}D", package.days, None)]
        for ours, days, period in offers:
            if any(p["code"] == ours for p in destination["packages"]):
                ours = f"{ours}-{package.code}"
            entry: dict[str, Any] = {
                "code": ours,
                "provider": source,
                "provider_code": package.code,
                "data_mb": None if period else package.data_bytes // MB,
                "fair_use": {
                    "daily_high_speed_mb": package.data_bytes // MB,
                    "throttled_kbps": package.throttled_kbps,
                }
                if period
                else None,
                "days": days,
                "price_kzt": pricing.retail_kzt(
                    package.wholesale_price * (period or 1),
                    package.price_scale,
                    package.currency,
                    rate,
                    code,
                    ours,
                ),
                "speed": _speed(package.speed),
                "hotspot": pricing.hotspot_for(code, ours),
                "networks": networks,
                "activation": package.activation,
            }
            if period:
                entry["provider_period"] = period
            destination["packages"].append(entry)
    ordered = sorted(destinations.values(), key=lambda d: (d["type"] != "country", d["code"]))
    for destination in ordered:
        destination["packages"].sort(key=lambda p: (p["price_kzt"], p["code"]))
    return {
        "version": 1,
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "source": source,
        "currency": "KZT",
        "destinations": ordered,
    }


def build_topups(
    bases: Iterable[Package],
    topups: Iterable[Package],
    catalog: dict[str, Any],
    pricing: Pricing,
    rate: float,
) -> dict[str, Any]:
    """topups.json (worker/topups/offers.py): our plans that take top-ups, each pointing at its
    destination's top-ups, priced like the catalogue. Day passes are extended, not topped up."""
    ours: dict[str, list[tuple[str, str]]] = {}  # provider code → [(our code, destination)]
    for destination in catalog["destinations"]:
        for entry in destination["packages"]:
            if "provider_period" not in entry:
                ours.setdefault(entry["provider_code"], []).append(
                    (entry["code"], destination["code"])
                )
    by_location: dict[str, list[Package]] = {}
    for topup in topups:
        if topup.data_bytes and not topup.daily:
            by_location.setdefault(topup.location_code, []).append(topup)
    plans: dict[str, str] = {}
    groups: dict[str, list[dict[str, Any]]] = {}
    for base in bases:
        fitting = by_location.get(base.location_code)
        if not base.top_up or base.daily or not fitting:
            continue
        for code, destination in ours.get(base.code, ()):
            plans[code] = destination
            if destination in groups:
                continue
            entries = groups[destination] = []
            for topup in sorted(fitting, key=lambda t: (t.data_bytes or 0, t.days, t.code)):
                assert topup.data_bytes is not None  # filtered above
                mine = f"{destination.upper()}-TOPUP-{_size(topup.data_bytes)}-{topup.days}D"
                if any(e["code"] == mine for e in entries):
                    mine = f"{mine}-{topup.code}"
                price = pricing.retail_kzt(
                    topup.wholesale_price, topup.price_scale, topup.currency, rate,
                    destination, mine,
                )
                entries.append({"code": mine, "provider_code": topup.code,
                                "data_mb": topup.data_bytes // MB, "days": topup.days,
                                "price_kzt": price})
    return {"version": 1, "generated_at": catalog["generated_at"], "source": catalog["source"],
            "plans": plans, "topups": groups}


def _index(catalog: dict[str, Any] | None) -> tuple[dict[str, int], set[str]]:
    if not catalog:
        return {}, set()
    prices = {p["code"]: p["price_kzt"] for d in catalog["destinations"] for p in d["packages"]}
    return prices, {d["code"] for d in catalog["destinations"]}


def compare(old: dict[str, Any] | None, new: dict[str, Any], summary: Summary) -> None:
    old_prices, old_places = _index(old)
    new_prices, new_places = _index(new)
    summary.added = sorted(new_prices.keys() - old_prices.keys())
    summary.removed = sorted(old_prices.keys() - new_prices.keys())
    summary.repriced = sorted(
        (code, old_prices[code], new_prices[code])
        for code in old_prices.keys() & new_prices.keys()
        if old_prices[code] != new_prices[code]
    )
    summary.lost_destinations = sorted(old_places - new_places)
    summary.destinations = len(new_places)
    summary.packages = len(new_prices)


async def sync(
    provider: Provider,
    pricing: Pricing,
    places: dict[str, Any],
    output: Path,
    *,
    force: bool = False,
    say: Say = print,
    progress: bool = True,
) -> Summary:
    """Fetch, price, check and write the catalogue; raise SyncRefused and write nothing if unsafe."""
    rate, rate_source = exchange_rate(pricing, say)
    summary = Summary(rate=rate, rate_source=rate_source)
    say(f"fetching package/list from {provider.name} …")
    packages = await provider.list_packages()
    topup_packages = await provider.list_topups()
    bar = tqdm(packages, desc="pricing", unit=" packages", disable=not progress, leave=False)
    catalog = build_catalog(bar, pricing, places, rate, provider.name, summary.skipped)
    topups = build_topups(packages, topup_packages, catalog, pricing, rate)
    try:
        validate(catalog, "the synced catalogue")
    except CatalogueError as error:
        raise SyncRefused(f"{error}; nothing written") from None
    try:
        old: dict[str, Any] | None = json.loads(output.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        old = None
    compare(old, catalog, summary)
    before = len(_index(old)[1])
    lost_share = len(summary.lost_destinations) / before if before else 0.0
    if lost_share > pricing.max_lost_destinations_share and not force:
        raise SyncRefused(
            f"{len(summary.lost_destinations)} of {before} destinations would disappear "
            f"({lost_share:.0%} > max_lost_destinations_share "
            f"{pricing.max_lost_destinations_share:.0%}): "
            f"{', '.join(summary.lost_destinations[:20])}; nothing written. "
            "If the aggregator really dropped them, run again with --force."
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(catalog, ensure_ascii=False, indent=1) + "\n"
    replace_atomically(output, text.encode(), mode=0o644)  # the site build and the worker read it
    summary.topups = _write_topups(output, topups)
    summary.written = True
    return summary


def _write_topups(catalog_path: Path, topups: dict[str, Any]) -> int:
    """Beside the catalogue, where the worker looks for it; compact: it is read, not edited."""
    extra = json.dumps(topups, ensure_ascii=False, separators=(",", ":")) + "\n"
    replace_atomically(catalog_path.with_name(TOPUPS_FILE), extra.encode(), mode=0o644)
    return sum(len(entries) for entries in topups["topups"].values())


async def write_topups(provider: Provider, pricing: Pricing, catalog_path: Path) -> int:
    """Only topups.json, beside a catalogue kept as it is, for `make demo` (scripts/stack.py):
    its site is built from the shipped catalogue, so the prices of that file must stay. Priced
    at pricing.json's usd_kzt: the demo asks no one outside the machine. Returns the top-ups."""
    catalog = json.loads(catalog_path.read_text(encoding="utf-8"))
    packages = await provider.list_packages()
    topups = build_topups(packages, await provider.list_topups(), catalog, pricing, pricing.usd_kzt)
    return _write_topups(catalog_path, topups)


def main(argv: list[str] | None = None) -> int:
    """The command line of `invoke sync-catalog`; the exit status says whether it wrote."""
    parser = argparse.ArgumentParser(prog="invoke sync-catalog", description=__doc__)
    parser.add_argument("--force", action="store_true", help="write even if destinations vanish")
    parser.add_argument("--output", type=Path, help="where to write (default: CATALOG_PATH)")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        pricing = load_pricing()
        places = load_destinations()
    except (SettingError, PricingError) as error:
        print(f"sync-catalog: {error}", file=sys.stderr)
        return 2
    output: Path = args.output or settings.catalog_path

    async def run() -> int:
        started = time.perf_counter()
        provider = open_provider(settings)
        try:
            summary = await sync(provider, pricing, places, output, force=args.force)
        except (SyncRefused, ProviderError) as error:
            print(f"sync-catalog: {error}", file=sys.stderr)
            return 1
        finally:
            await provider.aclose()
        for line in summary.lines():
            print(line)
        print(
            f"wrote {output} in {time.perf_counter() - started:.1f} s; now rebuild the site "
            "(invoke build) so that the pages show these prices"
        )
        return 0

    # Everything after the requests runs inside the coroutine: on Python 3.11 the tracer loses
    # the lines of asyncio.run's caller once httpx has connected (coveragepy issue 1911).
    return asyncio.run(run())


if __name__ == "__main__":
    raise SystemExit(main())

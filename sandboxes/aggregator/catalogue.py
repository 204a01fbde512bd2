"""A seeded, realistic eSIM Access catalogue: countries, regions, day passes and top-ups.

Units as the real one (spec §5, §8): prices in 1/10000 USD, volume in bytes, duration in days.
The same seed always gives the same catalogue, codes and prices included.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from .geography import FIVE_G, OPERATORS, REGIONS, countries, global_members, operators

GB = 1024**3
MB = 1024**2
FIXED_PLANS = [(1, 7), (3, 15), (5, 30), (10, 30), (20, 30)]  # (GB, days), every destination
MAJOR_EXTRA_PLANS = [(3, 30), (2, 15), (50, 30)]
TOPUP_SIZES = {1, 3, 5, 10}
# (volume per day, dataType, fupPolicy, label) for day passes, ordered with periodNum 1..365.
DAY_PASSES = [(500 * MB, 3, "", "500MB/Day"), (1 * GB, 2, "384 Kbps", "1GB/Day")]
# Daily plans with a fair-use throttle after the daily volume: "unlimited" on shop pages.
UNLIMITED_DAILY = (2 * GB, 2, "1 Mbps", "2GB/Day")


@dataclass
class Catalogue:
    packages: list[dict[str, Any]]
    locations: list[dict[str, Any]]
    by_code: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for package in self.packages:
            self.by_code[package["packageCode"]] = package
            self.by_code.setdefault(package["slug"], package)

    def find(self, code_or_slug: str) -> dict[str, Any] | None:
        return self.by_code.get(code_or_slug)

    def select(self, query: dict[str, Any], topups_for: str | None = None) -> list[dict[str, Any]]:
        """package/list filters (spec §5); unused filters arrive as ""."""
        wanted_type = str(query.get("type") or "BASE").upper()
        location = str(query.get("locationCode") or "")
        code = str(query.get("packageCode") or "")
        slug = str(query.get("slug") or "")
        data_type = str(query.get("dataType") or "")
        chosen = []
        for package in self.packages:
            is_topup = package["packageCode"].startswith("TOPUP_")
            if is_topup != (wanted_type == "TOPUP"):
                continue
            if topups_for is not None and package["locationCode"] != topups_for:
                continue
            if location == "!RG" and not _is_region(package):
                continue
            if location == "!GL" and not package["locationCode"].startswith("GL-"):
                continue
            if location and not location.startswith("!") and package["locationCode"] != location:
                continue
            if code and code not in (package["packageCode"], package["slug"]):
                continue
            if slug and package["slug"] != slug:
                continue
            if data_type == "1" and package["dataType"] != 1:
                continue
            if data_type == "2" and package["dataType"] == 1:
                continue
            chosen.append(package)
        return chosen


def _is_region(package: dict[str, Any]) -> bool:
    return "-" in package["locationCode"] and not package["locationCode"].startswith("GL-")


def _network(code: str, name: str) -> dict[str, Any]:
    network = "5G" if code in FIVE_G else "4G"
    return {
        "locationName": name,
        "locationLogo": f"/img/flags/{code.lower()}.png",
        "locationCode": code,
        "operatorList": [
            {"operatorName": operator, "networkType": network if i == 0 else "4G"}
            for i, operator in enumerate(operators(code))
        ],
    }


class _Builder:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.codes: set[str] = set()
        self.packages: list[dict[str, Any]] = []

    def code(self) -> str:
        while True:
            letters = "".join(self.rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(3))
            code = f"{letters}{self.rng.randrange(1000):03d}"
            if code not in self.codes:
                self.codes.add(code)
                return code

    def add(
        self,
        location_code: str,
        title: str,
        members: dict[str, str],
        per_gb: float,
        ip_export: str,
        *,
        volume: int,
        days: int,
        data_type: int,
        fup: str,
        label: str,
        slug: str,
        topup: int,
    ) -> dict[str, Any]:
        gigabytes = volume / GB
        if data_type == 1:
            dollars = per_gb * gigabytes**0.8 * (1 + days / 60)
        else:  # day pass: the price is per day (spec §13.4, our reading)
            dollars = per_gb * max(gigabytes, 0.5) * 0.9
        price = max(round(dollars * 100) * 100, 5000)
        code = self.code()
        speed = "4G/5G" if any(c in FIVE_G for c in members) else "3G/4G"
        package = {
            "packageCode": code,
            "slug": slug,
            "name": f"{title} {label}",
            "price": price,
            "currencyCode": "USD",
            "volume": volume,
            "smsStatus": 1 if location_code in ("US", "GB", "CA") else 0,
            "dataType": data_type,
            "unusedValidTime": 180,
            "duration": days,
            "durationUnit": "DAY",
            "location": ",".join(members),
            "locationCode": location_code,
            "description": f"{title} {label}",
            "activeType": 2 if self.rng.random() < 0.15 else 1,
            "favorite": location_code in OPERATORS and gigabytes == 3,
            "retailPrice": round(price * self.rng.uniform(1.8, 2.2) / 100) * 100,
            "speed": speed,
            "ipExport": ip_export,
            "supportTopUpType": topup,
            "fupPolicy": fup,
            "locationNetworkList": [_network(c, n) for c, n in members.items()],
        }
        self.packages.append(package)
        return package

    def destination(
        self,
        location_code: str,
        title: str,
        members: dict[str, str],
        per_gb: float,
        major: bool,
        ip_export: str,
    ) -> None:
        plans = FIXED_PLANS + (MAJOR_EXTRA_PLANS if major else [])
        for gigabytes, days in plans:
            base = self.add(
                location_code,
                title,
                members,
                per_gb,
                ip_export,
                volume=gigabytes * GB,
                days=days,
                data_type=1,
                fup="",
                label=f"{gigabytes}GB {days}Days",
                slug=f"{location_code}_{gigabytes}_{days}",
                # The 50 GB plans take no top-ups: a plan to refuse with 200002 (spec §11.5).
                topup=1 if gigabytes >= 50 else 2,
            )
            if gigabytes in TOPUP_SIZES and (gigabytes, days) in FIXED_PLANS:
                topup = dict(
                    base,
                    packageCode=f"TOPUP_{base['packageCode']}",
                    slug=f"TOPUP_{base['slug']}",
                    name=f"{base['name']} Top-up",
                    favorite=False,
                )
                self.packages.append(topup)
        for volume, data_type, fup, label in DAY_PASSES + ([UNLIMITED_DAILY] if major else []):
            self.add(
                location_code,
                title,
                members,
                per_gb,
                ip_export,
                volume=volume,
                days=1,
                data_type=data_type,
                fup=fup,
                label=label,
                slug=f"{location_code}_{label.split('/')[0]}_Daily",
                topup=3,
            )


def _per_gb(code: str, rng: random.Random) -> float:
    """Wholesale dollars per GB: cheap where roaming deals are good, dear where they are not."""
    if code in REGIONS["EU"][1] or code in ("TR", "US", "CA", "AU", "NZ", "TH", "SG", "MY"):
        base = 0.8
    elif code in REGIONS["AS"][1] or code in REGIONS["CAS"][1] or code in REGIONS["ME"][1]:
        base = 1.4
    elif code in REGIONS["CB"][1] or code in REGIONS["AF"][1] or code in REGIONS["SA"][1]:
        base = 3.5
    else:
        base = 2.4
    return base * rng.uniform(0.85, 1.25)


def _ip_export(code: str) -> str:
    if code in OPERATORS:
        return code
    if code in REGIONS["EU"][1]:
        return "NL/FR"
    if code in REGIONS["AS"][1]:
        return "HK/SG"
    return "UK/NO"


def build(seed: int) -> Catalogue:
    """Every country, the regions, the global plan, day passes and top-ups."""
    builder = _Builder(seed)
    names = countries()
    locations: list[dict[str, Any]] = []
    for code, name in names.items():
        builder.destination(
            code,
            name,
            {code: name},
            _per_gb(code, builder.rng),
            major=code in OPERATORS,
            ip_export=_ip_export(code),
        )
        locations.append({"code": code, "name": name, "type": 1, "subLocationList": None})
    regions = {
        area: (title, [c for c in members if c in names])
        for area, (title, members) in REGIONS.items()
    }
    regions["GL"] = ("Global", global_members(names))
    for area, (title, members) in regions.items():
        location_code = f"{area}-{len(members)}"
        covered = {c: names[c] for c in members}
        label = f"{title} ({len(members)} areas)"
        builder.destination(
            location_code,
            label,
            covered,
            1.6 if area != "GL" else 3.0,
            major=area in ("EU", "AS", "GL"),
            ip_export="UK/NL",
        )
        locations.append(
            {
                "code": location_code,
                "name": label,
                "type": 2,
                "subLocationList": [{"code": c, "name": n} for c, n in covered.items()],
            }
        )
    return Catalogue(builder.packages, locations)

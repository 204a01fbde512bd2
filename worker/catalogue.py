"""The catalogue the site was built from: what the worker sells, and at which price.

The file is checked with the same schema as the site build (plugins/catalogue/schema.py)
at start-up, and re-read when it changes on disk (`invoke sync-catalog` + rebuild), so the
worker never sells at a price other than the built site's.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel import Locale

from plugins.catalogue.localize import volume
from plugins.catalogue.schema import CatalogueError, load_catalogue
from worker.locales import gettext, ngettext
from worker.orders.model import Lang

log = logging.getLogger("worker.catalogue")

__all__ = ["Catalogue", "CatalogueError", "Package"]


@dataclass(frozen=True)
class Package:
    code: str
    provider: str
    provider_code: str
    destination: str  # the destination's code: ISO alpha-2 or a region slug
    destination_names: dict[str, str] | None  # regions only; countries are named by CLDR
    data_mb: int | None  # None: unlimited (fair use)
    days: int
    price_kzt: int
    provider_period: int | None = None  # day passes: the aggregator's periodNum (days)

    def title(self, lang: Lang) -> str:
        """What the buyer bought, in their language: "Turkey 10 GB, 30 days"."""
        if self.destination_names is not None:
            place = self.destination_names[lang]
        else:
            place = Locale(lang).territories.get(self.destination, self.destination)
        data = gettext("unlimited", lang) if self.data_mb is None else volume(self.data_mb, lang)
        days = ngettext("%(num)d day", "%(num)d days", self.days, lang) % {"num": self.days}
        return gettext("%(place)s %(data)s, %(days)s", lang) % {
            "place": place, "data": data, "days": days
        }


class Catalogue:
    """Packages by code, from catalog.json; ``package()`` re-reads the file after it changed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._mtime_ns = -1
        self._packages: dict[str, Package] = {}

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Catalogue:
        """Read and check the catalogue; CatalogueError names the bad entry and field."""
        catalog = cls(Path(path))
        catalog._reload(strict=True)
        return catalog

    def package(self, code: str) -> Package | None:
        self._reload(strict=False)
        return self._packages.get(code)

    def _reload(self, strict: bool) -> None:
        try:
            mtime_ns = os.stat(self.path).st_mtime_ns
        except FileNotFoundError:
            if strict:
                raise CatalogueError(f"{self.path}: no such file; set CATALOG_PATH or run `invoke sync-catalog`") from None
            return
        if mtime_ns == self._mtime_ns:
            return
        try:
            data = load_catalogue(self.path)
        except CatalogueError:
            if strict:
                raise
            # Keep selling from the last good catalogue rather than stopping the shop.
            log.error("catalog: %s changed but is invalid; still using the previous one", self.path)
            self._mtime_ns = mtime_ns
            return
        self._packages = _packages(data)
        self._mtime_ns = mtime_ns


def _packages(data: dict[str, Any]) -> dict[str, Package]:
    packages: dict[str, Package] = {}
    for destination in data["destinations"]:
        for p in destination["packages"]:
            packages[p["code"]] = Package(
                code=p["code"],
                provider=p["provider"],
                provider_code=p["provider_code"],
                destination=destination["code"],
                destination_names=destination["names"] if destination["type"] == "region" else None,
                data_mb=p["data_mb"],
                days=p["days"],
                price_kzt=p["price_kzt"],
                provider_period=p.get("provider_period"),
            )
    return packages

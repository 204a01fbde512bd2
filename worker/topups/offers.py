"""Which top-ups fit an eSIM, and at which price: `topups.json` beside the catalogue.

`invoke sync-catalog` writes it with the catalogue (worker/provisioning/catalogue_sync.py):
the base plans that take top-ups, each pointing at the top-up packages of its location,
priced by the same rules and overrides as the catalogue (content/data/pricing.json). A shop
without the file sells no top-ups, and the order page says so.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from plugins.catalogue.localize import volume
from worker.locales import gettext, ngettext
from worker.orders.model import Lang, Order

log = logging.getLogger("worker.topups")

FILE_NAME = "topups.json"


@dataclass(frozen=True)
class TopUpOffer:
    code: str  # ours, e.g. TR-TOPUP-1GB-7D
    provider_code: str  # the aggregator's TOPUP_… package
    data_mb: int
    days: int
    price_kzt: int

    def title(self, lang: Lang) -> str:
        """What the top-up adds, in the buyer's language: "Top-up: +1 GB, 7 days"."""
        days = ngettext("%(num)d day", "%(num)d days", self.days, lang) % {"num": self.days}
        return gettext("Top-up: +%(data)s, %(days)s", lang) % {
            "data": volume(self.data_mb, lang), "days": days
        }

    def as_json(self, lang: Lang) -> dict[str, Any]:
        return {
            "package": self.code,
            "title": self.title(lang),
            "data_mb": self.data_mb,
            "days": self.days,
            "price_kzt": self.price_kzt,
        }


class TopUpOffers:
    """The offers by base package; re-read when the file changes on disk, like the catalogue."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._mtime_ns = -1
        self._by_plan: dict[str, list[TopUpOffer]] = {}

    def for_package(self, package_code: str) -> list[TopUpOffer]:
        self._reload()
        return list(self._by_plan.get(package_code, ()))

    def find(self, package_code: str, code: str) -> TopUpOffer | None:
        return next((o for o in self.for_package(package_code) if o.code == code), None)

    def _reload(self) -> None:
        try:
            mtime_ns = os.stat(self.path).st_mtime_ns
        except FileNotFoundError:
            self._by_plan, self._mtime_ns = {}, -1
            return
        if mtime_ns == self._mtime_ns:
            return
        self._mtime_ns = mtime_ns
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            groups = {
                name: [TopUpOffer(**entry) for entry in entries]
                for name, entries in data["topups"].items()
            }
            self._by_plan = {plan: groups[name] for plan, name in data["plans"].items()}
        except (ValueError, KeyError, TypeError) as error:
            # Keep selling from the last good file rather than failing the order page.
            log.error("topups: %s is invalid (%r); still using the previous offers", self.path, error)


def refusal(order: Order, now: datetime | None = None) -> str | None:
    """Why this order's eSIM cannot be topped up (a message key of worker/api_errors.py), or None."""
    if order.topup_of is not None:
        return "topup_not_esim"
    if order.status == "refunded" or order.refund is not None:
        return "topup_refunded"
    if order.status != "delivered" or order.profile is None:
        return "topup_not_delivered"
    expires = order.profile.expires_at
    if expires and datetime.fromisoformat(expires) <= (now or datetime.now(UTC)):
        return "topup_expired"
    return None

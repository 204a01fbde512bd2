"""Claims (offer 7.2, 7.3): opened from a thread or an order, answered within 30 calendar days."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from worker.orders.documents import Document
from worker.orders.model import utc_now

ANSWER_DAYS = 30  # offer 7.3
WARN_DAYS = 5  # flagged as nearly overdue this many days before the deadline


@dataclass(frozen=True)
class Claim:
    id: str
    received_on: str  # ISO date the claim reached us
    summary: str
    thread_id: str | None
    order_id: str | None
    status: str  # "open" | "resolved"
    resolution: str
    events: list[dict[str, str]]

    @property
    def deadline(self) -> date:
        return date.fromisoformat(self.received_on) + timedelta(days=ANSWER_DAYS)

    def days_left(self, today: date | None = None) -> int:
        return (self.deadline - (today or datetime.now(UTC).date())).days

    def flag(self, today: date | None = None) -> str | None:
        """"overdue" or "due soon" while open; None otherwise."""
        if self.status != "open":
            return None
        left = self.days_left(today)
        return "overdue" if left < 0 else "due soon" if left <= WARN_DAYS else None


class Claims:
    def __init__(self, doc: Document) -> None:
        self.doc = doc

    def all(self) -> list[Claim]:
        claims = [Claim(**c) for c in self.doc.read().values()]
        return sorted(claims, key=lambda c: (c.status != "open", c.received_on, c.id))

    def get(self, claim_id: str) -> Claim | None:
        found = self.doc.read().get(claim_id)
        return Claim(**found) if found else None

    def open(self, *, summary: str, received_on: date, operator: str, thread_id: str | None,
             order_id: str | None) -> Claim:
        claim_id = secrets.token_hex(4)
        claim: dict[str, Any] = {
            "id": claim_id, "received_on": received_on.isoformat(), "summary": summary[:2000],
            "thread_id": thread_id, "order_id": order_id, "status": "open", "resolution": "",
            "events": [{"at": utc_now(), "event": "opened", "operator": operator}],
        }
        self.doc.change(lambda data: data.__setitem__(claim_id, claim))
        return Claim(**claim)

    def resolve(self, claim_id: str, resolution: str, operator: str) -> None:
        def change(data: dict[str, Any]) -> None:
            claim = data[claim_id]
            claim.update(status="resolved", resolution=resolution[:2000])
            claim["events"].append({"at": utc_now(), "event": "resolved", "operator": operator})

        self.doc.change(change)

"""Buyer verbs against a running worker and the Epay sandbox: check out, pay on the payform."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from order_waits import stored, wait_until

from scripts.payform import VISA, card_form
from worker.orders.model import Order
from worker.services import Services

DECLINED_484 = ("4000000000004848", "01/30", "123")  # the sandbox: "insufficient funds"
FORM = {
    "package": "TR-10GB-30D",
    "email": "buyer@example.kz",
    "phone": "+7 701 234 5678",
    "lang": "ru",
    "device_ok": True,
    "offer_accepted": True,
}


class Shop:
    """The worker and the sandbox as a buyer (and a test) sees them."""

    def __init__(self, worker_url: str, epay_url: str, services: Services) -> None:
        self.worker = httpx.Client(base_url=worker_url, timeout=15)
        self.epay = httpx.Client(base_url=epay_url, timeout=15)
        self.services = services

    def close(self) -> None:
        self.worker.close()
        self.epay.close()

    def checkout(self, **changes: Any) -> dict[str, Any]:
        answer = self.worker.post("/api/checkout", json={**FORM, **changes})
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    def pay(self, payment: dict[str, Any], card: tuple[str, str, str] = VISA) -> httpx.Response:
        """Type the card on the sandbox payform, as a person would after halyk.pay()."""
        return self.epay.post("/payform/", data=card_form(payment, card))

    def sandbox(self, **options: Any) -> None:
        answer = self.epay.post("/_sandbox/options", json=options)
        assert answer.status_code == 200, answer.text

    def transactions(self) -> list[dict[str, Any]]:
        return list(self.epay.get("/_sandbox/transactions").json())

    def deliveries(self) -> list[dict[str, Any]]:
        return list(self.epay.get("/_sandbox/deliveries").json())

    def order(self, order_id: str) -> Order:
        return stored(self.services.store, order_id)

    def view(self, token: str) -> dict[str, Any]:
        answer = self.worker.get(f"/api/orders/{token}")
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def wait_until(
        self, order_id: str, test: Callable[[Order], bool], timeout: float = 10.0
    ) -> Order:
        return wait_until(self.services.store, order_id, test, timeout, interval=0.05)

    def jobs_settle_to(self, order_id: str, kinds: list[str], timeout: float = 10.0) -> None:
        """Wait until the order's pending jobs are exactly ``kinds`` (a job ends in its own write)."""
        deadline = time.monotonic() + timeout
        while [j.kind for j in self.services.store.jobs(order_id)] != kinds:
            if time.monotonic() > deadline:
                found = [j.kind for j in self.services.store.jobs(order_id)]
                raise AssertionError(f"order {order_id}: jobs {found}, expected {kinds}")
            time.sleep(0.02)

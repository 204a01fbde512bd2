"""Buyer verbs against a running worker and the Epay sandbox: check out, pay on the payform."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from worker.orders.model import Order
from worker.services import Services

ROOT = Path(__file__).resolve().parents[3]
LZ_STRING = ROOT / "node_modules" / "lz-string"
VISA = ("4405639704015096", "01/27", "321")
DECLINED_484 = ("4000000000004848", "01/30", "123")  # the sandbox: "insufficient funds"
FORM = {
    "package": "TR-10GB-30D",
    "email": "buyer@example.kz",
    "phone": "+7 701 234 5678",
    "lang": "ru",
    "device_ok": True,
    "offer_accepted": True,
}


def lz_compress(text: str) -> str:
    """Compress as payment-api.js does, with the npm lz-string it ships."""
    script = (
        "const L=require(process.argv[1]);let s='';process.stdin.on('data',d=>s+=d);"
        "process.stdin.on('end',()=>process.stdout.write(L.compressToEncodedURIComponent(s)))"
    )
    done = subprocess.run(
        ["node", "-e", script, str(LZ_STRING)], input=text, text=True, capture_output=True, check=True
    )
    return done.stdout


def flatten(obj: dict[str, Any]) -> str:
    """payment-api.js's serialisation: key=encodeURIComponent(value), nested objects flattened."""
    parts = []
    for key, value in obj.items():
        if value is None:
            continue
        if isinstance(value, dict):
            value = flatten(value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        parts.append(f"{key}={quote(str(value), safe='~()*!.' + chr(39))}")
    return "&".join(parts)


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
        form = {
            "params": lz_compress(flatten(payment)),
            "pan": card[0],
            "expiry": card[1],
            "cvc": card[2],
            "name": "AIGERIM SARSENOVA",
        }
        return self.epay.post("/payform/", data=form)

    def sandbox(self, **options: Any) -> None:
        answer = self.epay.post("/_sandbox/options", json=options)
        assert answer.status_code == 200, answer.text

    def transactions(self) -> list[dict[str, Any]]:
        return list(self.epay.get("/_sandbox/transactions").json())

    def deliveries(self) -> list[dict[str, Any]]:
        return list(self.epay.get("/_sandbox/deliveries").json())

    def order(self, order_id: str) -> Order:
        order = self.services.store.get(order_id)
        assert order is not None
        return order

    def view(self, token: str) -> dict[str, Any]:
        answer = self.worker.get(f"/api/orders/{token}")
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def wait_until(
        self, order_id: str, test: Callable[[Order], bool], timeout: float = 10.0
    ) -> Order:
        deadline = time.monotonic() + timeout
        while True:
            order = self.order(order_id)
            if test(order):
                return order
            if time.monotonic() > deadline:
                raise AssertionError(f"order {order_id} stuck: {order.status}, {order.timeline}")
            time.sleep(0.05)

    def jobs_settle_to(self, order_id: str, kinds: list[str], timeout: float = 10.0) -> None:
        """Wait until the order's pending jobs are exactly ``kinds`` (a job ends in its own write)."""
        deadline = time.monotonic() + timeout
        while [j.kind for j in self.services.store.jobs(order_id)] != kinds:
            if time.monotonic() > deadline:
                found = [j.kind for j in self.services.store.jobs(order_id)]
                raise AssertionError(f"order {order_id}: jobs {found}, expected {kinds}")
            time.sleep(0.02)

"""The top-up tests' world: a worker on loopback wired to the Epay and aggregator sandboxes and a
real mailbox, a delivered eSIM bought from the aggregator sandbox, and the buyer's verbs."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from order_waits import stored, wait_until
from smtp_mailbox import Mailbox

from scripts.payform import VISA, card_form
from worker.config import Settings
from worker.orders.model import Order, Payment, Profile, utc_now
from worker.orders.store import OrderStore
from worker.provisioning.esimaccess import EsimAccess
from worker.services import Services

GB = 1024**3
ESIM_PLAN = "TR_10_30"  # the sandbox's Turkish 10 GB, 30 days (slugs do not depend on the seed)
ONE_GB = {"code": "TR-TOPUP-1GB-7D", "provider_code": "TOPUP_TR_1_7", "data_mb": 1024,
          "days": 7, "price_kzt": 990}
THREE_GB = {"code": "TR-TOPUP-3GB-15D", "provider_code": "TOPUP_TR_3_15", "data_mb": 3072,
            "days": 15, "price_kzt": 1990}


def write_offers(catalog_path: Path, *offers: dict[str, Any]) -> None:
    """topups.json beside the catalogue: TR-10GB-30D takes these top-ups."""
    data = {"version": 1, "generated_at": "2026-12-06T10:00:00Z", "source": "esimaccess",
            "plans": {"TR-10GB-30D": "TR"}, "topups": {"TR": list(offers or (ONE_GB, THREE_GB))}}
    catalog_path.with_name("topups.json").write_text(json.dumps(data), encoding="utf-8")


def store_orders(path: Path, *orders: Order, enqueue: tuple[str, ...] = ()) -> None:
    """Write orders with their jobs from this thread (the worker's own store serves its loop)."""

    async def write() -> None:
        store = OrderStore.open(path)
        try:
            for order in orders:
                await store.create(order)
                if enqueue:
                    await store.update(order.id, lambda o: None, enqueue=enqueue)
        finally:
            store.close()

    asyncio.run(write())


async def buy_esim(settings: Settings, order_id: str) -> Profile:
    """A Turkish 10 GB eSIM bought from the aggregator sandbox, as provisioning leaves it."""
    provider = EsimAccess(settings.esimaccess_url, settings.esimaccess_access_code,
                          str(settings.esimaccess_secret_key))
    try:
        placed = await provider.order(order_id, ESIM_PLAN, since=utc_now())
        async with httpx.AsyncClient(base_url=settings.esimaccess_url) as control:
            (await control.post("/_sandbox/orders/allocate")).raise_for_status()
        found = await provider.query(placed.order_no)
        assert found is not None
    finally:
        await provider.aclose()
    return Profile(esim_tran_no=found.provider_id, iccid=found.iccid, lpa=found.lpa,
                   smdp_address=found.smdp_address, activation_code=found.matching_id,
                   provider_order_no=found.order_no, expires_at=found.expires_at,
                   total_bytes=found.total_bytes, used_bytes=0)


async def new_esim(settings: Settings, lang: str = "ru", expires_at: str | None = None,
                   **changes: Any) -> Order:
    """A delivered, mailed eSIM order (TR-10GB-30D), not stored yet."""
    order_id = str(1_000_000_000 + secrets.randbelow(8_999_999_999))
    order = Order(
        id=order_id, token=secrets.token_urlsafe(32), status="delivered", lang=lang,  # type: ignore[arg-type]
        email=f"buyer-{order_id}@example.kz", phone="+77011234567", package_code="TR-10GB-30D",
        destination="TR", package_title="Turkey 10 GB, 30 days", amount=4990,
        payment=Payment(transaction_id=f"epay-{order_id}"), email_sent_at=utc_now(),
    )
    order.profile = await buy_esim(settings, order_id)
    if expires_at is not None:
        order.profile.expires_at = expires_at
    for name, value in changes.items():
        setattr(order, name, value)
    return order


def delivered_order(settings: Settings, **changes: Any) -> Order:
    """new_esim, stored (from a thread without an event loop)."""
    order = asyncio.run(new_esim(settings, **changes))
    store_orders(settings.orders_db, order)
    return order


class World:
    def __init__(self, url: str, settings: Settings, services: Services, mailbox: Mailbox) -> None:
        self.settings = settings
        self.services = services
        self.mailbox = mailbox
        self.worker = httpx.Client(base_url=url, timeout=15)
        self.epay = httpx.Client(base_url=settings.epay_api_url, timeout=15)
        self.aggregator = httpx.Client(base_url=settings.esimaccess_url, timeout=15)

    def close(self) -> None:
        for client in (self.worker, self.epay, self.aggregator):
            client.close()

    def esim(self, **changes: Any) -> Order:
        return delivered_order(self.settings, **changes)

    def offers(self, order: Order, lang: str | None = None) -> dict[str, Any]:
        answer = self.worker.get(f"/api/orders/{order.token}/topups",
                                 params={"lang": lang} if lang else None)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def buy(self, order: Order, **body: Any) -> httpx.Response:
        return self.worker.post(f"/api/orders/{order.token}/topups",
                                json={"package": ONE_GB["code"], "lang": order.lang, **body})

    def pay(self, payment: dict[str, Any], card: tuple[str, str, str] = VISA) -> httpx.Response:
        return self.epay.post("/payform/", data=card_form(payment, card))

    def view(self, order: Order) -> dict[str, Any]:
        answer = self.worker.get(f"/api/orders/{order.token}")
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def order(self, order_id: str) -> Order:
        return stored(self.services.store, order_id)

    def wait_until(self, order_id: str, test: Callable[[Order], bool],
                   timeout: float = 15.0) -> Order:
        return wait_until(self.services.store, order_id, test, timeout, interval=0.02)

    def profile(self, esim_tran_no: str) -> dict[str, Any]:
        profiles = self.aggregator.get("/_sandbox/profiles").json()["profiles"]
        [found] = [p for p in profiles if p["esimTranNo"] == esim_tran_no]
        return dict(found)

    def balance(self) -> int:
        return int(self.aggregator.get("/_sandbox/state").json()["balance"])

    def wait_for_jobs_to_end(self, order_id: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while self.services.store.jobs(order_id):
            assert time.monotonic() < deadline, self.services.store.jobs(order_id)
            time.sleep(0.02)

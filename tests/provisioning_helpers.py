"""The provisioning tests' verbs: the aggregator sandbox's control API, paid orders, a worker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from loopback import ServerThread
from order_waits import stored, wait_until

from worker.mail.send_email import send_email
from worker.orders.model import Lang, Order, Payment
from worker.orders.store import OrderStore
from worker.provisioning.provision import provision
from worker.services import Services

ACCESS_CODE = "demoAccessCode"
SECRET_KEY = "demoSecretKey"
PROVISIONING_JOBS = {"provision": provision, "send_email": send_email}
# eSIM Access takes a slug wherever it takes a packageCode (spec §5); the sandbox's seeded
# catalogue has these, whatever codes the seed drew.
TURKEY_SLUG = "TR_10_30"
TURKEY_DAY_PASS = "TR_1GB_Daily"  # 1 GB a day at full speed, then 384 kbps; periodNum days


class Aggregator:
    """The sandbox's control API (/_sandbox/), as the tests use it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=10)

    def config(self, **switches: Any) -> None:
        answer = self.http.post("/_sandbox/config", json=switches)
        assert answer.status_code == 200, answer.text

    def fault(self, **rule: Any) -> None:
        answer = self.http.post("/_sandbox/faults", json=rule)
        assert answer.status_code == 200, answer.text

    def count(self, transaction_id: str) -> dict[str, int]:
        answer = self.http.get("/_sandbox/orders/count", params={"transactionId": transaction_id})
        return dict(answer.json())

    def allocate_now(self) -> None:
        assert self.http.post("/_sandbox/orders/allocate").status_code == 200

    def profiles(self) -> list[dict[str, Any]]:
        return list(self.http.get("/_sandbox/profiles").json()["profiles"])


def paid_order(order_id: str = "100000123", lang: Lang = "ru", **changes: Any) -> Order:
    order = Order(
        id=order_id,
        token=f"token-{order_id}-" + "q" * 32,
        status="paid",
        lang=lang,
        email=f"buyer-{order_id}@example.kz",
        phone="+77011234567",
        package_code="TR-10GB-30D",
        destination="TR",
        package_title="Turkey 10 GB, 30 days",
        amount=4990,
        payment=Payment(
            transaction_id=f"epay-{order_id}", reference="512345678901", card_mask="440563...5096"
        ),
    )
    for name, value in changes.items():
        setattr(order, name, value)
    return order


def store_paid(path: Path, *orders: Order) -> None:
    """Write paid orders with their `provision` job, as the payment path leaves them."""

    async def write() -> None:
        store = OrderStore.open(path)
        try:
            for order in orders:
                await store.create(order)
                await store.update(order.id, lambda o: o.log("paid"), enqueue=("provision",))
        finally:
            store.close()

    asyncio.run(write())


class Worker:
    """A worker on a free port (in this process) and what a test reads from it."""

    def __init__(self, server: ServerThread) -> None:
        self.server = server
        self.url = server.url
        self.http = httpx.Client(base_url=server.url, timeout=10)
        self.services: Services = server.app.state.services

    def order(self, order_id: str) -> Order:
        return stored(self.services.store, order_id)

    def wait_until(
        self, order_id: str, test: Callable[[Order], bool], timeout: float = 15.0
    ) -> Order:
        return wait_until(self.services.store, order_id, test, timeout)

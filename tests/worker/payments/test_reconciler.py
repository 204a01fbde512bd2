"""The reconciler: orders Epay never heard of are given up after the payment window, asked on
a backing-off schedule within a budget, not polled forever."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from worker.config import Settings
from worker.orders.model import Order
from worker.orders.store import OrderStore
from worker.payments.reconciler import reconcile_once
from worker.services import Services


def waiting(n: int, age: timedelta) -> Order:
    return Order(
        id=str(3_000_000_000 + n), token=f"reconcile-{n}-" + "x" * 32, status="awaiting_payment",
        lang="en", email="buyer@example.kz", phone="+77012345678", package_code="TR-10GB-30D",
        destination="TR", package_title="Türkiye 10 GB, 30 days", amount=4990,
        secret_hash="s" * 32, created_at=(datetime.now(UTC) - age).isoformat(),
    )


def test_unknown_orders_are_abandoned_after_the_payment_window_and_younger_ones_kept(
    settings: Settings, epay_sandbox: str
) -> None:
    wired = replace(settings, epay_oauth_url=f"{epay_sandbox}/oauth2/token", epay_api_url=epay_sandbox)

    async def scenario() -> tuple[dict[str, int], dict[str, int]]:
        services = Services.open(wired)
        try:
            await services.store.create(waiting(1, timedelta(hours=4)))
            await services.store.create(waiting(2, timedelta(hours=1)))
            first = await reconcile_once(services)
            second = await reconcile_once(services)
            return first, second
        finally:
            await services.aclose()

    first, second = asyncio.run(scenario())

    assert first == {"paid": 0, "failed": 0, "pending": 1, "abandoned": 1, "error": 0}
    # Asked a moment ago at the age of an hour: the next ask is at two hours.
    assert second == {"paid": 0, "failed": 0, "pending": 0, "abandoned": 0, "error": 0}
    store = OrderStore.open(settings.orders_db)
    old, young = store.get("3000000001"), store.get("3000000002")
    assert old is not None and young is not None
    assert (old.status, young.status) == ("awaiting_payment", "awaiting_payment")
    assert old.abandoned_at is not None and young.abandoned_at is None
    assert [o.id for o in store.live_orders()] == ["3000000002"]


def test_an_unreachable_epay_is_counted_and_changes_nothing(settings: Settings) -> None:
    async def scenario() -> dict[str, int]:
        services = Services.open(settings)  # EPAY_* point at a closed port
        try:
            await services.store.create(waiting(1, timedelta(hours=30)))
            return await reconcile_once(services)
        finally:
            await services.aclose()

    assert asyncio.run(scenario())["error"] == 1
    order = OrderStore.open(settings.orders_db).get("3000000001")
    assert order is not None and order.abandoned_at is None


def test_a_pass_asks_at_most_its_budget_youngest_first(settings: Settings) -> None:
    async def scenario() -> tuple[dict[str, int], list[str]]:
        services = Services.open(settings)  # Epay unreachable: every order asked is an error
        try:
            for n, minutes in enumerate((5, 50, 150), start=1):
                await services.store.create(waiting(n, timedelta(minutes=minutes)))
            counts = await reconcile_once(services, budget=2)
            asked = sorted(services.status_asks)

            def declined(o: Order) -> None:  # settled meanwhile, by a callback
                o.status = "payment_failed"

            await services.store.update("3000000001", declined)
            await reconcile_once(services, budget=0)
            assert "3000000001" not in services.status_asks  # forgotten once settled
            return counts, asked
        finally:
            await services.aclose()

    counts, asked = asyncio.run(scenario())

    assert counts["error"] == 2
    assert asked == ["3000000001", "3000000002"]

"""Issue 14: a store that cannot be written. The job runner backs off instead of spinning,
and one failing write does not fail the others of its group commit (the HTTP side:
tests/worker/payments/test_store_unwritable.py)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import pytest
from starlette.testclient import TestClient
from store_faults import archive, journal, unwritable

from worker.app import create_app
from worker.config import Settings
from worker.orders.model import Order
from worker.orders.store import OrderStore


def order(n: int, status: str = "awaiting_payment") -> Order:
    return Order(id=str(3_000_000_000 + n), token=f"fault-{n}-" + "t" * 40, status=status,
                 lang="en", email="a@b.kz", phone=None, package_code="P", destination="TR",
                 package_title="T", amount=100)


def test_a_job_whose_outcome_cannot_be_stored_is_held_back_not_rerun_at_once(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[float] = []
    gate = threading.Event()  # the job runs, then the store breaks, then the job ends

    async def note(o: Order, services: Any) -> None:
        ran.append(time.monotonic())
        while not gate.is_set():
            await asyncio.sleep(0.01)

    with TestClient(create_app(settings, handlers={"note": note})) as client, \
            caplog.at_level(logging.WARNING, logger="worker"):
        store = client.app.state.services.store  # type: ignore[attr-defined]
        client.portal.call(store.create, order(1))  # type: ignore[union-attr]
        client.portal.call(store.enqueue, "3000000001", "note")  # type: ignore[union-attr]
        with unwritable(journal(settings.orders_db)):
            gate.set()
            time.sleep(2.5)
            failing = len(ran)
            lines = len(caplog.records)
        deadline = time.monotonic() + 10
        while store.jobs() and time.monotonic() < deadline:
            time.sleep(0.05)
        recovered = store.jobs()

    # Without the hold the job re-ran thousands of times a second; with it: 1 s, 2 s, 4 s …
    assert failing <= 3, failing
    assert lines <= 6, [r.getMessage() for r in caplog.records]
    assert "the store could not record it" in caplog.text
    assert recovered == []  # once the store is writable again the job is done and gone


def test_one_failing_write_does_not_fail_the_others_of_its_group_commit(
    settings: Settings,
) -> None:
    async def scenario() -> tuple[Any, Any]:
        store = OrderStore.open(settings.orders_db)
        try:
            await store.create(order(1, status="delivered"))
            await store.create(order(2))
            with unwritable(archive(settings.orders_db)):
                def finish(o: Order) -> None:  # a finished order moves to the archive
                    o.email_sent_at = "2026-12-06T10:00:00+00:00"

                return tuple(await asyncio.gather(
                    store.update("3000000001", finish),  # needs the archive: fails
                    store.enqueue("3000000002", "send_email"),  # needs the journal only
                    return_exceptions=True,
                ))
        finally:
            await store.wait_idle()
            store.close()

    finishing, resend = asyncio.run(scenario())

    assert isinstance(finishing, OSError)
    assert resend is None
    assert [j.kind for j in OrderStore.open(settings.orders_db).jobs("3000000002")] == ["send_email"]

"""Kill the worker (a separate process) at each step of a delivery, restart it: one profile
at the aggregator, one e-mail in the mailbox, the order delivered."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from loopback import free_port
from provisioning_helpers import Aggregator, paid_order, store_paid
from smtp_mailbox import Mailbox

from worker.config import Settings
from worker.orders.postgres import PgOrderStore

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]


class WorkerProcess:
    """`uvicorn worker.app:app` configured by environment, as in production."""

    def __init__(self, settings: Settings) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "WORKER_URL": self.url,
            "ORDERS_DB": str(settings.orders_db),
            "CATALOG_PATH": str(settings.catalog_path),
            "ESIMACCESS_URL": settings.esimaccess_url,
            "ESIMACCESS_ACCESS_CODE": settings.esimaccess_access_code,
            "ESIMACCESS_SECRET_KEY": str(settings.esimaccess_secret_key),
            "SMTP_HOST": settings.smtp_host,
            "SMTP_PORT": str(settings.smtp_port),
            "SMTP_SECURITY": settings.smtp_security,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, crash_at: str | None = None) -> None:
        env = dict(self.env)
        env.pop("QAZAQ_CRASH_AT", None)
        if crash_at:
            env["QAZAQ_CRASH_AT"] = crash_at
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "worker.app:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def wait_for_death(self, timeout: float = 30) -> int:
        assert self.process is not None
        return self.process.wait(timeout)

    def view(self, token: str) -> dict[str, Any] | None:
        try:
            answer = httpx.get(f"{self.url}/api/orders/{token}", timeout=5)
        except httpx.TransportError:
            return None  # still starting
        return dict(answer.json()) if answer.status_code == 200 else None

    def wait_for_view(self, token: str, test: Any, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            view = self.view(token)
            if view is not None and test(view):
                return view
            if time.monotonic() > deadline:
                raise AssertionError(f"order page never got there: {view}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@pytest.fixture
def worker_process(wired: Settings) -> Iterator[WorkerProcess]:
    process = WorkerProcess(wired)
    yield process
    process.stop()


def delivered_and_mailed(view: dict[str, Any]) -> bool:
    return view["status"] == "delivered" and view["email_sent"] is True


@pytest.mark.parametrize(
    "crash_at",
    [
        "before_aggregator_order",
        "after_aggregator_order",
        "after_profile_stored",
        "before_email_sent",
        "after_email_sent",
    ],
)
def test_a_crash_at_any_step_resumes_to_one_profile_and_one_email(
    crash_at: str,
    wired: Settings,
    aggregator: Aggregator,
    mailbox: Mailbox,
    worker_process: WorkerProcess,
) -> None:
    order = paid_order()
    store_paid(wired.orders_db, order)

    worker_process.start(crash_at=crash_at)
    assert worker_process.wait_for_death() == 137
    worker_process.start()

    view = worker_process.wait_for_view(order.token, delivered_and_mailed)
    time.sleep(0.5)  # room for a second e-mail, were one on its way
    assert aggregator.count(order.id)["orders"] == 1
    assert aggregator.count(order.id)["profiles"] == 1
    [sold] = aggregator.profiles()
    assert view["esim"]["lpa"] == sold["ac"]
    [mail] = mailbox.messages
    assert mail["To"] == order.email


def test_a_crash_between_smtp_acceptance_and_its_record_resends_the_same_message_id(
    wired: Settings,
    aggregator: Aggregator,
    mailbox: Mailbox,
    worker_process: WorkerProcess,
) -> None:
    """The one window SMTP cannot close: the server took the mail, we died before writing it
    down. The resend carries the same Message-ID, so the buyer's mail provider shows one."""
    order = paid_order()
    store_paid(wired.orders_db, order)

    worker_process.start(crash_at="after_smtp_accepted")
    assert worker_process.wait_for_death() == 137
    worker_process.start()

    worker_process.wait_for_view(order.token, delivered_and_mailed)
    first, second = mailbox.wait_for(2)
    assert first["Message-ID"] == second["Message-ID"]
    assert aggregator.count(order.id)["profiles"] == 1


@pytest.mark.parametrize("crash_at", ["after_aggregator_order", "before_email_sent"])
def test_on_postgresql_two_other_processes_take_over_a_killed_ones_delivery_once(
    crash_at: str, wired: Settings, aggregator: Aggregator, mailbox: Mailbox, pg_url: str,
) -> None:
    """The killed process held the job's lease; after it runs out, two live processes race
    for the job: one takes it, and the buyer still gets one profile and one e-mail."""
    order = paid_order()
    store = PgOrderStore.open(pg_url)
    asyncio.run(store.create(order))
    asyncio.run(store.update(order.id, lambda o: o.log("paid"), enqueue=("provision",)))
    store.close()
    processes = [WorkerProcess(wired) for _ in range(3)]
    for process in processes:
        process.env.update(ORDERS_DB=pg_url, JOB_LEASE="1")
    try:
        processes[0].start(crash_at=crash_at)
        assert processes[0].wait_for_death() == 137
        processes[1].start()
        processes[2].start()

        view = processes[1].wait_for_view(order.token, delivered_and_mailed)
        time.sleep(0.5)  # room for a second e-mail, were one on its way
    finally:
        for process in processes:
            process.stop()
    assert aggregator.count(order.id)["orders"] == 1
    assert aggregator.count(order.id)["profiles"] == 1
    [sold] = aggregator.profiles()
    assert view["esim"]["lpa"] == sold["ac"]
    [mail] = mailbox.messages
    assert mail["To"] == order.email

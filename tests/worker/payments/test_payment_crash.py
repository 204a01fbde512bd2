"""The worker killed in the middle of confirming a payment resumes to one paid order."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from epay_buyer import FORM
from loopback import free_port
from worker_env import TEST_ENV, coverage_env

from scripts.payform import card_form
from worker.orders.store import OrderStore

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
TERMINAL = "67e34d63-102f-4bd1-898e-370781d0074d"


class WorkerProcess:
    """`uvicorn` in its own process, so a crash point can really kill it."""

    def __init__(self, env: dict[str, str], port: int) -> None:
        self.env = env
        self.url = f"http://127.0.0.1:{port}"
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, crash_at: str = "") -> None:
        env = {**self.env, "PYTHONPATH": f"{ROOT}:{ROOT / 'tests'}"}
        if crash_at:
            env["QAZAQ_CRASH_AT"] = crash_at
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "payment_worker:app", "--factory",
             "--app-dir", str(HERE), "--port", str(self.port), "--log-level", "warning"],
            cwd=ROOT, env=env,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{self.url}/healthz").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.05)

    def wait_for_death(self, timeout: float = 20) -> int:
        assert self.process is not None
        return self.process.wait(timeout)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@pytest.fixture
def worker(tmp_path: Path, epay_sandbox: str, catalog_path: Path) -> Iterator[WorkerProcess]:
    port = free_port()
    env = {
        **TEST_ENV, **coverage_env(), "PATH": os.environ["PATH"],
        "WORKER_URL": f"http://127.0.0.1:{port}", "ORDERS_DB": str(tmp_path / "orders.json"),
        "CATALOG_PATH": str(catalog_path), "EPAY_OAUTH_URL": f"{epay_sandbox}/oauth2/token",
        "EPAY_API_URL": epay_sandbox, "EPAY_PAYMENT_JS_URL": f"{epay_sandbox}/payform/payment-api.js",
    }
    process = WorkerProcess(env, port)
    yield process
    process.stop()


@pytest.mark.slow
@pytest.mark.parametrize("crash_at", ["confirm.after_charge", "confirm.before_paid"])
def test_a_worker_killed_while_confirming_resumes_to_one_paid_order(
    worker: WorkerProcess, epay_sandbox: str, tmp_path: Path, crash_at: str
) -> None:
    epay = httpx.Client(base_url=epay_sandbox)
    epay.post("/_sandbox/options", json={"terminals": {TERMINAL: "dms"}})
    worker.start(crash_at=crash_at)
    answer = httpx.post(f"{worker.url}/api/checkout", json=FORM).json()
    assert epay.post("/payform/", data=card_form(answer["payment"])).status_code == 303

    assert worker.wait_for_death() == 137  # killed by the crash point, as by kill -9
    [tx] = [t for t in epay.get("/_sandbox/transactions").json()
            if t["invoice_id"] == answer["order_id"]]
    assert tx["status"] == "CHARGE"  # the money is captured, the order not yet marked
    assert OrderStore.open(tmp_path / "orders.json").get(answer["order_id"]).status == "awaiting_payment"  # type: ignore[union-attr]

    worker.start()

    deadline = time.monotonic() + 20
    while (order := OrderStore.open(tmp_path / "orders.json").get(answer["order_id"])).status != "paid":  # type: ignore[union-attr]
        assert time.monotonic() < deadline, order.timeline  # type: ignore[union-attr]
        time.sleep(0.1)
    assert [e["event"] for e in order.timeline].count("paid") == 1  # type: ignore[union-attr]
    store = OrderStore.open(tmp_path / "orders.json")
    while [j.kind for j in store.jobs(answer["order_id"])] != ["provision"]:
        assert time.monotonic() < deadline, store.jobs(answer["order_id"])
        time.sleep(0.1)
    [tx] = [t for t in epay.get("/_sandbox/transactions").json()
            if t["invoice_id"] == answer["order_id"]]
    assert tx["charged"] == "4990"  # captured once

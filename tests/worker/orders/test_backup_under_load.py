"""A backup taken while buyers keep checking out and paying (the whole shop on loopback,
scripts/stack.py): restored elsewhere, it holds every order acknowledged before it began,
and a worker started on it delivers the orders that were still in flight."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from lzstring import LZString
from worker_env import LAX_LIMITS

from scripts.payform import card_form
from scripts.stack import ROOT, Ports, Stack, free_port, wait_until_answers
from worker.orders.backup import backup, restore
from worker.orders.store import OrderStore

pytestmark = pytest.mark.slow

PAID = ("paid", "provisioning", "delivered")


def quiet(line: str) -> None:
    pass


class Buyers(threading.Thread):
    """Checks out and pays, one buyer after another, until stopped; keeps what was answered."""

    def __init__(self, stack: Stack, package: str) -> None:
        super().__init__(daemon=True)
        self.stack, self.package = stack, package
        self.stop = threading.Event()
        self.checked_out: dict[str, dict[str, object]] = {}  # token -> what the buyer sent
        self.errors: list[str] = []

    def run(self) -> None:
        lz = LZString().compressToEncodedURIComponent
        with httpx.Client(base_url=self.stack.worker_url, timeout=10) as worker, \
                httpx.Client(base_url=self.stack.url(self.stack.ports.epay), timeout=10) as epay:
            n = 0
            while not self.stop.is_set():
                n += 1
                sent = {"package": self.package, "email": f"load{n}@example.kz",
                        "phone": "+77012345678", "lang": "en", "device_ok": True,
                        "offer_accepted": True}
                answer = worker.post("/api/checkout", json=sent)
                if answer.status_code != 201:
                    self.errors.append(answer.text)
                    continue
                self.checked_out[answer.json()["token"]] = sent
                paid = epay.post("/payform/", data=card_form(answer.json()["payment"], compress=lz))
                if paid.status_code not in (200, 303):
                    self.errors.append(paid.text[:200])


def test_backup_under_load_restores_acknowledged_orders_and_delivers_those_in_flight(
    tmp_path: Path,
) -> None:
    catalogue = json.loads((ROOT / "content" / "data" / "catalog.json").read_text("utf-8"))
    package = catalogue["destinations"][0]["packages"][0]["code"]
    (tmp_path / "site").mkdir()
    stack = Stack(state_dir=tmp_path / "state", site_dir=tmp_path / "site", ports=Ports.free(),
                  aggregator_allocation_delay=2.0, extra_worker_env=dict(LAX_LIMITS))
    with stack:
        buyers = Buyers(stack, package)
        buyers.start()
        try:
            deadline = time.monotonic() + 30
            while len(buyers.checked_out) < 15 and time.monotonic() < deadline:
                time.sleep(0.05)
            # What the worker has acknowledged before the backup begins: each checkout, and
            # for each order the status it answers now.
            with httpx.Client(base_url=stack.worker_url, timeout=10) as worker:
                seen = {t: worker.get(f"/api/orders/{t}").json()["status"]
                        for t in list(buyers.checked_out)}
            count_before = len(buyers.checked_out)
            backup(stack.state_dir / "orders.json", tmp_path / "backup", say=quiet)
            time.sleep(0.3)
            assert len(buyers.checked_out) > count_before, "the buyers stopped during the backup"
        finally:
            buyers.stop.set()
            buyers.join(15)
        assert buyers.errors == []

        restored = restore(tmp_path / "backup", tmp_path / "restored", say=quiet).folder
        store = OrderStore.open(restored / "orders.json")
        for token, status in seen.items():
            order = store.by_token(token)
            assert order is not None, f"acknowledged order {token[:6]}… is not in the backup"
            sent = buyers.checked_out[token]
            assert (order.email, order.package_code) == (sent["email"], sent["package"])
            if status in PAID:
                assert order.status in PAID, (order.id, status, order.status)
        in_flight = [o.id for o in store.live_orders() if o.status in ("paid", "provisioning")]
        assert in_flight, "no order was in flight at the backup: nothing to deliver"
        store.close()

        port = free_port()
        env = {**os.environ, **stack.worker_env(), "ORDERS_DB": str(restored / "orders.json"),
               "WORKER_URL": f"http://127.0.0.1:{port}"}
        log = open(tmp_path / "restored-worker.log", "wb")  # noqa: SIM115 - the child keeps it
        worker = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "worker.app:app", "--port", str(port),
             "--log-level", "warning"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_answers(f"http://127.0.0.1:{port}/healthz", worker)
            store = OrderStore.open(restored / "orders.json")
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                waiting = [i for i in in_flight if store.get(i).status != "delivered"]  # type: ignore[union-attr]
                if not waiting:
                    break
                time.sleep(0.2)
            assert waiting == [], (waiting, (tmp_path / "restored-worker.log").read_text()[-2000:])
            store.close()
        finally:
            worker.terminate()
            worker.wait(10)
            log.close()

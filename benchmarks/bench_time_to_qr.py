"""Time-to-QR: from Epay's postLink to the e-mail accepted by SMTP and the QR on the order page.

Real processes on loopback: the worker (uvicorn), the Epay sandbox (its callbacks held back,
so this script posts each postLink itself and starts the clock there), the aggregator
sandbox (allocation delay 0, signatures required) and an SMTP server (aiosmtpd, in this
process, noting when it accepts each e-mail). Orders go one after another, as buyers do;
once the SMTP server has the e-mail, the order page is
checked for the QR (it is written before the e-mail is sent). Also: the catalogue sync time for the sandbox's full
catalogue. Target: our own overhead under 300 ms at p99.

Run with `make bench`, or `.venv/bin/python benchmarks/bench_time_to_qr.py [--orders 200]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session
from lzstring import LZString

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.payform import card_form
from scripts.stack import free_port, wait_until_answers
from worker.provisioning.catalogue_sync import load_destinations, sync
from worker.provisioning.esimaccess import EsimAccess
from worker.provisioning.pricing import load_pricing

TERMINAL = "67e34d63-102f-4bd1-898e-370781d0074d"
ACCESS_CODE, SECRET_KEY = "demoAccessCode", "demoSecretKey"
# Each order makes two aggregator calls; our client keeps to eSIM Access's 8 requests/s, so
# orders faster than about 4/s would measure that limit, not us. Buyers come slower still.
ORDER_INTERVAL_S = 0.3
PACKAGE = "TR-10GB-30D"
LOG = Path(tempfile.gettempdir()) / "bench-time-to-qr.log"


def figures(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (f"median {statistics.median(ordered) * 1000:7.1f} ms   p99 {p99 * 1000:7.1f} ms   "
            f"max {ordered[-1] * 1000:7.1f} ms   (n={len(ordered)})")


class Inbox:
    """aiosmtpd handler: when each recipient's e-mail was accepted (time.monotonic)."""

    def __init__(self) -> None:
        self.accepted: dict[str, float] = {}
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        with self.lock:
            for recipient in envelope.rcpt_tos:
                self.accepted.setdefault(recipient, time.monotonic())
        return "250 Message accepted for delivery"


@contextmanager
def stack(folder: Path, smtp_port: int,
          catalog: Path = ROOT / "content" / "data" / "catalog.json") -> Iterator[dict[str, str]]:
    """The Epay and aggregator sandboxes and the worker, each a process on a free port."""
    ports = {name: free_port() for name in ("epay", "aggregator", "worker")}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    env = {
        **os.environ,
        "SITE_URL": "http://127.0.0.1:8000", "WORKER_URL": urls["worker"],
        "EPAY_OAUTH_URL": f"{urls['epay']}/oauth2/token", "EPAY_API_URL": urls["epay"],
        "EPAY_PAYMENT_JS_URL": f"{urls['epay']}/payform/payment-api.js",
        "EPAY_CLIENT_ID": "test", "EPAY_CLIENT_SECRET": "yF587AV9Ms94qN2QShFzVR3vFnWkhjbAK3sG",
        "EPAY_TERMINAL_ID": TERMINAL, "ORDERS_DB": str(folder / "orders.json"),
        "CATALOG_PATH": str(catalog),
        "RECONCILE_INTERVAL": "3600",
        "ESIMACCESS_URL": urls["aggregator"], "ESIMACCESS_ACCESS_CODE": ACCESS_CODE,
        "ESIMACCESS_SECRET_KEY": SECRET_KEY, "AGGREGATOR_WEBHOOK_SECRET": "bench-" + "w" * 32,
        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_port), "SMTP_SECURITY": "none",
        "MAIL_FROM": "Qazaq eSIM <no-reply@qazaq-esim.com>",
        "SESSION_SECRET": "bench-" + "s" * 40, "FISCAL_PROVIDER": "none", "EMAIL_CHECK_DELIVERABILITY": "false", "PYTHONPATH": str(ROOT),
    }
    env.pop("QAZAQ_CRASH_AT", None)
    commands = {
        "epay": [sys.executable, "-m", "sandboxes.epay", "--port", str(ports["epay"]),
                 "--callback", "lost"],
        "aggregator": [sys.executable, "-m", "sandboxes.aggregator", "--port",
                       str(ports["aggregator"]), "--allocation-delay", "0"],
        "worker": [sys.executable, "-m", "uvicorn", "worker.app:app", "--port",
                   str(ports["worker"]), "--log-level", "warning", "--no-access-log"],
    }
    with open(LOG, "wb") as log:
        processes = {
            name: subprocess.Popen(command, cwd=ROOT if name != "worker" else folder, env=env,
                                   stdout=subprocess.DEVNULL, stderr=log)
            for name, command in commands.items()
        }
        try:
            wait_until_answers(f"{urls['epay']}/_sandbox/options", processes["epay"], hint=f"; see {LOG}")
            wait_until_answers(f"{urls['aggregator']}/_sandbox/state", processes["aggregator"], hint=f"; see {LOG}")
            wait_until_answers(f"{urls['worker']}/healthz", processes["worker"], hint=f"; see {LOG}")
            yield urls
        finally:
            for process in processes.values():
                process.terminate()
            for process in processes.values():
                process.wait(10)


def buy(worker: httpx.Client, epay: httpx.Client, n: int) -> tuple[str, str, bytes]:
    """Check out and pay on the payform; return the token, the e-mail and the held postLink."""
    email = f"buyer{n}@example.kz"
    answer = worker.post("/api/checkout", json={
        "package": PACKAGE, "email": email, "phone": "+77012345678", "lang": "ru",
        "device_ok": True, "offer_accepted": True,
    })
    assert answer.status_code == 201, answer.text
    payment = answer.json()["payment"]
    paid = epay.post("/payform/", data=card_form(
        payment, name="BENCH BUYER", compress=LZString().compressToEncodedURIComponent))
    assert paid.status_code in (200, 303), paid.text[:200]
    [callback] = [t["callback"] for t in epay.get("/_sandbox/transactions").json()
                  if t["invoice_id"] == payment["invoiceId"]]
    return answer.json()["token"], email, json.dumps(callback).encode()


def steps(folder: Path) -> dict[str, list[float]]:
    """Seconds between the order's own timeline entries: where the time went, inside the worker."""
    from worker.orders.store import OrderStore

    store = OrderStore.open(folder / "orders.json")
    spans: dict[str, list[float]] = {}
    try:
        for order in store.search(lambda o: o.email_sent_at is not None):
            at = {e["event"]: datetime.fromisoformat(e["at"]).timestamp() for e in order.timeline}
            for label, first, last in (
                ("postLink received → paid (check-status)", "callback", "paid"),
                ("paid → profile stored, delivered", "paid", "delivered"),
                ("delivered → e-mail accepted", "delivered", "email_sent"),
            ):
                if first in at and last in at:
                    spans.setdefault(label, []).append(at[last] - at[first])
    finally:
        store.close()
    return spans


def time_to_qr(orders: int) -> None:
    print(f"\n== time-to-QR: postLink → e-mail accepted and QR on the order page, {orders} orders ==")
    folder = Path(tempfile.mkdtemp(prefix="bench-qr-"))
    inbox = Inbox()
    smtp_port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    totals: list[float] = []
    try:
        with stack(folder, smtp_port) as urls, \
                httpx.Client(base_url=urls["worker"], timeout=30) as worker, \
                httpx.Client(base_url=urls["epay"], timeout=30) as epay:
            started = 0.0
            for n in range(orders + 5):  # the first five warm the worker up, uncounted
                token, email, post_link = buy(worker, epay, n)
                time.sleep(max(0.0, started + ORDER_INTERVAL_S - time.monotonic()))
                started = time.monotonic()
                acked = worker.post("/epay/post-link", content=post_link,
                                    headers={"Content-Type": "application/json"})
                assert acked.status_code == 200, acked.text
                # The e-mail comes after the delivery write, so once the SMTP server has it the
                # order page must show the QR: check that, without polling the worker meanwhile.
                deadline = started + 30
                while (mail := inbox.accepted.get(email)) is None:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"order {n}: no e-mail in 30 s; see {LOG}")
                    time.sleep(0.001)
                page = worker.get(f"/api/orders/{token}").json()
                assert page["esim"] and page["esim"]["qr_svg_url"], page["status"]
                if n >= 5:
                    totals.append(mail - started)
        print(f"postLink → e-mail accepted, QR on the page {figures(totals)}")
        print("  inside the worker, from the orders' timelines (ms resolution):")
        for label, spans in steps(folder).items():
            print(f"  {label:<40} {figures(spans[5:] if len(spans) > 5 else spans)}")
        print("  (loopback: Epay check-status, esim/order + esim/query, SMTP, each a real server)")
    finally:
        controller.stop()
        shutil.rmtree(folder, ignore_errors=True)


def sync_time() -> None:
    print("\n== catalogue sync: package/list from the aggregator sandbox → catalog.json ==")
    folder = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    port = free_port()
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "sandboxes.aggregator", "--port", str(port)], cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_answers(f"http://127.0.0.1:{port}/_sandbox/state", sandbox, hint=f"; see {LOG}")
        pricing = replace(load_pricing(), national_bank_url="")  # no network: the configured rate

        async def three_syncs() -> tuple[list[float], Any]:
            client = EsimAccess(f"http://127.0.0.1:{port}", ACCESS_CODE, SECRET_KEY)
            runs = []
            try:
                for _ in range(3):
                    begun = time.perf_counter()
                    summary = await sync(client, pricing, load_destinations(),
                                         folder / "catalog.json", say=lambda line: None,
                                         progress=False, force=True)
                    runs.append(time.perf_counter() - begun)
            finally:
                await client.aclose()
            return runs, summary

        runs, summary = asyncio.run(three_syncs())
        size = (folder / "catalog.json").stat().st_size
        print(f"sync of {summary.packages} packages, {summary.destinations} destinations "
              f"({size / 1e6:.1f} MB): best {min(runs):.2f} s, median {statistics.median(runs):.2f} s"
              f" (n={len(runs)})")
    finally:
        sandbox.terminate()
        sandbox.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=200)
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    time_to_qr(args.orders)
    sync_time()


if __name__ == "__main__":
    main()

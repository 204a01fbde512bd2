"""Abuse figures (issue 14), each beside its reference in one run:

- Epay check-status calls per hour caused by N abandoned checkouts (N = 100, 1,000, 10,000),
  on a simulated clock: the real reconciler (`reconcile_once`) over a real order store, every
  60 s for four hours, with Epay answering "unknown invoice" (a counting stand-in). Beside
  them: the schedule alone (no hourly budget) and the old reconciler (every order every pass
  for its first hour, every tenth pass after), computed.
- Checkout latency (median) with the limits on and effectively off: the worker under uvicorn
  and the Epay sandbox, each a process on loopback (benchmarks/bench_worker.py's stack).

Run with `invoke bench` (or `.venv/bin/python benchmarks/bench_abuse.py`).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_worker

from worker.orders.model import Order
from worker.orders.store import OrderStore
from worker.payments.epay import Status
from worker.payments.reconciler import reconcile_once
from worker.payments.status_schedule import (
    ASK_AT_S,
    PAYMENT_WINDOW_S,
    STATUS_CALLS_PER_HOUR,
    calls_per_pass,
    next_ask,
)

PASS_S = 60.0
HOURS = 4
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@dataclass
class CountingEpay:
    """Epay's check-status for invoices nobody paid: resultCode 102, counted per simulated hour."""

    now: datetime = T0
    calls: dict[int, int] = field(default_factory=dict)

    async def check_status(self, invoice_id: str) -> Status:
        hour = int(((self.now - T0).total_seconds() - 1) // 3600)  # an ask at 60 min: hour 1
        self.calls[hour] = self.calls.get(hour, 0) + 1
        return Status(result_code=102, result_message="unknown invoice", transaction=None)


@dataclass
class Harness:
    """What reconcile_once reads of Services: the store, the ask memory, Epay."""

    store: OrderStore
    epay: CountingEpay
    status_asks: dict[str, float] = field(default_factory=dict)


def abandoned(n: int) -> Order:
    return Order(id=str(4_000_000_000 + n), token=f"abuse-{n:06d}-" + "t" * 30,
                 status="awaiting_payment", lang="en", email=f"bot{n}@example.kz", phone=None,
                 package_code="P", destination="TR", package_title="T", amount=4990,
                 secret_hash="s" * 32, created_at=T0.isoformat())


async def simulate(n: int, folder: Path) -> tuple[dict[int, int], int]:
    store = OrderStore.open(folder / f"orders-{n}.json")
    try:
        for start in range(0, n, 500):
            await asyncio.gather(*(store.create(abandoned(i)) for i in range(start, min(n, start + 500))))
        harness = Harness(store, CountingEpay())
        budget = calls_per_pass(PASS_S)
        for step in range(1, int(HOURS * 3600 / PASS_S) + 1):
            harness.epay.now = T0 + timedelta(seconds=step * PASS_S)
            await reconcile_once(harness, now=harness.epay.now, budget=budget)  # type: ignore[arg-type]
        still = sum(1 for o in store.live_orders() if o.abandoned_at is None)
        return harness.epay.calls, still
    finally:
        await store.wait_idle()
        store.close()


def schedule_alone(n: int) -> dict[int, int]:
    """The per-order schedule without the hourly budget: n × asks falling in each hour."""
    calls: dict[int, int] = {}
    last: float | None = None
    for step in range(1, int(HOURS * 3600 / PASS_S) + 1):
        age = step * PASS_S
        at = next_ask(last)
        if at is not None and at <= age:
            calls[int((age - 1) // 3600)] = calls.get(int((age - 1) // 3600), 0) + n
            last = age
    return calls


def old_reconciler(n: int) -> dict[int, int]:
    """Before issue 14: every pass asked every unpaid order of the last hour, every tenth pass
    the older ones too, and gave up after a day."""
    calls: dict[int, int] = {}
    for step in range(1, int(HOURS * 3600 / PASS_S) + 1):
        age = step * PASS_S
        if age < 3600 or step % 10 == 0:
            calls[int((age - 1) // 3600)] = calls.get(int((age - 1) // 3600), 0) + n
    return calls


async def status_call_figures() -> None:
    print("\n== Epay check-status calls per simulated hour, N checkouts abandoned at once ==")
    print(f"schedule: asks at {[int(a / 60) for a in ASK_AT_S]} min, window "
          f"{PAYMENT_WINDOW_S / 3600:.0f} h, budget {STATUS_CALLS_PER_HOUR}/h; a pass every "
          f"{PASS_S:.0f} s")
    folder = Path(tempfile.mkdtemp(prefix="bench-abuse-"))
    try:
        print(f"{'N':>7}  {'hour':>4}  {'now (budget)':>12}  {'schedule alone':>14}  "
              f"{'old reconciler':>14}")
        for n in (100, 1_000, 10_000):
            began = time.perf_counter()
            now, still = await simulate(n, folder)
            alone, old = schedule_alone(n), old_reconciler(n)
            for hour in range(HOURS):
                print(f"{n:>7}  {hour + 1:>4}  {now.get(hour, 0):>12}  {alone.get(hour, 0):>14}  "
                      f"{old.get(hour, 0):>14}")
            print(f"{n:>7}  total {sum(now.values()):>11}  {sum(alone.values()):>14}  "
                  f"{sum(old.values()):>14}   (still polled after {HOURS} h: {still}; "
                  f"simulated in {time.perf_counter() - began:.1f} s)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def no_limits_app() -> Any:
    """The reference (`uvicorn --factory`): the worker with checkout's limit step taken out."""
    from worker.payments import checkout

    async def unlimited(*args: Any) -> None:
        return None

    checkout.limit = unlimited  # type: ignore[assignment]
    return bench_worker.money_path_app()


async def checkout_latency(limits: dict[str, str], app: str = "bench_worker:money_path_app",
                           rounds: int = 55) -> tuple[list[float], int]:
    """Checkout answers, one at a time, each from its own e-mail address (the first five warm
    up); how many got 429. 55 stays under the default total of 60 a minute."""
    folder = Path(tempfile.mkdtemp(prefix="bench-abuse-http-"))
    catalog = json.loads((ROOT / "content" / "data" / "catalog.json").read_text())
    package = catalog["destinations"][0]["packages"][0]["code"]
    saved = dict(bench_worker.BENCH_SETTINGS)
    bench_worker.BENCH_SETTINGS.update(limits)
    try:
        with bench_worker.stack(folder, app) as urls:
            async with httpx.AsyncClient(base_url=urls["worker"], timeout=60) as worker:
                times: list[float] = []
                refused = 0
                for i in range(rounds):
                    form: dict[str, Any] = {
                        "package": package, "email": f"buyer{i}@example.kz",
                        "phone": "+77012345678", "lang": "ru", "device_ok": True,
                        "offer_accepted": True}
                    begun = time.perf_counter()
                    answer = await worker.post("/api/checkout", json=form)
                    times.append(time.perf_counter() - begun)
                    refused += answer.status_code == 429
                return times[5:], refused
    finally:
        bench_worker.BENCH_SETTINGS.clear()
        bench_worker.BENCH_SETTINGS.update(saved)
        shutil.rmtree(folder, ignore_errors=True)


async def latency_figures() -> None:
    print("\n== Checkout latency, worker (uvicorn) + Epay sandbox on loopback, one at a time ==")
    # The defaults, but for the per-address limit: every request here comes from 127.0.0.1.
    defaults = {"CHECKOUT_RATE_LIMIT": "1000000/minute", "CHECKOUT_EMAIL_RATE_LIMIT": "3/minute;10/hour",
                "CHECKOUT_TOTAL_RATE_LIMIT": "60/minute;1000/hour", "UNPAID_ORDERS_PER_EMAIL": "3"}
    without: list[float] = []
    with_limits: list[float] = []
    for _ in range(2):  # interleaved, so a busy moment of the machine hits both
        without += (await checkout_latency(defaults, "bench_abuse:no_limits_app"))[0]
        with_limits += (await checkout_latency(defaults))[0]
    print(f"without limits (reference)                    median {statistics.median(without) * 1000:6.2f} ms")
    print(f"with the limits (3 counted, file written)     median {statistics.median(with_limits) * 1000:6.2f} ms")
    times, refused = await checkout_latency({"CHECKOUT_RATE_LIMIT": "5/minute;30/hour"})
    print(f"default 5/minute per address, one client: {refused} of {len(times) + 5} refused 429 "
          f"(no Epay call); median of all answers {statistics.median(times) * 1000:6.2f} ms")


def main() -> None:
    asyncio.run(status_call_figures())
    asyncio.run(latency_figures())


if __name__ == "__main__":
    main()

"""The order store's two backends side by side (issue 13): the embedded store (files, one
process runs the jobs) against PostgreSQL (several processes), in one run on this machine.

- postLink acknowledgement p50/p99 under 100 concurrent callbacks: 1 process on the embedded
  store, 1, 2 and 4 processes on PostgreSQL;
- checkout throughput (checkouts per second, `POST /api/checkout` against the Epay sandbox,
  200 checkouts from 20 concurrent clients): the same four set-ups;
- store write (create + update with a job) and lookup (by id, by token) at 1k, 10k, 100k orders;
- opening the store and a fresh process's memory after opening, at each size.

PostgreSQL is a throwaway server (scripts/local_postgres.py) with fsync on, as in production.
Run with `invoke bench` or `.venv/bin/python benchmarks/bench_backends.py [--sizes 1000,10000]
[--only http,checkout,store]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import uvloop

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_worker import blast, checkout_client, fill, ms, order, stack, timed_lookups, timed_writes

from scripts.local_postgres import LocalPostgres
from scripts.payform import card_form
from worker.orders.postgres import PgOrderStore, insert_order
from worker.orders.store import OrderStore


def open_any(orders_db: str) -> Any:
    return PgOrderStore.open(orders_db) if orders_db.startswith("postgresql://") \
        else OrderStore.open(orders_db)


# ---- the store ----------------------------------------------------------------------------

def bulk_fill_pg(url: str, start: int, stop: int) -> None:
    """Finished orders straight into the table (as `invoke migrate-store` copies them)."""
    with psycopg.connect(url) as conn, conn.transaction():
        for n in range(start, stop):
            insert_order(conn, order(n), finished=True)
        conn.execute("ANALYZE orders")


def memory_after_open(orders_db: str) -> float:
    """Peak RSS (MB) of a fresh process that opens the store and reads one order: VmHWM, which
    starts afresh at exec (ru_maxrss would carry this process's size into the child)."""
    script = (f"import sys; sys.path.insert(0, {str(ROOT / 'benchmarks')!r});"
              "from bench_backends import open_any;"
              f"s = open_any({orders_db!r}); s.get('1000000001');"
              "print(next(line.split()[1] for line in open('/proc/self/status')"
              " if line.startswith('VmHWM')))")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1]) / 1024


async def store_rows(name: str, orders_db: str, sizes: list[int]) -> dict[int, list[str]]:
    store = open_any(orders_db)
    await asyncio.gather(*(store.create(order(900_000 + i, status="awaiting_payment",
                                              email_sent_at=None)) for i in range(50)))
    rows: dict[int, list[str]] = {}
    filled, next_new = 0, 500_000
    for size in sizes:
        if isinstance(store, PgOrderStore):
            await asyncio.to_thread(bulk_fill_pg, orders_db, filled, size)
        else:
            await fill(store, filled, size)
        filled = size
        writes = await timed_writes(store, range(next_new, next_new + 100))
        next_new += 100
        ids = [str(1_000_000_000 + random.randrange(size)) for _ in range(1000)]
        tokens = [f"{random.randrange(size):08d}-" + "t" * 35 for _ in range(1000)]
        lookups = timed_lookups(store.get, ids) + timed_lookups(store.by_token, tokens)
        begun = time.perf_counter()
        open_any(orders_db).close()
        opened = time.perf_counter() - begun
        rows[size] = [f"write {ms(writes)}", f"lookup {ms(lookups)}",
                      (f"open {opened * 1000:.0f} ms, fresh process RSS "
                      f"{memory_after_open(orders_db):.0f} MB")]
        print(f"  {name}: {size} orders done", file=sys.stderr)
    store.close()
    return rows


async def store_figures(pg: LocalPostgres, sizes: list[int]) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-backends-"))
    try:
        embedded = await store_rows("embedded", str(folder / "orders.json"), sizes)
        postgres = await store_rows("postgresql", pg.new_database("bench_store"), sizes)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print("\n== Order store, one write at a time: embedded | PostgreSQL (fsync on) ==")
    for size in sizes:
        for left, right in zip(embedded[size], postgres[size]):
            print(f"{size:>7}  {left:<72} | {right}")


# ---- postLink acknowledgements --------------------------------------------------------------

async def until_no_due_jobs(orders_db: str) -> None:
    store = open_any(orders_db)
    try:
        deadline = time.monotonic() + 60
        while store.due_jobs() or store.jobs():
            if time.monotonic() > deadline:
                raise RuntimeError("the worker still has jobs after 60 s")
            await asyncio.sleep(0.2)
    finally:
        store.close()


async def post_link_round(urls: dict[str, str], store: str, concurrency: int) -> list[float]:
    """Acknowledgement times of one burst of ``concurrency`` distinct postLinks."""
    from lzstring import LZString

    catalog = json.loads((ROOT / "content" / "data" / "catalog.json").read_text())
    package = catalog["destinations"][0]["packages"][0]["code"]
    limits = httpx.Limits(max_connections=concurrency + 10)
    async with httpx.AsyncClient(base_url=urls["epay"], limits=limits, timeout=60) as epay:
        lz = LZString().compressToEncodedURIComponent
        # The orders, 20 checkouts at a time: unmeasured here, and bursts of 100 sometimes
        # cut the worker's token calls to the sandbox (ConnectError).
        answers: list[dict[str, Any]] = []
        for _ in range(0, concurrency, 20):
            await asyncio.gather(*(checkout_client(urls["worker"], package, 1, [], answers)
                                   for _ in range(20)))
        payments = [a["payment"] for a in answers]
        for payment in payments:  # the sandbox's callbacks are off ("lost")
            await epay.post("/payform/", data=card_form(payment, name="BENCH BUYER", compress=lz))
        invoices = {p["invoiceId"] for p in payments}
        bodies = [json.dumps(t["callback"]).encode()
                  for t in (await epay.get("/_sandbox/transactions")).json()
                  if t["invoice_id"] in invoices]
    await until_no_due_jobs(store)
    times = await blast(urls["worker"], "/epay/post-link", bodies)
    await until_no_due_jobs(store)
    return times


# The set-ups compared in the HTTP sections: (name, database name on PostgreSQL or "" for the
# embedded store, worker processes).
SETUPS = [("embedded, 1 process", "", 1), ("PostgreSQL, 1 process", "1", 1),
          ("PostgreSQL, 2 processes", "2", 2), ("PostgreSQL, 4 processes", "4", 4)]
# And, in the postLink section, what `uvicorn --workers 2` makes of it: one socket for both.
ONE_SOCKET = ("PostgreSQL, 2, one socket", "2s", 2)


async def http_figures(pg: LocalPostgres, rounds: int, concurrency: int) -> None:
    """``rounds`` bursts per set-up. All set-ups run at once and take turns, round by round in a
    rotating order: a noisy moment of this shared machine falls on each of them alike, not on
    whichever happened to be measured then (the others are idle meanwhile)."""
    folder = Path(tempfile.mkdtemp(prefix="bench-backends-http-"))
    setups = [*SETUPS, ONE_SOCKET]
    results: dict[str, list[list[float]]] = {name: [] for name, _, _ in setups}
    try:
        with contextlib.ExitStack() as stacks:
            running = []
            for name, db, workers in setups:
                own = folder / f"{db or 'embedded'}-{workers}"
                own.mkdir()
                orders_db = db and pg.new_database(f"bench_http{db}")
                urls = stacks.enter_context(stack(own, orders_db=orders_db, workers=workers,
                                                  one_socket=(name, db, workers) == ONE_SOCKET))
                running.append((name, orders_db or str(own / "orders.json"), urls))
            for round_ in range(rounds + 1):  # the first round warms up
                turn = round_ % len(running)
                for name, store, urls in running[turn:] + running[:turn]:
                    times = await post_link_round(urls, store, concurrency)
                    if round_:
                        results[name].append(times)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"\n== postLink acknowledgement, {concurrency} distinct callbacks at once, "
          f"{rounds} rounds, the set-ups taking turns ({os.cpu_count()} CPUs) ==")
    for name, bursts in results.items():
        print(f"{name:<26} {ms([t for burst in bursts for t in burst])}   slowest of each "
              f"burst: {', '.join(f'{max(burst) * 1000:.0f}' for burst in bursts)} ms")


# ---- checkout throughput ---------------------------------------------------------------------

async def checkouts(orders_db: str, workers: int, rounds: int, total: int,
                    clients: int) -> tuple[list[float], list[float]]:
    """Checkouts per second of ``rounds`` runs of ``total`` checkouts from ``clients``
    concurrent clients, and each checkout's answer time."""
    folder = Path(tempfile.mkdtemp(prefix="bench-backends-checkout-"))
    catalog = json.loads((ROOT / "content" / "data" / "catalog.json").read_text())
    package = catalog["destinations"][0]["packages"][0]["code"]
    rates: list[float] = []
    times: list[float] = []
    try:
        with stack(folder, orders_db=orders_db, workers=workers) as urls:
            # Warm up: every process has its Epay token, pool connections and imports.
            await asyncio.gather(*(checkout_client(urls["worker"], package, 2, [])
                                   for _ in range(clients)))
            for _ in range(rounds):
                begun = time.perf_counter()
                await asyncio.gather(*(checkout_client(urls["worker"], package, total // clients,
                                                       times) for _ in range(clients)))
                rates.append(total // clients * clients / (time.perf_counter() - begun))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return rates, times


async def checkout_figures(pg: LocalPostgres, rounds: int, total: int, clients: int) -> None:
    results = {name: await checkouts(db and pg.new_database(f"bench_checkout{db}"), workers,
                                     rounds, total, clients)
               for name, db, workers in SETUPS}
    print(f"\n== Checkout throughput (POST /api/checkout against the Epay sandbox), {total} "
          f"checkouts from {clients} clients at once, {rounds} rounds ({os.cpu_count()} CPUs) ==")
    for name, (rates, times) in results.items():
        print(f"{name:<26} median {statistics.median(rates):6.1f} checkouts/s (rounds "
              f"{', '.join(f'{r:.0f}' for r in rates)})   each: {ms(times)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", default="http,checkout,store",
                        help="comma-separated sections: http (postLink), checkout, store")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with LocalPostgres(durable=True) as pg:
        if "http" in args.only:
            uvloop.run(http_figures(pg, args.rounds, 100))
        if "checkout" in args.only:
            asyncio.run(checkout_figures(pg, args.rounds, 200, 20))
        if "store" in args.only:
            asyncio.run(store_figures(pg, sizes))


if __name__ == "__main__":
    main()

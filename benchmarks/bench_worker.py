"""Worker figures: order store write/lookup at 1k/10k/100k orders; checkout and postLink latency.

Run with `make bench` (or `.venv/bin/python benchmarks/bench_worker.py [--only store,http]`).
The HTTP figures come from real processes on loopback: the worker under uvicorn and the
Epay sandbox, each in its own process, driven by this one. Each section is a function in
SECTIONS; add yours there (provisioning adds time-to-QR).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import os
import random
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
# A local shop on loopback (http), and limits (issue 14) that a benchmark's bursts from one
# address and one e-mail never reach: the figures measure the path, not the 429.
BENCH_SETTINGS = {
    "DEPLOYMENT": "development",
    "CHECKOUT_RATE_LIMIT": "1000000/minute", "CHECKOUT_EMAIL_RATE_LIMIT": "1000000/minute",
    "CHECKOUT_TOTAL_RATE_LIMIT": "1000000/minute", "UNPAID_ORDERS_PER_EMAIL": "1000000",
}
sys.path.insert(0, str(ROOT))

from scripts.payform import card_form
from scripts.stack import free_port, wait_until_answers
from worker.orders.model import Order
from worker.orders.store import OrderStore

TERMINAL = "67e34d63-102f-4bd1-898e-370781d0074d"
# The processes' stderr, to read after a failed run.
LOG = Path(tempfile.gettempdir()) / "bench-worker.log"
EPAY_LOG = Path(tempfile.gettempdir()) / "bench-epay.log"


# ---- figures ---------------------------------------------------------------------------

def ms(seconds: list[float]) -> str:
    """p50 / p99 / max of a list of durations, in milliseconds."""
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (f"p50 {statistics.median(ordered) * 1000:7.2f} ms   p99 {p99 * 1000:7.2f} ms   "
            f"max {ordered[-1] * 1000:7.2f} ms   (n={len(ordered)})")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---- the store -------------------------------------------------------------------------

def order(n: int, **changes: Any) -> Order:
    values: dict[str, Any] = {
        "id": str(1_000_000_000 + n), "token": f"{n:08d}-" + "t" * 35, "status": "delivered",
        "lang": "ru", "email": f"buyer{n}@example.kz", "phone": "+77012345678",
        "package_code": "TR-10GB-30D", "destination": "TR",
        "package_title": "Турция 10 ГБ, 30 дней", "amount": 4990, "secret_hash": "s" * 32,
        "email_sent_at": "2026-11-25T10:00:00+00:00",
    }
    values.update(changes)
    o = Order(**values)
    for event in ("created", "callback", "paid", "provisioning", "delivered", "email_sent"):
        o.log(event, "benchmark")
    return o


async def fill(store: OrderStore, start: int, stop: int) -> None:
    """Orders as a shop accumulates them: finished (archived), a few still live."""
    for first in range(start, stop, 1000):
        batch = [order(n) for n in range(first, min(stop, first + 1000))]
        await asyncio.gather(*(store.create(o) for o in batch))


async def finish(store: OrderStore, order_id: str) -> None:
    def deliver(o: Order) -> None:
        o.status = "delivered"
        o.email_sent_at = "2026-11-25T10:00:00+00:00"

    await store.update(order_id, deliver)
    for job in store.jobs(order_id):
        await store.finish_job(job.id)


async def timed_writes(store: Any, numbers: range) -> list[float]:
    """Each new order's create, then its paid callback's update with a job (the two writes a
    sale makes), timed one by one; each order then finishes, keeping the live set steady."""
    writes: list[float] = []

    def note(o: Order) -> None:
        o.log("callback", "post_link ok")

    for number in numbers:
        new = order(number, status="awaiting_payment", email_sent_at=None)
        begun = time.perf_counter()
        await store.create(new)
        writes.append(time.perf_counter() - begun)
        begun = time.perf_counter()
        await store.update(new.id, note, enqueue=("confirm_payment",))
        writes.append(time.perf_counter() - begun)
        await finish(store, new.id)
    return writes


def timed_lookups(lookup: Callable[[str], Order | None], keys: list[str]) -> list[float]:
    """Seconds each lookup took; every key must be found."""
    durations: list[float] = []
    for key in keys:
        begun = time.perf_counter()
        found = lookup(key)
        durations.append(time.perf_counter() - begun)
        assert found is not None, key
    return durations


async def store_figures(sizes: tuple[int, ...] = (1_000, 10_000, 100_000)) -> None:
    print("\n== Order store (TinyDB live file + append-only archive), one write at a time ==")
    folder = Path(tempfile.mkdtemp(prefix="bench-store-"))
    try:
        path = folder / "orders.json"
        store = OrderStore.open(path)
        # A realistic live set: 50 orders awaiting payment or being provisioned.
        await asyncio.gather(*(store.create(order(900_000 + i, status="awaiting_payment",
                                                  email_sent_at=None)) for i in range(50)))
        filled = 0
        next_new = 500_000
        for size in sizes:
            await fill(store, filled, size)
            filled = size
            writes = await timed_writes(store, range(next_new, next_new + 200))
            next_new += 200
            ids = [str(1_000_000_000 + random.randrange(size)) for _ in range(2000)]
            lookups = timed_lookups(store.get, ids)
            tokens = [f"{random.randrange(size):08d}-" + "t" * 35 for _ in range(2000)]
            by_token = timed_lookups(store.by_token, tokens)
            begun = time.perf_counter()
            reopened = OrderStore.open(path)
            opened = time.perf_counter() - begun
            reopened.close()
            live = (path.stat().st_size + path.with_name("orders.journal.jsonl").stat().st_size) / 1024
            archive = path.with_name("orders.archive.jsonl").stat().st_size / 1024 / 1024
            print(f"{size:>7} orders  write (create/update + fsync)  {ms(writes)}")
            print(f"{'':>7}         lookup by id                    {ms(lookups)}")
            print(f"{'':>7}         lookup by token                 {ms(by_token)}")
            print(f"{'':>7}         open {opened * 1000:.0f} ms, live file + journal {live:.0f} KB, "
                  f"archive {archive:.1f} MB, process RSS {rss_mb():.0f} MB")
        store.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# ---- the HTTP path ---------------------------------------------------------------------

async def provision_elsewhere(order: Order, services: Any) -> None:
    """Provisioning has its own benchmark (time-to-QR); here the paid order is left as is."""


def money_path_app() -> Any:
    """The worker running only the payment's jobs (`uvicorn --factory`): the postLink figures
    then measure the money path, not retries of a provisioning that has no aggregator here."""
    from worker.app import create_app
    from worker.payments.confirm import confirm_payment

    return create_app(handlers={"confirm_payment": confirm_payment,
                                "provision": provision_elsewhere}, whole_process=True)


def full_app() -> Any:
    from worker.app import create_app

    return create_app(whole_process=True)


def listeners(port: int) -> int:
    """How many sockets listen on this loopback TCP port (Linux's /proc/net/tcp)."""
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(1 for line in lines
               if int(line.split()[1].split(":")[1], 16) == port and line.split()[3] == "0A")


@contextmanager
def stack(folder: Path, app: str = "bench_worker:money_path_app", orders_db: str = "",
          workers: int = 1, one_socket: bool = False) -> Iterator[dict[str, str]]:
    """The Epay sandbox and the worker (``app``, a factory, in ``workers`` processes), each on a
    free port; the orders in ``orders_db`` (default: a file in ``folder``). The processes have
    a socket each (`python -m worker.serve`, as deployed), or with ``one_socket`` share one
    (`uvicorn --workers`)."""
    epay_port, worker_port = free_port(), free_port()
    epay = f"http://127.0.0.1:{epay_port}"
    worker = f"http://127.0.0.1:{worker_port}"
    (folder / "empty.env").write_text("")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("EPAY_", "WORKER_"))},
        "SITE_URL": "http://127.0.0.1:8000", "WORKER_URL": worker,
        "EPAY_OAUTH_URL": f"{epay}/oauth2/token", "EPAY_API_URL": epay,
        "EPAY_PAYMENT_JS_URL": f"{epay}/payform/payment-api.js",
        "EPAY_CLIENT_ID": "test", "EPAY_CLIENT_SECRET": "yF587AV9Ms94qN2QShFzVR3vFnWkhjbAK3sG",
        "EPAY_TERMINAL_ID": TERMINAL, "ORDERS_DB": orders_db or str(folder / "orders.json"),
        "RECONCILE_INTERVAL": "3600",
        "ESIMACCESS_URL": "http://127.0.0.1:9", "ESIMACCESS_ACCESS_CODE": "bench",
        "ESIMACCESS_SECRET_KEY": "bench", "AGGREGATOR_WEBHOOK_SECRET": secrets.token_urlsafe(24),
        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": "9", "SMTP_SECURITY": "none",
        "MAIL_FROM": "bench@qazaq-esim.com", "SESSION_SECRET": secrets.token_urlsafe(32),
        "FISCAL_PROVIDER": "none", "EMAIL_CHECK_DELIVERABILITY": "false", **BENCH_SETTINGS,
    }
    with open(EPAY_LOG, "wb") as epay_log, open(LOG, "wb") as worker_log:
        processes = [
            subprocess.Popen([sys.executable, "-m", "sandboxes.epay", "--port", str(epay_port),
                              "--callback", "lost"], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=epay_log),
        ]
        if one_socket:
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "uvicorn", app, "--port", str(worker_port),
                 "--log-level", "warning", "--no-access-log", "--app-dir",
                 str(ROOT / "benchmarks"), "--factory", "--workers", str(workers)],
                cwd=folder, env={**env, "PYTHONPATH": str(ROOT)},
                stdout=subprocess.DEVNULL, stderr=worker_log))
        else:  # as deployed: one process per socket (worker/serve.py)
            processes += [subprocess.Popen(
                [sys.executable, "-m", "worker.serve", "--port", str(worker_port), "--app", app,
                 "--factory"],
                cwd=folder, env={**env, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'benchmarks'}"},
                stdout=subprocess.DEVNULL, stderr=worker_log) for _ in range(workers)]
        try:
            wait_until_answers(f"{epay}/_sandbox/options", processes[0])
            for process in processes[1:]:
                wait_until_answers(f"{worker}/healthz", process)
            deadline = time.monotonic() + 60
            while not one_socket and listeners(worker_port) < workers:  # each, once started
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{listeners(worker_port)} of {workers} workers listen")
                time.sleep(0.1)
            yield {"epay": epay, "worker": worker}
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(10)


class _Answer(asyncio.Protocol):
    """One connection of `blast`: sends one request and notes when its whole answer is in."""

    def __init__(self) -> None:
        self.done: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.received = b""
        self.begun = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no asyncio.Transport

    def send(self, request: bytes) -> None:
        assert self.transport is not None
        self.begun = time.perf_counter()
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.received += data
        head, end, body = self.received.partition(b"\r\n\r\n")
        length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        if end and len(body) >= length and not self.done.done():
            self.done.set_result(time.perf_counter() - self.begun)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_exception(ConnectionError(f"closed before the answer: {exc}"))


async def blast(url: str, path: str, bodies: list[bytes]) -> list[float]:
    """POST every body at once, one keep-alive connection each, and time each answer.

    Raw HTTP/1.1 on asyncio protocols, each answer timed as its last byte arrives: the client's
    own cost stays out of the figures, and off the CPUs the worker processes share with it
    (an httpx client spends about a millisecond of CPU per request, asyncio streams a
    coroutine switch per read). The client's garbage collector is off meanwhile: by the last
    rounds this process holds enough objects that a full collection mid-burst stalled its reads
    ~30 ms and shifted a whole round's figures.
    """
    host, port = url.removeprefix("http://").split(":")
    loop = asyncio.get_running_loop()
    answers = [(await loop.create_connection(_Answer, host, int(port)))[1] for _ in bodies]
    requests = [
        (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
         f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        for body in bodies
    ]
    gc.collect()
    gc.disable()
    try:
        for answer, request in zip(answers, requests):
            answer.send(request)
        times = list(await asyncio.gather(*(answer.done for answer in answers)))
    finally:
        gc.enable()
        for answer in answers:
            if answer.transport is not None:
                answer.transport.close()
    for answer in answers:
        assert answer.received.startswith(b"HTTP/1.1 200"), answer.received[:40]
    return times


CHECKOUT_FORM = {"phone": "+77012345678", "lang": "ru", "device_ok": True, "offer_accepted": True}
BUYERS = itertools.count()  # a fresh e-mail address for every checkout


async def checkout_client(url: str, package: str, count: int, into: list[float],
                          answers: list[dict[str, Any]] | None = None) -> None:
    """One browser: ``count`` checkouts one after another on one keep-alive connection, each by
    another buyer (one e-mail for all would measure counting that buyer's unpaid orders), each
    answer's time into ``into`` and its body into ``answers``. Raw HTTP/1.1, as `blast`: an
    httpx client's millisecond of CPU per request would compete with the worker processes for
    this machine's cores, and 100 at once spent over a second of it (its pool's bookkeeping)."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        for _ in range(count):
            body = json.dumps({**CHECKOUT_FORM, "package": package,
                               "email": f"buyer{next(BUYERS)}@example.kz"}).encode()
            request = (f"POST /api/checkout HTTP/1.1\r\nHost: {host}\r\n"
                       f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                       ).encode() + body
            begun = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(next((line.split(b":")[1] for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), b"0"))
            answer = await reader.readexactly(length)
            into.append(time.perf_counter() - begun)
            assert head.startswith(b"HTTP/1.1 201"), (head[:40], answer[:200])
            if answers is not None:
                answers.append(json.loads(answer))
    finally:
        writer.close()


async def timed(call: Awaitable[httpx.Response], into: list[float], status: int) -> httpx.Response:
    begun = time.perf_counter()
    answer = await call
    into.append(time.perf_counter() - begun)
    assert answer.status_code == status, (answer.status_code, answer.text[:200])
    return answer


async def http_figures(rounds: int = 5, concurrency: int = 100) -> None:
    from lzstring import LZString

    print(f"\n== HTTP on loopback: worker (uvicorn) + Epay sandbox, {concurrency} concurrent ==")
    folder = Path(tempfile.mkdtemp(prefix="bench-http-"))
    catalog = json.loads((ROOT / "content" / "data" / "catalog.json").read_text())
    package = catalog["destinations"][0]["packages"][0]["code"]
    try:
        with stack(folder) as urls:
            limits = httpx.Limits(max_connections=concurrency + 10)
            async with httpx.AsyncClient(base_url=urls["worker"], limits=limits, timeout=60) as worker, \
                    httpx.AsyncClient(base_url=urls["epay"], limits=limits, timeout=60) as epay:
                await checkout_client(urls["worker"], package, 5, [])  # warm up
                modest: list[float] = []
                for _ in range(20):
                    await asyncio.gather(*(checkout_client(urls["worker"], package, 1, modest)
                                           for _ in range(10)))
                print(f"checkout, 10 at once (incl. Epay token)  {ms(modest)}")
                checkouts: list[float] = []
                post_links: list[float] = []
                duplicates: list[float] = []
                for _ in range(rounds):
                    answers: list[dict[str, Any]] = []
                    await asyncio.gather(*(
                        checkout_client(urls["worker"], package, 1, checkouts, answers)
                        for _ in range(concurrency)))
                    payments = [a["payment"] for a in answers]
                    lz = LZString()
                    for payment in payments:  # the sandbox's callbacks are off ("lost")
                        await epay.post("/payform/", data=card_form(
                            payment, name="BENCH BUYER", compress=lz.compressToEncodedURIComponent))
                    invoices = {p["invoiceId"] for p in payments}
                    bodies = [t["callback"] for t in (await epay.get("/_sandbox/transactions")).json()
                              if t["invoice_id"] in invoices]
                    raw = [json.dumps(body).encode() for body in bodies]
                    await idle(folder)
                    post_links += await blast(urls["worker"], "/epay/post-link", raw)
                    # Right away: the 100 confirmations (check-status, paid) run meanwhile.
                    duplicates += await blast(urls["worker"], "/epay/post-link", raw[:1] * concurrency)
                    await idle(folder)
                print(f"checkout, {concurrency} at once                  {ms(checkouts)}")
                print(f"postLink, {concurrency} distinct orders at once  {ms(post_links)}")
                print(f"postLink, {concurrency} identical, during those  {ms(duplicates)}")
                paid = await settled(worker, folder, rounds * concurrency)
                print(f"orders paid after the postLinks: {paid}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def idle(folder: Path) -> None:
    """Wait until the worker has no job due (the previous burst is confirmed)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        store = OrderStore.open(folder / "orders.json")
        due = store.due_jobs()
        store.close()
        if not due:
            return
        await asyncio.sleep(0.2)
    raise RuntimeError("the worker still has due jobs after 60 s")


async def settled(worker: httpx.AsyncClient, folder: Path, expected: int) -> str:
    """Wait (up to 30 s) for the confirm_payment jobs; report how many orders got paid."""
    deadline = time.monotonic() + 30
    count = 0
    while time.monotonic() < deadline:
        store = OrderStore.open(folder / "orders.json")
        count = len(store.search(lambda o: o.status == "paid"))
        store.close()
        if count >= expected:
            break
        await asyncio.sleep(0.5)
    return f"{count} of {expected}"


SECTIONS: dict[str, Callable[[], Awaitable[None]]] = {
    "store": store_figures,
    "http": http_figures,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections: {', '.join(SECTIONS)}")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    for name in args.only.split(","):
        asyncio.run(SECTIONS[name.strip()]())


if __name__ == "__main__":
    main()

"""Production figures (issue 10): `invoke publish` of the full site, the bytes Caddy sends
with br for the home, a destination and the checkout page, and a backup at 100k orders.

Run with `.venv/bin/python benchmarks/bench_deploy.py [--only publish,bytes,backup]`.
Medians of a few runs; the machine's other load shows in them, so compare side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_worker import fill, order

from scripts.caddy import Caddy
from scripts.publish import publish
from worker.orders.backup import backup, restore
from worker.orders.store import OrderStore

RUNS = 3
PAGES = {"home": "/en/", "destination": "/en/esim/tr/", "checkout": "/en/checkout/"}


def quiet(line: str) -> None:
    pass


def publish_figures(target: Path) -> None:
    print(f"\n== invoke publish, full site (build, hash, br+gzip, upload, switch), {RUNS} runs ==")
    os.environ.setdefault("WORKER_URL", "https://api.qazaq-esim.com")
    seconds = []
    for _ in range(RUNS):
        done = publish(str(target), worker_catalogue=None, say=quiet)
        seconds.append(done.seconds)
    print(f"median {statistics.median(seconds):.1f} s   runs {', '.join(f'{s:.1f}' for s in seconds)}"
          f"   ({done.files} text files precompressed)")


def bytes_figures(target: Path) -> None:
    print("\n== Bytes Caddy sends with Accept-Encoding: br (deploy/Caddyfile, tls internal) ==")
    if not (target / "current").exists():
        publish(str(target), worker_catalogue=None, say=quiet)
    with Caddy(site_root=target / "current", worker_upstream="127.0.0.1:9",
               epay_origin="https://epay.homebank.kz") as caddy, \
            httpx.Client(verify=caddy.trust(), headers={"Accept-Encoding": "br"}) as client:

        def sent(path: str) -> tuple[int, int]:
            with client.stream("GET", f"{caddy.site_url}{path}") as answer:
                raw = b"".join(answer.iter_raw())
            whole = client.get(f"{caddy.site_url}{path}", headers={"Accept-Encoding": "identity"})
            return len(raw), len(whole.content)

        for name, path in PAGES.items():
            html_br, html_raw = sent(path)
            page = client.get(f"{caddy.site_url}{path}").text
            assets = sorted(set(re.findall(r'"(/theme/[^"]+\.(?:css|js))"', page)))
            assets_br = sum(sent(a)[0] for a in assets)
            print(f"{name:12} {path:16} HTML {html_br:6d} B br ({html_raw:6d} B plain)   "
                  f"+ CSS/JS {assets_br:6d} B br = {html_br + assets_br:6d} B")


async def _fill(path: Path, orders: int) -> None:
    store = OrderStore.open(path)
    await asyncio.gather(*(store.create(order(900_000 + i, status="awaiting_payment",
                                              email_sent_at=None)) for i in range(50)))
    await fill(store, 0, orders)
    store.close()


def backup_figures(folder: Path, orders: int = 100_000) -> None:
    print(f"\n== invoke backup / restore at {orders // 1000}k orders, {RUNS} runs ==")
    db = folder / "live" / "orders.json"
    asyncio.run(_fill(db, orders))
    took, restored = [], []
    for n in range(RUNS):
        begun = time.perf_counter()
        summary = backup(db, folder / f"backup{n}", say=quiet)
        took.append(time.perf_counter() - begun)
        begun = time.perf_counter()
        restore(folder / f"backup{n}", folder / f"restored{n}", say=quiet)
        restored.append(time.perf_counter() - begun)
    print(f"backup  median {statistics.median(took):.2f} s   ({summary.orders} orders, "
          f"{summary.bytes / 1e6:.0f} MB, manifest with sha256 of each file)")
    print(f"restore median {statistics.median(restored):.2f} s   (checks every checksum and "
          "recounts the orders first)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", default="publish,bytes,backup")
    sections = parser.parse_args().only.split(",")
    folder = Path(tempfile.mkdtemp(prefix="bench-deploy-"))
    try:
        if "publish" in sections:
            publish_figures(folder / "site")
        if "bytes" in sections:
            bytes_figures(folder / "site")
        if "backup" in sections:
            backup_figures(folder / "store")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

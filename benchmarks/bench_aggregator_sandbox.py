"""Aggregator sandbox figures: catalogue generation, the unfiltered package/list over HTTP, and
order-to-ready with no allocation delay (the floor under the worker's time-to-QR).
Prints figures; asserts nothing. Run: .venv/bin/python benchmarks/bench_aggregator_sandbox.py"""

from __future__ import annotations

import json
import socket
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from sandboxes.aggregator import Options, create_app
from sandboxes.aggregator.catalogue import build
from sandboxes.aggregator.protocol import sign

ORDERS = 200


def signed(http: httpx.Client, endpoint: str, body: dict[str, Any]) -> httpx.Response:
    raw = json.dumps(body, separators=(",", ":")).encode()
    ts, request_id = str(int(time.time() * 1000)), uuid.uuid4().hex
    headers = {
        "RT-AccessCode": "demoAccessCode",
        "RT-Timestamp": ts,
        "RT-RequestID": request_id,
        "RT-Signature": sign(ts, request_id, "demoAccessCode", raw, "demoSecretKey"),
        "Content-Type": "application/json",
    }
    return http.post(f"/api/v1/open/{endpoint}", content=raw, headers=headers)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        catalogue = build(Options().seed)
        runs.append(time.perf_counter() - started)
    print(
        f"catalogue: {len(catalogue.packages)} packages, {len(catalogue.locations)} locations, "
        f"generated in {statistics.median(runs) * 1000:.0f} ms (median of 5)"
    )

    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say so; without it
    # every keep-alive answer waits about 40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(
        uvicorn.Config(create_app(Options(allocation_delay_s=0)), log_level="warning")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    http = httpx.Client(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}", timeout=30)
    try:
        timings, size = [], 0
        for _ in range(5):
            started = time.perf_counter()
            answer = signed(
                http,
                "package/list",
                {"locationCode": "", "type": "", "packageCode": "", "iccid": ""},
            )
            timings.append(time.perf_counter() - started)
            size = len(answer.content)
        print(
            f"package/list unfiltered: {size / 1e6:.2f} MB in "
            f"{statistics.median(timings) * 1000:.0f} ms (median of 5; live: about 3.4 s)"
        )

        ready = []
        for n in range(ORDERS):
            started = time.perf_counter()
            order = signed(
                http,
                "esim/order",
                {
                    "transactionId": f"bench-{n}",
                    "packageInfoList": [{"packageCode": "TR_10_30", "count": 1}],
                },
            ).json()["obj"]
            while True:
                answer = signed(
                    http,
                    "esim/query",
                    {"orderNo": order["orderNo"], "pager": {"pageNum": 1, "pageSize": 5}},
                ).json()
                if answer["success"] is True and answer["obj"]["esimList"]:
                    break
            ready.append(time.perf_counter() - started)
        print(
            f"order to ready profile, delay 0, {ORDERS} orders: median "
            f"{statistics.median(ready) * 1000:.1f} ms, p99 {percentile(ready, 0.99) * 1000:.1f} ms"
        )
    finally:
        http.close()
        server.should_exit = True
        thread.join(10)


if __name__ == "__main__":
    main()

"""uvicorn's access log never shows an order token or the webhook secret."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from loopback import free_port
from worker_env import TEST_ENV, coverage_env

from worker.access_log import MaskSecrets

ROOT = Path(__file__).resolve().parents[2]

TOKEN = "q3Jx9v-Wm2LZ0bK7c1YtAeR5uHn8sPd4fGj6kMo0iUw"


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        (f"/api/orders/{TOKEN}", "/api/orders/***"),
        (f"/api/orders/{TOKEN}/qr.svg", "/api/orders/***/qr.svg"),
        (f"/epay/back/{TOKEN}", "/epay/back/***"),
        (f"/epay/failure-back/{TOKEN}", "/epay/failure-back/***"),
        ("/aggregator/webhook/the-webhook-secret", "/aggregator/webhook/***"),
        ("/api/checkout?email=buyer@example.kz", "/api/checkout?***"),
        ("/epay/post-link", "/epay/post-link"),
        (f"//api/orders/{TOKEN}", "//api/orders/***"),
        (f"/api//orders/{TOKEN}/qr.png", "/api//orders/***/qr.png"),
    ],
)
def test_access_log_lines_mask_tokens_and_queries(path: str, shown: str) -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d', ("127.0.0.1:5", "GET", path, "1.1", 200),
                               None)

    assert MaskSecrets().filter(record)

    assert record.getMessage() == f'127.0.0.1:5 - "GET {shown} HTTP/1.1" 200'


def test_the_running_worker_logs_no_token(tmp_path: Path, catalog_path: Path) -> None:
    port = free_port()
    env = {**TEST_ENV, **coverage_env(), "PATH": os.environ["PATH"], "ORDERS_DB": str(tmp_path / "orders.json"),
           "CATALOG_PATH": str(catalog_path)}
    worker = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "worker.app:app", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/api/orders/{TOKEN}")
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the worker did not start"
                time.sleep(0.05)
        assert answer.status_code == 404
    finally:
        worker.send_signal(signal.SIGINT)
        log = worker.communicate(timeout=20)[0]

    assert '"GET /api/orders/*** HTTP/1.1" 404' in log
    assert TOKEN not in log
    # The worker's own lines, configured when started as documented (issue 14).
    # time, level, logger, the request id ("-": start-up is no request), message
    assert re.search(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ INFO worker \[-\]: worker: started", log, re.M), log

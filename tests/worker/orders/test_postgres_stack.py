"""The whole shop on loopback (scripts/stack.py) with its orders on PostgreSQL and two worker
processes (`uvicorn --workers 2`): buyers pay, and every order is delivered once."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from lzstring import LZString

from scripts.payform import card_form
from scripts.stack import ROOT, Ports, Stack

pytestmark = pytest.mark.slow


def test_two_worker_processes_on_postgresql_deliver_each_purchase_once(
    tmp_path: Path, pg_url: str
) -> None:
    catalogue = json.loads((ROOT / "content" / "data" / "catalog.json").read_text("utf-8"))
    package = catalogue["destinations"][0]["packages"][0]["code"]
    (tmp_path / "site").mkdir()
    stack = Stack(state_dir=tmp_path / "state", site_dir=tmp_path / "site", ports=Ports.free(),
                  aggregator_allocation_delay=0.5, worker_processes=2,
                  extra_worker_env={"ORDERS_DB": pg_url})
    lz = LZString().compressToEncodedURIComponent
    with stack, httpx.Client(base_url=stack.worker_url, timeout=10) as worker, \
            httpx.Client(base_url=stack.url(stack.ports.epay), timeout=10) as epay:
        tokens = []
        for n in range(6):
            answer = worker.post("/api/checkout", json={
                "package": package, "email": f"pg{n}@example.kz", "phone": "+77012345678",
                "lang": "en", "device_ok": True, "offer_accepted": True})
            assert answer.status_code == 201, answer.text
            tokens.append(answer.json()["token"])
            paid = epay.post("/payform/", data=card_form(answer.json()["payment"], compress=lz))
            assert paid.status_code in (200, 303)
        deadline = time.monotonic() + 60
        while True:
            statuses = [worker.get(f"/api/orders/{t}").json()["status"] for t in tokens]
            mails = list(stack.mail_dir.glob("*.eml"))
            if set(statuses) == {"delivered"} and len(mails) >= 12 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert statuses == ["delivered"] * 6
        time.sleep(1.0)  # a second e-mail, if a job ran twice, would arrive now
        sent = []
        for mail in stack.mail_dir.glob("*.eml"):
            headers = dict(line.split(": ", 1) for line in mail.read_text(errors="replace")
                           .split("\n\n", 1)[0].splitlines() if ": " in line)
            sent.append((headers["To"].strip(), "receipt" in headers["Subject"]))
        # One eSIM e-mail and one fiscal receipt per buyer, never two of either.
        assert sorted(sent) == sorted((f"pg{n}@example.kz", receipt)
                                      for n in range(6) for receipt in (False, True))
        ready = worker.get("/readyz").json()
        assert ready == {"ready": True, "store": "writable", "jobs": "running"}

"""Kill the worker (a separate process) around esim/topup, restart it: the top-up is added to
the eSIM once and mailed once (issue 12)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from loopback import free_port
from smtp_mailbox import Mailbox
from topup_world import GB, ONE_GB, delivered_order, store_orders, write_offers

from worker.config import Settings
from worker.orders.model import Order, Payment
from worker.orders.store import OrderStore

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]


def paid_topup(esim: Order) -> Order:
    """A top-up as the payment leaves it: paid, its `apply_topup` job queued."""
    topup_id = esim.id[:-1] + str((int(esim.id[-1]) + 5) % 10)  # its own last six digits
    return Order(
        id=topup_id, token=f"topup-{topup_id}-" + "t" * 32, status="paid", lang=esim.lang,
        email=esim.email, phone=esim.phone, package_code=ONE_GB["code"], destination="TR",
        package_title="Top-up: +1 GB, 7 days", amount=990, topup_of=esim.id,
        topup={"provider_code": ONE_GB["provider_code"], "data_mb": 1024, "days": 7},
        payment=Payment(transaction_id=f"epay-{topup_id}"),
    )


def start(settings: Settings, crash_at: str | None) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "WORKER_URL": f"http://127.0.0.1:{free_port()}",
        "ORDERS_DB": str(settings.orders_db),
        "CATALOG_PATH": str(settings.catalog_path),
        "ESIMACCESS_URL": settings.esimaccess_url,
        "ESIMACCESS_ACCESS_CODE": settings.esimaccess_access_code,
        "ESIMACCESS_SECRET_KEY": str(settings.esimaccess_secret_key),
        "SMTP_PORT": str(settings.smtp_port),
    }
    env.pop("QAZAQ_CRASH_AT", None)
    if crash_at:
        env["QAZAQ_CRASH_AT"] = crash_at
    port = env["WORKER_URL"].rsplit(":", 1)[1]
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "worker.app:app", "--host", "127.0.0.1", "--port", port,
         "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(("crash_at", "duplicate_mode"), [
    ("topup.before_apply", "same-order"),
    ("topup.after_apply", "same-order"),
    ("topup.after_apply", "310402"),  # the aggregator refuses the repeated id: totals by query
])
def test_a_crash_around_esim_topup_adds_the_data_once(
    after_sale_settings: Settings, after_sale_mailbox: Mailbox, crash_at: str, duplicate_mode: str
) -> None:
    import httpx

    settings = after_sale_settings
    write_offers(settings.catalog_path)
    httpx.post(f"{settings.esimaccess_url}/_sandbox/config",
               json={"duplicate_mode": duplicate_mode}).raise_for_status()
    esim = delivered_order(settings)
    topup = paid_topup(esim)
    store_orders(settings.orders_db, topup, enqueue=("apply_topup",))

    crashed = start(settings, crash_at)
    assert crashed.wait(30) == 137
    worker = start(settings, None)
    try:
        store = OrderStore.open(settings.orders_db)
        deadline = time.monotonic() + 30
        while (done := store.get(topup.id)) is None or done.email_sent_at is None:
            assert time.monotonic() < deadline, done
            time.sleep(0.05)
        time.sleep(0.3)  # room for a second e-mail, were one on its way
        store.close()
    finally:
        worker.terminate()
        worker.wait(10)

    assert done.status == "applied"
    profiles = httpx.get(f"{settings.esimaccess_url}/_sandbox/profiles").json()["profiles"]
    [profile] = [p for p in profiles if p["esimTranNo"] == esim.profile.esim_tran_no]  # type: ignore[union-attr]
    assert profile["totalVolume"] == 11 * GB and len(profile["packageList"]) == 2
    reread = OrderStore.open(settings.orders_db)
    assert reread.get(esim.id).profile.total_bytes == 11 * GB  # type: ignore[union-attr]
    reread.close()
    assert len(after_sale_mailbox.messages) == 1

"""kill -9 at any moment: the store stays readable and holds every acknowledged order (on both
backends: the embedded files and PostgreSQL)."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tinydb import TinyDB

from worker.orders.postgres import PgOrderStore
from worker.orders.store import AtomicJSONStorage, OrderStore

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["embedded", "postgresql"])
def test_killing_the_writer_repeatedly_loses_no_acknowledged_order(
        tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> None:
    path = tmp_path / "orders.json"
    orders_db = str(path) if backend == "embedded" else request.getfixturevalue("pg_url")
    created: set[str] = set()
    archived: set[str] = set()
    rng = random.Random(4)
    for round_ in range(12 if backend == "embedded" else 4):
        writer = subprocess.Popen(
            [sys.executable, str(HERE / "store_writer.py"), orders_db, str(round_ * 50_000)],
            cwd=ROOT, stdout=subprocess.PIPE, text=True,
        )
        assert writer.stdout is not None
        # Wait until it writes, then kill it at a random moment while it keeps writing.
        first = writer.stdout.readline()
        assert first.startswith("created "), first
        time.sleep(rng.uniform(0.05, 0.4))
        writer.send_signal(signal.SIGKILL)
        lines = [first] + writer.stdout.read().splitlines()
        writer.wait()
        for line in lines:
            event, _, order_id = line.strip().partition(" ")
            (created if event == "created" else archived).add(order_id)

        if backend == "embedded":
            store = OrderStore.open(path)  # readable after every kill
            TinyDB(path, storage=AtomicJSONStorage).table("orders").all()
        else:
            store = PgOrderStore.open(orders_db)
        missing = [i for i in created if store.get(i) is None]
        assert missing == [], f"round {round_}: acknowledged orders lost: {missing[:5]}"
        not_failed = [i for i in archived if store.get(i).status != "payment_failed"]  # type: ignore[union-attr]
        assert not_failed == []
        store.close()
    assert len(created) > 30 and len(archived) > 5

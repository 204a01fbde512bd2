"""`invoke migrate` and `invoke migrate-store`: the schema applied once, an embedded store copied
into PostgreSQL with every order and job, verified, and never over an existing one."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from store_helpers import delivered_order, make_order

from worker.chat.threads import ChatStore
from worker.console.accounts import Accounts
from worker.console.claims import Claims
from worker.orders.model import Order
from worker.orders.postgres import PgOrderStore, migrate
from worker.orders.store import OrderStore
from worker.orders.to_postgres import MigrationRefused, copy_store, differences

ROOT = Path(__file__).resolve().parents[3]


def test_migrations_run_once_each_and_are_recorded(postgres_server: Any) -> None:
    url = postgres_server.new_database("fresh_schema")

    assert migrate(url) == ["0001_orders_and_jobs.sql", "0002_marks.sql", "0003_documents.sql",
                            "0004_limit_counts.sql"]
    assert migrate(url) == []
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT name FROM schema_migrations ORDER BY name").fetchall() == [
            ("0001_orders_and_jobs.sql",), ("0002_marks.sql",), ("0003_documents.sql",),
            ("0004_limit_counts.sql",)]


def embedded_store(path: Path) -> OrderStore:
    """Two live orders (one with a retried job), one finished and archived."""
    store = OrderStore.open(path)

    async def fill() -> None:
        await store.create(make_order(1))
        await store.create(make_order(2, email="Другой@Example.kz"))
        await store.create(delivered_order())
        await store.enqueue(make_order(2).id, "provision")
        [job] = store.jobs()
        await store.retry_job(job.id, 60, "TimeoutError: aggregator")

        def archived(order: Order) -> None:
            order.log("note", "after delivery")

        await store.update(delivered_order().id, archived)

    asyncio.run(fill())
    return store


def test_an_embedded_store_is_copied_and_verified(tmp_path: Path, pg_url: str) -> None:
    path = tmp_path / "var" / "orders.json"
    source = embedded_store(path)

    copied = copy_store(path, pg_url, say=lambda line: None)

    assert (copied.orders, copied.jobs) == (3, 1)
    target = PgOrderStore.open(pg_url)
    for order in source.search(lambda o: True):
        assert target.get(order.id) == order
    assert [o.id for o in target.by_email("другой@example.kz")] == [make_order(2).id]
    assert sorted(o.id for o in target.live_orders()) == sorted(o.id for o in source.live_orders())
    [job] = target.jobs()
    assert (job.kind, job.attempts, job.last_error) == ("provision", 1, "TimeoutError: aggregator")
    with psycopg.connect(pg_url, autocommit=True) as conn:  # a row damaged after the copy
        conn.execute("UPDATE orders SET data = jsonb_set(data, '{amount}', '1') WHERE id = %s",
                     (make_order(1).id,))
    assert differences(source, target) == [f"order {make_order(1).id}: checksum differs"]
    asyncio.run(target.retry_job(target.jobs()[0].id, 60, "again"))  # and a job changed
    assert differences(source, target)[-1] == "jobs: 1 in the source, 1 copied or changed"
    asyncio.run(target.enqueue(make_order(1).id, "provision"))  # the job ids go on after the copy
    assert len(target.jobs()) == 2
    target.close()


def test_the_support_desks_chat_operators_and_claims_are_copied_and_verified(
        tmp_path: Path, pg_url: str) -> None:
    path = tmp_path / "var" / "orders.json"
    source = embedded_store(path)
    chat = ChatStore(source.document("chat"), source.files("chat-files"))
    thread, key = chat.open_thread("ru", "Не подключается", "buyer@example.kz", None)
    shot = chat.add_screenshot(thread.id, b"\x89PNG screen", "png").screenshot
    accounts = Accounts(source.document("operators"))
    accounts.set_password(accounts.add("aigerim@qazaq-esim.com", "Aigerim")[0], "correct horse battery")
    claim = Claims(source.document("claims")).open(
        summary="refund please", received_on=date(2026, 12, 1), operator="Aigerim",
        thread_id=thread.id, order_id=None)

    copy_store(path, pg_url, say=lambda line: None)

    target = PgOrderStore.open(pg_url)
    copied = ChatStore(target.document("chat"), target.files("chat-files"))
    assert copied.by_key(key).messages[0].text == "Не подключается"  # type: ignore[union-attr]
    assert copied.screenshot(str(shot)) == b"\x89PNG screen"
    assert Accounts(target.document("operators")).verify(
        "aigerim@qazaq-esim.com", "correct horse battery") is not None
    assert Claims(target.document("claims")).get(claim.id) == claim
    assert differences(source, target) == []
    Claims(target.document("claims")).resolve(claim.id, "refunded", "Aigerim")
    target.files("chat-files").put(str(shot), b"other")
    assert differences(source, target) == ["document claims: differs", f"screenshot {shot}: differs"]
    target.close()


def test_a_database_with_orders_is_refused(tmp_path: Path, pg_url: str) -> None:
    path = tmp_path / "var" / "orders.json"
    embedded_store(path)
    copy_store(path, pg_url, say=lambda line: None)

    with pytest.raises(MigrationRefused, match="already holds orders"):
        copy_store(path, pg_url, say=lambda line: None)
    with pytest.raises(MigrationRefused, match="no order store"):
        copy_store(tmp_path / "nothing.json", pg_url, say=lambda line: None)
    with pytest.raises(MigrationRefused, match=r"/no_such_db cannot be used .*check --to"):
        copy_store(path, pg_url.rsplit("/", 1)[0] + "/no_such_db", say=lambda line: None)


def test_a_copy_that_does_not_verify_is_refused(
        tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "var" / "orders.json"
    embedded_store(path)
    monkeypatch.setattr("worker.orders.to_postgres.differences",
                        lambda source, target: ["order 1000000001: checksum differs"])

    with pytest.raises(MigrationRefused, match="1000000001: checksum differs. Drop the"):
        copy_store(path, pg_url, say=lambda line: None)


def test_the_invoke_tasks_copy_and_refuse(tmp_path: Path, pg_url: str) -> None:
    path = tmp_path / "var" / "orders.json"
    embedded_store(path)
    invoke = [sys.executable, "-m", "invoke"]

    done = subprocess.run([*invoke, "migrate-store", "--from", str(path), "--to", pg_url],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    again = subprocess.run([*invoke, "migrate-store", "--from", str(path), "--to", pg_url],
                           cwd=ROOT, capture_output=True, text=True, check=False)
    schema = subprocess.run([*invoke, "migrate", "--db", pg_url], cwd=ROOT, capture_output=True,
                            text=True, check=False)
    backup = subprocess.run([*invoke, "backup", "--to", str(tmp_path / "backup")], cwd=ROOT,
                            capture_output=True, text=True, check=False,
                            env={**os.environ, "ORDERS_DB": pg_url})

    assert done.returncode == 0, done.stderr
    assert "verified: 3 orders, 1 jobs, every checksum equal" in done.stdout
    assert again.returncode == 1 and "already holds orders" in again.stderr
    assert schema.stdout.strip() == "the schema is up to date"
    assert backup.returncode == 1 and "its backups are pg_dump's" in backup.stderr  # not files

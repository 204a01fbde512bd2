"""Shared fixtures: worker settings (environment set before anything imports the worker),
a temporary order store, a small catalogue, servers on free loopback ports, the Epay sandbox."""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The worker reads its settings from the environment; set them before the first import of
# worker.config. Tests that need other values build Settings with dataclasses.replace().
from worker_env import TEST_CATALOG, TEST_ENV

for _name, _value in TEST_ENV.items():
    os.environ[_name] = _value
# A crash switch left in the shell must not kill the tests.
os.environ.pop("QAZAQ_CRASH_AT", None)

from loopback import ServerThread

from worker.config import Settings, load_settings


@pytest.fixture
def catalog_path(tmp_path: Path) -> Path:
    """A small valid catalogue: TR-10GB-30D for 4990 KZT, EU-UNL-7D for 12900 KZT."""
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(TEST_CATALOG, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def settings(tmp_path: Path, catalog_path: Path) -> Settings:
    """Settings from TEST_ENV with a fresh order store and the small catalogue."""
    empty_env = tmp_path / "empty.env"
    empty_env.write_text("")
    return replace(
        load_settings(env_file=empty_env),
        orders_db=tmp_path / "var" / "orders.json",
        catalog_path=catalog_path,
        reconcile_interval=3600.0,
    )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    """A real PostgreSQL (scripts/local_postgres.py) for the run, with a migrated template."""
    from scripts.local_postgres import LocalPostgres
    from worker.orders.postgres import migrate

    with LocalPostgres() as server:
        migrate(server.new_database("migrated"))
        yield server


@pytest.fixture
def pg_url(postgres_server: Any) -> str:
    """A fresh database with the store's schema (a copy of the migrated template)."""
    import psycopg

    name = f"t{next(_DATABASES)}"
    with psycopg.connect(postgres_server.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE migrated")
    return str(postgres_server.url.rsplit("/", 1)[0] + "/" + name)


_DATABASES = itertools.count(1)


@pytest.fixture(params=["embedded", "postgresql"])
def store_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Any]]:
    """Opens the order store on each backend: the embedded files or a fresh PostgreSQL
    database. Every call is another process's view of the same store."""
    from worker.orders.postgres import PgOrderStore
    from worker.orders.store import OrderStore

    opened: list[Any] = []
    if request.param == "embedded":
        path = tmp_path / "var" / "orders.json"

        def open_store() -> Any:
            opened.append(OrderStore.open(path))
            return opened[-1]
    else:
        url = request.getfixturevalue("pg_url")

        def open_store() -> Any:
            opened.append(PgOrderStore.open(url))
            return opened[-1]

    yield open_store
    for store in opened:
        store.close()


@pytest.fixture(scope="session")
def epay_sandbox_server() -> Iterator[str]:
    """The Epay sandbox (sandboxes/epay) on a free port, once per run."""
    from sandboxes.epay import create_app

    with ServerThread(create_app()) as server:
        yield server.url


@pytest.fixture
def epay_sandbox(epay_sandbox_server: str) -> str:
    """The Epay sandbox's URL, reset (switches, tokens, transactions) for this test."""
    import httpx

    assert httpx.post(f"{epay_sandbox_server}/_sandbox/reset").status_code == 200
    return epay_sandbox_server


CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, per test module. Playwright's sync API keeps an asyncio
    loop running in the main thread while it lives: a second `sync_playwright()` fails
    ("Sync API inside the asyncio loop") and so does every later `asyncio.run()`. Hence one
    fixture for every browser test, closed when its module ends."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()

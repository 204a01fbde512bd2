"""Issue 14 on PostgreSQL: the limits count in the database, so two API hosts on one store
share each count and a restart forgets none (the embedded store keeps them in a file)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from loopback import ServerThread

from worker.app import create_app
from worker.config import Settings
from worker.orders.postgres import PgOrderStore
from worker.rate_limits import RateLimits, SharedStorage

SIGN_IN = "/api/account/sign-in-link"


def _host(settings: Settings, pg_url: str, folder: Path) -> ServerThread:
    return ServerThread(create_app(replace(
        settings, orders_url=pg_url, sign_in_rate_limit="2/minute",
        orders_db=folder / "orders.json"), handlers={}))


def test_two_hosts_and_a_restart_share_the_sign_in_limit(
        settings: Settings, pg_url: str, tmp_path: Path) -> None:
    def ask(server: ServerThread) -> int:
        with httpx.Client(base_url=server.url, timeout=15) as client:
            return client.post(SIGN_IN, json={"email": "a@example.kz"}).status_code

    with _host(settings, pg_url, tmp_path / "one") as one, \
            _host(settings, pg_url, tmp_path / "two") as two:
        answers = [ask(one), ask(two), ask(one), ask(two)]
    with _host(settings, pg_url, tmp_path / "three") as restarted:
        after_restart = ask(restarted)

    assert answers == [202, 202, 429, 429]
    assert after_restart == 429
    assert not (tmp_path / "one" / "orders.limits.json").exists()  # nothing kept per process


@pytest.fixture
def store(pg_url: str) -> Iterator[PgOrderStore]:
    store = PgOrderStore.open(pg_url)
    yield store
    store.close()


def test_a_shared_count_starts_again_when_its_window_ends(store: PgOrderStore) -> None:
    storage = SharedStorage(store)

    assert [storage.incr("k", 1), storage.incr("k", 1, amount=2)] == [1, 3]
    assert storage.get("k") == 3 and storage.get("other") == 0
    assert time.time() < storage.get_expiry("k") <= time.time() + 1
    time.sleep(1.1)
    assert storage.get("k") == 0 and storage.get_expiry("k") <= time.time() + 0.01
    assert storage.incr("k", 60) == 1  # a fresh window


def test_clear_and_reset_forget_shared_counts(store: PgOrderStore, tmp_path: Path) -> None:
    limits = RateLimits.open(tmp_path / "orders.json", {"a": "1/minute"}, shared=store)
    assert isinstance(limits.storage, SharedStorage) and limits.storage.check()
    assert limits.storage.base_exceptions is OSError  # what `limits` treats as the storage's

    assert limits.hit(("a", "x")) is None
    assert limits.hit(("a", "y")) is None
    assert limits.hit(("a", "x")) is not None
    limits.limiter.clear(limits.rules["a"][0], "a", "x")
    assert limits.hit(("a", "x")) is None
    limits.storage.reset()
    assert limits.hit(("a", "x")) is None and limits.hit(("a", "y")) is None


def test_a_request_over_one_window_counts_in_none(store: PgOrderStore, tmp_path: Path) -> None:
    """As the file-backed limits do: a refused request uses up nothing, and Retry-After is
    when the used-up window ends."""
    limits = RateLimits.open(tmp_path / "orders.json",
                             {"address": "2/minute;3/hour", "total": "100/minute"}, shared=store)
    per_minute, per_hour = limits.rules["address"]
    total = limits.rules["total"][0]
    checks = (("address", "10.0.0.1"), ("total", "all"))

    answers = [limits.hit(*checks) for _ in range(3)]

    assert answers[:2] == [None, None]
    assert answers[2] is not None and 1 <= answers[2] <= 60
    assert limits.storage.get(per_minute.key_for("address", "10.0.0.1")) == 2
    assert limits.storage.get(per_hour.key_for("address", "10.0.0.1")) == 2  # not 3
    assert limits.storage.get(total.key_for("total", "all")) == 2
    assert limits.hit(("address", "10.0.0.2"), ("total", "all")) is None  # another address
    assert limits.storage.get(total.key_for("total", "all")) == 3

"""The limits' file storage: windows expire, counts survive a reopen, the file stays small."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest

from worker.rate_limits import FileStorage, RateLimits


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_used_up_window_says_how_long_to_wait_and_frees_when_it_ends(tmp_path: Path) -> None:
    clock = Clock()
    limits = RateLimits(FileStorage(tmp_path / "l.json", clock), {"a": "2/minute"})

    assert limits.hit(("a", "x")) is None
    assert limits.hit(("a", "x")) is None
    assert limits.hit(("a", "x")) == 60
    assert limits.hit(("a", "y")) is None  # another client has its own count
    clock.now += 45
    assert limits.hit(("a", "x")) == 15
    clock.now += 15
    assert limits.hit(("a", "x")) is None


def test_counts_survive_a_reopen_and_expired_ones_are_dropped(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "orders.limits.json"
    storage = FileStorage(path, clock)
    storage.incr("old", 10)
    storage.incr("kept", 3600, amount=3)
    clock.now += 20
    storage.flush()

    reopened = FileStorage(path, clock)

    assert set(json.loads(path.read_text())) == {"kept"}
    assert (reopened.get("kept"), reopened.get("old")) == (3, 0)
    assert reopened.get_expiry("kept") == 1_000_000.0 + 3600
    assert reopened.get_expiry("old") == clock.now
    assert reopened.check() and reopened.base_exceptions is OSError
    reopened.clear("kept")
    assert reopened.get("kept") == 0
    reopened.incr("a", 5)
    assert reopened.reset() == 1 and reopened.counters == {}


def test_background_writes_are_coalesced_and_a_failed_one_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(path: Path) -> None:
        storage = FileStorage(path)
        storage.incr("k", 60)
        storage.flush_soon()
        storage.flush_soon()  # while the first write runs: one more write after it, not two
        storage.incr("k", 60)
        await storage.close()

    asyncio.run(scenario(tmp_path / "orders.limits.json"))
    assert json.loads((tmp_path / "orders.limits.json").read_text())["k"][0] == 2

    with caplog.at_level(logging.ERROR):
        asyncio.run(scenario(tmp_path / "gone" / "orders.limits.json"))
    assert "could not be written" in caplog.text

"""The write batches of the PostgreSQL store (worker/orders/write_batches.py), with a recording
``write`` in place of the database (unit tests; the store's own tests run the real thing)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest

from worker.orders.write_batches import WriteBatches


class Recorder:
    """A ``write`` that records its batches; ``gate`` holds each write until it is set."""

    def __init__(self, answer: Callable[[str], Any] = str.upper) -> None:
        self.batches: list[list[str]] = []
        self.writing: set[str] = set()
        self.overlaps: list[str] = []
        self.gate = threading.Event()
        self.gate.set()
        self.answer = answer
        self._lock = threading.Lock()

    def write(self, items: list[str]) -> list[Any]:
        with self._lock:
            self.batches.append(list(items))
            keys = {i.split(":")[0] for i in items}
            self.overlaps += sorted(keys & self.writing)
            self.writing |= keys
        self.gate.wait(5)
        with self._lock:
            self.writing -= {i.split(":")[0] for i in items}
        return [self.answer(i) for i in items]


def batches_for(recorder: Recorder, **options: Any) -> WriteBatches[str, Any]:
    return WriteBatches(recorder.write, asyncio.to_thread, key=lambda i: i.split(":")[0],
                        **options)


def test_a_lone_write_goes_at_once_and_a_burst_goes_in_a_few_batches() -> None:
    recorder = Recorder()

    async def scenario() -> tuple[str, list[str]]:
        batches = batches_for(recorder)
        lone = await batches.submit("a")
        return lone, await asyncio.gather(*(batches.submit(f"o{n}") for n in range(100)))

    lone, burst = asyncio.run(scenario())

    assert lone == "A" and recorder.batches[0] == ["a"]
    assert burst == [f"O{n}" for n in range(100)]  # each its own answer, in order
    assert len(recorder.batches) - 1 <= 3  # 100 writes, not 100 round trips
    assert sorted(sum(recorder.batches[1:], [])) == sorted(f"o{n}" for n in range(100))


def test_writes_to_one_key_never_share_a_batch_nor_run_at_once() -> None:
    recorder = Recorder()

    async def scenario() -> list[str]:
        batches = batches_for(recorder, in_flight=3)
        return await asyncio.gather(*(batches.submit(f"{key}:{n}")
                                      for n in range(10) for key in ("x", "y", "z")))

    answers = asyncio.run(scenario())

    assert answers == [f"{key}:{n}".upper() for n in range(10) for key in ("x", "y", "z")]
    for batch in recorder.batches:
        keys = [i.split(":")[0] for i in batch]
        assert len(keys) == len(set(keys)), batch
    assert recorder.overlaps == []
    # The writes to one key keep their order.
    assert [i for b in recorder.batches for i in b if i.startswith("x")] == \
        [f"x:{n}" for n in range(10)]


def test_each_write_gets_its_own_failure() -> None:
    def answer(item: str) -> Any:
        return ValueError(f"{item} refused") if item.startswith("bad") else item.upper()

    recorder = Recorder(answer)

    async def outcome(batches: WriteBatches[str, Any], item: str) -> str:
        try:
            return f"answered {await batches.submit(item)}"
        except ValueError as error:
            return f"raised {error}"

    async def scenario() -> list[str]:
        batches = batches_for(recorder)
        return await asyncio.gather(*(outcome(batches, i) for i in ("a", "bad1", "b", "bad2")))

    assert asyncio.run(scenario()) == ["answered A", "raised bad1 refused", "answered B",
                                       "raised bad2 refused"]


def test_a_failed_batch_fails_each_of_its_writes_and_the_next_batch_goes_on() -> None:
    calls: list[list[str]] = []

    def write(items: list[str]) -> list[Any]:
        calls.append(items)
        if len(calls) == 1:
            raise OSError("the database went away")
        return [i.upper() for i in items]

    async def scenario() -> tuple[list[Any], str]:
        batches: WriteBatches[str, Any] = WriteBatches(write, asyncio.to_thread, key=str)
        first = await asyncio.gather(batches.submit("a"), return_exceptions=True)
        return first, await batches.submit("b")

    first, then = asyncio.run(scenario())

    assert isinstance(first[0], OSError) and then == "B"


def test_a_writer_that_goes_away_does_not_stop_the_others() -> None:
    recorder = Recorder()
    recorder.gate.clear()

    async def scenario() -> list[Any]:
        batches = batches_for(recorder)
        gone = asyncio.ensure_future(batches.submit("gone"))
        stay = asyncio.ensure_future(batches.submit("stay"))
        await asyncio.sleep(0.05)
        gone.cancel()  # its client disconnected; its write is under way and completes
        recorder.gate.set()
        return await asyncio.gather(gone, stay, return_exceptions=True)

    gone, stay = asyncio.run(scenario())

    assert isinstance(gone, asyncio.CancelledError) and stay == "STAY"
    assert "gone" in sum(recorder.batches, [])  # written all the same


def test_stopping_the_worker_mid_write_cancels_the_waiting_writes() -> None:
    recorder = Recorder()
    recorder.gate.clear()

    async def scenario() -> Any:
        batches = batches_for(recorder)
        before = asyncio.all_tasks()
        waiting = asyncio.ensure_future(batches.submit("a"))
        await asyncio.sleep(0.05)
        (flusher,) = asyncio.all_tasks() - before - {waiting}
        flusher.cancel()
        try:
            return await asyncio.gather(waiting, return_exceptions=True)
        finally:
            recorder.gate.set()

    (result,) = asyncio.run(scenario())

    assert isinstance(result, asyncio.CancelledError)


@pytest.mark.parametrize("size", [1, 7])
def test_a_batch_holds_at_most_size_writes(size: int) -> None:
    recorder = Recorder()

    async def scenario() -> None:
        batches = batches_for(recorder, size=size)
        await asyncio.gather(*(batches.submit(f"o{n}") for n in range(20)))

    asyncio.run(scenario())

    assert max(len(b) for b in recorder.batches) <= size
    assert sum(len(b) for b in recorder.batches) == 20

"""Concurrent writes gathered into one database round trip (the PostgreSQL store, issue 13).

On PostgreSQL a write's cost is mostly per statement, not per row: about 0.1 ms of driver work
in this process for each statement, and a parse, a plan and a commit in the server. Under a
burst of postLinks those per-statement costs filled the machine's cores. So while a batch is
being written, the writes that arrive meanwhile queue up and go together in the next one: a
lone write goes at once (a batch of one), a burst of 100 in a few batches.

At most one write per key (an order) is in the batches being written, so no batch changes an
order twice and two batches never race for one order; the next write to it waits for the
following batch. Each write gets its own result or its own exception.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")
Entry = tuple[Item, "asyncio.Future[Result]"]


class WriteBatches(Generic[Item, Result]):
    """``await submit(item)`` returns what ``write(batch)`` gave for the item (or raises its
    exception). ``write`` gets a list of items with distinct keys and returns, in the same
    order, a result or an exception for each; ``run`` runs it off the event loop."""

    def __init__(
        self,
        write: Callable[[list[Item]], list[Result | Exception]],
        run: Callable[[Callable[[], list[Result | Exception]]], Awaitable[list[Result | Exception]]],
        key: Callable[[Item], Hashable],
        in_flight: int = 2,
        size: int = 100,
    ) -> None:
        self.write = write
        self.run = run
        self.key = key
        self.in_flight = in_flight  # batches written at once: one waits on the disk, one fills
        self.size = size
        self._queue: deque[Entry[Item, Result]] = deque()
        self._writing: set[Hashable] = set()  # keys in the batches being written
        self._flushers = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(self, item: Item) -> Result:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Result] = loop.create_future()
        self._queue.append((item, future))
        if self._flushers < self.in_flight:
            self._flushers += 1
            task = loop.create_task(self._flush())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    def _take(self) -> list[Entry[Item, Result]]:
        """The next batch: queued items in order, one per key, none whose key is being written."""
        batch: list[Entry[Item, Result]] = []
        later: list[Entry[Item, Result]] = []
        while self._queue and len(batch) < self.size:
            entry = self._queue.popleft()
            key = self.key(entry[0])
            if key in self._writing:
                later.append(entry)
            else:
                self._writing.add(key)
                batch.append(entry)
        self._queue.extendleft(reversed(later))
        return batch

    async def _flush(self) -> None:
        try:
            while batch := self._take():
                try:
                    results = await self.run(lambda: self.write([item for item, _ in batch]))
                except Exception as error:  # noqa: BLE001 - every write of the batch failed
                    results = [error] * len(batch)
                except BaseException:  # cancelled (the worker stops): nobody waits forever
                    for _, future in batch:
                        future.cancel()
                    raise
                finally:
                    self._writing.difference_update(self.key(item) for item, _ in batch)
                for (_, future), result in zip(batch, results, strict=True):
                    if future.done():  # its request was cancelled (the client went away)
                        continue
                    if isinstance(result, Exception):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self._flushers -= 1

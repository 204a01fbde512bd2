"""The live set: unfinished orders and pending jobs, as a TinyDB checkpoint plus a journal.

- ``orders.json``: a TinyDB database (tables ``orders``, ``jobs``, ``meta``): a checkpoint of
  the orders that are not finished and of every pending job. Rewritten atomically (temp
  file, fsync, rename, fsync of the folder) when the journal has grown past it.
- ``orders.journal.jsonl``: one line per write since that checkpoint, holding only what
  changed (orders, jobs), numbered by ``seq``; appended and fsynced. So a write costs the
  size of the change, not of the live set, and never of the order history.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from worker.crashpoints import crashpoint
from worker.orders.durable import AtomicJSONStorage, append, signature
from worker.orders.records import Record, line

Indexer = Callable[[Record], None]


class LiveSet:
    """The checkpoint and journal files and the live orders and jobs they hold together."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.journal_path = path.with_name(f"{path.stem}.journal.jsonl")
        self.storage = AtomicJSONStorage(path)
        self.orders: dict[str, Record] = {}
        self.jobs: dict[int, Record] = {}
        self.next_job_id = 1
        self.seq = 0  # of the last journal entry applied
        self.journal_end = 0
        self.checkpoint_size = 0
        self.sig: tuple[int, int, int] | None = None  # of the checkpoint loaded

    def create(self) -> None:
        """An empty checkpoint, if there is none yet."""
        if not self.path.exists():
            self.storage.write({"orders": {}, "jobs": {}, "meta": {}})

    def refresh(self, index: Indexer) -> None:
        """Catch up with the writes of other processes (the journal, or a new checkpoint)."""
        sig = signature(self.path)
        if sig != self.sig or not self._read_journal(index):
            self._load_checkpoint(sig, index)
            if not self._read_journal(index):
                # Checkpointed again between our two reads: this one is consistent.
                self._load_checkpoint(signature(self.path), index)
                self._read_journal(index)

    def journal(
        self, orders: dict[str, Record | None], jobs: dict[int, Record | None], next_job_id: int
    ) -> tuple[int, int]:
        """Append one write's changes (None = left the live set / deleted) and fsync.
        Returns its seq and the journal's new end, for the caller to apply."""
        seq = self.seq + 1
        entry = {"seq": seq, "orders": orders, "jobs": {str(k): v for k, v in jobs.items()},
                 "next_job_id": next_job_id}
        return seq, append(self.journal_path, line(entry), "store.journal_appended")

    def checkpoint(
        self, live: dict[str, Record], jobs: dict[int, Record], next_job_id: int, seq: int
    ) -> None:
        """Write the whole live set to the TinyDB file, then empty the journal it includes.
        The caller then calls ``checkpointed`` (under its memory lock)."""
        self.storage.write(
            {
                "orders": {r["id"]: r for r in live.values()},
                "jobs": {str(j["id"]): j for j in jobs.values()},
                "meta": {"1": {"next_job_id": next_job_id, "seq": seq}},
            }
        )
        self.checkpoint_size = self.path.stat().st_size
        crashpoint("store.checkpointed")
        # A crash here leaves journal lines the checkpoint already holds: their seq says so.
        try:
            with open(self.journal_path, "rb+") as f:
                f.truncate(0)
                os.fsync(f.fileno())
        except FileNotFoundError:  # nothing journaled yet (e.g. only archive writes so far)
            pass

    def checkpointed(self) -> None:
        self.journal_end = 0
        self.sig = signature(self.path)

    def _load_checkpoint(self, sig: tuple[int, int, int] | None, index: Indexer) -> None:
        data = self.storage.read() or {}
        self.orders = {str(r["id"]): r for r in data.get("orders", {}).values()}
        self.jobs = {int(j["id"]): j for j in data.get("jobs", {}).values()}
        meta = data.get("meta", {}).get("1", {})
        self.next_job_id = int(meta.get("next_job_id", 1))
        self.seq = int(meta.get("seq", 0))
        self.journal_end = 0
        self.checkpoint_size = sig[2] if sig else 0
        for record in self.orders.values():
            index(record)
        self.sig = sig

    def _read_journal(self, index: Indexer) -> bool:
        """Apply the journal lines written since we last looked. False: it does not follow
        what we hold (a checkpoint emptied it meanwhile); reload from the checkpoint."""
        try:
            size = os.path.getsize(self.journal_path)
        except FileNotFoundError:
            return self.journal_end == 0
        if size < self.journal_end:
            return False
        if size == self.journal_end:
            return True
        offset = self.journal_end
        with open(self.journal_path, "rb") as f:
            f.seek(offset)
            for raw in f:
                if not raw.endswith(b"\n"):
                    break  # being written: not acknowledged yet
                try:
                    entry = json.loads(raw)
                    seq = int(entry["seq"])
                except (ValueError, KeyError, TypeError):
                    return False  # read from a stale offset into a rewritten journal
                if seq > self.seq + 1:
                    return False
                if seq == self.seq + 1:
                    self._apply(entry, index)
                    self.seq = seq
                offset += len(raw)
        self.journal_end = offset
        return True

    def _apply(self, entry: dict[str, Any], index: Indexer) -> None:
        for order_id, record in entry["orders"].items():
            if record is None:
                self.orders.pop(order_id, None)
            else:
                self.orders[order_id] = record
                index(record)
        for job_id, job in entry["jobs"].items():
            if job is None:
                self.jobs.pop(int(job_id), None)
            else:
                self.jobs[int(job_id)] = job
        self.next_job_id = max(self.next_job_id, int(entry["next_job_id"]))

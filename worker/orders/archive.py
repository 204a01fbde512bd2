"""The archive of finished orders (``orders.archive.jsonl``) and the indexes over every order.

One JSON object per line, appended and fsynced. An archived order can still change (a
refund, a usage refresh): the new version is appended or the order moves back to the live
set; the highest ``_rev`` wins. In memory only where each order's line sits is kept.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Iterator
from pathlib import Path

from worker.atomic_file import replace_atomically
from worker.orders.durable import append
from worker.orders.model import Order
from worker.orders.records import Record, email_key, line

Place = tuple[int, int, int]  # offset, length, _rev


class Index:
    """Every order (live and archived) by token, by the last six digits of its id, by e-mail."""

    def __init__(self) -> None:
        self.tokens: dict[str, str] = {}  # token -> id
        self.suffixes: set[str] = set()
        # email_key -> "id,id": plain strings, which the garbage collector never has to scan
        self.emails: dict[str, str] = {}

    def add(self, record: Record) -> None:
        order_id = record["id"]
        self.tokens[record["token"]] = order_id
        self.suffixes.add(order_id[-6:])
        if record.get("email"):
            key = email_key(record["email"])
            ids = self.emails.get(key)
            if ids is None:
                self.emails[key] = order_id
            elif order_id not in ids.split(","):
                self.emails[key] = f"{ids},{order_id}"


class Archive:
    """The archive file and where each order's current version sits in it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where: dict[str, Place] = {}  # id -> place of the highest _rev
        self.end = 0  # of the lines read
        self.ino: int | None = None  # compact() replaces the file

    def read_tail(self, index: Index) -> None:
        """Read the lines appended since we last looked (all of them if the file is new)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return
        if st.st_ino != self.ino:  # new, or compacted by some process: read it all
            self.where, self.end, self.ino = {}, 0, st.st_ino
        if st.st_size <= self.end:
            return
        offset = self.end
        with open(self.path, "rb") as f:
            f.seek(offset)
            for raw in f:  # line by line: the archive may be hundreds of MB
                if not raw.endswith(b"\n"):
                    break  # a write in progress (or torn by a crash): not acknowledged yet
                record = json.loads(raw)
                known = self.where.get(record["id"])
                if known is None or known[2] <= record["_rev"]:
                    self.where[record["id"]] = (offset, len(raw), record["_rev"])
                index.add(record)
                offset += len(raw)
        self.end = offset

    def record(self, order_id: str) -> Record | None:
        where = self.where.get(order_id)
        if where is None:
            return None
        offset, length, _ = where
        with open(self.path, "rb") as f:
            f.seek(offset)
            record: Record = json.loads(f.read(length))
        return record

    def orders(self, skip: Collection[str]) -> Iterator[Order]:
        """Every archived order but those in ``skip``, in one pass in file order."""
        where = sorted(w for i, w in list(self.where.items()) if i not in skip)
        if not where:
            return
        with open(self.path, "rb") as f:  # not a seek per order from the start
            for offset, length, _ in where:
                f.seek(offset)
                yield Order.from_dict(json.loads(f.read(length)))

    def append(self, records: list[Record]) -> list[tuple[str, Place]]:
        """Append and fsync; return where each record went (``placed`` makes it known)."""
        lines = [line(r) for r in records]
        chunk = b"".join(lines)
        offset = append(self.path, chunk, "store.archive_appended") - len(chunk)
        if offset == 0:  # we created it: no need to read it again as "a new file"
            self.ino = os.stat(self.path).st_ino
        places: list[tuple[str, Place]] = []
        for record, raw in zip(records, lines):
            places.append((record["id"], (offset, len(raw), record["_rev"])))
            offset += len(raw)
        return places

    def placed(self, places: list[tuple[str, Place]]) -> None:
        for order_id, place in places:
            self.where[order_id] = place
        if places:
            offset, length, _ = places[-1][1]
            self.end = max(self.end, offset + length)

    def compact(self, live: Collection[str], index: Index) -> int:
        """Rewrite the file with only the current version of each order not in ``live``.
        Returns the number of orders kept."""
        current = [w for i, w in self.where.items() if i not in live]
        with open(self.path, "rb") as f:
            lines = []
            for offset, length, _ in sorted(current):
                f.seek(offset)
                lines.append(f.read(length))
        replace_atomically(self.path, b"".join(lines))
        self.read_tail(index)
        return len(lines)

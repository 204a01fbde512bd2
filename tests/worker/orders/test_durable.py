"""The store's durable file operations (worker/orders/durable.py) on real files: a failed
append leaves no partial line, a torn line is cut however long it is, the writer lock is
released when taking it fails."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import pytest

from worker.orders import durable
from worker.orders.durable import AtomicJSONStorage, WriterLock, append, cut_torn_line, signature


def test_a_failed_append_takes_its_partial_line_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    journal = tmp_path / "orders.journal.jsonl"
    append(journal, b'{"n":1}\n', "test.append")
    real_write = os.write

    def disk_full(fd: int, data: bytes) -> int:
        real_write(fd, data[: len(data) // 2])  # half of it reached the file
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(durable.os, "write", disk_full)
    with pytest.raises(OSError, match="No space left"):
        append(journal, b'{"n":2}\n', "test.append")
    monkeypatch.undo()

    assert journal.read_bytes() == b'{"n":1}\n'
    append(journal, b'{"n":3}\n', "test.append")  # the next one is not glued to a half line
    assert journal.read_bytes().splitlines() == [b'{"n":1}', b'{"n":3}']


def test_a_torn_line_longer_than_a_read_is_cut(tmp_path: Path) -> None:
    journal = tmp_path / "orders.journal.jsonl"
    journal.write_bytes(b'{"n":1}\n' + b"x" * 200_000)  # a crash in a long append

    cut_torn_line(journal)

    assert journal.read_bytes() == b'{"n":1}\n'
    journal.write_bytes(b"y" * 100_000)  # not one whole line
    cut_torn_line(journal)
    assert journal.read_bytes() == b""


def test_a_missing_file_has_no_signature_and_no_data(tmp_path: Path) -> None:
    assert signature(tmp_path / "orders.json") is None
    assert AtomicJSONStorage(tmp_path / "orders.json").read() is None
    cut_torn_line(tmp_path / "orders.journal.jsonl")  # nothing to cut, nothing created
    assert list(tmp_path.iterdir()) == []


def test_the_writer_lock_is_released_when_the_file_lock_fails() -> None:
    local = threading.Lock()
    lock = WriterLock(999_999, local)  # no such file descriptor: flock fails

    with pytest.raises(OSError), lock:
        pass

    assert not local.locked()  # the next writer in this process is not blocked forever

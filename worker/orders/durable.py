"""Durable file operations of the order store: atomic replace, fsynced append, writer and runner locks."""

from __future__ import annotations

import fcntl
import json
import os
import threading
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from worker.atomic_file import fsync_dir, replace_atomically
from worker.crashpoints import crashpoint


class AtomicJSONStorage(Storage):
    """TinyDB storage that replaces the file atomically and durably on every write.

    Also usable on its own: ``TinyDB(path, storage=AtomicJSONStorage)`` opens the live file.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def read(self) -> dict[str, dict[str, Any]] | None:
        try:
            with open(self.path, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            return None
        return json.loads(raw) if raw.strip() else None

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        replace_atomically(self.path, raw)


def append(path: Path, data: bytes, crash_at: str) -> int:
    """Append ``data`` and fsync it; return the file's new size."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        before = os.fstat(fd).st_size
        try:
            os.write(fd, data)
            crashpoint(crash_at)
            os.fsync(fd)
        except OSError:
            # Disk full or the like: take the partial line back, or the next append would
            # be glued to it. The caller gets the error; nothing was acknowledged.
            os.ftruncate(fd, before)
            raise
        size = os.fstat(fd).st_size
    finally:
        os.close(fd)
    if size == len(data):  # a new file: make its name durable too
        fsync_dir(path.parent)
    return size


def cut_torn_line(path: Path) -> None:
    """Cut a torn last line (a crash in the middle of an append, never acknowledged)."""
    if not path.exists():
        return
    with open(path, "rb+") as f:
        size = end = f.seek(0, os.SEEK_END)
        while end > 0:
            step = min(end, 64 * 1024)
            f.seek(end - step)
            newline = f.read(step).rfind(b"\n")
            if newline >= 0:
                end = end - step + newline + 1
                break
            end -= step
        if end != size:
            f.truncate(end)
            f.flush()
            os.fsync(f.fileno())


def signature(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


class WriterLock:
    """The writer's lock: a thread lock within this process, then flock across processes
    (a flock does not exclude another thread using the same file descriptor)."""

    def __init__(self, fd: int, local: threading.Lock) -> None:
        self.fd = fd
        self.local = local

    def __enter__(self) -> None:
        self.local.acquire()
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except BaseException:
            self.local.release()
            raise

    def __exit__(self, *exc: object) -> None:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            self.local.release()


class RunnerLock:
    """The right to run a store's jobs: one process per store (a job must not run twice at once).

    A non-blocking ``flock`` on ``<stem>.runner.lock`` beside ORDERS_DB, held until ``release``
    or the process ends (a crash frees it, so a restarted worker takes over).
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd

    @classmethod
    def take(cls, store_path: Path) -> RunnerLock | None:
        """The lock, or None when another process (or another store on this path) holds it."""
        path = store_path.with_name(f"{store_path.stem}.runner.lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return cls(fd)

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = -1

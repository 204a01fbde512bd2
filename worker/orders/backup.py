"""Backups of everything the worker keeps: a consistent snapshot taken while it writes, and
a restore that checks the snapshot before it lays it down.

What is copied, from the folder of ORDERS_DB (``orders.json`` here): the live checkpoint
``orders.json``, its journal ``orders.journal.jsonl``, the archive ``orders.archive.jsonl``
(worker/orders/store.py), and the side files: the buyer accounts' registry ``accounts.json``
(worker/account/keys.py), the support chat ``chat.json`` with its screenshots in
``chat-files/`` (worker/chat/), the operators ``operators.json`` and the claims
``claims.json`` (worker/console/). Each side file is copied under its own ``flock``. Lock
files are not state: every process recreates them; nor are the rate-limit counters.

Consistency: the snapshot holds the store's writer ``flock`` (the one every write takes)
only long enough to copy the small journal and to open the checkpoint and the archive. The
checkpoint is only ever replaced by a rename, so the open file stays the one of that moment;
the archive only grows (or is replaced by a rename when compacted), so its first N bytes,
N read under the lock, are that moment's archive. The big copies then run without the lock,
and the worker keeps writing.

A backup folder ends with ``manifest.json`` (written last, by a rename): each file's size
and sha256, and the order count. ``restore`` checks all of it before it writes anything.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from worker.atomic_file import fsync_dir, replace_atomically
from worker.orders.archive import Archive, Index
from worker.orders.live import LiveSet

MANIFEST = "manifest.json"
FORMAT = 1
ACCOUNTS = "accounts.json"  # beside ORDERS_DB: worker/account/routes.py
# Beside ORDERS_DB too, each written under ``<stem>.lock``: the chat and the console.
SIDE_FILES = (ACCOUNTS, "chat.json", "operators.json", "claims.json")
SCREENSHOTS = "chat-files"  # worker/chat/screenshots.py, under chat.json's lock
CHUNK = 1024 * 1024

Say = Callable[[str], None]


class BackupError(RuntimeError):
    """The backup or restore was refused or failed; the message says why and what to do."""


@dataclass(frozen=True)
class StoreFiles:
    """The state files of the store whose live file is ``db`` (ORDERS_DB)."""

    db: Path

    @property
    def journal(self) -> Path:
        return self.db.with_name(f"{self.db.stem}.journal.jsonl")

    @property
    def archive(self) -> Path:
        return self.db.with_name(f"{self.db.stem}.archive.jsonl")

    @property
    def lock(self) -> Path:
        return self.db.with_name(f"{self.db.stem}.lock")

    def side_lock(self, name: str) -> Path:
        return self.db.with_name(name).with_suffix(".lock")


@dataclass(frozen=True)
class Summary:
    folder: Path
    orders: int
    bytes: int


class _Flock:
    """An exclusive flock on ``path`` (created if missing), as the store's writers take it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = -1

    def __enter__(self) -> None:
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)  # closing drops the lock


def _open(path: Path) -> BinaryIO | None:
    try:
        return open(path, "rb")
    except FileNotFoundError:
        return None


def _copy(source: BinaryIO, dest: Path, limit: int | None = None) -> dict[str, int | str]:
    """Copy up to ``limit`` bytes (all when None), fsync; return the size and sha256."""
    digest, size = hashlib.sha256(), 0
    with open(dest, "wb") as out:
        while limit is None or size < limit:
            chunk = source.read(CHUNK if limit is None else min(CHUNK, limit - size))
            if not chunk:
                break
            out.write(chunk)
            digest.update(chunk)
            size += len(chunk)
        out.flush()
        os.fsync(out.fileno())
    return {"bytes": size, "sha256": digest.hexdigest()}


def count_orders(db: Path) -> int:
    """Orders (live and archived) in the store files at ``db``, read without writing."""
    live, index = LiveSet(db), Index()
    live.refresh(index.add)
    archive = Archive(StoreFiles(db).archive)
    archive.read_tail(index)
    return len(live.orders) + sum(1 for i in archive.where if i not in live.orders)


def _open_side_files(files: StoreFiles) -> list[tuple[str, BinaryIO | None]]:
    """Open every side file (and the chat's screenshots) under its lock: a file replaced by a
    rename afterwards stays the one of that moment."""
    opened: list[tuple[str, BinaryIO | None]] = []
    for name in SIDE_FILES:
        with _Flock(files.side_lock(name)):
            opened.append((name, _open(files.db.with_name(name))))
            if name == "chat.json" and files.db.with_name(SCREENSHOTS).is_dir():
                for shot in sorted(files.db.with_name(SCREENSHOTS).iterdir()):
                    opened.append((f"{SCREENSHOTS}/{shot.name}", _open(shot)))
    return opened


def backup(db: Path, to: Path, say: Say = print) -> Summary:
    """Snapshot the store at ``db`` into the new or empty folder ``to`` (module docstring)."""
    files = StoreFiles(db)
    if not db.exists():
        raise BackupError(f"there is no order store at {db}: check ORDERS_DB (README, Settings)")
    if to.exists() and any(to.iterdir()):
        raise BackupError(f"{to} is not empty: back up into a new folder")
    to.mkdir(parents=True, exist_ok=True)
    entries: dict[str, dict[str, int | str]] = {}
    with _Flock(files.lock):  # no write in between: one moment of the store
        checkpoint, archive = _open(files.db), _open(files.archive)
        archive_size = os.fstat(archive.fileno()).st_size if archive else 0
        journal = _open(files.journal)
        if journal is not None:
            with journal:
                entries[files.journal.name] = _copy(journal, to / files.journal.name)
    sides = _open_side_files(files)
    try:
        for name, source, limit in ((files.db.name, checkpoint, None),
                                    (files.archive.name, archive, archive_size),
                                    *((name, source, None) for name, source in sides)):
            if source is not None:
                say(f"  copying {name}")
                (to / name).parent.mkdir(exist_ok=True)
                entries[name] = _copy(source, to / name, limit)
    finally:
        for source in (checkpoint, archive, *(source for _, source in sides)):
            if source is not None:
                source.close()
    orders = count_orders(to / files.db.name)
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "store": files.db.name,
        "orders": orders,
        "files": entries,
    }
    replace_atomically(to / MANIFEST, json.dumps(manifest, indent=2).encode())
    total = sum(int(e["bytes"]) for e in entries.values())
    return Summary(to, orders, total)


def verify(folder: Path) -> dict[str, object]:
    """The manifest of the backup in ``folder`` once every file matches it; BackupError naming
    the first file that is missing, cut short or changed."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text("utf-8"))
    except FileNotFoundError:
        raise BackupError(
            f"{folder} has no {MANIFEST}: the backup is incomplete (interrupted?) or not a "
            "backup; restore another one"
        ) from None
    except ValueError:
        raise BackupError(f"{folder}/{MANIFEST} is damaged: restore another backup") from None
    if manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), dict):
        raise BackupError(f"{folder}/{MANIFEST} is not a backup manifest this version reads")
    for name, expected in manifest["files"].items():
        path = folder / name
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise BackupError(f"{folder}/{MANIFEST} names {name!r}, outside the backup: "
                              "it was tampered with; restore another backup")
        if not path.is_file():
            raise BackupError(f"{path} is missing: the backup is partial; restore another one")
        if path.stat().st_size != expected["bytes"]:
            raise BackupError(
                f"{path} has {path.stat().st_size} bytes, the manifest says {expected['bytes']}: "
                "the backup is partial or damaged; restore another one"
            )
        with open(path, "rb") as f:
            if hashlib.file_digest(f, "sha256").hexdigest() != expected["sha256"]:
                raise BackupError(
                    f"{path} does not match its checksum in the manifest: the backup is "
                    "damaged; restore another one"
                )
    return dict(manifest)


def restore(source: Path, to: Path, say: Say = print) -> Summary:
    """Check the backup in ``source``, then lay it down in ``to`` (new or empty). Nothing is
    written before every check passed; the folder appears complete or not at all."""
    manifest = verify(source)
    if to.exists() and (not to.is_dir() or any(to.iterdir())):
        raise BackupError(
            f"{to} is not empty: restore into an empty folder (stop the worker, move the old "
            "store aside, then restore), so that no order is overwritten"
        )
    to.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{to.name}.restoring-", dir=to.parent))
    try:
        files: dict[str, dict[str, object]] = manifest["files"]  # type: ignore[assignment]
        for name in files:
            say(f"  restoring {name}")
            (staging / name).parent.mkdir(exist_ok=True)
            with open(source / name, "rb") as f:
                _copy(f, staging / name)
        db = staging / str(manifest["store"])
        orders = count_orders(db)
        if orders != manifest["orders"]:
            raise BackupError(f"{source} holds {orders} orders, its manifest says "
                              f"{manifest['orders']}: restore another backup")
        staging.chmod(0o700)
        os.rename(staging, to)  # replaces an empty folder `to` too (rename(2))
        fsync_dir(to.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    total = sum(int(str(e["bytes"])) for e in files.values())
    return Summary(to, orders, total)

"""Make the order store's files unwritable although the tests run as root, who ignores chmod:
the immutable attribute (`chattr +i`) binds root too, so every append fails with EPERM while
reads keep working, as on a read-only disk. Taking it off makes the store writable again."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def unwritable(path: Path) -> Iterator[None]:
    path.touch()
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
    if done.returncode != 0:  # a file system without attributes (some overlay mounts)
        pytest.skip(f"chattr +i is not supported here: {done.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def journal(orders_db: Path) -> Path:
    return orders_db.with_name(f"{orders_db.stem}.journal.jsonl")


def archive(orders_db: Path) -> Path:
    return orders_db.with_name(f"{orders_db.stem}.archive.jsonl")

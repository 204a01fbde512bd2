"""worker/atomic_file.py: a reader sees the whole old file or the whole new one."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from worker.atomic_file import replace_atomically


def test_the_new_content_replaces_the_old_with_the_mode_asked_for(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_bytes(b"old")

    replace_atomically(path, b"new", mode=0o644)

    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert os.listdir(tmp_path) == ["catalog.json"]  # no temporary file left


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "orders.json"
    path.write_bytes(b"old")

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        replace_atomically(path, b"new")

    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["orders.json"]

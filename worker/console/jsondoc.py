"""One small JSON document on disk, changed under a ``flock`` and replaced atomically and durably."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from worker.atomic_file import replace_atomically


class JsonDoc:
    """``read()`` the document (``{}`` when absent); ``change(fn)`` applies ``fn`` to the freshest
    copy and writes it, so two processes never lose each other's change."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_path = path.with_name(f"{path.stem}.lock")

    def read(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self.path.read_bytes())
        except FileNotFoundError:
            data = {}
        return data

    def change(self, change: Callable[[dict[str, Any]], Any]) -> Any:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            data = self.read()
            result = change(data)
            replace_atomically(self.path, json.dumps(data, ensure_ascii=False).encode())
            return result
        finally:
            os.close(fd)  # closing releases the flock

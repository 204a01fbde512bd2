"""Replace a file so that a reader or a crash sees the old content or the new, never a part."""

from __future__ import annotations

import os
from pathlib import Path


def replace_atomically(path: Path, data: bytes, mode: int = 0o600, *, sync: bool = True) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync it, rename it over ``path``
    and fsync the folder, so that the rename itself survives a power cut. ``sync=False``
    skips both fsyncs: still whole or old after a crash of the process, not of the machine."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)  # an older temporary file may have kept another mode
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            if sync:
                os.fsync(f.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
    if sync:
        fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

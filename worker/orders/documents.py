"""The support desk's small documents (the chat's threads, the console's operators and claims)
and the chat's screenshots, kept where the order store keeps its state (issue 13):

- embedded store: a JSON file beside ORDERS_DB, changed under a ``flock`` and replaced
  atomically and durably; screenshots are files in a folder beside it;
- PostgreSQL: a row of ``documents`` (``body`` jsonb), changed in one transaction under
  ``SELECT … FOR UPDATE``; screenshots are rows of ``files`` (bytea)
  (migrations/0003_documents.sql), so every worker process on every host shares them.

Either way two writers never lose each other's change. The store opens them
(``store.document(name)``, ``store.files(name)``), on its own connection pool.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import psycopg_pool
from psycopg.types.json import Jsonb

from worker.atomic_file import replace_atomically
from worker.orders.durable import signature

Change = Callable[[dict[str, Any]], Any]


class Document(Protocol):
    """``read()`` the document (``{}`` when absent); ``change(fn)`` applies ``fn`` to the
    freshest copy and writes it, returning what ``fn`` returned; ``version()`` differs
    whenever the document changed (a reader keeps a parsed copy until then)."""

    def read(self) -> dict[str, Any]: ...
    def version(self) -> object: ...
    def change(self, change: Change) -> Any: ...


class Files(Protocol):
    """Named blobs (the chat's screenshots). ``get`` raises FileNotFoundError when absent."""

    def put(self, name: str, data: bytes) -> None: ...
    def get(self, name: str) -> bytes: ...
    def remove_prefix(self, prefix: str) -> None: ...


class JsonDoc:
    """A JSON file (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_path = path.with_name(f"{path.stem}.lock")

    def read(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self.path.read_bytes())
        except FileNotFoundError:
            data = {}
        return data

    def version(self) -> object:
        return signature(self.path)

    def change(self, change: Change) -> Any:
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


class Folder:
    """Files in a folder (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def put(self, name: str, data: bytes) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        replace_atomically(self.path / name, data)

    def get(self, name: str) -> bytes:
        return (self.path / name).read_bytes()

    def remove_prefix(self, prefix: str) -> None:
        for file in self.path.glob(f"{prefix}*"):
            file.unlink()


class PgDocument:
    """A row of ``documents`` (see the module docstring)."""

    def __init__(self, pool: psycopg_pool.ConnectionPool[Any], name: str) -> None:
        self.pool = pool
        self.name = name

    def _one(self, sql: str) -> Any:
        with self.pool.connection() as conn:
            row = conn.execute(sql, (self.name,)).fetchone()
        return row["value"] if row else None  # the pool's rows are dicts

    def read(self) -> dict[str, Any]:
        body: dict[str, Any] | None = self._one("SELECT body AS value FROM documents WHERE name = %s")
        return body or {}

    def version(self) -> object:
        return self._one("SELECT version AS value FROM documents WHERE name = %s")

    def change(self, change: Change) -> Any:
        with self.pool.connection() as conn, conn.transaction():
            # The row first (once), so that two first writers queue on its lock too.
            conn.execute("INSERT INTO documents (name) VALUES (%s) ON CONFLICT DO NOTHING", (self.name,))
            row = conn.execute("SELECT body FROM documents WHERE name = %s FOR UPDATE",
                               (self.name,)).fetchone()
            data: dict[str, Any] = row["body"]
            result = change(data)  # raising rolls the transaction back: nothing is written
            conn.execute("UPDATE documents SET body = %s, version = version + 1 WHERE name = %s",
                         (Jsonb(data), self.name))
            return result


class PgFiles:
    """Rows of ``files``, named ``<folder>/<name>`` (see the module docstring)."""

    def __init__(self, pool: psycopg_pool.ConnectionPool[Any], folder: str) -> None:
        self.pool = pool
        self.folder = folder

    def put(self, name: str, data: bytes) -> None:
        with self.pool.connection() as conn:
            conn.execute("INSERT INTO files (name, body) VALUES (%s, %s) ON CONFLICT (name) "
                         "DO UPDATE SET body = excluded.body", (f"{self.folder}/{name}", data))

    def get(self, name: str) -> bytes:
        with self.pool.connection() as conn:
            row = conn.execute("SELECT body FROM files WHERE name = %s",
                               (f"{self.folder}/{name}",)).fetchone()
        if row is None:
            raise FileNotFoundError(f"{self.folder}/{name}")
        return bytes(row["body"])

    def remove_prefix(self, prefix: str) -> None:
        with self.pool.connection() as conn:
            conn.execute("DELETE FROM files WHERE starts_with(name, %s)", (f"{self.folder}/{prefix}",))

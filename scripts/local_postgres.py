"""A throwaway PostgreSQL server for the tests and the benchmarks: Debian's `initdb` and
`pg_ctl` into a temporary folder, on a free loopback port, stopped and removed afterwards.

PostgreSQL refuses to run as root (the tests and CI do), so the server runs as the
unprivileged user ``qazaq-pg``, created when missing. Nothing outside the folder is touched.

    with LocalPostgres() as pg:
        print(pg.url)   # postgresql://qazaq@127.0.0.1:PORT/qazaq
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Self

USER = "qazaq-pg"  # the operating-system user the server runs as
DB_USER = "qazaq"  # the database's superuser; trust authentication on loopback only
DB_NAME = "qazaq"


class PostgresMissing(RuntimeError):
    """Debian's postgresql package is not installed."""


def bin_dir() -> Path:
    """The newest installed server's bin folder (Debian: /usr/lib/postgresql/N/bin)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                   key=lambda p: int(Path(p).parent.parent.name))
    if not found:
        raise PostgresMissing("PostgreSQL is not installed: run `make system` "
                              "(or `apt-get install postgresql`)")
    return Path(found[-1]).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _as_user() -> list[str]:
    """The command prefix that runs a program as USER (creating the user when missing)."""
    if os.geteuid() != 0:
        return []  # not root: PostgreSQL runs as whoever we are
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        USER], check=True)
    return ["runuser", "-u", USER, "--"]


class LocalPostgres:
    """One server in a temporary folder; ``url`` while it runs."""

    def __init__(self, durable: bool = False) -> None:
        self.durable = durable  # fsync on, as in production (the benchmarks); off for the tests
        self.folder = Path(tempfile.mkdtemp(prefix="qazaq-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.url = f"postgresql://{DB_USER}@127.0.0.1:{self.port}/{DB_NAME}"
        self._bin = bin_dir()
        self._prefix = _as_user()

    def _run(self, *args: str) -> None:
        subprocess.run([*self._prefix, *args], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, cwd=self.folder)

    def start(self) -> LocalPostgres:
        if self._prefix:
            uid = pwd.getpwnam(USER).pw_uid
            os.chown(self.folder, uid, -1)
        self._run(str(self._bin / "initdb"), "-D", str(self.data), "-U", DB_USER,
                  "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync")
        # Sockets only in the folder. A test server needs no fsync: the data dies with the folder.
        options = (f"-c listen_addresses=127.0.0.1 -c port={self.port} "
                   f"-c unix_socket_directories={self.folder} -c max_connections=200")
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(str(self._bin / "pg_ctl"), "-D", str(self.data), "-l",
                  str(self.folder / "server.log"), "-o", options, "-w", "start")
        self._run(str(self._bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                  "-U", DB_USER, DB_NAME)
        return self

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run([*self._prefix, str(self._bin / "pg_ctl"), "-D", str(self.data),
                            "-m", "immediate", "-w", "stop"], check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.folder)
        shutil.rmtree(self.folder, ignore_errors=True)

    def new_database(self, name: str) -> str:
        """A fresh empty database on this server; its URL."""
        self._run(str(self._bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                  "-U", DB_USER, name)
        return f"postgresql://{DB_USER}@127.0.0.1:{self.port}/{name}"

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()


if __name__ == "__main__":  # `python -m scripts.local_postgres`: a server until Ctrl-C
    import time

    with LocalPostgres() as server:
        print(f"ORDERS_DB={server.url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass

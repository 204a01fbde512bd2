"""`python -m worker.serve`: worker processes on one port, each with a socket of its own, share
the connections evenly, and when one dies the others take the next connections at once."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from loopback import free_port
from worker_env import TEST_ENV, coverage_env

from worker import serve

ROOT = Path(__file__).resolve().parents[2]
LISTEN, ESTABLISHED = "0A", "01"


def sockets_on(port: int, state: str) -> list[int]:
    """Inodes of this host's IPv4 TCP sockets whose local port is ``port``, in ``state``."""
    found = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == state:
            found.append(int(fields[9]))
    return found


def owner(inode: int, pids: list[int]) -> int | None:
    for pid in pids:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                    return pid
            except OSError:  # closed meanwhile
                continue
    return None


def healthz(port: int) -> socket.socket:
    """A connection that asked GET /healthz and got its 200 (so a process accepted it)."""
    conn = socket.create_connection(("127.0.0.1", port), timeout=10)
    conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    answer = b""
    while not answer.endswith(b'{"ok":true}'):
        chunk = conn.recv(4096)
        assert chunk, answer
        answer += chunk
    assert answer.startswith(b"HTTP/1.1 200"), answer[:40]
    return conn


@pytest.fixture
def two_workers(tmp_path: Path, catalog_path: Path) -> Iterator[tuple[int, list[subprocess.Popen[bytes]]]]:
    port = free_port()
    env = {**TEST_ENV, **coverage_env(), "PATH": os.environ["PATH"],
           "ORDERS_DB": str(tmp_path / "orders.json"), "CATALOG_PATH": str(catalog_path)}
    workers = [subprocess.Popen([sys.executable, "-m", "worker.serve", "--port", str(port)],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL) for _ in range(2)]
    try:
        deadline = time.monotonic() + 30
        while len(sockets_on(port, LISTEN)) < 2:  # each listens once its start-up is done
            assert time.monotonic() < deadline, "the two workers did not start"
            assert all(w.poll() is None for w in workers), "a worker stopped at start"
            time.sleep(0.05)
        yield port, workers
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGINT)
        for worker in workers:
            worker.wait(20)


def test_two_processes_on_one_port_share_the_connections_and_survive_each_other(
        two_workers: tuple[int, list[subprocess.Popen[bytes]]]) -> None:
    port, workers = two_workers
    pids = [w.pid for w in workers]
    connections = [healthz(port) for _ in range(40)]
    served = Counter(owner(inode, pids) for inode in sockets_on(port, ESTABLISHED))
    for conn in connections:
        conn.close()
    # The kernel hashes each connection to a socket: 40 of them fall 5:35 or worse with a
    # chance of about 1 in 10 million.
    assert served[pids[0]] >= 5 and served[pids[1]] >= 5, served

    workers[0].send_signal(signal.SIGKILL)
    workers[0].wait(10)
    for _ in range(20):  # every new connection goes to the survivor: none is refused or lost
        healthz(port).close()


def test_a_port_taken_by_another_program_is_named(tmp_path: Path) -> None:
    with socket.socket() as other:  # no SO_REUSEPORT: not a worker
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        with pytest.raises(SystemExit, match=rf"cannot listen on 127.0.0.1:{port} .*another program"):
            serve.main(["--port", str(port)])

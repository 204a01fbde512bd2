"""Servers on free loopback ports for the tests (never the demo ports)."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any, Self

import uvicorn

from scripts.stack import free_port  # noqa: F401  (re-exported: the one way tests pick a port)


class ServerThread:
    """uvicorn serving an ASGI app on a free loopback port, in a daemon thread.

    The port is bound at construction, so an app that must know its own URL (the worker's
    WORKER_URL) can be built from ``server.url`` and set as ``server.app`` before ``with``.
    """

    def __init__(self, app: Any = None) -> None:
        self.app = app
        # proto=IPPROTO_TCP: asyncio turns on TCP_NODELAY only for sockets that say so; without
        # it every keep-alive answer waits about 40 ms for a delayed ACK.
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        self.server = uvicorn.Server(
            uvicorn.Config(self.app, log_level="warning", lifespan="on", timeout_graceful_shutdown=5)
        )
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start within 10 s")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


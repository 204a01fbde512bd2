"""A Webkassa sandbox on loopback for the fiscal tests, reset before each test."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from sandboxes.webkassa.app import create_app


@pytest.fixture(scope="session")
def webkassa_server() -> Iterator[str]:
    config = uvicorn.Config(create_app(), host="127.0.0.1",
                            port=0, log_level="warning", lifespan="off",
                            timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


@pytest.fixture
def webkassa_url(webkassa_server: str) -> str:
    """The sandbox's URL, with fresh state (no receipts, shifts, tokens or switches)."""
    httpx.post(f"{webkassa_server}/_sandbox/reset").raise_for_status()
    return webkassa_server

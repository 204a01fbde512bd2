"""Fixtures for the Epay sandbox tests: the sandbox and a merchant receiver on loopback ports."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from epay_helpers import Epay, Receiver, ServerThread

from sandboxes.epay import create_app


@pytest.fixture(scope="session")
def receiver_server() -> Iterator[Receiver]:
    receiver = Receiver()
    with ServerThread(receiver.app()) as server:
        receiver.base = server.url
        yield receiver


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[str]:
    with ServerThread(create_app()) as server:
        yield server.url


@pytest.fixture
def receiver(receiver_server: Receiver) -> Receiver:
    receiver_server.clear()
    return receiver_server


@pytest.fixture
def epay(sandbox_server: str, receiver: Receiver) -> Iterator[Epay]:
    client = Epay(sandbox_server, receiver)
    assert client.http.post("/_sandbox/reset").status_code == 200
    yield client
    client.http.close()

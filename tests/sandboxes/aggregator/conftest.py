"""Fixtures for the aggregator sandbox tests: the sandbox and a webhook receiver on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aggregator_helpers import TEST_OPTIONS, Aggregator, Receiver
from loopback import ServerThread

from sandboxes.aggregator import Options, create_app


@pytest.fixture(scope="session")
def receiver_server() -> Iterator[Receiver]:
    receiver = Receiver()
    with ServerThread(receiver.app()) as server:
        receiver.url = server.url
        yield receiver


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[str]:
    with ServerThread(create_app(Options(**TEST_OPTIONS))) as server:
        yield server.url


@pytest.fixture
def receiver(receiver_server: Receiver) -> Receiver:
    receiver_server.clear()
    return receiver_server


@pytest.fixture
def aggregator(sandbox_server: str, receiver: Receiver) -> Iterator[Aggregator]:
    client = Aggregator(sandbox_server, receiver)
    assert client.http.post("/_sandbox/reset").status_code == 200
    yield client
    client.http.close()

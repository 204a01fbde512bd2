"""Fixtures for the Epay sandbox tests: the sandbox and a merchant receiver on loopback ports."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from epay_helpers import Epay, Receiver
from loopback import ServerThread


@pytest.fixture(scope="session")
def receiver_server() -> Iterator[Receiver]:
    receiver = Receiver()
    with ServerThread(receiver.app()) as server:
        receiver.base = server.url
        yield receiver


@pytest.fixture
def receiver(receiver_server: Receiver) -> Receiver:
    receiver_server.clear()
    return receiver_server


@pytest.fixture
def epay(epay_sandbox_server: str, receiver: Receiver) -> Iterator[Epay]:
    """The sandbox (started once per run by tests/conftest.py), reset for this test."""
    client = Epay(epay_sandbox_server, receiver)
    assert client.http.post("/_sandbox/reset").status_code == 200
    yield client
    client.http.close()

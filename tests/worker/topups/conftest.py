"""A worker with every job running, wired to the Epay and aggregator sandboxes and a mailbox."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from loopback import ServerThread
from smtp_mailbox import Mailbox
from topup_world import World, write_offers

from worker.app import create_app
from worker.config import Settings


@pytest.fixture
def world(after_sale_settings: Settings, after_sale_mailbox: Mailbox) -> Iterator[World]:
    server = ServerThread()
    settings = replace(after_sale_settings, worker_url=server.url)
    write_offers(settings.catalog_path)
    server.app = create_app(settings)
    with server:
        world = World(server.url, settings, server.app.state.services, after_sale_mailbox)
        yield world
        world.close()

"""Two API hosts on one PostgreSQL (issue 13): a sign-in link, a session, the sign-in limit and
the aggregator's notification ids count on every host, not only on the one that saw them."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from loopback import ServerThread
from smtp_mailbox import Mailbox
from store_helpers import delivered_order

from worker.app import create_app
from worker.config import Settings
from worker.orders.postgres import PgOrderStore

BUYER = "buyer@example.kz"


@pytest.fixture
def hosts(settings: Settings, pg_url: str, tmp_path: Path) -> Iterator[list[httpx.Client]]:
    """Two workers, each with its own disk (no shared accounts.json), on one database."""
    box = Mailbox()
    box.__enter__()
    store = PgOrderStore.open(pg_url)
    asyncio.run(store.create(delivered_order(email=BUYER)))
    store.close()
    apps = [create_app(replace(settings, orders_url=pg_url, smtp_port=box.port,
                               orders_db=tmp_path / f"host{n}" / "orders.json"), handlers={})
            for n in range(2)]
    with ServerThread(apps[0]) as one, ServerThread(apps[1]) as two, \
            httpx.Client(base_url=one.url, timeout=15) as a, \
            httpx.Client(base_url=two.url, timeout=15) as b:
        a.mailbox = b.mailbox = box  # type: ignore[attr-defined]
        yield [a, b]
    box.__exit__(None, None, None)


def test_sign_in_state_is_shared_by_the_hosts(hosts: list[httpx.Client]) -> None:
    a, b = hosts
    box: Mailbox = a.mailbox  # type: ignore[attr-defined]
    assert a.post("/api/account/sign-in-link", json={"email": BUYER, "lang": "en"}).status_code == 202
    [mail] = box.wait_for(1)
    assert b.post("/api/account/sign-in-link", json={"email": BUYER, "lang": "en"}).status_code == 202
    login = re.search(r"#login=(\S+)", mail.get_body(("plain",)).get_content()).group(1)  # type: ignore[union-attr]

    opened = b.post("/api/account/session", json={"login": login})
    again = a.post("/api/account/session", json={"login": login})
    bearer = {"Authorization": f"Bearer {opened.json()['session']}"}
    seen_on_a = a.get("/api/account/orders", headers=bearer)
    a.post("/api/account/sign-out", headers=bearer)
    after_sign_out = b.get("/api/account/orders", headers=bearer)

    assert len(box.messages) == 1  # the second host kept the one-link-a-minute limit
    assert opened.status_code == 200
    assert again.status_code == 401 and "already used" in again.json()["error"]
    assert [o["order_id"] for o in seen_on_a.json()["orders"]] == [delivered_order().id]
    assert after_sign_out.status_code == 401


def test_a_notification_handled_by_one_host_is_a_duplicate_on_the_other(
        hosts: list[httpx.Client], settings: Settings) -> None:
    a, b = hosts
    path = f"/aggregator/webhook/{settings.aggregator_webhook_secret}"
    notice = {"notifyType": "SMDP_EVENT", "notifyId": "n-1", "content": {}}

    assert a.post(path, json=notice).json() == {"ok": True}
    assert b.post(path, json=notice).json() == {"ok": True, "duplicate": True}
    assert b.post(path, json={**notice, "notifyId": "n-2"}).json() == {"ok": True}


def test_a_mark_counts_until_it_expires(pg_url: str) -> None:
    import time

    store = PgOrderStore.open(pg_url)
    assert store.mark("sign_in_link", "k", 0.2) and not store.mark("sign_in_link", "k", 0.2)
    assert store.marked("sign_in_link", "k")
    time.sleep(0.3)
    assert not store.marked("sign_in_link", "k")
    assert store.mark("sign_in_link", "k", 60)  # expired: set again
    store.unmark("sign_in_link", "k")
    assert not store.marked("sign_in_link", "k")
    store.close()

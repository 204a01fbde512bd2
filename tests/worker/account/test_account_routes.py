"""My eSIMs: a buyer signs in by an e-mailed link and sees their own orders, nobody else's."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from after_sale import AfterSale
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from loopback import ServerThread
from smtp_mailbox import Mailbox

from worker.account.keys import LINK_SALT, SESSION_SALT, Keys
from worker.app import create_app
from worker.config import Settings
from worker.refunds import carry_out, request_refund

pytestmark = pytest.mark.anyio
BUYER, OTHER = "buyer@example.kz", "other@example.kz"


class PastSigner(TimestampSigner):
    """Signs as if it were 16 minutes... or 3 hours ago (links and sessions expire)."""

    age_s = 16 * 60

    def get_timestamp(self) -> int:
        return int(time.time()) - self.age_s


@pytest.fixture
def worker(after_sale_settings: Settings) -> Iterator[httpx.Client]:
    with ServerThread(create_app(after_sale_settings)) as server, \
            httpx.Client(base_url=server.url, timeout=15) as client:
        yield client


def sign_in(worker: httpx.Client, mailbox: Mailbox, email: str, mails_before: int = 0) -> str:
    answer = worker.post("/api/account/sign-in-link", json={"email": email, "lang": "en"})
    assert (answer.status_code, answer.json()) == (202, {"ok": True})
    # Other mail (a refund's, say) may arrive before or after it: pick the sign-in mail.
    count, match = mails_before + 1, None
    while match is None:
        mail = mailbox.wait_for(count)[count - 1]
        text = mail.get_body(("plain",)).get_content()
        match = re.search(r"/en/account/#login=(\S+)", text)
        count += 1
    # Mail apps show the HTML part: the same link behind a button.
    assert f'/en/account/#login={match.group(1)}" style="display:inline-block' in mail.get_body(("html",)).get_content()
    return match.group(1)


def session(worker: httpx.Client, login: str) -> httpx.Response:
    return worker.post("/api/account/session", json={"login": login})


def orders(worker: httpx.Client, token: str) -> httpx.Response:
    return worker.get("/api/account/orders", headers={"Authorization": f"Bearer {token}"})


def order_ids(answer: httpx.Response) -> set[str]:
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return {o["order_id"] for o in body["orders"]}


async def test_a_buyer_signs_in_by_link_and_sees_every_order_of_their_address(
        after_sale: AfterSale, worker: httpx.Client, after_sale_mailbox: Mailbox) -> None:
    delivered = await after_sale.order("delivered", email=BUYER)
    failed = await after_sale.order("provisioning_failed", email="Buyer@Example.KZ")
    await after_sale.order("delivered", email=OTHER)
    login = sign_in(worker, after_sale_mailbox, "BUYER@example.kz")
    [mail] = after_sale_mailbox.messages
    assert mail["To"] == BUYER
    opened = session(worker, login)
    assert opened.status_code == 200 and opened.json()["expires_at"]
    answer = orders(worker, opened.json()["session"])
    assert order_ids(answer) == {delivered.id, failed.id}
    body = answer.json()
    assert body["email_masked"] == "b***@example.kz"
    shown = {o["order_id"]: o for o in body["orders"]}
    assert delivered.profile is not None
    assert shown[delivered.id]["esim"]["lpa"] == delivered.profile.lpa
    assert shown[delivered.id]["token"] == delivered.token
    assert shown[failed.id]["status"] == "provisioning_failed" and shown[failed.id]["esim"] is None


async def test_orders_never_paid_are_listed_after_the_esims(
        after_sale: AfterSale, worker: httpx.Client, after_sale_mailbox: Mailbox) -> None:
    # An address of its own: the mailbox (and its sign-in links) is shared by the session's tests.
    buyer = f"history-{secrets.token_hex(4)}@example.kz"
    old = await after_sale.order("delivered", email=buyer)
    declined = await after_sale.order("payment_failed", email=buyer)
    await asyncio.sleep(0.01)
    abandoned = await after_sale.order("awaiting_payment", email=buyer)
    await after_sale.store.update(abandoned.id, lambda o: setattr(o, "abandoned_at", "2026-11-26T10:00:00+00:00"))
    waiting = await after_sale.order("awaiting_payment", email=buyer)
    await asyncio.sleep(0.01)  # created_at counts milliseconds: "newest" needs a later one
    new = await after_sale.order("delivered", email=buyer)
    token = session(worker, sign_in(worker, after_sale_mailbox, buyer)).json()["session"]

    shown = [(o["order_id"], o["abandoned"]) for o in orders(worker, token).json()["orders"]]

    assert shown == [(new.id, False), (waiting.id, False), (old.id, False),
                     (abandoned.id, True), (declined.id, False)]


async def test_one_buyer_cannot_see_another_buyers_orders(
        after_sale: AfterSale, worker: httpx.Client, after_sale_mailbox: Mailbox) -> None:
    mine = await after_sale.order("delivered", email=BUYER)
    theirs = await after_sale.order("delivered", email=OTHER)
    token = session(worker, sign_in(worker, after_sale_mailbox, OTHER)).json()["session"]
    answer = orders(worker, token)
    assert order_ids(answer) == {theirs.id}
    assert mine.token not in answer.text and mine.id not in answer.text


async def test_the_answer_is_the_same_for_an_address_without_orders(
        after_sale: AfterSale, worker: httpx.Client, after_sale_mailbox: Mailbox) -> None:
    await after_sale.order("delivered", email=BUYER)
    unknown = worker.post("/api/account/sign-in-link", json={"email": "nobody@example.kz"})
    known = worker.post("/api/account/sign-in-link", json={"email": BUYER})
    assert (unknown.status_code, unknown.json()) == (known.status_code, known.json()) == (202, {"ok": True})
    # One connection: the first answer's mail task ended before the second request was read.
    assert [m["To"] for m in after_sale_mailbox.wait_for(1)] == [BUYER]


async def test_a_malformed_address_is_refused_in_the_page_language(worker: httpx.Client) -> None:
    answer = worker.post("/api/account/sign-in-link", json={"email": "not-an-address", "lang": "ru"})
    assert answer.status_code == 422
    assert answer.json()["errors"]["email"].startswith("Введите адрес e-mail")


async def test_a_sign_in_link_works_once(
        after_sale: AfterSale, worker: httpx.Client, after_sale_mailbox: Mailbox) -> None:
    await after_sale.order("delivered", email=BUYER)
    login = sign_in(worker, after_sale_mailbox, BUYER)
    assert session(worker, login).status_code == 200
    again = session(worker, login)
    assert again.status_code == 401 and "already used" in again.json()["error"]


async def test_an_expired_sign_in_link_is_refused(worker: httpx.Client, after_sale_settings: Settings) -> None:
    old = URLSafeTimedSerializer(str(after_sale_settings.session_secret), salt=LINK_SALT,
                                 signer=PastSigner)
    answer = session(worker, old.dumps({"e": BUYER, "n": "n1"}))
    assert answer.status_code == 401 and "expired" in answer.json()["error"]


@pytest.mark.parametrize("forge", ["flip", "other_secret", "other_address"])
async def test_a_tampered_sign_in_link_is_refused(
        after_sale: AfterSale, worker: httpx.Client, after_sale_mailbox: Mailbox,
        after_sale_settings: Settings, forge: str) -> None:
    await after_sale.order("delivered", email=BUYER)
    login = sign_in(worker, after_sale_mailbox, BUYER)
    if forge == "flip":
        payload, sig = login.rsplit(".", 1)
        login = f"{payload}.{sig[:-2]}{'A' if sig[-2] != 'A' else 'B'}{sig[-1]}"
    elif forge == "other_secret":
        login = URLSafeTimedSerializer("x" * 40, salt=LINK_SALT).dumps({"e": BUYER, "n": "n2"})
    else:
        payload = login.split(".")[0]
        login = login.replace(payload, URLSafeTimedSerializer("y", salt=LINK_SALT).dumps(
            {"e": OTHER, "n": "n3"}).split(".")[0])
    answer = session(worker, login)
    assert answer.status_code == 401 and "not valid" in answer.json()["error"]


async def test_signing_out_ends_the_session(
        after_sale: AfterSale, worker: httpx.Client, after_sale_mailbox: Mailbox) -> None:
    await after_sale.order("delivered", email=BUYER)
    token = session(worker, sign_in(worker, after_sale_mailbox, BUYER)).json()["session"]
    assert orders(worker, token).status_code == 200
    out = worker.post("/api/account/sign-out", headers={"Authorization": f"Bearer {token}"})
    assert out.status_code == 204
    assert orders(worker, token).status_code == 401


async def test_an_expired_session_shows_nothing(worker: httpx.Client, after_sale_settings: Settings) -> None:
    keys = Keys(str(after_sale_settings.session_secret),
                after_sale_settings.orders_db.with_name("accounts.json"))
    fresh, _ = keys.open_session(BUYER)
    PastSigner.age_s = 3 * 60 * 60
    old = URLSafeTimedSerializer(str(after_sale_settings.session_secret), salt=SESSION_SALT,
                                 signer=PastSigner).dumps(keys._sessions.loads(fresh))
    PastSigner.age_s = 16 * 60
    assert orders(worker, fresh).status_code == 200
    answer = orders(worker, old)
    assert answer.status_code == 401 and "sign in again" in answer.json()["error"]


async def test_without_a_session_no_order_is_shown(worker: httpx.Client) -> None:
    assert worker.get("/api/account/orders").status_code == 401
    assert orders(worker, "made-up").status_code == 401


async def test_data_used_is_refreshed_from_the_aggregator_for_the_next_visit(
        after_sale: AfterSale, worker: httpx.Client, after_sale_mailbox: Mailbox) -> None:
    order = await after_sale.order("delivered", email=BUYER)
    assert order.profile is not None
    after_sale.phone(order.profile.esim_tran_no, "install")
    after_sale.phone(order.profile.esim_tran_no, "consume", bytes=52_428_800)
    token = session(worker, sign_in(worker, after_sale_mailbox, BUYER)).json()["session"]
    first = orders(worker, token).json()["orders"][0]["esim"]
    assert (first["used_bytes"], first["installed"]) == (0, False)
    deadline = time.monotonic() + 10  # the worker's job runner asks the aggregator meanwhile
    # The job is done when its row is gone too: the refreshed figures are written first and
    # the job removed in a later write, so the figures alone may still show it pending.
    while (stored := after_sale.store.get(order.id)) and (
            not stored.profile.usage_checked_at or after_sale.store.jobs(order.id)):  # type: ignore[union-attr]
        assert time.monotonic() < deadline, (stored.timeline, after_sale.store.jobs(order.id))
        await asyncio.sleep(0.05)
    second = orders(worker, token).json()["orders"][0]["esim"]
    assert (second["used_bytes"], second["installed"]) == (52_428_800, True)
    assert after_sale.store.jobs(order.id) == []  # fresh for an hour: no new refresh


async def test_sign_in_links_are_not_mailed_more_than_once_a_minute(
        after_sale: AfterSale, worker: httpx.Client, after_sale_mailbox: Mailbox) -> None:
    await after_sale.order("delivered", email=BUYER)
    sign_in(worker, after_sale_mailbox, BUYER)
    again = worker.post("/api/account/sign-in-link", json={"email": BUYER})
    assert (again.status_code, again.json()) == (202, {"ok": True})
    assert len(after_sale_mailbox.messages) == 1


async def test_a_refunded_order_shows_its_refund_and_receipts_but_no_qr(
        after_sale: AfterSale, worker: httpx.Client, after_sale_mailbox: Mailbox) -> None:
    order = await after_sale.order("delivered", email=BUYER)
    await request_refund(after_sale.services, order.id, reason="broken", operator="aigerim",
                         non_functional=True)
    await carry_out(after_sale.services, order.id)
    token = session(worker, sign_in(worker, after_sale_mailbox, BUYER)).json()["session"]
    [shown] = orders(worker, token).json()["orders"]
    assert (shown["status"], shown["esim"], shown["refund"]["amount"]) == ("refunded", None, 4990)
    assert shown["receipts"] == []  # receipts are off in these settings


async def test_sign_in_links_go_only_to_addresses_with_a_paid_order(
        after_sale: AfterSale, worker: httpx.Client, after_sale_mailbox: Mailbox) -> None:
    await after_sale.order("awaiting_payment", email=OTHER)  # one unpaid checkout: no mail
    answer = worker.post("/api/account/sign-in-link", json={"email": OTHER})
    assert (answer.status_code, answer.json()) == (202, {"ok": True})

    await after_sale.order("delivered", email=BUYER)
    sign_in(worker, after_sale_mailbox, BUYER)

    assert [m["To"] for m in after_sale_mailbox.messages] == [BUYER]


async def test_plus_addresses_of_one_mailbox_share_its_limit(
        after_sale: AfterSale, worker: httpx.Client, after_sale_mailbox: Mailbox) -> None:
    for n in (1, 2):
        await after_sale.order("delivered", email=f"victim+{n}@example.kz")
    sign_in(worker, after_sale_mailbox, "victim+1@example.kz")

    for address in ("victim+2@example.kz", "Victim@example.kz"):
        answer = worker.post("/api/account/sign-in-link", json={"email": address})
        assert answer.status_code == 202
    time.sleep(0.5)  # the mail would go after the answer

    assert len(after_sale_mailbox.messages) == 1


def test_sign_in_requests_per_client_address_are_limited_across_a_restart(
        after_sale_settings: Settings) -> None:
    from dataclasses import replace

    from worker.api_errors import message

    limited = replace(after_sale_settings, sign_in_rate_limit="2/minute")
    with ServerThread(create_app(limited)) as server, \
            httpx.Client(base_url=server.url, timeout=15) as client:
        for _ in range(2):
            assert client.post("/api/account/sign-in-link", json={"email": BUYER}).status_code == 202
        refused = client.post("/api/account/sign-in-link", json={"email": OTHER, "lang": "ru"})
    with ServerThread(create_app(limited)) as server, \
            httpx.Client(base_url=server.url, timeout=15) as client:
        after_restart = client.post("/api/account/sign-in-link", json={"email": OTHER})

    assert refused.status_code == 429
    assert refused.json() == {"error": message("too_many_sign_in_links", "ru")}
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert after_restart.status_code == 429


async def test_a_sign_in_link_the_mail_server_refuses_is_logged_for_the_operator(
        after_sale: AfterSale, worker: httpx.Client, after_sale_mailbox: Mailbox,
        caplog: pytest.LogCaptureFixture) -> None:
    await after_sale.order("delivered", email=BUYER)
    after_sale_mailbox.refuse_recipients = True

    answer = worker.post("/api/account/sign-in-link", json={"email": BUYER})

    assert (answer.status_code, answer.json()) == (202, {"ok": True})  # the same answer
    for _ in range(200):
        if "sign-in link not sent" in caplog.text:
            break
        await asyncio.sleep(0.02)
    assert "account: sign-in link not sent" in caplog.text and BUYER not in caplog.text
    assert after_sale_mailbox.messages == []


async def test_a_request_that_is_not_json_is_answered_like_an_empty_form(worker: httpx.Client) -> None:
    answer = worker.post("/api/account/sign-in-link", content=b"email=buyer@example.kz")
    assert answer.status_code == 422 and "email" in answer.json()["errors"]


async def test_signing_out_with_a_forged_session_changes_nothing(
        after_sale: AfterSale, worker: httpx.Client, after_sale_mailbox: Mailbox) -> None:
    await after_sale.order("delivered", email=BUYER)
    token = session(worker, sign_in(worker, after_sale_mailbox, BUYER)).json()["session"]

    out = worker.post("/api/account/sign-out", headers={"Authorization": f"Bearer {token}x"})

    assert out.status_code == 204
    assert orders(worker, token).status_code == 200  # the real session still works

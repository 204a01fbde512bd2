"""The support console (issue 11): operators, sessions, CSRF, lockout, inbox, refunds, claims."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from after_sale import AfterSale
from loopback import ServerThread

from worker.app import create_app
from worker.config import Settings
from worker.console.accounts import Accounts
from worker.operator import commands
from worker.orders.documents import JsonDoc

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[3]
EMAIL, PASSWORD = "aigerim@qazaq-esim.com", "correct horse battery"


class Console:
    """A browser on the console: keeps the session cookie (Secure: httpx would not send it over
    loopback HTTP, a browser does) and reads each form's CSRF token."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=15)
        self.cookies: dict[str, str] = {}

    def _keep(self, answer: httpx.Response) -> httpx.Response:
        for header in answer.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            value = rest.split(";")[0]
            if "max-age=0" in header.lower() or value in ('""', ""):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return answer

    def _cookie(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}

    def get(self, path: str) -> httpx.Response:
        return self._keep(self.http.get(path, headers=self._cookie()))

    def post(self, path: str, data: dict[str, str], csrf: str | None = None) -> httpx.Response:
        form = {**data, "csrf": csrf} if csrf is not None else data
        return self._keep(self.http.post(path, data=form, headers=self._cookie()))

    def csrf(self, path: str = "/console/") -> str:
        match = re.search(r'name="csrf" value="([^"]+)"', self.get(path).text)
        assert match
        return match.group(1)

    def sign_in(self, email: str = EMAIL, password: str = PASSWORD) -> httpx.Response:
        return self.post("/console/sign-in", {"email": email, "password": password},
                         self.csrf("/console/sign-in"))


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its lowest cost: the same checks, without 0.3 s per wrong password."""
    from argon2 import PasswordHasher

    from worker.console import accounts

    quick = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(accounts, "HASHER", quick)
    monkeypatch.setattr(accounts, "DUMMY_HASH", quick.hash("not a password"))


def add_operator(settings: Settings, email: str = EMAIL, name: str = "Aigerim") -> str:
    return Accounts(JsonDoc(settings.orders_db.with_name("operators.json"))).add(email, name)[0]


@pytest.fixture
def server(after_sale_settings: Settings) -> Iterator[str]:
    with ServerThread(create_app(after_sale_settings, handlers={})) as running:
        yield running.url


@pytest.fixture
def console(server: str, after_sale_settings: Settings) -> Console:
    browser = Console(server)
    token = add_operator(after_sale_settings)
    assert browser.post(f"/console/set-password/{token}", {"password": PASSWORD}).status_code == 303
    assert browser.sign_in().status_code == 303
    return browser


def test_an_operator_sets_a_password_once_and_signs_in_with_a_strict_cookie(
        server: str, after_sale_settings: Settings) -> None:
    browser = Console(server)
    token = add_operator(after_sale_settings)
    assert browser.get(f"/console/set-password/{token}").status_code == 200
    short = browser.post(f"/console/set-password/{token}", {"password": "short"})
    assert short.status_code == 422 and "at least 12 characters" in short.text
    assert browser.post(f"/console/set-password/{token}", {"password": PASSWORD}).status_code == 303
    assert browser.get(f"/console/set-password/{token}").status_code == 404  # used up
    stored = after_sale_settings.orders_db.with_name("operators.json").read_text()
    assert PASSWORD not in stored and token not in stored and "$argon2id$" in stored
    assert browser.get("/console/").headers["location"] == "/console/sign-in"
    wrong = browser.sign_in(password="wrong password!")
    assert wrong.status_code == 401 and "Wrong e-mail address, password or code." in wrong.text
    answer = browser.sign_in()
    assert answer.status_code == 303
    cookie = next(h for h in answer.headers.get_list("set-cookie") if h.startswith("qe_console="))
    for attribute in ("HttpOnly", "Secure", "SameSite=strict", "Max-Age=43200", "Path=/console"):
        assert attribute.lower() in cookie.lower(), cookie
    inbox = browser.get("/console/")
    assert inbox.status_code == 200 and "Aigerim" in inbox.text
    assert "default-src 'none'; style-src 'self'" in inbox.headers["content-security-policy"]
    assert browser.get("/console/console.css").headers["content-type"].startswith("text/css")
    assert browser.post("/console/sign-out", {}, browser.csrf()).status_code == 303
    assert browser.get("/console/").status_code == 303  # the session ended on the server too


def test_the_sign_in_form_needs_its_csrf_token(server: str, after_sale_settings: Settings) -> None:
    add_operator(after_sale_settings)
    browser = Console(server)
    refused = browser.post("/console/sign-in", {"email": EMAIL, "password": PASSWORD}, "forged")
    assert refused.status_code == 403


def test_sign_in_attempts_are_limited_per_account(server: str, after_sale_settings: Settings) -> None:
    token = add_operator(after_sale_settings)
    browser = Console(server)
    browser.post(f"/console/set-password/{token}", {"password": PASSWORD})
    codes = [browser.sign_in(password=f"guess number {i}").status_code for i in range(5)]
    assert codes == [401] * 5
    locked = browser.sign_in()  # even the right password, for 15 minutes
    assert locked.status_code == 429 and "Too many failed attempts" in locked.text
    assert "qe_console" not in browser.cookies


def test_sign_in_attempts_are_limited_per_address(server: str, after_sale_settings: Settings) -> None:
    browser = Console(server)
    codes = [browser.sign_in(email=f"nobody{i}@example.kz").status_code for i in range(21)]
    assert codes == [401] * 20 + [429]


async def test_the_inbox_shows_a_buyers_markup_as_text_and_an_answer_is_recorded_by_name(
        console: Console, after_sale: AfterSale) -> None:
    order = await after_sale.order("delivered")
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    key = console.http.post("/api/chat/threads", json={
        "lang": "ru", "text": payload, "order_token": order.token}).json()["thread_key"]
    inbox = console.get("/console/")
    assert "<script>alert" not in inbox.text and "&lt;script&gt;alert" in inbox.text
    assert f"order {order.id} (delivered)" in inbox.text and "waiting 0 min" in inbox.text
    assert '<meta http-equiv="refresh" content="15">' in inbox.text  # new questions appear
    thread_path = re.search(r'href="(/console/threads/\w+)"', inbox.text).group(1)  # type: ignore[union-attr]
    page = console.get(thread_path)
    assert "<img src=x" not in page.text and "&lt;img src=x onerror=alert(1)&gt;" in page.text
    assert order.token not in page.text
    forged = console.post(thread_path + "/reply", {"text": "hi"}, "forged")
    assert forged.status_code == 403
    assert console.post(thread_path + "/reply", {"text": "hi"}).status_code == 403  # no token
    csrf = console.csrf(thread_path)
    assert console.post(thread_path + "/reply", {"text": " "}, csrf).status_code == 422
    assert console.post(thread_path + "x/reply", {"text": "a"}, csrf).status_code == 404
    assert console.post(thread_path + "/reply", {"text": "😀" * 2000}, csrf).status_code == 303
    assert console.post(thread_path + "/reply", {"text": "Restart the phone"}, csrf).status_code == 303
    messages = console.http.get(f"/api/chat/threads/{key}").json()["messages"]
    assert [m["author"] for m in messages] == ["buyer", "support", "support"]
    assert "<b>Aigerim</b>" in console.get(thread_path).text
    assert console.post(thread_path + "x/close", {}, csrf).status_code == 404
    assert console.post(thread_path + "/close", {}, csrf).status_code == 303
    assert "No open conversations." in console.get("/console/").text
    assert "closed by Aigerim" in console.get(thread_path).text
    assert console.get(thread_path + "x").status_code == 404


async def test_orders_are_found_shown_without_codes_and_resent_by_name(
        console: Console, after_sale: AfterSale) -> None:
    order = await after_sale.order("delivered", email="buyer@example.kz")
    assert order.profile is not None
    found = console.get("/console/orders?q=buyer@example.kz")
    assert f'href="/console/orders/{order.id}"' in found.text
    assert "No order matches." in console.get("/console/orders?q=nobody@example.kz").text
    page = console.get(f"/console/orders/{order.id}")
    assert order.profile.iccid in page.text
    for secret in (order.token, order.profile.lpa, order.profile.activation_code):
        assert secret not in page.text
    resent = console.post(f"/console/orders/{order.id}/resend", {}, console.csrf(page.url.path))
    assert "being sent again" in resent.text and "by Aigerim" in resent.text
    assert console.get("/console/orders/1").status_code == 404
    failed = await after_sale.order("provisioning_failed")
    refused = console.post(f"/console/orders/{failed.id}/resend", {}, console.csrf())
    assert refused.status_code == 409


async def test_a_refund_shows_the_offers_rule_and_refuses_what_it_refuses(
        console: Console, after_sale: AfterSale) -> None:
    delivered = await after_sale.order("delivered")
    page = console.get(f"/console/orders/{delivered.id}/refund")
    assert "Refused by offer 5.2, 5.4" in page.text and "Amount paid</dt><dd>4990 ₸" in page.text
    assert "Delivered</dt><dd>yes" in page.text and "Data used</dt><dd>0 bytes" in page.text
    csrf = console.csrf()
    refused = console.post(f"/console/orders/{delivered.id}/refund", {"reason": "asked"}, csrf)
    assert refused.status_code == 409 and "Refused by offer 5.2, 5.4" in refused.text
    assert console.get("/console/orders/1/refund").status_code == 404
    failed = await after_sale.order("provisioning_failed")
    page = console.get(f"/console/orders/{failed.id}/refund")
    assert "The offer allows refunding 4990 ₸." in page.text
    done = console.post(f"/console/orders/{failed.id}/refund", {"reason": "not issued"}, csrf)
    assert done.status_code == 200 and "Refund: refunded." in done.text
    assert "4990 ₸ by Aigerim: not issued" in done.text
    again = console.post(f"/console/orders/{failed.id}/refund", {"reason": "again"}, csrf)
    assert again.status_code == 409 and "Refused by offer 6.3" in again.text


async def test_a_claim_shows_its_deadline_and_is_flagged_when_nearly_overdue(
        console: Console, after_sale: AfterSale) -> None:
    order = await after_sale.order("delivered")
    csrf = console.csrf()
    received = (datetime.now(UTC).date() - timedelta(days=27)).isoformat()
    assert console.post("/console/claims", {"received_on": "yesterday", "summary": "x"},
                        csrf).status_code == 422
    assert console.post("/console/claims", {"received_on": received, "summary": " "},
                        csrf).status_code == 422
    assert console.post("/console/claims", {"received_on": received, "order_id": order.id,
                                            "summary": "Wants money <b>back</b>"}, csrf).status_code == 303
    deadline = (datetime.now(UTC).date() + timedelta(days=3)).isoformat()
    claims = console.get("/console/claims")
    assert f"answer by <b>{deadline}</b>" in claims.text and "(3 days left)" in claims.text
    assert "Wants money &lt;b&gt;back&lt;/b&gt;" in claims.text
    assert f"due soon: Wants money &lt;b&gt;back&lt;/b&gt; (by {deadline})" in console.get("/console/").text
    old = (datetime.now(UTC).date() - timedelta(days=31)).isoformat()
    console.post("/console/claims", {"received_on": old, "summary": "Old one"}, csrf)
    assert "overdue: Old one" in console.get("/console/orders").text
    claim_id = re.search(r'id="claim-(\w+)"', console.get("/console/claims").text).group(1)  # type: ignore[union-attr]
    assert console.post(f"/console/claims/{claim_id}/resolve", {"resolution": ""}, csrf).status_code == 422
    assert console.post(f"/console/claims/{claim_id}/resolve", {"resolution": "refunded"},
                        csrf).status_code == 303
    assert "resolved by Aigerim" in console.get("/console/claims").text


def test_add_operator_and_operator_token_print_what_the_person_needs(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
        anyio_backend: str) -> None:
    import asyncio

    monkeypatch.setenv("ORDERS_DB", str(tmp_path / "orders.json"))
    assert asyncio.run(commands.operator_token("nobody@example.kz")) == 1
    assert "add them first" in capsys.readouterr().out
    assert asyncio.run(commands.add_operator(EMAIL, "Aigerim")) == 0
    assert "/console/set-password/" in capsys.readouterr().out
    assert asyncio.run(commands.add_operator(EMAIL, "Aigerim", totp=True)) == 0
    assert "otpauth://totp/" in capsys.readouterr().out
    assert asyncio.run(commands.operator_token(EMAIL)) == 0
    token = re.search(r"Bearer (\S+)", capsys.readouterr().out).group(1)  # type: ignore[union-attr]
    accounts = Accounts(JsonDoc(tmp_path / "operators.json"))
    assert accounts.by_api_token(token).name == "Aigerim"  # type: ignore[union-attr]
    assert accounts.by_api_token(token + "x") is None


async def test_a_delivered_unused_esim_confirmed_non_functional_may_be_refunded(
        console: Console, after_sale: AfterSale) -> None:
    delivered = await after_sale.order("delivered")
    page = console.get(f"/console/orders/{delivered.id}/refund")
    assert f'href="/console/orders/{delivered.id}/refund?non_functional=1"' in page.text
    confirmed = console.get(f"/console/orders/{delivered.id}/refund?non_functional=1")
    assert "The offer allows refunding 4990 ₸." in confirmed.text
    assert 'name="non_functional" value="1"' in confirmed.text


def test_expired_sessions_and_used_links_open_nothing(store_backend: Callable[[], Any]) -> None:
    accounts = Accounts(store_backend().document("operators"))  # on both backends
    token, _ = accounts.add(EMAIL, "Aigerim")
    assert accounts.set_password("not-the-link", PASSWORD) is None
    assert accounts.set_password(token, PASSWORD) is not None
    assert accounts.verify(EMAIL, PASSWORD) is not None
    assert accounts.verify("nobody@example.kz", PASSWORD) is None
    session = accounts.start_session(accounts.verify(EMAIL, PASSWORD))  # type: ignore[arg-type]
    assert accounts.session(session) is not None
    accounts.doc.change(lambda data: [s.update(expires_at=0) for s in data["sessions"].values()])
    assert accounts.session(session) is None


async def test_queues_list_orders_to_refund_receipts_not_registered_and_stuck_jobs(
        console: Console, after_sale: AfterSale) -> None:
    assert console.get("/console/queues").text.count("<li>None.</li>") == 3
    failed = await after_sale.order("provisioning_failed")
    delivered = await after_sale.order("delivered")
    await after_sale.store.enqueue(delivered.id, "fiscal_sale", delay_s=-11 * 60)
    page = console.get("/console/queues").text
    assert f'<a href="/console/orders/{failed.id}/refund">{failed.id}</a> · provisioning_failed' in page
    assert f'{delivered.id}</a> · fiscal_sale · 0 attempts' in page
    assert "fiscal_sale · 11 min" in page


def test_support_opens_a_buyers_screenshot_in_the_console(console: Console) -> None:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "PNG")
    key = console.http.post("/api/chat/threads", json={"lang": "en", "text": "Look"}).json()[
        "thread_key"]
    assert console.http.post(f"/api/chat/threads/{key}/screenshot",
                             content=out.getvalue()).status_code == 201
    inbox = console.get("/console/")
    assert "(screenshot)" in inbox.text
    thread_path = re.search(r'href="(/console/threads/\w+)"', inbox.text).group(1)  # type: ignore[union-attr]
    src = re.search(r'<img class="shot" src="([^"]+)"', console.get(thread_path).text).group(1)  # type: ignore[union-attr]
    image = console.get(src)
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")
    assert console.get(src.replace(".png", "x.png")).status_code == 404
    assert console.get(src.replace(thread_path.rpartition("/")[2], "nothread")).status_code == 404
    assert Console(console.http.base_url.__str__()).get(src).status_code == 303  # signed out


async def test_the_dashboard_draws_orders_revenue_refunds_and_delivery_time_per_day(
        console: Console, after_sale: AfterSale) -> None:
    from store_helpers import make_order

    from worker.orders.model import Payment, Refund

    today = datetime.now(UTC).replace(microsecond=0)
    for n, wait_s in enumerate((10, 20, 90)):
        order = make_order(n, status="delivered", payment=Payment(
            transaction_id=f"tx-{n}", paid_at=today.isoformat()))
        order.timeline.append({"at": (today + timedelta(seconds=wait_s)).isoformat(),
                               "event": "delivered", "detail": ""})
        await after_sale.store.create(order)
    refunded = make_order(9, status="refunded", payment=Payment(
        transaction_id="tx-9", paid_at=(today - timedelta(days=1)).isoformat()),
        refund=Refund(amount=4990, reason="x", operator="A", epay_refunded_at=today.isoformat()))
    await after_sale.store.create(refunded)
    await after_sale.store.create(make_order(10, payment=Payment(  # 31 days ago: not shown
        transaction_id="tx-10", paid_at=(today - timedelta(days=31)).isoformat())))
    page = console.get("/console/dashboard").text
    assert "4 paid orders, 19960 ₸ paid, 4990 ₸ refunded." in page
    day = today.date().isoformat()
    assert f"<title>{day}: 3 orders</title>" in page
    assert f"<title>{day}: 14970 ₸</title>" in page
    assert f"<title>{day}: 20 s</title>" in page and f"<title>{day}: 90 s</title>" in page
    assert "(highest: 14970 ₸)" in page
    assert page.count("<rect ") == 5 * 30


async def test_support_asks_the_aggregator_for_usage_and_exports_csv(
        console: Console, after_sale: AfterSale) -> None:
    order = await after_sale.order("delivered")
    csrf = console.csrf()
    fresh = console.post(f"/console/orders/{order.id}/usage", {}, csrf)
    assert "The aggregator says now: 0 bytes used, installed: no, status" in fresh.text
    failed = await after_sale.order("provisioning_failed")
    assert console.post(f"/console/orders/{failed.id}/usage", {}, csrf).status_code == 404
    day = datetime.now(UTC).date().isoformat()
    csv_text = console.get(f"/console/export/orders.csv?from={day}&to={day}").text
    assert csv_text.startswith("order_id,created_at,status") and order.id in csv_text
    assert Console(str(console.http.base_url)).get(
        f"/console/export/orders.csv?from={day}&to={day}").status_code == 303


def test_an_operator_with_a_second_factor_needs_the_code_from_their_app(
        server: str, after_sale_settings: Settings) -> None:
    import pyotp

    accounts = Accounts(JsonDoc(after_sale_settings.orders_db.with_name("operators.json")))
    token, uri = accounts.add(EMAIL, "Aigerim", totp=True)
    assert uri is not None and uri.startswith("otpauth://totp/")
    browser = Console(server)
    browser.post(f"/console/set-password/{token}", {"password": PASSWORD})
    totp = pyotp.parse_uri(uri)
    assert browser.sign_in().status_code == 401  # the password alone is not enough
    wrong = str((int(totp.now()) + 1) % 1_000_000).zfill(6)
    answer = browser.post("/console/sign-in", {"email": EMAIL, "password": PASSWORD, "code": wrong},
                          browser.csrf("/console/sign-in"))
    assert answer.status_code == 401
    answer = browser.post("/console/sign-in", {"email": EMAIL, "password": PASSWORD,
                                               "code": totp.now()}, browser.csrf("/console/sign-in"))
    assert answer.status_code == 303
    assert accounts.add(EMAIL, "Aigerim")[1] is None  # a password reset keeps the factor
    assert "totp_secret" in after_sale_settings.orders_db.with_name("operators.json").read_text()


def html_errors(files: list[Path]) -> list[dict[str, Any]]:
    """The Nu HTML Checker's errors (tests/site/test_html_valid.py runs it on the site)."""
    vnu = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
    result = subprocess.run(["java", "-jar", str(vnu), "--errors-only", "--format", "json",
                             *map(str, files)], capture_output=True, text=True, check=False,
                            timeout=120)
    messages: list[dict[str, Any]] = json.loads(result.stderr or '{"messages": []}')["messages"]
    assert messages or result.returncode == 0, result.stderr
    return messages


@pytest.mark.skipif(not shutil.which("java"), reason="no Java runtime: `make setup` installs it")
async def test_every_console_page_is_valid_html(console: Console, after_sale: AfterSale,
                                               tmp_path: Path, server: str) -> None:
    order = await after_sale.order("delivered")
    console.http.post("/api/chat/threads", json={"lang": "en", "text": "Hi <b>", "order_token": order.token})
    inbox = console.get("/console/").text
    thread = re.search(r'href="(/console/threads/\w+)"', inbox).group(1)  # type: ignore[union-attr]
    console.post("/console/claims", {"received_on": "2026-01-01", "summary": "Late"}, console.csrf())
    paths = ["/console/", thread, f"/console/orders?q={order.id}", f"/console/orders/{order.id}",
             f"/console/orders/{order.id}/refund", "/console/claims", "/console/queues",
             "/console/dashboard", "/console/orders/1"]
    pages = [(p, console.get(p).text) for p in paths]
    pages += [("sign-in", Console(server).get("/console/sign-in").text)]
    files = []
    for n, (_, html) in enumerate(pages):
        files.append(tmp_path / f"page{n}.html")
        files[-1].write_text(html)
    messages = html_errors(files)
    assert not messages, [(paths[int(Path(m["url"]).stem[4:])] if int(Path(m["url"]).stem[4:]) < len(paths)
                           else "sign-in", m.get("lastLine"), m["message"]) for m in messages]


def test_two_hosts_on_one_postgresql_share_the_chat_the_operators_and_the_claims(
        after_sale_settings: Settings, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 13: with ORDERS_DB a PostgreSQL URL, a load balancer may send any request to either
    host (each with its own disk): the buyer's thread, its screenshot, an operator's session
    and API token and a claim are the same on both."""
    import asyncio

    from PIL import Image

    monkeypatch.setenv("ORDERS_DB", pg_url)  # for `invoke add-operator` and `operator-token`
    hosts = [replace(after_sale_settings, orders_url=pg_url,
                     orders_db=tmp_path / f"host{n}" / "orders.json") for n in range(2)]
    with ServerThread(create_app(hosts[0], handlers={})) as one, \
            ServerThread(create_app(hosts[1], handlers={})) as two:
        a, b = Console(one.url), Console(two.url)
        assert a.post("/console/set-password/x", {"password": PASSWORD}).status_code != 303
        assert asyncio.run(commands.add_operator(EMAIL, "Aigerim")) == 0
        token = re.search(r"set-password/(\S+)", capsys.readouterr().out).group(1)  # type: ignore[union-attr]
        assert a.post(f"/console/set-password/{token}", {"password": PASSWORD}).status_code == 303
        assert b.sign_in().status_code == 303
        a.cookies = dict(b.cookies)  # the same browser, sent to the other host next time

        key = a.http.post("/api/chat/threads", json={"lang": "ru", "text": "Не работает"}).json()[
            "thread_key"]
        shot = io.BytesIO()
        Image.new("RGB", (8, 8)).save(shot, "PNG")
        assert a.http.post(f"/api/chat/threads/{key}/screenshot",
                           content=shot.getvalue()).status_code == 201
        thread_path = re.search(r'href="(/console/threads/\w+)"', b.get("/console/").text).group(1)  # type: ignore[union-attr]
        page = a.get(thread_path)  # the session opened on b counts on a
        assert "Не работает" in page.text
        src = re.search(r'<img class="shot" src="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        assert b.get(src).content.startswith(b"\x89PNG")
        assert a.post(thread_path + "/reply", {"text": "Включите роуминг"},
                      b.csrf(thread_path)).status_code == 303
        messages = b.http.get(f"/api/chat/threads/{key}").json()["messages"]
        assert [m["text"] for m in messages] == ["Не работает", "", "Включите роуминг"]

        assert asyncio.run(commands.operator_token(EMAIL)) == 0
        api_token = re.search(r"Bearer (\S+)", capsys.readouterr().out).group(1)  # type: ignore[union-attr]
        listed = b.http.get("/operator/chat/threads", headers={"Authorization": f"Bearer {api_token}"})
        assert [len(t["messages"]) for t in listed.json()["threads"]] == [3]

        received = datetime.now(UTC).date().isoformat()
        assert a.post("/console/claims", {"received_on": received, "summary": "Верните деньги"},
                      a.csrf()).status_code == 303
        assert "Верните деньги" in b.get("/console/claims").text
        b.post("/console/sign-out", {}, b.csrf())
        assert a.get("/console/").status_code == 303  # signed out on both
    for host in hosts:  # nothing of it on either host's disk
        assert not host.orders_db.with_name("chat.json").exists()
        assert not host.orders_db.with_name("operators.json").exists()
        assert not host.orders_db.with_name("chat-files").exists()

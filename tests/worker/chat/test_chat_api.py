"""The buyer's chat API and support's side of it (issue 11): keys, 404s, 422s, limits, restart."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from after_sale import AfterSale
from loopback import ServerThread
from smtp_mailbox import Mailbox

from worker.app import create_app
from worker.chat import notify
from worker.chat.threads import ChatStore
from worker.config import Settings
from worker.mail import smtp
from worker.orders.documents import Folder, JsonDoc

pytestmark = pytest.mark.anyio
TOKEN = "operator-token-0123456789-abcdefghijklmnop"  # tests/worker/conftest.py


@pytest.fixture
def worker(after_sale_settings: Settings) -> Iterator[httpx.Client]:
    with ServerThread(create_app(after_sale_settings, handlers={})) as server, \
            httpx.Client(base_url=server.url, timeout=15) as client:
        yield client


def desk(worker: httpx.Client) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


def ask(worker: httpx.Client, text: str = "Where is my QR code?", **more: object) -> str:
    answer = worker.post("/api/chat/threads", json={"lang": "en", "text": text, **more})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["thread_key"])


def test_a_thread_opens_with_its_key_only_and_the_file_keeps_no_key(
        worker: httpx.Client, after_sale_settings: Settings) -> None:
    key = ask(worker, "<script>alert(1)</script>")
    assert len(key) >= 22  # 128 bits in URL-safe base64
    thread = worker.get(f"/api/chat/threads/{key}").json()
    assert thread["status"] == "open"
    assert [(m["author"], m["text"]) for m in thread["messages"]] == [
        ("buyer", "<script>alert(1)</script>")]
    assert key not in after_sale_settings.orders_db.with_name("chat.json").read_text()
    other = key[:-1] + ("y" if key.endswith("x") else "x")  # one character off (1 in 64 ends in x)
    unknown = [worker.get(f"/api/chat/threads/{k}") for k in (other, "a")]
    assert [a.status_code for a in unknown] == [404, 404]
    assert unknown[0].text == unknown[1].text == '{"error":"not found"}'
    assert worker.post(f"/api/chat/threads/{key}x/messages", json={"text": "hi"}).status_code == 404


def test_bad_input_is_refused_per_field_in_the_threads_language(worker: httpx.Client) -> None:
    answer = worker.post("/api/chat/threads", json={
        "lang": "ru", "text": "x" * 2001, "email": "not-an-address", "order_token": "nope"})
    assert answer.status_code == 422
    assert answer.json()["errors"] == {
        "text": "В сообщении не больше 2 000 символов. Разделите его на два.",
        "email": "Введите правильный адрес e-mail, например name@example.com, или оставьте "
                 "поле пустым.",
        "order_token": "Заказ не найден. Откройте чат заново со страницы заказа.",
    }
    assert set(worker.post("/api/chat/threads", json={"text": " "}).json()["errors"]) == {
        "lang", "text"}
    key = worker.post("/api/chat/threads", json={"lang": "kk", "text": "x" * 2000}).json()[
        "thread_key"]
    empty = worker.post(f"/api/chat/threads/{key}/messages", content=b"[")
    assert (empty.status_code, empty.json()) == (
        422, {"errors": {"text": "Сұрағыңызды жазыңыз."}})


def test_more_than_ten_messages_a_minute_are_refused(worker: httpx.Client) -> None:
    key = ask(worker)
    codes = [worker.post(f"/api/chat/threads/{key}/messages", json={"text": f"m{i}"}).status_code
             for i in range(10)]
    assert codes == [201] * 9 + [429]  # the first message opened the thread
    refused = worker.post("/api/chat/threads", json={"lang": "ru", "text": "again"})
    assert refused.status_code == 429  # the same address
    assert refused.json() == {"error": "Вы пишете слишком часто. Подождите минуту и отправьте "
                                       "сообщение снова."}
    assert len(worker.get(f"/api/chat/threads/{key}").json()["messages"]) == 10


def test_the_chat_limit_holds_across_a_restart(after_sale_settings: Settings) -> None:
    def messages_sent(count: int) -> list[int]:
        with ServerThread(create_app(after_sale_settings, handlers={})) as server, \
                httpx.Client(base_url=server.url, timeout=15) as client:
            return [client.post("/api/chat/threads", json={"lang": "en", "text": "hi"}).status_code
                    for _ in range(count)]

    assert messages_sent(6) == [201] * 6
    assert messages_sent(6) == [201] * 4 + [429] * 2  # the counts are kept beside the store


async def test_support_sees_the_order_number_never_its_token_and_answers(
        worker: httpx.Client, after_sale: AfterSale, after_sale_mailbox: Mailbox,
        after_sale_settings: Settings) -> None:
    order = await after_sale.order("delivered")
    key = ask(worker, "It does not connect", order_token=order.token, email="Buyer@Example.kz")
    assert worker.get("/operator/chat/threads").status_code == 401
    threads = worker.get("/operator/chat/threads?status=open", headers=desk(worker)).json()
    [thread] = threads["threads"]
    assert thread["order"] == {"order_id": order.id, "status": "delivered"}
    assert thread["email"] == "buyer@example.kz" and thread["waiting_since"]
    assert order.token not in str(threads)
    path = f"/operator/chat/threads/{thread['id']}"
    assert worker.get(path, headers=desk(worker)).json()["id"] == thread["id"]
    assert worker.get(path + "x", headers=desk(worker)).status_code == 404
    assert worker.post(path + "/messages", headers=desk(worker), json={}).status_code == 422
    assert worker.post(path + "x/messages", headers=desk(worker),
                       json={"text": "a"}).status_code == 404
    answer = worker.post(path + "/messages", headers=desk(worker),
                         json={"text": "Turn on roaming <b>now</b>", "operator": "Aigerim"})
    assert answer.status_code == 201
    seen = worker.get(f"/api/chat/threads/{key}").json()["messages"]
    assert seen[-1] == {"id": 2, "author": "support", "text": "Turn on roaming <b>now</b>",
                        "at": seen[-1]["at"]}  # no operator name for the buyer
    assert worker.get(path, headers=desk(worker)).json()["waiting_since"] is None
    # The buyer's panel was open: no e-mail to them.
    assert [m["To"] for m in after_sale_mailbox.messages if m["To"] != "support@qazaq-esim.com"] == []
    # A restart keeps everything.
    assert ChatStore(JsonDoc(after_sale_settings.orders_db.with_name("chat.json")),
                     Folder(after_sale_settings.orders_db.with_name("chat-files"))).get(
        thread["id"]).messages[-1].operator == "Aigerim"


async def test_a_reply_while_the_buyer_is_away_is_emailed_with_a_link_that_reopens(
        worker: httpx.Client, after_sale_mailbox: Mailbox, after_sale_settings: Settings,
        monkeypatch: pytest.MonkeyPatch) -> None:
    key = ask(worker, "Hello", email="buyer@example.kz")
    ask(worker, "No address given")
    monkeypatch.setattr(notify, "AWAY_S", -1.0)
    [with_mail, _] = worker.get("/operator/chat/threads", headers=desk(worker)).json()["threads"]
    path = f"/operator/chat/threads/{with_mail['id']}/messages"
    worker.post(path, headers=desk(worker), json={"text": "<img src=x onerror=alert(1)>"})
    mail = next(m for m in after_sale_mailbox.wait_for(2) if m["To"] == "buyer@example.kz")
    assert mail["To"] == "buyer@example.kz"
    assert mail["Subject"] == "Support answered your question"
    text_part, html_part = mail.get_body(("plain",)), mail.get_body(("html",))
    assert text_part is not None and html_part is not None
    body = text_part.get_content()
    assert "<img src=x onerror=alert(1)>" in body  # text is text
    assert "&lt;img src=x onerror=alert(1)&gt;" in html_part.get_content()
    assert "<img src=x" not in html_part.get_content()  # never markup in the HTML part
    link_key = re.search(r"/en/#chat=(\S+)", body)
    assert link_key and link_key.group(1) != key
    reopened = worker.get(f"/api/chat/threads/{link_key.group(1)}").json()
    assert reopened["messages"][-1]["text"] == "<img src=x onerror=alert(1)>"
    assert worker.get(f"/api/chat/threads/{key}").status_code == 200  # the panel's key still works


async def test_a_failed_reply_email_is_sent_later(after_sale: AfterSale,
                                                  after_sale_settings: Settings) -> None:
    services = after_sale.services
    services.settings = replace(after_sale_settings, smtp_port=1)  # nothing listens there
    thread, _ = services.chat.open_thread("kk", "Сәлем", "buyer@example.kz", None)
    services.chat.change(thread.id, lambda t: setattr(t, "email_due", True))
    assert await notify.send_due(services) == 0
    assert services.chat.get(thread.id).email_due  # type: ignore[union-attr]
    assert await notify.send_due(services) == 0  # waits before trying again


async def test_support_hears_of_new_questions_in_one_email_a_minute_at_most(
        after_sale: AfterSale, after_sale_mailbox: Mailbox, after_sale_settings: Settings,
        monkeypatch: pytest.MonkeyPatch) -> None:
    services = after_sale.services
    first, _ = services.chat.open_thread("ru", "Где QR? <script>x</script>", None, "1234567890")
    second, _ = services.chat.open_thread("en", "Hello", None, None)
    sent_at = await notify.tell_support(services, float("-inf"))
    [digest] = after_sale_mailbox.wait_for(1)
    assert digest["To"] == "support@qazaq-esim.com"
    assert digest["Subject"] == "Chat: 2 new message(s) in 2 conversation(s)"
    body = digest.get_content().replace("\r\n", "\n")
    assert f"/console/threads/{first.id} (ru, order 1234567890)\n> Где QR? <script>x</script>" in body
    services.chat.change(second.id, lambda t: t.add("buyer", "Still there?"))
    assert await notify.tell_support(services, sent_at) == sent_at  # within the minute: wait
    monkeypatch.setattr(notify, "SUPPORT_EVERY_S", 0.0)
    await notify.tell_support(services, sent_at)
    later = after_sale_mailbox.wait_for(2)[-1]
    assert "Still there?" in later.get_content() and "Где QR" not in later.get_content()
    assert await notify.tell_support(services, 0.0) == 0.0  # nothing new: no e-mail
    services.chat.change(second.id, lambda t: t.add("buyer", "Hello?"))

    async def refused(*args: object) -> None:
        raise smtp.MailError("down")

    monkeypatch.setattr(smtp, "send", refused)
    assert await notify.tell_support(services, 0.0) > 0.0  # tried: waits a minute again
    assert services.chat.get(second.id).support_told == 2  # type: ignore[union-attr]


def png(size: tuple[int, int] = (40, 30), mode: str = "RGB", **info: str) -> bytes:
    from PIL import Image, PngImagePlugin

    meta = PngImagePlugin.PngInfo()
    for name, value in info.items():
        meta.add_text(name, value)
    out = io.BytesIO()
    Image.new(mode, size, "white" if mode == "RGB" else 1).save(out, "PNG", pnginfo=meta)
    return out.getvalue()


def test_a_screenshot_is_decoded_encoded_again_and_shown_only_to_support(
        worker: httpx.Client, after_sale_settings: Settings) -> None:
    from PIL import Image

    key = ask(worker, "See the error", email="buyer@example.kz")
    path = f"/api/chat/threads/{key}/screenshot"
    gif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(gif, "GIF")
    for bad in (b"<html><script>alert(1)</script></html>", b"", gif.getvalue(),
                png((7_000, 7_000), mode="1"), png((10_000, 10_000), mode="1")):
        refused = worker.post(path, content=bad, headers={"Content-Type": "image/png"})
        assert refused.status_code == 422, bad[:10]
        assert refused.json() == {"errors": {
            "screenshot": "Attach a screenshot as a PNG or JPEG image of at most 5 MB."}}
    assert worker.post(path, content=b"x" * (5 * 1024 * 1024 + 2000)).status_code == 413
    assert worker.post(f"/api/chat/threads/{key}/messages",
                       content=b"x" * 20_000).status_code == 413  # text stays at 16 KB
    assert worker.post(path + "x", content=png()).status_code == 404
    assert worker.post(f"/api/chat/threads/{key}x/screenshot", content=png()).status_code == 404
    answer = worker.post(path, content=png(Comment="secret location 43.2,76.9"),
                         headers={"Content-Type": "image/png"})
    assert answer.status_code == 201
    jpeg = io.BytesIO()
    Image.new("RGB", (20, 20)).save(jpeg, "JPEG")
    assert worker.post(path, content=jpeg.getvalue()).status_code == 201
    for i in range(7):
        worker.post(f"/api/chat/threads/{key}/messages", json={"text": f"m{i}"})
    limited = worker.post(path, content=png())
    assert limited.status_code == 429  # screenshots count with messages: 10 a minute
    messages = worker.get(f"/api/chat/threads/{key}").json()["messages"][:3]
    assert [m.get("screenshot") for m in messages] == [None, True, True]
    assert messages[1]["text"] == ""
    thread = worker.get("/operator/chat/threads", headers=desk(worker)).json()["threads"][0]
    [name, jpg_name] = [m["screenshot"] for m in thread["messages"][1:3]]
    assert name.endswith(".png") and jpg_name.endswith(".jpg")
    stored = after_sale_settings.orders_db.with_name("chat-files") / name
    with Image.open(stored) as image:
        assert image.format == "PNG" and image.size == (40, 30)
        assert "Comment" not in image.info


def test_an_open_panel_on_one_host_spares_the_email_of_a_reply_on_the_other(
        after_sale_settings: Settings, pg_url: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL (issue 13): the panel polls host a, support answers on host b."""
    from worker.orders.postgres import PgOrderStore

    hosts = [replace(after_sale_settings, orders_url=pg_url,
                     orders_db=tmp_path / f"host{n}" / "orders.json") for n in range(2)]
    with ServerThread(create_app(hosts[0], handlers={})) as one, \
            ServerThread(create_app(hosts[1], handlers={})) as two, \
            httpx.Client(base_url=one.url, timeout=15) as a, \
            httpx.Client(base_url=two.url, timeout=15) as b:
        key = ask(a, "Hello", email="buyer@example.kz")
        [thread] = b.get("/operator/chat/threads", headers=desk(b)).json()["threads"]
        path = f"/operator/chat/threads/{thread['id']}/messages"
        assert a.get(f"/api/chat/threads/{key}").status_code == 200  # the panel is open
        b.post(path, headers=desk(b), json={"text": "Seen in the panel"})
        store = PgOrderStore.open(pg_url)
        chat = ChatStore(store.document("chat"), store.files("chat-files"))
        assert not chat.get(thread["id"]).email_due  # type: ignore[union-attr]
        monkeypatch.setattr(notify, "AWAY_S", 0.05)
        a.get(f"/api/chat/threads/{key}")
        time.sleep(0.1)  # the panel was closed since
        b.post(path, headers=desk(b), json={"text": "Mailed"})
        assert chat.get(thread["id"]).email_due  # type: ignore[union-attr]
        store.close()

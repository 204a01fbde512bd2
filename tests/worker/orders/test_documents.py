"""The support desk's documents and screenshots (worker/orders/documents.py) on both backends:
two processes' views of one store lose no change, a failed change writes nothing, and the
chat store, operators and claims written by one are read by the other."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from worker.chat.threads import ChatStore, UnknownThread
from worker.console.accounts import Accounts
from worker.console.claims import Claims


def test_a_document_starts_empty_keeps_each_change_and_its_version_moves(
        store_backend: Callable[[], Any]) -> None:
    doc = store_backend().document("claims")
    assert doc.read() == {} and doc.version() is None

    assert doc.change(lambda data: data.setdefault("a", {"n": "Алия"})) == {"n": "Алия"}
    first = doc.version()
    doc.change(lambda data: data.update(b=2))

    assert doc.read() == {"a": {"n": "Алия"}, "b": 2}
    assert first is not None and doc.version() != first


def test_a_change_that_raises_writes_nothing(store_backend: Callable[[], Any]) -> None:
    doc = store_backend().document("operators")
    doc.change(lambda data: data.update(kept=1))

    def half_done(data: dict[str, Any]) -> None:
        data["lost"] = 1
        raise ValueError("the operator's input was wrong")

    with pytest.raises(ValueError, match="input was wrong"):
        doc.change(half_done)
    assert doc.read() == {"kept": 1}


def test_two_processes_writing_at_once_lose_no_change(store_backend: Callable[[], Any]) -> None:
    docs = [store_backend().document("chat") for _ in range(2)]

    def add(doc: Any) -> None:
        for _ in range(10):
            doc.change(lambda data: data.update(n=data.get("n", 0) + 1))

    writers = [threading.Thread(target=add, args=(doc,)) for doc in docs for _ in range(2)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert docs[1].read() == {"n": 40}


def test_files_are_kept_read_back_and_removed_by_prefix(store_backend: Callable[[], Any]) -> None:
    files = store_backend().files("chat-files")
    files.put("t1-a.png", b"\x89PNG one")
    files.put("t1-b.jpg", b"\xff\xd8 two")
    files.put("t2-a.png", b"\x89PNG three")

    assert store_backend().files("chat-files").get("t1-b.jpg") == b"\xff\xd8 two"
    files.remove_prefix("t1-")
    for gone in ("t1-a.png", "t1-b.jpg"):
        with pytest.raises(FileNotFoundError):
            files.get(gone)
    assert files.get("t2-a.png") == b"\x89PNG three"
    with pytest.raises(FileNotFoundError):
        store_backend().files("other").get("t2-a.png")  # another folder


def test_a_thread_written_by_one_process_is_read_and_answered_by_another(
        store_backend: Callable[[], Any]) -> None:
    one, two = store_backend(), store_backend()
    buyer = ChatStore(one.document("chat"), one.files("chat-files"))
    desk = ChatStore(two.document("chat"), two.files("chat-files"))
    assert desk.all() == []
    thread, key = buyer.open_thread("kk", "QR код келмеді", "buyer@example.kz", None)
    shot = buyer.add_screenshot(thread.id, b"\x89PNG screen", "png").screenshot

    assert [t.id for t in desk.all()] == [thread.id]
    desk.change(thread.id, lambda t: t.add("support", "Жіберілді", operator="Aigerim"))
    assert desk.screenshot(str(shot)) == b"\x89PNG screen"
    assert [m.text for m in buyer.by_key(key).messages] == [  # type: ignore[union-attr]
        "QR код келмеді", "", "Жіберілді"]
    assert buyer.by_key(key + "x") is None
    with pytest.raises(UnknownThread):
        desk.change("nothread", lambda t: None)

    desk.remove([thread.id])
    assert buyer.get(thread.id) is None
    with pytest.raises(FileNotFoundError):
        buyer.screenshot(str(shot))


def test_operators_and_claims_written_by_one_process_count_in_another(
        store_backend: Callable[[], Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from argon2 import PasswordHasher

    from worker.console import accounts

    monkeypatch.setattr(accounts, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    one, two = store_backend(), store_backend()
    token, _ = Accounts(one.document("operators")).add("aigerim@qazaq-esim.com", "Aigerim")
    assert Accounts(two.document("operators")).set_password(token, "correct horse battery")
    session = Accounts(one.document("operators")).start_session(
        Accounts(one.document("operators")).verify("aigerim@qazaq-esim.com", "correct horse battery"))  # type: ignore[arg-type]
    assert Accounts(two.document("operators")).session(session) is not None
    Accounts(two.document("operators")).end_session(session)
    assert Accounts(one.document("operators")).session(session) is None

    claim = Claims(one.document("claims")).open(
        summary="Деньги назад", received_on=date(2026, 12, 1), operator="Aigerim",
        thread_id=None, order_id=None)
    Claims(two.document("claims")).resolve(claim.id, "refunded", "Aigerim")
    assert Claims(one.document("claims")).get(claim.id).status == "resolved"  # type: ignore[union-attr]

"""Chat threads in one document of the order store's backend (worker/orders/documents.py:
``chat.json`` beside ORDERS_DB, or a row of ``documents`` on PostgreSQL).

A thread is opened only by its key (at least 128 random bits, given to the buyer once);
the document keeps the key's SHA-256, so a copy of it opens no thread. Support sees a
thread by its short id. Every change is written atomically and durably under the document's
lock, so a reply survives a crash or a restart, and several worker processes (several hosts
on PostgreSQL) see each other's writes (a read reloads when the document's version changed).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from worker.orders.documents import Document, Files
from worker.orders.model import Lang, utc_now

Author = Literal["buyer", "support"]
KEY_BYTES = 24  # 192 random bits


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass
class Message:
    id: int
    author: Author
    text: str
    at: str
    operator: str | None = None  # the support person's name; never shown to the buyer
    screenshot: str | None = None  # its name in the chat's files (worker/chat/screenshots.py)


@dataclass
class Thread:
    id: str  # short, for support; never opens the thread for a buyer
    key_hashes: list[str]
    lang: Lang
    email: str | None = None
    order_id: str | None = None  # the order number, never its token
    status: Literal["open", "closed"] = "open"
    created_at: str = field(default_factory=utc_now)
    messages: list[Message] = field(default_factory=list)
    events: list[dict[str, str]] = field(default_factory=list)  # who did what, when
    waiting_since: str | None = None  # the buyer's oldest unanswered message
    email_due: bool = False  # support answered while the buyer was away
    support_told: int = 0  # messages SUPPORT_EMAIL has heard of (worker/chat/notify.py)

    def add(self, author: Author, text: str, operator: str | None = None,
            screenshot: str | None = None) -> Message:
        message = Message(len(self.messages) + 1, author, text, utc_now(), operator, screenshot)
        self.messages.append(message)
        if author == "buyer":
            self.waiting_since = self.waiting_since or message.at
            self.status = "open"
        else:
            self.waiting_since = None
        return message

    def log(self, event: str, operator: str) -> None:
        self.events.append({"at": utc_now(), "event": event, "operator": operator})

    def public(self) -> dict[str, Any]:
        """What the buyer's panel reads: no operator names, no ids of support's records."""
        return {"status": self.status, "messages": [
            {"id": m.id, "author": m.author, "text": m.text, "at": m.at,
             **({"screenshot": True} if m.screenshot else {})} for m in self.messages
        ]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Thread:
        return cls(**{**data, "messages": [Message(**m) for m in data["messages"]]})


class UnknownThread(KeyError):
    """No thread has this key or id."""


class ChatStore:
    """See the module docstring. One instance per process and document."""

    def __init__(self, doc: Document, files: Files) -> None:
        self.doc = doc
        self.files = files  # screenshots, one each
        self._threads: dict[str, Thread] = {}
        self._by_key: dict[str, str] = {}
        self._loaded: object = None
        self._mem = threading.Lock()

    def _reload(self) -> None:
        version = self.doc.version()
        if version is not None and version == self._loaded:
            return
        raw = self.doc.read()
        self._threads = {i: Thread.from_dict(t) for i, t in raw.items()}
        self._by_key = {h: t.id for t in self._threads.values() for h in t.key_hashes}
        self._loaded = version  # a change since then is read on the next access

    def by_key(self, key: str) -> Thread | None:
        with self._mem:
            self._reload()
            thread_id = self._by_key.get(key_hash(key))
            return self._threads[thread_id] if thread_id else None

    def get(self, thread_id: str) -> Thread | None:
        with self._mem:
            self._reload()
            return self._threads.get(thread_id)

    def all(self) -> list[Thread]:
        with self._mem:
            self._reload()
            return list(self._threads.values())

    def open_thread(self, lang: Lang, text: str, email: str | None,
                    order_id: str | None) -> tuple[Thread, str]:
        """A new thread with the buyer's first message; returns it and its key (shown once)."""
        key = secrets.token_urlsafe(KEY_BYTES)

        def create(threads: dict[str, Thread]) -> Thread:
            thread_id = secrets.token_hex(6)
            thread = Thread(thread_id, [key_hash(key)], lang, email, order_id)
            thread.add("buyer", text)
            threads[thread_id] = thread
            return thread

        return self._write(create), key

    def change(self, thread_id: str, change: Callable[[Thread], Any]) -> Any:
        """Apply ``change`` to the freshest copy of the thread and write it; return its result."""
        def apply(threads: dict[str, Thread]) -> Any:
            if thread_id not in threads:
                raise UnknownThread(thread_id)
            return change(threads[thread_id])

        return self._write(apply)

    def add_screenshot(self, thread_id: str, image: bytes, extension: str) -> Message:
        """Keep the (already re-encoded) image and add it to the thread as the buyer's message."""
        name = f"{thread_id}-{secrets.token_hex(8)}.{extension}"
        self.files.put(name, image)
        message: Message = self.change(thread_id, lambda t: t.add("buyer", "", screenshot=name))
        return message

    def screenshot(self, name: str) -> bytes:
        return self.files.get(name)

    def remove(self, thread_ids: list[str]) -> None:
        """Remove the threads and their screenshots."""
        def drop(threads: dict[str, Thread]) -> None:
            for thread_id in thread_ids:
                threads.pop(thread_id, None)

        self._write(drop)
        for thread_id in thread_ids:
            self.files.remove_prefix(f"{thread_id}-")

    def _write(self, op: Callable[[dict[str, Thread]], Any]) -> Any:
        def apply(raw: dict[str, Any]) -> Any:
            threads = {i: Thread.from_dict(t) for i, t in raw.items()}
            result = op(threads)
            raw.clear()
            raw.update({i: asdict(t) for i, t in threads.items()})
            return result

        with self._mem:
            return self.doc.change(apply)  # the next read sees the new version

"""Sign-in links and sessions of "My eSIMs": signed with SESSION_SECRET, single use, expiring.

A sign-in link carries the address and a nonce, signed and timestamped (itsdangerous); it is
good for LINK_TTL_S and once: the used nonce is recorded. A session token carries the address
and a session id, and is good while that id is registered (sign-out removes it) and for at
most SESSION_TTL_S. The registry (`accounts.json` next to ORDERS_DB) holds only nonces, ids
and expiry times, never an address; it is shared by processes under a file lock. On
PostgreSQL the same facts are marks in the database (`marks`), shared by every host.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from worker.atomic_file import replace_atomically
from worker.orders.backends import Marks

LINK_TTL_S = 15 * 60
SESSION_TTL_S = 2 * 60 * 60
LINK_SALT = "qazaq-esim account sign-in link"
SESSION_SALT = "qazaq-esim account session"


class BadKey(Exception):
    """A used, expired or tampered link or session; the message is safe to show."""


class Keys:
    def __init__(self, secret: str, registry: Path, marks: Marks | None = None) -> None:
        self._marks = marks
        self._links = URLSafeTimedSerializer(secret, salt=LINK_SALT)
        self._sessions = URLSafeTimedSerializer(secret, salt=SESSION_SALT)
        self._path = registry
        self._lock_path = registry.with_suffix(".lock")

    # ---- sign-in links -----------------------------------------------------------------

    def link_token(self, email: str) -> str:
        return self._links.dumps({"e": email, "n": secrets.token_urlsafe(16)})

    def redeem_link(self, token: str) -> str:
        """The address the link was sent to; the link cannot be used again."""
        try:
            payload = self._links.loads(token, max_age=LINK_TTL_S)
        except SignatureExpired:
            raise BadKey("this sign-in link has expired: ask for a new one") from None
        except BadSignature:
            raise BadKey("this sign-in link is not valid: ask for a new one") from None
        nonce = str(payload["n"])
        if self._marks is not None:
            if not self._marks.mark("link_nonce", nonce, LINK_TTL_S + 60):
                raise BadKey("this sign-in link was already used: ask for a new one")
            return str(payload["e"])
        with self._registry() as registry:
            if nonce in registry["nonces"]:
                raise BadKey("this sign-in link was already used: ask for a new one")
            registry["nonces"][nonce] = time.time() + LINK_TTL_S + 60
        return str(payload["e"])

    # ---- sessions ----------------------------------------------------------------------

    def open_session(self, email: str) -> tuple[str, float]:
        """A new session token for this address and when it expires (epoch seconds)."""
        session_id = secrets.token_urlsafe(24)
        expires = time.time() + SESSION_TTL_S
        if self._marks is not None:
            self._marks.mark("session", session_id, SESSION_TTL_S)
            return self._sessions.dumps({"s": session_id, "e": email}), expires
        with self._registry() as registry:
            registry["sessions"][session_id] = expires
        return self._sessions.dumps({"s": session_id, "e": email}), expires

    def session_email(self, token: str) -> str:
        try:
            payload = self._sessions.loads(token, max_age=SESSION_TTL_S)
        except BadSignature:  # SignatureExpired included
            raise BadKey("your session has ended: sign in again") from None
        if self._marks is not None:
            if not self._marks.marked("session", str(payload["s"])):
                raise BadKey("your session has ended: sign in again")
            return str(payload["e"])
        expires = self._read()["sessions"].get(str(payload["s"]))
        if expires is None or expires <= time.time():
            raise BadKey("your session has ended: sign in again")
        return str(payload["e"])

    def close_session(self, token: str) -> None:
        try:
            payload = self._sessions.loads(token)
        except BadSignature:
            return
        if self._marks is not None:
            self._marks.unmark("session", str(payload["s"]))
            return
        with self._registry() as registry:
            registry["sessions"].pop(str(payload["s"]), None)

    # ---- the registry file ------------------------------------------------------------

    def _read(self) -> dict[str, dict[str, float]]:
        try:
            data: dict[str, dict[str, float]] = json.loads(self._path.read_text())
        except FileNotFoundError:
            data = {}
        data.setdefault("nonces", {})
        data.setdefault("sessions", {})
        return data

    def _registry(self) -> _Registry:
        return _Registry(self)


class _Registry:
    """Read, change and atomically rewrite the registry under an exclusive lock."""

    def __init__(self, keys: Keys) -> None:
        self.keys = keys
        self.fd = -1
        self.data: dict[str, Any] = {}

    def __enter__(self) -> dict[str, dict[str, float]]:
        self.keys._path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.keys._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        self.data = self.keys._read()
        return self.data

    def __exit__(self, kind: object, *exc: object) -> None:
        try:
            if kind is None:
                now = time.time()
                for table in ("nonces", "sessions"):  # forget what has expired anyway
                    self.data[table] = {k: t for k, t in self.data[table].items() if t > now}
                replace_atomically(self.keys._path, json.dumps(self.data).encode())
        finally:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)

"""Operators, their passwords, sessions and API tokens, in the order store's ``operators``
document (``operators.json`` beside ORDERS_DB, or a row of ``documents`` on PostgreSQL).

Passwords are argon2id hashes (argon2-cffi); a set-password link, a session id and an API
token are random and kept as SHA-256 only, so a copy of the document opens nothing. Every
change is written atomically under the document's lock (worker/orders/documents.py).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from worker.orders.documents import Document

SESSION_S = 12 * 3600  # a working shift; then sign in again
SET_PASSWORD_S = 24 * 3600
MIN_PASSWORD = 12
HASHER = PasswordHasher()
# Verified against when the address is unknown, so a wrong address takes as long as a wrong password.
DUMMY_HASH = HASHER.hash(secrets.token_urlsafe(16))


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Operator:
    email: str
    name: str


@dataclass(frozen=True)
class Session:
    operator: Operator
    csrf: str
    expires_at: float


class Accounts:
    """See the module docstring."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc

    def _read(self) -> dict[str, Any]:
        data = self.doc.read()
        data.setdefault("operators", {})
        data.setdefault("sessions", {})
        return data

    def _change(self, change: Callable[[dict[str, Any]], Any]) -> Any:
        def apply(data: dict[str, Any]) -> Any:
            data.setdefault("operators", {})
            data.setdefault("sessions", {})
            result = change(data)
            now = time.time()  # expired sessions leave with the next write
            data["sessions"] = {k: s for k, s in data["sessions"].items() if s["expires_at"] > now}
            return result

        return self.doc.change(apply)

    # ---- operators -----------------------------------------------------------------------

    def add(self, email: str, name: str, totp: bool = False) -> tuple[str, str | None]:
        """Add the operator (or reset their password); return the one-time set-password token
        and, with ``totp``, the otpauth:// URI of a new second factor for their phone's app."""
        token = secrets.token_urlsafe(32)
        email = email.strip().lower()
        secret = pyotp.random_base32() if totp else None

        def change(data: dict[str, Any]) -> None:
            known = data["operators"].get(email, {})
            data["operators"][email] = {
                **known, "name": name.strip() or known.get("name") or email,
                "password_hash": None,
                "set_password": {"hash": digest(token), "expires_at": time.time() + SET_PASSWORD_S},
                "totp_secret": secret or known.get("totp_secret"),
            }

        self._change(change)
        uri = pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name="Qazaq eSIM support") if secret else None
        return token, uri

    def set_password(self, token: str, password: str) -> Operator | None:
        """Set the password of the operator whose link this is; the link then works no more."""
        wanted = digest(token)

        def change(data: dict[str, Any]) -> Operator | None:
            for email, op in data["operators"].items():
                link = op.get("set_password") or {}
                if link.get("hash") == wanted and link["expires_at"] > time.time():
                    op["password_hash"] = HASHER.hash(password)
                    op["set_password"] = None
                    return Operator(email, op["name"])
            return None

        found: Operator | None = self._change(change)
        return found

    def link_valid(self, token: str) -> bool:
        wanted = digest(token)
        return any((op.get("set_password") or {}).get("hash") == wanted
                   and op["set_password"]["expires_at"] > time.time()
                   for op in self._read()["operators"].values())

    def verify(self, email: str, password: str, code: str = "") -> Operator | None:
        """The operator when the password (and, if they have one, the TOTP code) is right."""
        email = email.strip().lower()
        op = self._read()["operators"].get(email)
        stored = (op or {}).get("password_hash")
        try:
            HASHER.verify(stored or DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        assert op is not None  # only a stored hash matches: the dummy's password is random
        if op.get("totp_secret") and not pyotp.TOTP(op["totp_secret"]).verify(code.strip(), valid_window=1):
            return None
        return Operator(email, op["name"])

    def new_api_token(self, email: str) -> str:
        """A new personal API token for the operator (the old one stops working)."""
        token = secrets.token_urlsafe(32)
        email = email.strip().lower()

        def change(data: dict[str, Any]) -> None:
            if email not in data["operators"]:
                raise KeyError(email)
            data["operators"][email]["api_token_hash"] = digest(token)

        self._change(change)
        return token

    def by_api_token(self, token: str) -> Operator | None:
        wanted = digest(token)
        for email, op in self._read()["operators"].items():
            if op.get("api_token_hash") and secrets.compare_digest(op["api_token_hash"], wanted):
                return Operator(email, op["name"])
        return None

    # ---- sessions ------------------------------------------------------------------------

    def start_session(self, operator: Operator) -> str:
        session_id = secrets.token_urlsafe(32)

        def change(data: dict[str, Any]) -> None:
            data["sessions"][digest(session_id)] = {
                "email": operator.email, "csrf": secrets.token_urlsafe(24),
                "expires_at": time.time() + SESSION_S,
            }

        self._change(change)
        return session_id

    def session(self, session_id: str) -> Session | None:
        data = self._read()
        found = data["sessions"].get(digest(session_id))
        if found is None or found["expires_at"] <= time.time():
            return None
        op = data["operators"][found["email"]]
        return Session(Operator(found["email"], op["name"]), found["csrf"], found["expires_at"])

    def end_session(self, session_id: str) -> None:
        self._change(lambda data: data["sessions"].pop(digest(session_id), None))

"""Helpers for the Epay sandbox tests: a merchant receiver on loopback and the buyer's verbs."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from scripts.payform import VISA, card_form, flatten, lz_compress

ROOT = Path(__file__).resolve().parents[3]
CLIENT_ID = "test"
CLIENT_SECRET = "yF587AV9Ms94qN2QShFzVR3vFnWkhjbAK3sG"
TERMINAL = "67e34d63-102f-4bd1-898e-370781d0074d"


@dataclass
class Callback:
    path: str
    body: dict[str, Any]
    at: float


@dataclass
class Receiver:
    """The merchant side: records callbacks, answers the browser's return and shop pages.

    Each test gets its own path prefix (`clear()`), so a callback still on its way from an
    earlier test lands under an old prefix and is ignored.
    """

    base: str = ""
    prefix: str = ""
    callbacks: list[Callback] = field(default_factory=list)
    # HTTP statuses for the next callbacks; 200 once this runs out.
    answers: list[int] = field(default_factory=list)
    pages: dict[str, str] = field(default_factory=dict)
    changed: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        return f"{self.base}/{self.prefix}"

    def clear(self) -> None:
        with self.changed:
            self.prefix = secrets.token_hex(6)
            self.callbacks.clear()
            self.answers.clear()
            self.pages.clear()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Callback]:
        with self.changed:
            self.changed.wait_for(lambda: len(self.callbacks) >= count, timeout)
            return list(self.callbacks)

    async def callback(self, request: Request) -> Response:
        body = await request.json()
        with self.changed:
            if request.path_params["prefix"] != self.prefix:
                return JSONResponse({"ok": True})
            path = "/" + request.path_params["kind"]
            self.callbacks.append(Callback(path, body, time.monotonic()))
            status = self.answers.pop(0) if self.answers else 200
            self.changed.notify_all()
        return JSONResponse({"ok": status == 200}, status_code=status)

    async def page(self, request: Request) -> Response:
        path = "/" + request.path_params["page"]
        return HTMLResponse(self.pages.get(path, f"<h1>Back at the shop: {path}</h1>"))

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/{prefix}/{kind}", self.callback, methods=["POST"]),
            Route("/{prefix}/{page:path}", self.page),
        ])


class Epay:
    """The verbs a merchant and a buyer use against the sandbox."""

    def __init__(self, url: str, receiver: Receiver) -> None:
        self.url = url
        self.receiver = receiver
        self.http = httpx.Client(base_url=url, timeout=10)
        self.next_invoice = 100000101

    def set(self, **options: Any) -> None:
        answer = self.http.post("/_sandbox/options", json=options)
        assert answer.status_code == 200, answer.text

    def token(self, **fields: Any) -> dict[str, Any]:
        answer = self.token_response(**fields)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def token_response(self, **fields: Any) -> httpx.Response:
        data = {"grant_type": "client_credentials", "scope": "payment", "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET}
        data.update({k: str(v) for k, v in fields.items() if v is not None})
        return self.http.post("/oauth2/token", data=data)

    def invoice(self) -> str:
        self.next_invoice += 1
        return str(self.next_invoice)

    def payment(self, amount: int = 4990, post_links: bool = True, **overrides: Any
                ) -> dict[str, Any]:
        """A token request plus the paymentObject a merchant page hands to halyk.pay."""
        invoice = str(overrides.pop("invoiceId", None) or self.invoice())
        secret = overrides.pop("secret_hash", f"secret-{invoice}")
        links = {"postLink": f"{self.receiver.url}/post-link",
                 "failurePostLink": f"{self.receiver.url}/failure-post-link"} if post_links else {}
        links.update({k: overrides.pop(k) for k in ("postLink", "failurePostLink")
                      if k in overrides})
        auth = self.token(invoiceID=invoice, amount=amount, currency="KZT", terminal=TERMINAL,
                          secret_hash=secret, **links)
        obj = {"invoiceId": invoice, "backLink": f"{self.receiver.url}/back",
               "failureBackLink": f"{self.receiver.url}/failure-back", **links,
               "language": "rus", "description": "Turkey 10 GB, 30 days", "accountId": "",
               "terminal": TERMINAL, "amount": amount, "currency": "KZT", "auth": auth}
        obj.update(overrides)
        return {k: v for k, v in obj.items() if v is not None}

    def params(self, payment: dict[str, Any]) -> str:
        return lz_compress(flatten(payment))

    def open_payform(self, payment: dict[str, Any], **query: str) -> httpx.Response:
        """GET the payform as halyk.pay sends the browser: `params` unescaped, `+` and all."""
        extra = "".join(f"&{key}={value}" for key, value in query.items())
        return self.http.get(f"/payform/?params={self.params(payment)}{extra}")

    def pay(self, payment: dict[str, Any], card: tuple[str, str, str] = VISA,
            name: str = "Aigerim Sarsenova", short: bool = False) -> httpx.Response:
        form = card_form(payment, card, name)
        if short:
            form["isShortForm"] = "true"
        return self.http.post("/payform/", data=form)

    def status(self, invoice: str, prefix: str = "") -> httpx.Response:
        bearer = self.token()["access_token"]
        return self.http.get(f"{prefix}/check-status/payment/transaction/{invoice}",
                             headers={"Authorization": f"Bearer {bearer}"})

    def operation(self, tx_id: str, action: str, **kwargs: Any) -> httpx.Response:
        bearer = self.token()["access_token"]
        return self.http.post(f"/operation/{tx_id}/{action}",
                              headers={"Authorization": f"Bearer {bearer}"}, **kwargs)

    def deliveries(self, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        """The sandbox's delivery log, once it holds `count` entries (or the timeout passed)."""
        deadline = time.monotonic() + timeout
        while len(log := self.http.get("/_sandbox/deliveries").json()) < count and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        return list(log)

    def transactions(self) -> list[dict[str, Any]]:
        return list(self.http.get("/_sandbox/transactions").json())

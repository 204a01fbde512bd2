"""Issue 14: the limits count a request against the address uvicorn gives it. Behind Caddy
(a peer uvicorn trusts, 127.0.0.1) that is the buyer's address from X-Forwarded-For; from any
other peer a forged X-Forwarded-For changes nothing. The app runs inside uvicorn's own
ProxyHeadersMiddleware with its default trusted host, as `uvicorn worker.app:app` serves it."""

from __future__ import annotations

from dataclasses import replace

from starlette.requests import Request
from starlette.testclient import TestClient
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from worker.app import create_app
from worker.config import Settings
from worker.rate_limits import client_address

SIGN_IN = "/api/account/sign-in-link"


def _as_served(settings: Settings, peer: str) -> TestClient:
    app = create_app(replace(settings, sign_in_rate_limit="2/minute"), handlers={})
    return TestClient(ProxyHeadersMiddleware(app, trusted_hosts="127.0.0.1"),
                      client=(peer, 40000))


def test_a_forged_forwarded_for_does_not_escape_the_limit(settings: Settings) -> None:
    with _as_served(settings, "203.0.113.5") as client:
        answers = [client.post(SIGN_IN, json={"email": "a@example.kz"},
                               headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code
                   for i in range(3)]

    assert answers == [202, 202, 429]


def test_behind_the_proxy_each_buyer_has_their_own_count(settings: Settings) -> None:
    with _as_served(settings, "127.0.0.1") as client:
        answers = [client.post(SIGN_IN, json={"email": "a@example.kz"},
                               headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code
                   for i in (1, 1, 2, 3)]

    assert answers == [202, 202, 202, 202]


def test_the_address_is_the_peer_not_the_header() -> None:
    def request(client: tuple[str, int] | None) -> Request:
        return Request({"type": "http", "client": client,
                        "headers": [(b"x-forwarded-for", b"198.51.100.9")]})

    assert client_address(request(("203.0.113.5", 1))) == "203.0.113.5"
    assert client_address(request(None)) == "unknown"

"""Issue 14: no route answers a bare 500 page. JSON nested too deeply gets 400, any other
unhandled error 500, both as JSON with the security and CORS headers."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from worker.api_errors import request_lang
from worker.app import create_app
from worker.config import Settings
from worker.middleware import JsonErrors, SecurityHeaders

NESTED = b"[" * 8000 + b"]" * 8000  # under the 16 KB body limit


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, handlers={})) as client:
        yield client


@pytest.mark.parametrize("path", ["/api/checkout", "/api/account/sign-in-link",
                                  "/epay/post-link"])
def test_deeply_nested_json_is_answered_400_as_json_with_the_headers(
    client: TestClient, settings: Settings, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        answer = client.post(path, content=NESTED, headers={
            "content-type": "application/json", "Origin": settings.site_url})

    assert answer.status_code == 400
    assert answer.json() == {"error": "the request body is nested too deeply"}
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["access-control-allow-origin"] == settings.site_url
    assert [r.name for r in caplog.records if r.name == "worker.errors"] == ["worker.errors"]
    assert all(r.exc_info is None for r in caplog.records)  # one line, no traceback


def test_an_unhandled_error_is_a_json_500_with_the_security_headers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(request: Request) -> Response:
        raise KeyError("a bug")

    app = Starlette(routes=[Route("/x", broken)],
                    middleware=[Middleware(SecurityHeaders), Middleware(JsonErrors)])
    with caplog.at_level(logging.ERROR), TestClient(app) as client:
        answer = client.get("/x", headers={"Accept-Language": "kk-KZ,ru;q=0.8"})

    assert answer.status_code == 500
    assert answer.json() == {"error": "Біз жақта қате шықты. Бір минуттан кейін қайталап көріңіз."}
    assert answer.headers["content-security-policy"].startswith("default-src 'none'")
    assert "KeyError: 'a bug'" in caplog.text  # the traceback goes to the log, not the buyer


def test_an_error_after_the_answer_began_is_left_to_the_server() -> None:
    async def half(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise KeyError("mid-answer")

    client = TestClient(JsonErrors(half))  # no lifespan: the bare app answers HTTP only
    with pytest.raises(KeyError):
        client.get("/")  # no second start: the server closes the connection


@pytest.mark.parametrize(("query", "state", "accept", "lang"), [
    (b"", {}, "", "en"),  # nothing known: English, as for a form without a language
    (b"", {}, "de-DE, ru;q=0.5, kk;q=0.9", "kk"),  # ours by weight, not by position
    (b"", {}, "ru;q=oops, kk", "kk"),  # a malformed entry is skipped
    (b"", {}, "en, ru", "en"),  # equal weights: the buyer's order
    (b"a=1&lang=ru", {}, "kk", "ru"),  # the page's own language first
    (b"lang=ru", {"lang": "kk"}, "en", "kk"),  # the form's language (noted by the route) wins
])
def test_the_language_of_an_error_answer(
    query: bytes, state: dict[str, str], accept: str, lang: str
) -> None:
    scope = {"type": "http", "query_string": query, "state": state,
             "headers": [(b"accept-language", accept.encode())] if accept else []}
    assert request_lang(scope) == lang

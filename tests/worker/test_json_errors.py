"""Issue 14: no route answers a bare 500 page. JSON nested deeper than 32 levels gets 400, any
other unhandled error 500, both as JSON in the buyer's language with the security and CORS
headers."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from worker.api_errors import message, request_lang
from worker.app import create_app
from worker.config import Settings
from worker.json_body import depth
from worker.middleware import JsonErrors, SecurityHeaders

NESTED = b"[" * 8000 + b"]" * 8000  # under the 16 KB body limit


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, handlers={})) as client:
        yield client


def _nested(levels: int) -> bytes:
    """A checkout form in Kazakh with a field nesting ``levels`` deep in all."""
    inner = b"[" * (levels - 1) + b"]" * (levels - 1)
    return b'{"lang": "kk", "email": "a@b.kz", "x": ' + inner + b"}"


@pytest.mark.parametrize("path", ["/api/checkout", "/api/account/sign-in-link",
                                  "/epay/post-link", "/api/chat/threads", "webhook"])
def test_deeply_nested_json_is_answered_400_as_json_with_the_headers(
    client: TestClient, settings: Settings, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    if path == "webhook":
        path = f"/aggregator/webhook/{settings.aggregator_webhook_secret}"
    with caplog.at_level(logging.WARNING):
        answer = client.post(path, content=NESTED, headers={
            "content-type": "application/json", "Origin": settings.site_url,
            "Accept-Language": "ru-RU,ru;q=0.9"})

    assert answer.status_code == 400
    assert answer.json() == {"error": message("body", "ru")}
    assert answer.json()["error"].startswith("Не удалось прочитать запрос")
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["access-control-allow-origin"] == settings.site_url
    assert [r.name for r in caplog.records if r.name == "worker.errors"] == ["worker.errors"]
    assert all(r.exc_info is None for r in caplog.records)  # one line, no traceback


def test_json_nested_33_deep_is_refused_and_32_is_read(client: TestClient) -> None:
    read = client.post("/api/checkout", content=_nested(32),
                       headers={"content-type": "application/json"})
    refused = client.post("/api/checkout", content=_nested(33),
                          headers={"content-type": "application/json"})

    assert read.status_code == 422  # parsed: the form's own faults, in its language
    assert read.json()["errors"]["package"] == message("package_unknown", "kk")
    assert refused.status_code == 400
    assert refused.json() == {"error": message("body", "en")}


@pytest.mark.parametrize(("raw", "levels"), [
    (b'{"a": [1, {"b": []}]}', 4),
    (b'{"a": "[[[[{{{{", "b": "\\", "c": "\"[[["}', 1),  # brackets in strings are text
    (b"[]" * 100, 1),
    (b"42", 0),
])
def test_depth_counts_nesting_outside_strings(raw: bytes, levels: int) -> None:
    assert depth(raw) == levels


def test_every_route_reads_json_through_the_depth_check() -> None:
    worker = Path(__file__).parents[2] / "worker"
    readers = [str(path.relative_to(worker)) for path in worker.rglob("*.py")
               if "request.json()" in path.read_text(encoding="utf-8")]
    assert readers == [], "read request bodies with worker/json_body.py read_json"


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

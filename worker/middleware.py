"""ASGI middleware of the worker: request body size limit, security headers, and JSON answers
for errors no route handled (requests in flight: worker/request_gauge.py)."""

from __future__ import annotations

import json
import logging
import re
from abc import ABC, abstractmethod

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from worker.api_errors import message, request_lang
from worker.json_body import NestedTooDeeply

log = logging.getLogger("worker.errors")

MAX_BODY_BYTES = 16 * 1024
STORE_RETRY_AFTER_S = 30
# Paths that take more: a chat screenshot (worker/chat/screenshots.py), 5 MB and some slack;
# a console form with 2,000 characters of emoji, URL-encoded (12 bytes each).
LARGER_BODIES = (
    (re.compile(r"^/api/chat/threads/[^/]+/screenshot$"), 5 * 1024 * 1024 + 1024),
    (re.compile(r"^/console/"), 64 * 1024),
)

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    # The worker answers JSON, redirects and QR images: nothing may run or frame them.
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"cross-origin-resource-policy", b"cross-origin"),
]


class HttpMiddleware(ABC):
    """An ASGI middleware of HTTP requests: ``http`` sees each one; every other kind of scope
    (lifespan) passes through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    @abstractmethod
    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one HTTP request, or pass it on to ``self.app``."""


class _Tracked:
    """A ``send`` that remembers whether the answer has begun: after that, a middleware can no
    longer answer an error of its own."""

    def __init__(self, send: Send) -> None:
        self.send, self.started = send, False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self.send(message)


class BodyLimit(HttpMiddleware):
    """Refuse request bodies over ``limit`` bytes with 413, declared or streamed."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        super().__init__(app)
        self.limit = limit

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = next((size for path, size in LARGER_BODIES if path.match(scope["path"])), self.limit)
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > limit):
                await _too_large(scope, send)
                return
        received = 0
        too_large = False

        async def limited() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    raise _TooLarge
            return message

        track = _Tracked(send)
        try:
            await self.app(scope, limited, track)
        except _TooLarge:
            if not track.started:
                await _too_large(scope, send)
        except Exception:
            if too_large and not track.started:
                await _too_large(scope, send)
            else:
                raise


class _TooLarge(Exception):
    pass


async def _too_large(scope: Scope, send: Send) -> None:
    await _json(send, 413, {"error": message("body_too_large", request_lang(scope))})


async def _json(
    send: Send, status: int, data: dict[str, str], headers: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    body = json.dumps(data).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


class JsonErrors(HttpMiddleware):
    """Answer an error no route handled as JSON, inside the CORS and security-header layers:

    - a store (or other file) write that failed: 503 with Retry-After; nothing was stored, so
      nothing is acknowledged (Epay sends its postLink again), one log line, no traceback;
    - JSON nested deeper than worker/json_body.py allows (NestedTooDeeply): 400;
    - anything else: 500, with the traceback in the log.

    The messages are in the buyer's language (worker/api_errors.py, `request_lang`).
    """

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        track = _Tracked(send)
        try:
            await self.app(scope, receive, track)
        except Exception as exc:
            if track.started:
                raise
            await self._answer(scope, send, exc)

    async def _answer(self, scope: Scope, send: Send, exc: Exception) -> None:
        # The method only: paths carry order tokens and secrets, which stay out of the log.
        method = scope.get("method")
        if isinstance(exc, OSError):
            log.error("errors: %s: the store could not be written (%s); answered 503",
                      method, exc.strerror or type(exc).__name__)
            await _json(send, 503, {"error": message("store_unwritable", request_lang(scope))},
                        ((b"retry-after", str(STORE_RETRY_AFTER_S).encode()),))
        elif isinstance(exc, NestedTooDeeply):
            log.warning("errors: %s: JSON nested too deeply; answered 400", method)
            await _json(send, 400, {"error": message("body", request_lang(scope))})
        else:
            log.error("errors: %s failed; answered 500", method, exc_info=exc)
            await _json(send, 500, {"error": message("internal_error", request_lang(scope))})


class SecurityHeaders(HttpMiddleware):
    """Add the security headers to every response (unless the handler set its own)."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(n, v) for n, v in SECURITY_HEADERS if n not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)

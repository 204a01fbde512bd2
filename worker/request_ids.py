"""One id per request, in every log line the request causes (issue 10, "Logs").

A request keeps the ``X-Request-ID`` it came with when that looks like an id (a proxy or a
load balancer may set one), or gets a new one; the answer carries it back, so a buyer's
report or a proxy's log line leads to the worker's lines. Jobs run outside any request:
their lines carry ``job:<kind>:<order id>``. The worker's calls to Epay, the aggregator and
the cash register are logged (service, method, path, status, time) with the same id, so
one slow checkout can be followed to the partner that made it slow.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from contextvars import ContextVar

import httpx
from starlette.types import Message, Receive, Scope, Send

from worker.middleware import HttpMiddleware

HEADER = "x-request-id"
NONE = "-"
# What we accept from outside: enough to correlate, nothing that could forge a log line.
ACCEPTED = re.compile(r"[A-Za-z0-9._:-]{8,64}")

current: ContextVar[str] = ContextVar("request_id", default=NONE)
outgoing_log = logging.getLogger("worker.outgoing")


def new_id() -> str:
    return secrets.token_hex(8)


class RequestIds(HttpMiddleware):
    """ASGI middleware: set the request's id for its logs and send it back in the answer."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        given = dict(scope["headers"]).get(HEADER.encode(), b"").decode("latin-1")
        request_id = given if ACCEPTED.fullmatch(given) else new_id()
        token = current.set(request_id)

        async def with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (HEADER.encode(), request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, with_id)
        finally:
            current.reset(token)


def for_job(kind: str, order_id: str) -> None:
    """Name the running job in its log lines (each job runs in a task of its own)."""
    current.set(f"job:{kind}:{order_id}")


def install() -> None:
    """Give every log record a ``request_id`` attribute (the log format prints it)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "request_ids", False):
        return

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = current.get()
        return record

    factory.request_ids = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


class LoggedTransport(httpx.AsyncBaseTransport):
    """Log each call to a partner with the id of the request or job that made it."""

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        # The path only: queries and bodies may carry invoice ids' tokens or personal data.
        where = f"{request.method} {request.url.host}{request.url.path}"
        try:
            response = await self.inner.handle_async_request(request)
        except httpx.TransportError as exc:
            outgoing_log.warning("%s failed after %.0f ms: %s", where,
                                 (time.perf_counter() - started) * 1000, type(exc).__name__)
            raise
        outgoing_log.info("%s %d in %.0f ms", where, response.status_code,
                          (time.perf_counter() - started) * 1000)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()

"""Fault rules for the open API (errors, 5xx, bad bodies, slowness, lost replies), rate limit."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any, Literal

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

Kind = Literal["error", "http", "non_json", "latency", "hang", "lost_response", "drop"]
KINDS: tuple[str, ...] = ("error", "http", "non_json", "latency", "hang", "lost_response", "drop")
# Kinds that let the request through to the handler (so an order is committed) first.
AFTER_HANDLER = ("lost_response", "drop")


class FaultError(ValueError):
    """A fault rule that cannot work; the message says which field to fix."""


@dataclass
class Fault:
    """One rule: `endpoint` is a path under /api/v1/open/ ("esim/order") or "*" for all."""

    endpoint: str
    kind: Kind
    code: str = "900001"  # kind "error"
    status: int = 502  # kinds "http" and "lost_response"
    seconds: float = 60.0  # kinds "latency" and "hang"
    times: int | None = None  # how many requests it hits; None until cleared

    @classmethod
    def parse(cls, data: Any) -> Fault:
        if not isinstance(data, dict):
            raise FaultError(
                'a fault is a JSON object like {"endpoint": "esim/order", "kind": "http"}'
            )
        unknown = set(data) - {"endpoint", "kind", "code", "status", "seconds", "times"}
        if unknown:
            raise FaultError(f"unknown fault fields {sorted(unknown)}")
        if not isinstance(data.get("endpoint"), str) or not data["endpoint"]:
            raise FaultError('fault "endpoint" is required: a path like "esim/order", or "*"')
        if data.get("kind") not in KINDS:
            raise FaultError(f'fault "kind" must be one of {", ".join(KINDS)}')
        fault = cls(**data)
        if not (isinstance(fault.code, str) and fault.code.isdigit() and len(fault.code) == 6):
            raise FaultError('fault "code" must be a six-digit string such as "900001"')
        if not isinstance(fault.status, int) or not 400 <= fault.status <= 599:
            raise FaultError('fault "status" must be an HTTP error status such as 500 or 502')
        if not isinstance(fault.seconds, (int, float)) or fault.seconds < 0:
            raise FaultError('fault "seconds" must be a number of seconds, 0 or more')
        if fault.times is not None and (not isinstance(fault.times, int) or fault.times < 1):
            raise FaultError('fault "times" must be a positive integer or null (until cleared)')
        return fault

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Faults:
    def __init__(self) -> None:
        self.rules: list[Fault] = []

    def take(self, endpoint: str) -> list[Fault]:
        """The rules hitting this request, in the order they were added; counts one use each."""
        hits = [f for f in self.rules if f.endpoint in (endpoint, "*")]
        for fault in hits:
            if fault.times is not None:
                fault.times -= 1
        self.rules = [f for f in self.rules if f.times is None or f.times > 0]
        return hits


class RateLimiter:
    """At most `per_second` requests in any one-second window, for the whole account."""

    def __init__(self) -> None:
        self.seen: deque[float] = deque()

    def allow(self, per_second: int) -> bool:
        now = time.monotonic()
        while self.seen and now - self.seen[0] >= 1.0:
            self.seen.popleft()
        if len(self.seen) >= per_second:
            return False
        self.seen.append(now)
        return True


def error_page(status: int) -> Response:
    """What a proxy in front of the real API answers: HTML, not the envelope."""
    return Response(
        f"<html><body><h1>{status}</h1>upstream error</body></html>", status, media_type="text/html"
    )


class DroppedResponse(Response):
    """Starts a reply and closes the connection half-way: the client sees a broken body."""

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
            }
        )
        await send(
            {"type": "http.response.body", "body": b'{"success":true,"errorCo', "more_body": True}
        )
        # Returning with the body incomplete makes uvicorn close the connection.

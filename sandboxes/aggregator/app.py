"""The sandbox's Starlette app: the open API behind the spec's checks (§11), plus control routes."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import control
from .api import ENDPOINTS, Call
from .faults import AFTER_HANDLER, DroppedResponse, error_page
from .options import Options
from .protocol import ApiError, authenticate, envelope
from .sandbox import Sandbox

OPEN_API = "/api/v1/open/"


async def open_api(request: Request) -> Response:
    """Method, rate limit, access code and signature, faults, JSON body, then the endpoint."""
    sandbox: Sandbox = request.app.state.sandbox
    options = sandbox.options
    endpoint = request.path_params["endpoint"]
    if request.method != "POST":
        return envelope(options, error=ApiError("000103"))
    handler = ENDPOINTS.get(endpoint)
    if handler is None:
        return JSONResponse({"error": f"no endpoint {OPEN_API}{endpoint}"}, 404)
    if options.rate_limit_style != "off" and not sandbox.limiter.allow(options.rate_limit_per_s):
        if options.rate_limit_style == "429":
            return JSONResponse({"code": 429, "msg": "Too Many Requests"}, 429)
        return envelope(options, error=ApiError("900001"))
    raw = await request.body()
    try:
        authenticate(options, request.headers, raw, now_ms=int(time.time() * 1000))
    except ApiError as error:
        return envelope(options, error=error)
    hits = sandbox.faults.take(endpoint)
    for fault in hits:
        if fault.kind == "latency":
            await asyncio.sleep(fault.seconds)
        elif fault.kind == "hang":
            await asyncio.sleep(fault.seconds)
            return error_page(504)
        elif fault.kind == "error":
            return envelope(options, error=ApiError(fault.code))
        elif fault.kind == "http":
            return error_page(fault.status)
        elif fault.kind == "non_json":
            return Response("<html><body>Service Unavailable</body></html>", media_type="text/html")
    sandbox.account.tick()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError:
        body = None
    if not isinstance(body, dict):
        response = envelope(options, error=ApiError("000104"))
    else:
        base_url = str(request.base_url).rstrip("/")
        try:
            obj = await handler(Call(sandbox.account, sandbox.notifier, body, base_url))
        except ApiError as error:
            response = envelope(options, error=error)
        else:
            response = envelope(options, obj)
    for fault in hits:
        if fault.kind in AFTER_HANDLER:
            return DroppedResponse() if fault.kind == "drop" else error_page(fault.status)
    return response


def create_app(options: Options | None = None) -> Starlette:
    """The sandbox as an ASGI app; tests pass their own Options, nothing is patched."""
    sandbox = Sandbox(options or Options())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await sandbox.notifier.start()
        yield
        await sandbox.notifier.stop()

    app = Starlette(
        routes=[
            Route(
                OPEN_API + "{endpoint:path}",
                open_api,
                methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            ),
            *control.ROUTES,
        ],
        lifespan=lifespan,
    )
    app.state.sandbox = sandbox
    return app

"""Control endpoints under /_sandbox/ (not eSIM Access): switches, faults, the phone, the clock."""

from __future__ import annotations

import io
import json
from typing import Any

import segno
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from .faults import Fault, FaultError
from .options import OptionError
from .profiles import DAY, Profile, stamp
from .protocol import ApiError
from .sandbox import Sandbox


def _sandbox(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


async def _json(request: Request) -> Any:
    """The body as JSON, {} when empty, None when it is not JSON (callers then say what to send)."""
    raw = await request.body()
    try:
        return json.loads(raw) if raw.strip() else {}
    except ValueError:
        return None


def _bad(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status)


async def state(request: Request) -> Response:
    sandbox = _sandbox(request)
    account = sandbox.account
    account.tick()
    return JSONResponse(
        {
            "now": stamp(account.now()),
            "balance": account.balance,
            "webhook": sandbox.notifier.url,
            "orders": len(account.orders),
            "profiles": len(account.profiles),
            "packages": len(account.catalogue.packages),
            "options": sandbox.options.as_dict(),
            "faults": [f.as_dict() for f in sandbox.faults.rules],
        }
    )


async def reset(request: Request) -> Response:
    """Back to the start-up options, a full balance, no orders, no webhook, no faults."""
    _sandbox(request).reset()
    return await state(request)


async def config(request: Request) -> Response:
    sandbox = _sandbox(request)
    try:
        changes = await _json(request)
        if not isinstance(changes, dict):
            raise OptionError('send a JSON object of switches, e.g. {"allocation_delay_s": 0}')
        sandbox.options.update(changes)
    except OptionError as error:
        return _bad(str(error))
    if "balance" in changes:
        sandbox.account.balance = sandbox.options.balance
    return JSONResponse({"options": sandbox.options.as_dict()})


async def faults(request: Request) -> Response:
    sandbox = _sandbox(request)
    if request.method == "DELETE":
        sandbox.faults.rules.clear()
    elif request.method == "POST":
        try:
            data = await _json(request)
            added = [Fault.parse(item) for item in (data if isinstance(data, list) else [data])]
        except (FaultError, TypeError) as error:
            return _bad(str(error))
        sandbox.faults.rules.extend(added)
    return JSONResponse({"faults": [f.as_dict() for f in sandbox.faults.rules]})


async def orders(request: Request) -> Response:
    account = _sandbox(request).account
    account.tick()
    wanted = request.query_params.get("transactionId")
    shown = [
        o.as_json() for o in account.orders.values() if wanted is None or o.transaction_id == wanted
    ]
    return JSONResponse({"orders": shown})


async def order_count(request: Request) -> Response:
    """How many orders and profiles one transactionId produced: "never two profiles per order"."""
    account = _sandbox(request).account
    wanted = request.query_params.get("transactionId", "")
    matching = [o for o in account.orders.values() if o.transaction_id == wanted]
    return JSONResponse(
        {
            "transactionId": wanted,
            "orders": len(matching),
            "profiles": sum(len(o.profiles) for o in matching),
            "total_orders": len(account.orders),
            "total_profiles": sum(len(o.profiles) for o in account.orders.values()),
        }
    )


async def profiles(request: Request) -> Response:
    account = _sandbox(request).account
    account.tick()
    base = str(request.base_url).rstrip("/")
    return JSONResponse({"profiles": [p.as_json(base) for p in account.profiles.values()]})


async def esim_action(request: Request) -> Response:
    """install | consume {"bytes": n} | delete | disable | enable, as the buyer's phone would;
    notify {"notifyType": "DATA_USAGE" | "VALIDITY_USAGE"} sends that webhook now."""
    account = _sandbox(request).account
    account.tick()
    profile = account.profiles.get(request.path_params["esim_tran_no"])
    if profile is None:
        return _bad("no allocated eSIM with this esimTranNo", 404)
    action = request.path_params["action"]
    try:
        if action == "install":
            account.install(profile)
        elif action == "consume":
            data = await _json(request)
            amount = data.get("bytes") if isinstance(data, dict) else None
            if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
                return _bad('send {"bytes": <positive integer>}')
            account.consume(profile, amount)
        elif action == "notify":
            data = await _json(request)
            kind = data.get("notifyType") if isinstance(data, dict) else None
            return JSONResponse(account.notify_usage(profile, str(kind)))
        elif action in ("delete", "disable", "enable"):
            account.set_device_state(
                profile, {"delete": "DELETED", "disable": "DISABLED", "enable": "ENABLED"}[action]
            )
        else:
            return _bad("action must be install, consume, notify, delete, disable or enable", 404)
    except ApiError as error:
        return _bad(error.message, 409)
    return JSONResponse(profile.as_json(str(request.base_url).rstrip("/")))


async def advance_clock(request: Request) -> Response:
    """Moves the business clock (expiry, validity) forward; signatures keep real time."""
    account = _sandbox(request).account
    data = await _json(request)
    parts = [data.get("seconds", 0), data.get("days", 0)] if isinstance(data, dict) else [None]
    numbers = [p for p in parts if isinstance(p, (int, float)) and not isinstance(p, bool)]
    seconds = numbers[0] + numbers[1] * DAY if len(numbers) == 2 else 0
    if seconds <= 0:
        return _bad('send {"seconds": n} or {"days": n}, a positive number')
    account.clock_offset += seconds
    account.tick()
    return JSONResponse({"now": stamp(account.now())})


async def allocate_now(request: Request) -> Response:
    """Finish every pending allocation now, whatever the delay (not while "allocation_stuck")."""
    account = _sandbox(request).account
    for order in account.orders.values():
        order.ready_at = min(order.ready_at, account.now())
    account.tick()
    return await orders(request)


async def webhooks(request: Request) -> Response:
    return JSONResponse({"webhooks": _sandbox(request).notifier.log})


def _by_qr(request: Request, prefix: str) -> Profile | None:
    for profile in _sandbox(request).account.profiles.values():
        if profile.qr_id.startswith(prefix):
            return profile
    return None


async def qr_png(request: Request) -> Response:
    """qrCodeUrl: the profile's LPA as a PNG, as p.qrsim.net serves it for the real service."""
    profile = _by_qr(request, request.path_params["qr_id"])
    if profile is None or len(request.path_params["qr_id"]) != 32:
        return Response("not found", 404)
    out = io.BytesIO()
    segno.make(profile.ac, error="m").save(out, kind="png", scale=8, border=4)
    return Response(out.getvalue(), media_type="image/png")


async def short_url(request: Request) -> Response:
    profile = _by_qr(request, request.path_params["short"])
    if profile is None or len(request.path_params["short"]) != 10:
        return Response("not found", 404)
    return RedirectResponse(f"/p/{profile.qr_id}.png", 302)


ROUTES = [
    Route("/_sandbox/state", state),
    Route("/_sandbox/reset", reset, methods=["POST"]),
    Route("/_sandbox/config", config, methods=["POST"]),
    Route("/_sandbox/faults", faults, methods=["GET", "POST", "DELETE"]),
    Route("/_sandbox/orders", orders),
    Route("/_sandbox/orders/count", order_count),
    Route("/_sandbox/orders/allocate", allocate_now, methods=["POST"]),
    Route("/_sandbox/profiles", profiles),
    Route("/_sandbox/esims/{esim_tran_no}/{action}", esim_action, methods=["POST"]),
    Route("/_sandbox/clock/advance", advance_clock, methods=["POST"]),
    Route("/_sandbox/webhooks", webhooks),
    Route("/p/{qr_id}.png", qr_png),
    Route("/s/{short}", short_url),
]

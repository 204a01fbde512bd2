"""The operator API under /operator/: a separate surface behind `Authorization: Bearer TOKEN`.

TOKEN is an operator's personal token (`invoke operator-token EMAIL`), so every action is
recorded with their name; the shared OPERATOR_TOKEN still works for one release, with a
deprecation warning in the log on each use.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import date
from typing import Any

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from worker.alerts import alert_support
from worker.chat import desk
from worker.chat.routes import MAX_TEXT
from worker.chat.threads import UnknownThread
from worker.console.accounts import Accounts
from worker.json_body import read_object
from worker.orders.store import UnknownOrder
from worker.rate_limits import client_address
from worker.refunds import refundable
from worker.services import Services

from . import support
from .mismatches import find_mismatches

Endpoint = Callable[[Request], Awaitable[Response]]
log = logging.getLogger("worker.operator")


def authorized(endpoint: Endpoint) -> Endpoint:
    async def guarded(request: Request) -> Response:
        services: Services = request.app.state.services
        client = ("operator_failures", client_address(request))
        # An address that guessed wrong too often is refused, right token or not: otherwise
        # the guessing would go on, only answered 429 instead of 401.
        wait = services.limits.wait(client)
        if wait is not None:
            return JSONResponse({"error": "too many wrong tokens from this address; wait"}, 429,
                                headers={"Retry-After": str(wait)})
        settings = services.settings
        shared = settings.operator_token
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        given = given.strip()
        operator = None
        if scheme.lower() == "bearer" and given:
            operator = Accounts(services.store.document("operators")).by_api_token(given)
        if operator is not None:
            request.state.operator = operator.name
        elif scheme.lower() == "bearer" and shared is not None and hmac.compare_digest(
                given.encode(), str(shared).encode()):
            log.warning("operator API: the shared OPERATOR_TOKEN is deprecated and goes in the next "
                        "release; give each person their own (`invoke operator-token EMAIL`)")
            request.state.operator = None
        else:
            services.limits.hit(client)
            services.limits.storage.flush_soon()
            alert = None
            if services.limits.wait(client) is not None:  # this one used the limit up
                log.warning("security: wrong operator tokens, the limit is reached; refusing")
                alert = BackgroundTask(
                    alert_support, services, "operator_token_guessing",
                    "Wrong operator tokens came from one address until its limit "
                    f"({services.limits.rules['operator_failures'][0]}…) was reached. If that "
                    "was not you, someone is guessing: keep the tokens long and random, and "
                    "consider changing them (docs/operations.md).",
                )
            return JSONResponse({"error": "unauthorized"}, 401,
                                headers={"WWW-Authenticate": "Bearer"}, background=alert)
        return await endpoint(request)

    return guarded


def _who(request: Request, body: dict[str, Any]) -> str:
    """The operator's own name with a personal token; what the script says with the shared one."""
    name: str | None = request.state.operator
    return name or str(body.get("operator") or "operator-api")


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _period(request: Request) -> tuple[date, date] | JSONResponse:
    try:
        return (date.fromisoformat(request.query_params["from"]),
                date.fromisoformat(request.query_params["to"]))
    except (KeyError, ValueError):
        return JSONResponse({"error": "give ?from=YYYY-MM-DD&to=YYYY-MM-DD (both inclusive)"}, 422)


async def find(request: Request) -> Response:
    store = _services(request).store
    q = request.query_params.get("q", "")
    return JSONResponse({"orders": [support.summary(o) for o in support.find_orders(store, q)]})


async def show(request: Request) -> Response:
    store = _services(request).store
    order = store.get(request.path_params["order_id"])
    if order is None:
        return JSONResponse({"error": "no such order"}, 404)
    return JSONResponse(support.detail(order, store))


async def resend(request: Request) -> Response:
    body = await read_object(request)
    try:
        order = await support.resend_qr(_services(request).store, request.path_params["order_id"],
                                        _who(request, body))
    except UnknownOrder:
        return JSONResponse({"error": "no such order"}, 404)
    except ValueError as error:
        return JSONResponse({"error": str(error)}, 409)
    return JSONResponse({"order_id": order.id, "resend_requested_at": order.email_requested_at}, 202)


async def refund(request: Request) -> Response:
    services = _services(request)
    body = await read_object(request)
    amount = body.get("amount")
    outcome = await support.refund(
        services, request.path_params["order_id"], reason=str(body.get("reason") or ""),
        operator=_who(request, body),
        non_functional=body.get("non_functional") is True,
        amount=amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
    )
    if outcome.state == "refused":
        return JSONResponse({"refused": outcome.rule, "error": outcome.detail}, 409)
    if outcome.state == "in_progress":
        return JSONResponse({"status": "in_progress", "detail": outcome.detail}, 202)
    if outcome.state == "retrying":
        return JSONResponse({"status": "in_progress", "detail": f"retrying: {outcome.detail}"}, 202)
    if outcome.state == "failed":
        return JSONResponse({"status": "failed", "error": outcome.detail}, 502)
    order = outcome.order
    assert order is not None
    return JSONResponse({"order_id": order.id, "status": order.status,
                         "refund": asdict(order.refund) if order.refund else None})


async def export_csv(request: Request) -> Response:
    period = _period(request)
    if isinstance(period, JSONResponse):
        return period
    what = request.path_params["what"]
    make = {"orders": support.orders_csv, "refunds": support.refunds_csv}.get(what)
    if make is None:
        return JSONResponse({"error": "export orders.csv or refunds.csv"}, 404)
    name = f"{what}-{period[0]}-{period[1]}.csv"
    return Response(make(_services(request).store, *period), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


async def pending_receipts(request: Request) -> Response:
    return JSONResponse({"pending": support.pending_receipts(_services(request).store)})


async def refundable_queue(request: Request) -> Response:
    orders = refundable(_services(request))
    return JSONResponse({"orders": [
        {**support.summary(o), "failure_reason": o.failure_reason,
         "refund_requested_at": o.refund.requested_at if o.refund else None}
        for o in orders
    ]})


async def reconciliation(request: Request) -> Response:
    period = _period(request)
    if isinstance(period, JSONResponse):
        return period
    found = await find_mismatches(_services(request), *period)
    return JSONResponse({"mismatches": [asdict(m) for m in found]})


async def chat_threads(request: Request) -> Response:
    services = _services(request)
    status = request.query_params.get("status", "open")
    return JSONResponse({"threads": [desk.view(services, t) for t in desk.inbox(services, status)]})


async def chat_thread(request: Request) -> Response:
    services = _services(request)
    thread = services.chat.get(request.path_params["thread_id"])
    if thread is None:
        return JSONResponse({"error": "no such thread"}, 404)
    return JSONResponse(desk.view(services, thread))


async def chat_reply(request: Request) -> Response:
    body = await read_object(request)
    text = body.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        return JSONResponse({"error": f"give text: 1 to {MAX_TEXT} characters"}, 422)
    try:
        message = await desk.reply(_services(request), request.path_params["thread_id"],
                                   text.strip(), _who(request, body))
    except UnknownThread:
        return JSONResponse({"error": "no such thread"}, 404)
    return JSONResponse({"id": message.id, "at": message.at}, 201)



def routes() -> list[Route]:
    """The operator routes; each answers 401 without a valid token."""
    table: list[tuple[str, Endpoint, str]] = [
        ("/operator/orders", find, "GET"),
        ("/operator/orders/{order_id}", show, "GET"),
        ("/operator/orders/{order_id}/resend-qr", resend, "POST"),
        ("/operator/orders/{order_id}/refund", refund, "POST"),
        ("/operator/export/{what}.csv", export_csv, "GET"),
        ("/operator/queues/pending-receipts", pending_receipts, "GET"),
        ("/operator/queues/refundable", refundable_queue, "GET"),
        ("/operator/reconcile", reconciliation, "GET"),
        ("/operator/chat/threads", chat_threads, "GET"),
        ("/operator/chat/threads/{thread_id}", chat_thread, "GET"),
        ("/operator/chat/threads/{thread_id}/messages", chat_reply, "POST"),
    ]
    return [Route(path, authorized(endpoint), methods=[method]) for path, endpoint, method in table]

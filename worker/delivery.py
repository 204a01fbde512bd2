"""The buyer's delivery routes: the QR images of a delivered order and "send the e-mail again"."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from worker import qr
from worker.orders.model import Order, utc_now
from worker.orders.store import Unchanged
from worker.orders.view import can_resend_email
from worker.services import Services

NOT_FOUND = {"error": "not found"}
# The QR opens the eSIM: never in a shared cache, never kept by the browser beyond the page.
PRIVATE = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}


def _delivered(request: Request) -> Order | None:
    """The order of the token, if its eSIM is delivered (a refunded one was cancelled)."""
    services: Services = request.app.state.services
    order = services.store.by_token(request.path_params["token"])
    if order is None or order.profile is None or order.status != "delivered":
        return None
    return order


async def qr_svg(request: Request) -> Response:
    order = _delivered(request)
    if order is None or order.profile is None:
        return JSONResponse(NOT_FOUND, status_code=404)
    return Response(qr.svg(order.profile.lpa), media_type="image/svg+xml", headers=PRIVATE)


async def qr_png(request: Request) -> Response:
    order = _delivered(request)
    if order is None or order.profile is None:
        return JSONResponse(NOT_FOUND, status_code=404)
    return Response(qr.png(order.profile.lpa), media_type="image/png", headers=PRIVATE)


async def resend_email(request: Request) -> Response:
    """202 and a new `send_email` job; 429 when asked too often; 404 for an unknown token."""
    services: Services = request.app.state.services
    order = services.store.by_token(request.path_params["token"])
    if order is None:
        return JSONResponse(NOT_FOUND, status_code=404)
    refused: list[str] = []

    def ask(o: Order) -> None:
        now = datetime.now(UTC)
        if o.status != "delivered" or o.profile is None or not o.email:
            refused.append("not delivered")
            raise Unchanged
        if not can_resend_email(o, now):
            refused.append("too often")
            raise Unchanged
        o.email_requested_at = utc_now()
        o.email_sent_at = None
        o.email_message_id = None
        o.log("email_resend_requested")

    await services.store.update(order.id, ask, enqueue=("send_email",))
    if refused == ["not delivered"]:
        return JSONResponse({"error": "the eSIM is not delivered yet"}, status_code=409)
    if refused:
        return JSONResponse(
            {"error": "the e-mail was sent again recently; try again later"},
            status_code=429,
            headers={"Retry-After": "60"},
        )
    return JSONResponse({"ok": True}, status_code=202)

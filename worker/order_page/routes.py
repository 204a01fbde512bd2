"""The buyer's order page API: the order as JSON, the QR images of a delivered eSIM, and
"send the e-mail again"."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from worker import qr
from worker.order_page.public_view import public_view
from worker.orders.model import Order
from worker.orders.rules import can_resend_email, esim_visible, mailable, request_email
from worker.orders.store import Unchanged
from worker.services import Services

NOT_FOUND = {"error": "not found"}
# The QR opens the eSIM: never in a shared cache, never kept by the browser beyond the page.
PRIVATE = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}


async def order_view(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    order = services.store.by_token(request.path_params["token"])
    if order is None:
        return JSONResponse(NOT_FOUND, status_code=404)
    return JSONResponse(
        public_view(order, services.settings, services.catalogue),
        headers={"Cache-Control": "no-store"},
    )


def _lpa(request: Request) -> str | None:
    """The LPA of the token's order, while its eSIM is the buyer's to see."""
    services: Services = request.app.state.services
    order = services.store.by_token(request.path_params["token"])
    if order is None or order.profile is None or not esim_visible(order):
        return None
    return order.profile.lpa


async def qr_svg(request: Request) -> Response:
    lpa = _lpa(request)
    if lpa is None:
        return JSONResponse(NOT_FOUND, status_code=404)
    return Response(qr.svg(lpa), media_type="image/svg+xml", headers=PRIVATE)


async def qr_png(request: Request) -> Response:
    lpa = _lpa(request)
    if lpa is None:
        return JSONResponse(NOT_FOUND, status_code=404)
    return Response(qr.png(lpa), media_type="image/png", headers=PRIVATE)


async def resend_email(request: Request) -> Response:
    """202 and a new `send_email` job; 429 when asked too often; 404 for an unknown token."""
    services: Services = request.app.state.services
    order = services.store.by_token(request.path_params["token"])
    if order is None:
        return JSONResponse(NOT_FOUND, status_code=404)
    refused: list[str] = []

    def ask(o: Order) -> None:
        refused.clear()  # a change may run again on a fresher copy: its last run decides
        if not mailable(o):
            refused.append("not delivered")
            raise Unchanged
        if not can_resend_email(o, datetime.now(UTC)):
            refused.append("too often")
            raise Unchanged
        request_email(o)

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

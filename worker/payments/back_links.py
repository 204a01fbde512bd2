"""The buyer's way back from the payform: settle now if the callback is late, then go to the order page."""

from __future__ import annotations

import asyncio
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from worker.payments.confirm import PaymentMismatch, settle
from worker.payments.epay import EpayError
from worker.services import Services

log = logging.getLogger("worker.payments.back_links")

# The buyer is waiting on a blank page: ask Epay for at most this long, then show the order
# page, which keeps polling while the callback, the job or the reconciler settles it.
SETTLE_TIMEOUT_S = 5.0


async def back(request: Request) -> Response:
    return await _return(request, "back")


async def failure_back(request: Request) -> Response:
    return await _return(request, "failure_back")


async def _return(request: Request, route: str) -> Response:
    services: Services = request.app.state.services
    order = services.store.by_token(request.path_params["token"])
    if order is None:
        return JSONResponse({"error": "not found"}, status_code=404)
    # After a decline the buyer may have paid on a second try: re-check a failed order too.
    if order.status == "awaiting_payment" or (route == "back" and order.status == "payment_failed"):
        try:
            await asyncio.wait_for(settle(services, order), SETTLE_TIMEOUT_S)
        except (EpayError, PaymentMismatch, TimeoutError) as exc:
            log.warning("back links: order %s not settled on %s: %s", order.id, route, exc)
    site = services.settings.site_url
    # A top-up's buyer goes back to the page of the eSIM it tops up, to see the new totals.
    shown = services.store.get(order.topup_of) if order.topup_of else None
    token = shown.token if shown is not None else order.token
    return RedirectResponse(f"{site}/{order.lang}/order/#{token}", status_code=303)

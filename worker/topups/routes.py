"""`GET/POST /api/orders/{token}/topups`: the top-ups that fit the order's eSIM, and buying one.

Buying is the checkout's own path (worker/payments/checkout.py, `open_invoice`): an Epay
invoice of its own, the same callback verification and idempotency, then `apply_topup`.
"""

from __future__ import annotations

from typing import Any

from markupsafe import escape
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse

from worker.api_errors import errors, message, note_lang
from worker.json_body import read_json
from worker.locales import gettext
from worker.orders.model import LANGS, Lang, Order
from worker.orders.store import Unchanged
from worker.payments.checkout import limit, new_order, open_invoice
from worker.services import Services
from worker.topups.offers import TopUpOffer, refusal

NOT_FOUND = {"error": "not found"}


def _lang(value: Any, order: Order) -> Lang:
    return value if value in LANGS else order.lang


def _history(order: Order, services: Services) -> list[dict[str, Any]]:
    topups = [services.store.get(topup_id) for topup_id in order.topups]
    return [
        {
            "order_id": topup.id,
            "package": topup.package_code,
            "title": topup.package_title,
            "status": topup.status,
            "price_kzt": topup.amount,
            "data_mb": topup.topup["data_mb"],
            "days": topup.topup["days"],
            "created_at": topup.created_at,
            "applied_at": topup.topup.get("applied_at"),
        }
        for topup in topups
        if topup is not None and topup.topup is not None  # each is stored before it is linked
    ]


def _offers(order: Order, services: Services) -> tuple[list[TopUpOffer], str | None]:
    """The offers for the order's eSIM, or none and the message key saying why."""
    reason = refusal(order)
    if reason is not None:
        return [], reason
    offers = services.topup_offers.for_package(order.package_code)
    return offers, None if offers else "topup_not_supported"


async def list_topups(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    order = services.store.by_token(request.path_params["token"])
    if order is None:
        return JSONResponse(NOT_FOUND, status_code=404)
    lang = _lang(request.query_params.get("lang"), order)
    offers, reason = _offers(order, services)
    profile = order.profile
    return JSONResponse(
        {
            "topups": [offer.as_json(lang) for offer in offers],
            "history": _history(order, services),
            "reason": message(reason, lang) if reason else None,
            # What the aggregator last reported, and when we asked ("updated 2 h ago").
            "usage": {
                "used_bytes": profile.used_bytes,
                "total_bytes": profile.total_bytes,
                "updated_at": profile.usage_checked_at,
            }
            if profile
            else None,
        },
        headers={"Cache-Control": "no-store"},
    )


async def buy_topup(request: Request) -> JSONResponse:
    """201 with the paymentObject; 409 with the new price; 422 when the eSIM cannot take it;
    429 over the checkout limits."""
    services: Services = request.app.state.services
    esim = services.store.by_token(request.path_params["token"])
    if esim is None:
        return JSONResponse(NOT_FOUND, status_code=404)
    try:
        body = await read_json(request)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return JSONResponse(errors({"body": "body"}, esim.lang), status_code=422)
    lang = _lang(body.get("lang"), esim)
    note_lang(request, lang)
    offers, reason = _offers(esim, services)
    if reason is not None:
        return JSONResponse({**errors({"package": reason}, lang), "reason": reason}, 422)
    offer = next((o for o in offers if o.code == body.get("package")), None)
    if offer is None:
        return JSONResponse(errors({"package": "package_unknown"}, lang), status_code=422)
    expected = body.get("expected_price")
    if expected is not None and expected != offer.price_kzt:
        return JSONResponse(
            {**errors({"package": "price_changed"}, lang), "price_kzt": offer.price_kzt},
            status_code=409,
        )
    # A top-up opens an Epay invoice like a checkout: the same limits against card testing,
    # counted together with checkouts (a purged eSIM's id stands in for its address).
    refused = await limit(request, services, esim.email or esim.id, lang)
    if refused is not None:
        return refused

    def make() -> Order:
        topup = new_order(
            services,
            code=offer.code,
            destination=esim.destination,
            title=offer.title(lang),
            amount=offer.price_kzt,
            lang=lang,
            email=esim.email,
            phone=esim.phone,
            topup_of=esim.id,
        )
        topup.topup = {
            "provider_code": offer.provider_code, "data_mb": offer.data_mb, "days": offer.days
        }
        return topup

    async def link(topup: Order) -> None:
        def add(o: Order) -> None:
            o.topups.append(topup.id)

        await services.store.update(esim.id, add)

    return await open_invoice(services, make, lang, after_create=link)


async def alerts_off(request: Request) -> HTMLResponse:
    """The e-mail's one-click way out of the usage alerts (GET from the link, POST from the
    mail client's List-Unsubscribe-Post): no sign-in, the order's token is the key."""
    services: Services = request.app.state.services
    order = services.store.by_token(request.path_params["token"])
    if order is None:
        return HTMLResponse("<!doctype html><title>404</title><p>Not found.</p>", 404)

    def off(o: Order) -> None:
        if o.alerts_off:
            raise Unchanged
        o.alerts_off = True
        o.log("alerts_off")

    await services.store.update(order.id, off)
    title = escape(gettext("Usage alerts are off", order.lang))
    text = escape(gettext(
        "You will get no more data or validity alerts for order %(order_id)s. Your eSIM "
        "keeps working as before.", order.lang) % {"order_id": order.id})
    return HTMLResponse(
        f'<!doctype html><html lang="{order.lang}"><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width"><title>{title}</title>'
        f"<h1>{title}</h1><p>{text}</p></html>",
        headers={"Cache-Control": "no-store"},
    )

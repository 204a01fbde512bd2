"""Epay's postLink and failurePostLink: verify, record, queue the confirmation, answer at once.

Checked in this order: the invoice exists, `secret_hash` matches (constant time), then
amount, currency and terminal match the order. A callback that passes is recorded and a
`confirm_payment` job is queued in the same atomic write; check-status in that job decides.
A duplicate (same content) writes nothing. A forged or mismatched callback changes
nothing and is logged as a security event (invoice id and the failed check, never the
body). The answer is 200 for every callback that could be parsed, forged or not: the spec
documents no retry contract (§4.5), a non-2xx might make Epay retry a delivery we will
never accept, and a uniform answer tells a forger nothing. An unreadable body gets 400.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from worker.json_body import parse
from worker.orders.model import SETTLEABLE, Order, utc_now
from worker.orders.store import Unchanged, UnknownOrder
from worker.services import Services

log = logging.getLogger("worker.payments.callbacks")



async def post_link(request: Request) -> Response:
    return await _callback(request, "post_link")


async def failure_post_link(request: Request) -> Response:
    return await _callback(request, "failure_post_link")


async def _callback(request: Request, route: str) -> Response:
    services: Services = request.app.state.services
    data = await _parse(request)
    if data is None:
        log.warning("security: epay %s with an unreadable body", route)
        return JSONResponse({"ok": False}, status_code=400)
    invoice_id = str(data.get("invoiceId") or data.get("invoiceID") or "")
    info = {
        "route": route,
        "code": str(data.get("code") or ""),
        "reason": str(data.get("reason") or "")[:200],
        "reason_code": str(data.get("reasonCode") or ""),
        "transaction_id": str(data.get("id") or ""),
    }

    def record(o: Order) -> None:
        # Checked on the freshest copy, under the store's lock, in the same step as the write.
        problem = verify(data, o, services)
        if problem:
            raise Rejected(problem)
        if o.status not in SETTLEABLE:
            raise Unchanged  # already settled: a late or repeated delivery
        last = o.epay_callback or {}
        if {k: last.get(k) for k in info} == info:
            raise Unchanged  # the same delivery again; its job is queued or done
        o.epay_callback = {**info, "at": utc_now()}
        o.log("callback", f"{route} {info['code']} {info['reason_code']}".strip())

    try:
        if not invoice_id.isdigit():
            raise UnknownOrder(invoice_id)
        await services.store.update(invoice_id, record, enqueue=("confirm_payment",))
    except UnknownOrder:
        _rejected(route, "unknown invoice", invoice_id)
    except Rejected as exc:
        _rejected(route, str(exc), invoice_id)
    return Response(status_code=200)


class Rejected(Exception):
    """The callback fails a check (the message names the field); nothing is written."""


def _rejected(route: str, problem: str, invoice_id: str) -> None:
    shown = invoice_id[:15] if invoice_id.isdigit() else "not a number"  # no log injection
    log.warning("security: epay %s rejected: %s (invoice %s)", route, problem, shown)


def verify(data: dict[str, Any], order: Order, services: Services) -> str | None:
    """The first check the callback fails, or None. Never says more than the field's name."""
    given = str(data.get("secret_hash") or "").encode()
    if not order.secret_hash or not hmac.compare_digest(given, order.secret_hash.encode()):
        return "secret_hash"
    try:
        amount = float(str(data.get("amount")))
    except ValueError:
        return "amount"
    if amount != float(order.amount):
        return "amount"
    if str(data.get("currency") or "") != order.currency:
        return "currency"
    terminal = str(data.get("terminal") or "")
    # Epay sends the terminal's UUID; an older example shows the 8-digit processing number,
    # which we cannot check here. check-status verifies terminalID before anything is paid.
    if terminal != services.settings.epay_terminal_id and not (
        terminal.isdigit() and len(terminal) == 8
    ):
        return "terminal"
    return None


async def _parse(request: Request) -> dict[str, Any] | None:
    """The callback body: JSON as the spec shows, or a form body, just in case."""
    raw = await request.body()
    content_type = request.headers.get("content-type", "")
    if "form" in content_type:
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        data = parse(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None

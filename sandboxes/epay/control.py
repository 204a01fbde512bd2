"""`/_sandbox/`: switches, transactions, callback log and redelivery for tests and the demo."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from .ledger import OperationError


def _tx_row(tx: Any) -> dict[str, Any]:
    return {"id": tx.id, "invoice_id": tx.invoice_id, "status": tx.status,
            "amount": str(tx.amount), "charged": str(tx.charged), "refunded": str(tx.refunded),
            "reason_code": tx.reason_code, "reason": tx.reason, "terminal": tx.terminal,
            "created": tx.created.isoformat(), "post_link": tx.post_link,
            "failure_post_link": tx.failure_post_link, "refunds": tx.refunds,
            "callback": tx.callback_body()}


async def dashboard(request: Request) -> Response:
    sandbox = request.app.state.sandbox
    html = sandbox.templates.get_template("dashboard.html").render(
        lang="en", options=json.dumps(sandbox.options.as_dict(), indent=2),
        transactions=list(reversed(sandbox.ledger.transactions.values())),
        deliveries=list(reversed(sandbox.ledger.deliveries[-200:])))
    return HTMLResponse(html)


async def options(request: Request) -> Response:
    sandbox = request.app.state.sandbox
    if request.method == "POST":
        try:
            changes = await request.json()
            if not isinstance(changes, dict):
                raise TypeError("send a JSON object of option names and values")
            sandbox.options.update(changes)
        except (TypeError, ValueError) as error:
            return JSONResponse({"error": str(error)}, status_code=422)
    return JSONResponse(sandbox.options.as_dict())


async def transactions(request: Request) -> Response:
    ledger = request.app.state.sandbox.ledger
    return JSONResponse([_tx_row(tx) for tx in ledger.transactions.values()])


async def deliveries(request: Request) -> Response:
    return JSONResponse(request.app.state.sandbox.ledger.deliveries)


async def deliver(request: Request) -> Response:
    """Send the transaction's callback now, whatever the `callback` switch says."""
    sandbox = request.app.state.sandbox
    tx = sandbox.ledger.transactions.get(request.path_params["id"])
    if tx is None:
        return JSONResponse({"error": "no such transaction id"}, status_code=404)
    delivered = await sandbox.courier.deliver(tx, "forced via /_sandbox")
    if "text/html" in request.headers.get("accept", ""):  # the dashboard's button
        return RedirectResponse("/_sandbox/", status_code=303)
    return JSONResponse({"delivered": delivered})


async def lapse(request: Request) -> Response:
    """Let a two-step hold expire now: AUTH becomes CANCEL_OLD."""
    tx = request.app.state.sandbox.ledger.transactions.get(request.path_params["id"])
    if tx is None:
        return JSONResponse({"error": "no such transaction id"}, status_code=404)
    try:
        tx.lapse()
    except OperationError as error:
        return JSONResponse({"error": str(error)}, status_code=409)
    return JSONResponse({"status": tx.status})


async def reset(request: Request) -> Response:
    """Forget tokens, transactions and deliveries; put the switches back to start-up values."""
    await request.app.state.sandbox.reset()
    return JSONResponse({"ok": True})

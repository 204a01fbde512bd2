"""The REST API on the API host: check-status (§5) and charge / cancel / refund (§6)."""

from __future__ import annotations

import json
import time
from decimal import Decimal, InvalidOperation

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .ledger import OperationError, Token

RESULT_MESSAGES = {"102": "Invoice not found", "107": "Operation in progress, ask again later"}


def _bearer(request: Request) -> Token | None:
    ledger = request.app.state.sandbox.ledger
    token: Token | None = ledger.bearer(request.headers.get("authorization", ""))
    return token


def _unauthorized() -> JSONResponse:
    return JSONResponse({"code": 401, "message": "missing, unknown or expired Bearer token"},
                        status_code=401)


async def check_status(request: Request) -> Response:
    sandbox = request.app.state.sandbox
    if _bearer(request) is None:
        return _unauthorized()
    tx = sandbox.ledger.latest(request.path_params["invoice_id"])
    if tx is None:
        code = "102"
    elif time.time() - tx.created.timestamp() < sandbox.options.new_seconds:
        code = "107"
    else:
        return JSONResponse({"resultCode": "100", "resultMessage": "SUCCESS",
                             "transaction": tx.status_view()})
    return JSONResponse({"resultCode": code, "resultMessage": RESULT_MESSAGES[code]},
                        status_code=sandbox.options.error_http_status)


def _refused(message: str) -> JSONResponse:
    return JSONResponse({"code": 100, "message": message}, status_code=400)


async def _amount(request: Request) -> Decimal | None:
    """`?amount=` or a JSON body `{"amount": …}`; both given must agree (§6)."""
    values = []
    if "amount" in request.query_params:
        values.append(request.query_params["amount"])
    body = await request.body()
    if body.strip():
        try:
            data = json.loads(body)
        except ValueError:
            raise OperationError("the body is not JSON; send {\"amount\": N} or nothing") from None
        if isinstance(data, dict) and data.get("amount") is not None:
            values.append(str(data["amount"]))
    try:
        amounts = {Decimal(v) for v in values}
    except InvalidOperation:
        raise OperationError(f"amount {values!r} is not a number") from None
    if len(amounts) > 1:
        raise OperationError("the amount in the query and in the body differ")
    if amounts and not next(iter(amounts)).is_finite():
        raise OperationError(f"amount {values!r} is not a number")
    return amounts.pop() if amounts else None


async def operation(request: Request) -> Response:
    sandbox = request.app.state.sandbox
    if _bearer(request) is None:
        return _unauthorized()
    tx = sandbox.ledger.transactions.get(request.path_params["id"])
    if tx is None:
        return _refused("no transaction with this id (use the transaction id, not the invoiceId)")
    action = request.path_params["action"]
    if action not in ("charge", "cancel", "refund"):
        return JSONResponse({"code": 404, "message": f"no operation {action!r}"}, status_code=404)
    try:
        amount = await _amount(request) if action != "cancel" else None
        if action == "charge":
            tx.charge(amount)
        elif action == "cancel":
            tx.cancel()
        else:
            tx.refund(amount, request.query_params.get("externalID", ""),
                      sandbox.options.partial_refund_status)
    except OperationError as error:
        return _refused(str(error))
    return Response(status_code=200)


async def legacy_operation(request: Request) -> Response:
    sandbox = request.app.state.sandbox
    if _bearer(request) is None:
        return _unauthorized()
    tx = sandbox.ledger.latest(request.path_params["invoice_id"])
    if tx is None:
        return _refused("invoice not found")
    return JSONResponse(tx.legacy_view())

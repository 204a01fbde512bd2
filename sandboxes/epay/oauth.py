"""`POST /oauth2/token`: payment grants bound to an invoice and service grants (§2)."""

from __future__ import annotations

import secrets
import string
import time
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .ledger import Token

TOKEN_ALPHABET = string.ascii_uppercase + string.digits + "_"
INVOICE_FIELDS = ("invoiceID", "amount", "currency", "terminal")


def token_error(style: str, status: int, error: str, message: str) -> Response:
    """The error body is undocumented (§2.1), so its shape is a switch."""
    if style == "empty":
        return Response(status_code=status)
    if style == "code":
        return JSONResponse({"code": status, "message": message}, status_code=status)
    return JSONResponse({"error": error, "error_description": message}, status_code=status)


async def token(request: Request) -> Response:
    sandbox = request.app.state.sandbox
    options = sandbox.options
    form = await request.form()
    fields: dict[str, str] = {k: v for k, v in form.items() if isinstance(v, str)}
    style = options.token_error_style

    if fields.get("grant_type") != "client_credentials":
        return token_error(style, 400, "unsupported_grant_type",
                           "grant_type must be client_credentials in this sandbox")
    if not secrets.compare_digest(fields.get("client_id", ""), options.client_id) or \
            not secrets.compare_digest(fields.get("client_secret", ""), options.client_secret):
        return token_error(style, 401, "invalid_client", "client_id or client_secret is wrong")
    terminal = fields.get("terminal", "")
    if terminal and terminal not in options.terminals:
        return token_error(style, 400, "invalid_request",
                           f"terminal {terminal} does not belong to this client")

    scope = fields.get("scope") or "payment"
    issued = Token(access_token="".join(secrets.choice(TOKEN_ALPHABET) for _ in range(22)),
                   scope=scope, expires_at=time.time() + options.expires_in, terminal=terminal)
    # An empty invoiceID is no invoice: some clients send every field, so it is a service grant
    # (spec §2.2), good for status, charge, cancel and refund but never for a payform.
    if fields.get("invoiceID"):
        missing = [name for name in INVOICE_FIELDS if not fields.get(name)]
        if missing:
            return token_error(style, 400, "invalid_request",
                               f"a payment token needs {', '.join(missing)}")
        try:
            amount = Decimal(fields["amount"])
        except InvalidOperation:
            amount = Decimal(-1)
        if not amount.is_finite() or amount < 0:
            return token_error(style, 400, "invalid_request",
                               f"amount {fields['amount']!r} is not a number of tenge")
        issued.invoice_id = fields["invoiceID"]
        issued.amount = amount
        issued.currency = fields["currency"]
        issued.secret_hash = fields.get("secret_hash", "")
        issued.post_link = fields.get("postLink", "")
        issued.failure_post_link = fields.get("failurePostLink", "")
    sandbox.ledger.issue(issued)

    expires_in: Any = str(options.expires_in) if options.expires_in_as_string else \
        options.expires_in
    return JSONResponse({"access_token": issued.access_token, "expires_in": expires_in,
                         "refresh_token": "", "scope": scope, "token_type": "Bearer"})

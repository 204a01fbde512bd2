"""The eSIM Access envelope, error codes and request authentication (spec §3, §4, §11)."""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import JSONResponse

from .options import Options

# Texts for the documented codes (spec §4); live texts where the spec quotes them.
MESSAGES = {
    "000001": "server error",
    "000101": "Req Header:[{header}] is null",
    "000102": "Req Header:[{header}] format error",
    "000103": "request method not supported, use POST",
    "000104": "request body is not valid JSON",
    "000105": "parameter [{field}] is missing",
    "000106": "parameter [{field}] is null",
    "000107": "parameter [{field}] length or range is invalid",
    "101001": "timestamp expired",
    "101003": "signature mismatch",
    "401001": "access code not authorized",
    "200002": "operation not allowed in the current status",
    "200005": "package price is wrong",
    "200006": "total amount is wrong",
    "200007": "balance is insufficient",
    "200008": "order parameters are wrong",
    "200010": "the batchOrder has been getting resource, total:[{total}], success:[0]",
    "200011": "package out of stock",
    "310241": "base data plan code:[{package}] doesn`t exist.",
    "310272": "orderNo:[{order_no}] doesn`t exist.",
    "310402": "transactionId:[{transaction_id}] already exists",
    "310403": "iccid:[{iccid}] not in order",
    "900001": "system busy, try again later",
}
_REQUEST_ID = re.compile(
    r"^(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12})$"
)


class _Unnamed(dict[str, Any]):
    """A message's parameters; one not given (a forced fault names only the code) shows as ?."""

    def __missing__(self, key: str) -> str:
        return "?"


class ApiError(Exception):
    """A business or protocol error, answered as an HTTP 200 envelope (spec §4)."""

    def __init__(self, code: str, message: str | None = None, **params: Any) -> None:
        self.code = code
        self.message = message or MESSAGES.get(code, "error").format_map(_Unnamed(params))
        super().__init__(f"{code} {self.message}")


def envelope(options: Options, obj: Any = None, error: ApiError | None = None) -> JSONResponse:
    """Render the envelope with the current 'success as string' and message-field switches."""
    success: bool | str = error is None
    if options.success_as_string:
        success = "true" if error is None else "false"
    body: dict[str, Any] = {
        "success": success,
        "errorCode": "0" if error is None else error.code,
        options.message_field: None if error is None else error.message,
        "obj": obj if error is None else None,
    }
    return JSONResponse(body)


def sign(timestamp: str, request_id: str, access_code: str, body: bytes, secret: str) -> str:
    """HMAC-SHA256 hex of Timestamp+RequestID+AccessCode+rawBody keyed with the secret (spec §3)."""
    message = (timestamp + request_id + access_code).encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def authenticate(options: Options, headers: Headers, body: bytes, now_ms: int) -> None:
    """Check RT-AccessCode and, per the signature mode, the HMAC headers; raise ApiError."""
    access_code = headers.get("RT-AccessCode", "")
    if not access_code:
        raise ApiError("000101", header="RT-AccessCode")
    if not hmac.compare_digest(access_code.encode(), options.access_code.encode()):
        raise ApiError(options.unknown_key_code)
    signature = headers.get("RT-Signature", "")
    if options.signature_mode == "off":
        return
    # A live report says an empty signature passed (spec §3): "if-present" lets it through.
    if options.signature_mode == "if-present" and not signature:
        return
    for name in ("RT-Timestamp", "RT-RequestID", "RT-Signature"):
        if not headers.get(name):
            raise ApiError("000101", header=name)
    timestamp = headers["RT-Timestamp"]
    request_id = headers["RT-RequestID"]
    if not timestamp.isdigit():
        raise ApiError("000102", header="RT-Timestamp")
    if not _REQUEST_ID.match(request_id):
        raise ApiError("000102", header="RT-RequestID")
    if (
        abs(now_ms + options.clock_skew_s * 1000 - int(timestamp))
        > options.timestamp_window_s * 1000
    ):
        raise ApiError("101001")
    keys = [options.secret_key] + ([options.access_code] if options.signature_key_fallback else [])
    given = signature.lower()
    if not any(
        hmac.compare_digest(given, sign(timestamp, request_id, access_code, body, key))
        for key in keys
    ):
        raise ApiError("101003")

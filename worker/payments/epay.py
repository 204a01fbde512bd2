"""Client for Epay 2.0 (Halyk Bank): tokens, check-status, charge, refund.

Follows /work/shared/specs/epay.md: a fresh payment token per order (bound to its invoice,
amount and terminal), one cached service token for status and operations, `expires_in` as a
number or a string, `resultCode` as a string or a number, non-100 results with HTTP 200 or
400. Operations take the Epay transaction id, never the invoice id.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx

from worker.config import Settings

log = logging.getLogger("worker.payments.epay")

# The docs show both `payment` and this long list; the long list works for both grants.
SCOPE = "webapi usermanagement email_send verification statement statistics payment"
# Renew a cached service token this long before Epay says it expires.
TOKEN_MARGIN_S = 60.0


class EpayError(Exception):
    """Epay could not be reached or answered something we cannot use. No personal data."""


class OperationRefused(EpayError):
    """Epay refused a charge or refund (HTTP 400 `{"code":100,"message":…}`)."""


@dataclass(frozen=True)
class Status:
    """A check-status answer. ``result_code`` 100 means ``transaction`` is filled in."""

    result_code: int
    result_message: str
    transaction: dict[str, Any] | None

    @property
    def status_name(self) -> str | None:
        return str(self.transaction.get("statusName")) if self.transaction else None

    @property
    def found(self) -> bool:
        return self.result_code == 100 and self.transaction is not None


def callback_urls(settings: Settings) -> dict[str, str]:
    """Where Epay posts the outcome: in the payment token and in the payment object alike."""
    return {
        "postLink": f"{settings.worker_url}/epay/post-link",
        "failurePostLink": f"{settings.worker_url}/epay/failure-post-link",
    }


class EpayClient:
    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http
        self._service_token: str | None = None
        self._service_expires = 0.0
        self._service_lock = asyncio.Lock()

    async def payment_token(
        self, invoice_id: str, amount: int, secret_hash: str, currency: str = "KZT"
    ) -> dict[str, Any]:
        """A token bound to this invoice: the whole object goes to halyk.pay as ``auth``."""
        s = self.settings
        return await self._token(
            {
                "grant_type": "client_credentials",
                "scope": SCOPE,
                "client_id": s.epay_client_id,
                "client_secret": str(s.epay_client_secret),
                "invoiceID": invoice_id,
                "secret_hash": secret_hash,
                "amount": str(amount),
                "currency": currency,
                "terminal": s.epay_terminal_id,
                **callback_urls(s),
            }
        )

    async def service_token(self) -> str:
        """The client-credentials token for status and operations, cached until it expires."""
        async with self._service_lock:
            if self._service_token and time.monotonic() < self._service_expires:
                return self._service_token
            s = self.settings
            token = await self._token(
                {
                    "grant_type": "client_credentials",
                    "scope": SCOPE,
                    "client_id": s.epay_client_id,
                    "client_secret": str(s.epay_client_secret),
                    "terminal": s.epay_terminal_id,
                }
            )
            self._service_token = str(token["access_token"])
            lifetime = _seconds(token.get("expires_in"))
            self._service_expires = time.monotonic() + max(0.0, lifetime - TOKEN_MARGIN_S)
            return self._service_token

    async def check_status(self, invoice_id: str) -> Status:
        """GET check-status/payment/transaction/{invoiceId}."""
        response = await self._api("GET", f"/check-status/payment/transaction/{invoice_id}")
        try:
            body = response.json()
        except ValueError:
            raise EpayError(f"check-status {invoice_id}: HTTP {response.status_code}, not JSON") from None
        if not isinstance(body, dict) or "resultCode" not in body:
            raise EpayError(f"check-status {invoice_id}: HTTP {response.status_code}, no resultCode")
        try:
            code = int(body["resultCode"])
        except (TypeError, ValueError):
            raise EpayError(f"check-status {invoice_id}: resultCode {body['resultCode']!r}") from None
        transaction = body.get("transaction")
        return Status(
            result_code=code,
            result_message=str(body.get("resultMessage") or ""),
            transaction=transaction if isinstance(transaction, dict) else None,
        )

    async def charge(self, transaction_id: str, amount: int | None = None) -> None:
        """Capture a held (AUTH) payment, in full unless ``amount`` is given."""
        await self._operation(transaction_id, "charge", {"amount": amount} if amount else {})

    async def refund(self, transaction_id: str, amount: int, external_id: str) -> None:
        """Refund a charged payment (CHARGE only, at least 10 KZT). ``external_id``: ours, per refund.

        Whether Epay deduplicates on externalID is unconfirmed: check status before retrying.
        """
        await self._operation(
            transaction_id, "refund", {"amount": amount, "externalID": external_id}
        )

    async def _operation(self, transaction_id: str, name: str, params: dict[str, Any]) -> None:
        response = await self._api("POST", f"/operation/{transaction_id}/{name}", params=params)
        if response.status_code == 400:
            raise OperationRefused(f"{name} {transaction_id}: refused: {_message(response)}")
        if response.status_code >= 300:
            raise EpayError(f"{name} {transaction_id}: HTTP {response.status_code}")

    async def _api(
        self, method: str, path: str, params: dict[str, Any] | None = None
    ) -> httpx.Response:
        url = f"{self.settings.epay_api_url}{path}"
        for attempt in (1, 2):
            token = await self.service_token()
            try:
                response = await self.http.request(
                    method, url, params=params, headers={"Authorization": f"Bearer {token}"}
                )
            except httpx.HTTPError as exc:
                raise EpayError(f"{method} {path}: {type(exc).__name__}") from None
            if response.status_code == 401 and attempt == 1:
                self._service_token = None  # revoked or expired early: get a new one once
                continue
            if response.status_code >= 500 or response.status_code == 401:
                raise EpayError(f"{method} {path}: HTTP {response.status_code}")
            return response
        raise AssertionError("unreachable")

    async def _token(self, form: dict[str, str]) -> dict[str, Any]:
        try:
            response = await self.http.post(self.settings.epay_oauth_url, data=form)
        except httpx.HTTPError as exc:
            raise EpayError(f"token: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise EpayError(f"token: HTTP {response.status_code}: {_message(response)}")
        try:
            token = response.json()
        except ValueError:
            raise EpayError("token: the answer is not JSON") from None
        if not isinstance(token, dict) or not token.get("access_token"):
            raise EpayError("token: the answer has no access_token")
        return token


def _seconds(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0  # unknown lifetime: use it for this request only


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or body)[:200]
    return str(body)[:200]

"""Webkassa API v4 as a CashRegister (shared/specs/webkassa.md): sale and return receipts."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, NoReturn
from urllib.parse import urlsplit, urlunsplit

import httpx

from worker.retry import Backoff

from .register import Receipt, RegisterRefused, RegisterUnavailable, Ticket

log = logging.getLogger("worker.fiscal")

LOCAL = timezone(timedelta(hours=5))
# Code 9 (the cashbox is busy with a parallel call): wait and resend, this often.
PARALLEL_RETRY = Backoff(first_s=0.5, ceiling_s=2.0)
PARALLEL_WAITS = 2
SALE, SALE_RETURN = 2, 3
CARD = 1
PIECE = 796
NEEDS_OPERATOR = {1: "wrong login or password", 4: "no access to the operation",
                  5: "no access to the cashbox", 6: "cashbox not found", 7: "cashbox blocked",
                  10: "cashbox not activated"}


def tenge(tiyn: int) -> int | float:
    """Webkassa takes decimal tenge as JSON numbers with at most 2 decimals."""
    return tiyn // 100 if tiyn % 100 == 0 else round(tiyn / 100, 2)


def tiyn(value: Any) -> int:
    return round(float(value) * 100)


def lower_keys(value: Any) -> Any:
    """Webkassa's JSON keys are case-insensitive and its documents mix the cases."""
    if isinstance(value, dict):
        return {str(k).lower(): lower_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [lower_keys(v) for v in value]
    return value


def parse_time(data: dict[str, Any]) -> str:
    """`DateTimeUTC` is local time with its offset; `DateTime` is local time without one."""
    for name, pattern in (("datetimeutc", "%d.%m.%Y %H:%M:%S %z"), ("datetime", "%d.%m.%Y %H:%M:%S")):
        value = data.get(name)
        if isinstance(value, str):
            try:
                parsed = datetime.strptime(value.strip(), pattern)
            except ValueError:
                continue
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=LOCAL)).isoformat()
    return datetime.now(LOCAL).isoformat(timespec="seconds")


def first_error(envelope: dict[str, Any]) -> tuple[int, str] | None:
    errors = envelope.get("errors") or []
    if not errors:
        return None
    code = errors[0].get("code")
    return (int(code) if isinstance(code, int | str) and str(code).lstrip("-").isdigit() else -1,
            str(errors[0].get("text") or ""))


class Webkassa:
    """One Webkassa login and cashbox. Calls are serialized, as Webkassa requires per cashbox."""

    def __init__(
        self,
        url: str,
        api_key: str,
        login: str,
        password: str,
        cashbox: str,
        http: httpx.AsyncClient,
        *,
        timeout: float = 15.0,
        parallel_retry: Backoff = PARALLEL_RETRY,
    ) -> None:
        self._base = url.rstrip("/")
        self._api_key = api_key
        self._login = login
        self._password = password
        self._cashbox = cashbox
        self._http = http
        self._timeout = timeout
        self._parallel_retry = parallel_retry
        self._token: str | None = None
        self._lock = asyncio.Lock()
        self._registration_number = ""

    # --- transport --------------------------------------------------------------------------

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST once (following a 505 to an alternative domain); the lowercased envelope."""
        tried: set[str] = set()
        while True:
            try:
                response = await self._http.post(
                    self._base + path, json=body, headers={"x-api-key": self._api_key},
                    timeout=self._timeout,
                )
            except httpx.TransportError as exc:
                raise RegisterUnavailable(
                    f"Webkassa {path}: {type(exc).__name__}; outcome unknown, retry with the same key"
                ) from None
            try:
                envelope = lower_keys(response.json())
            except ValueError:
                raise RegisterUnavailable(
                    f"Webkassa {path}: HTTP {response.status_code} without JSON; outcome unknown"
                ) from None
            if not isinstance(envelope, dict):
                raise RegisterUnavailable(f"Webkassa {path}: unreadable reply; outcome unknown")
            if response.status_code == 401:
                raise RegisterRefused("Webkassa refused the API key (HTTP 401): check WEBKASSA_API_KEY")
            error = first_error(envelope)
            if error and error[0] == 505:
                tried.add(urlsplit(self._base).netloc)
                alternatives = [
                    h.strip() for h in response.headers.get("AlternativeDomainNames", "").split(",")
                    if h.strip() and h.strip() not in tried
                ]
                if not alternatives:
                    raise RegisterUnavailable("Webkassa 505: its domain is down and no alternative works")
                parts = urlsplit(self._base)
                self._base = urlunsplit((parts.scheme, alternatives[0], parts.path, "", ""))
                log.warning("webkassa: domain down, switching to %s", alternatives[0])
                continue
            return envelope

    async def _authorize(self) -> str:
        envelope = await self._post(
            "/api/v4/Authorize", {"Login": self._login, "Password": self._password}
        )
        token = (envelope.get("data") or {}).get("token")
        if not token:
            code, text = first_error(envelope) or (-1, "no token in the reply")
            raise RegisterRefused(
                f"Webkassa Authorize failed (code {code}: {text}); check WEBKASSA_LOGIN and "
                "WEBKASSA_PASSWORD"
            )
        self._token = str(token)
        return self._token

    async def _call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """A cashbox call with the token; re-authorizes on 2/3, closes a 24-hour shift on 11,
        waits out a parallel call (9), and returns the envelope, errors included."""
        reauthorized = shift_closed = False
        waits = 0
        while True:
            token = self._token or await self._authorize()
            envelope = await self._post(
                path, {"Token": token, "CashboxUniqueNumber": self._cashbox, **body}
            )
            error = first_error(envelope)
            code = error[0] if error else 0
            if code in (2, 3) and not reauthorized:
                reauthorized = True
                self._token = None
                continue
            if code == 11 and not shift_closed and path != "/api/v4/ZReport":
                shift_closed = True
                log.info("webkassa: shift over 24 h, closing it with a Z report")
                await self._z_report()
                continue
            if code == 9 and waits < PARALLEL_WAITS:  # another process used the cashbox?
                await asyncio.sleep(self._parallel_retry.after_attempts(waits))
                waits += 1
                continue
            return envelope

    def _raise(self, path: str, envelope: dict[str, Any]) -> NoReturn:
        code, text = first_error(envelope) or (-1, "no Data in the reply")
        if code in NEEDS_OPERATOR:
            raise RegisterRefused(
                f"Webkassa {path} code {code} ({NEEDS_OPERATOR[code]}): {text}; an operator must "
                "fix the Webkassa account or the WEBKASSA_* settings"
            )
        if code in (-1, 2, 3, 18, 505):
            raise RegisterUnavailable(f"Webkassa {path} code {code}: {text}")
        raise RegisterRefused(f"Webkassa {path} code {code}: {text}")

    # --- receipts ---------------------------------------------------------------------------

    def _receipt(self, key: str, data: dict[str, Any], total_tiyn: int) -> Receipt:
        box = data.get("cashbox") or {}
        registration = str(
            box.get("registrationnumber") or data.get("cashboxregistrationnumber")
            or self._registration_number
        )
        self._registration_number = registration or self._registration_number
        number = data.get("checknumber") or data.get("number")
        offline = data.get("offlinemode", data.get("isoffline", False))
        shift = data.get("shiftnumber")
        return Receipt(
            key=key,
            fiscal_number=str(number),
            registration_number=registration,
            registered_at=parse_time(data),
            total_tiyn=tiyn(data["total"]) if data.get("total") is not None else total_tiyn,
            offline=bool(offline),
            shift_number=int(shift) if shift is not None else None,
            ticket_url=data.get("ticketurl"),
            print_url=data.get("ticketprinturl"),
        )

    async def _check(self, ticket: Ticket, operation: int, extra: dict[str, Any]) -> Receipt:
        amount = tenge(ticket.amount_tiyn)
        body: dict[str, Any] = {
            "OperationType": operation,
            "Positions": [{
                "Count": 1, "Price": amount, "TaxType": 0, "TaxPercent": 0, "Tax": 0,
                "PositionName": ticket.item_name[:250], "UnitCode": PIECE,
            }],
            "Payments": [{"Sum": amount, "PaymentType": CARD}],
            "Change": 0,
            "RoundType": 2,
            "ExternalCheckNumber": ticket.key,
            "ExternalOrderNumber": ticket.order_id,
            "ExternalLinkId": ticket.link_id,
            **extra,
        }
        if ticket.email:
            body["CustomerEmail"] = ticket.email
        async with self._lock:
            envelope = await self._call("/api/v4/Check", body)
            data = envelope.get("data")
            if isinstance(data, dict) and (data.get("checknumber") or data.get("number")):
                return self._receipt(ticket.key, data, ticket.amount_tiyn)  # new, or 14 + Data
            error = first_error(envelope)
            if error and error[0] == 14:  # registered before, reply without the receipt
                found = await self._find(ticket.key, ticket.amount_tiyn)
                if found is None:
                    raise RegisterUnavailable(
                        f"Webkassa says {ticket.key} exists but the lookup cannot find it yet"
                    )
                return found
            self._raise("/api/v4/Check", envelope)

    async def sale(self, ticket: Ticket) -> Receipt:
        return await self._check(ticket, SALE, {})

    async def refund(self, ticket: Ticket, original: Receipt) -> Receipt:
        if ticket.amount_tiyn > original.total_tiyn:
            raise RegisterRefused(
                f"return of {ticket.amount_tiyn} tiyn exceeds the sale's {original.total_tiyn}"
            )
        registered = datetime.fromisoformat(original.registered_at).astimezone(UTC)
        basis = {
            "CheckNumber": original.fiscal_number,
            "DateTime": registered.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "RegistrationNumber": original.registration_number,
            "Total": tenge(original.total_tiyn),
            "IsOffline": original.offline,
        }
        return await self._check(ticket, SALE_RETURN, {"ReturnBasisDetails": basis})

    async def _find(self, key: str, total_tiyn: int = 0) -> Receipt | None:
        """Look the key up shift by shift, newest first (the lookup needs a ShiftNumber)."""
        envelope = await self._call("/api/v4/Cashbox/ShiftHistory", {"Skip": 0, "Take": 10})
        shifts = (envelope.get("data") or {}).get("shifts")
        if shifts is None:
            self._raise("/api/v4/Cashbox/ShiftHistory", envelope)
        for shift in shifts or []:
            number = shift.get("shiftnumber")
            envelope = await self._call(
                "/api-history/v4/Ticket/GetTicketByExternalCheckNumber",
                {"ExternalCheckNumber": key, "ShiftNumber": number},
            )
            data = envelope.get("data")
            if isinstance(data, dict) and (data.get("checknumber") or data.get("number")):
                data.setdefault("shiftnumber", number)
                return self._receipt(key, data, total_tiyn)
            error = first_error(envelope)
            if error and error[0] not in (16, 19):
                self._raise("/api-history/v4/Ticket/GetTicketByExternalCheckNumber", envelope)
        return None

    async def close_shift(self) -> None:
        async with self._lock:
            await self._z_report()

    async def _z_report(self) -> None:
        envelope = await self._call("/api/v4/ZReport", {})
        error = first_error(envelope)
        if error and error[0] not in (12, 13):  # nothing open: already done
            self._raise("/api/v4/ZReport", envelope)

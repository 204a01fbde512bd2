"""The eSIM Access open API v1 client (spec §3-§9): HMAC-signed POSTs over httpx.

Every reply is an envelope that is parsed here into a value or a ProviderError, so the
order flow never sees the variants the spec lists (success as bool or string, errorMsg or
errorMessage, business errors inside HTTP 200, `200010` meaning "still allocating").
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from aiolimiter import AsyncLimiter

from worker.provisioning.lpa import BadActivationCode, parse_lpa
from worker.provisioning.provider import (
    Network,
    Package,
    ProfileStatus,
    ProviderOrder,
    ProviderProfile,
    RejectedError,
    TopUpResult,
    TransientError,
    Usage,
)

log = logging.getLogger(__name__)

API = "/api/v1/open/"
PRICE_SCALE = 10_000  # prices are integers in 1/10000 of `currencyCode` (spec §8)
# Worth asking again later (spec §4): server error, timestamp expired (our clock may be
# fixed by then), balance too low (support tops it up), out of stock, system busy.
# 200010 is "pending", handled apart.
RETRYABLE_CODES = frozenset({"000001", "101001", "200007", "200011", "900001"})
# Our credentials or address were refused: an operator can fix that, and the order should
# still go through afterwards, so these are retried (until PROVISION_GIVE_UP_AFTER) too.
AUTH_CODES = frozenset({"000101", "000102", "101002", "101003", "401001"})
PENDING_CODE = "200010"
DUPLICATE_TRANSACTION_CODE = "310402"
GONE_STATUSES = frozenset({"CANCEL", "REVOKE", "REVOKED", "UNUSED_EXPIRED", "USED_EXPIRED"})
# smdpStatus once the profile reached a phone; esimStatus once it carried data.
INSTALLED_SMDP = frozenset({"DOWNLOAD", "INSTALLATION", "ENABLED", "DISABLED", "DELETED"})
USED_ESIM = frozenset({"IN_USE", "USED_UP", "USED_EXPIRED"})
# A full package/list is about 3 MB and takes about 3.4 s live (spec §5).
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=3.0)
LIST_TIMEOUT = httpx.Timeout(60.0, connect=3.0)



def profile_status(esim_status: str, smdp_status: str) -> ProfileStatus:
    """eSIM Access's two status words (spec §9) in the order flow's terms."""
    return ProfileStatus(
        words=f"{esim_status}/{smdp_status}",
        installed=smdp_status in INSTALLED_SMDP or esim_status in USED_ESIM,
        cancelled=esim_status == "CANCEL",
        gone=esim_status in GONE_STATUSES,
    )


class Pending(TransientError):
    """`200010`: the order's profiles are still being allocated."""


def sign(timestamp: str, request_id: str, access_code: str, body: bytes, secret_key: str) -> str:
    """RT-Signature: lowercase hex HMAC-SHA256 of timestamp+request id+access code+raw body."""
    message = timestamp.encode() + request_id.encode() + access_code.encode() + body
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def parse_envelope(response: httpx.Response, path: str) -> Any:
    """Return the envelope's `obj`, or raise Pending, TransientError or RejectedError."""
    where = f"eSIM Access {path}"
    if response.status_code == 429 or response.status_code >= 500:
        raise TransientError(f"{where} answered HTTP {response.status_code}")
    try:
        data = response.json()
    except ValueError:
        raise TransientError(
            f"{where} answered HTTP {response.status_code} with a body that is not JSON"
        ) from None
    if not isinstance(data, dict) or "success" not in data:
        raise TransientError(f"{where} answered HTTP {response.status_code} without an envelope")
    success = data["success"]
    if success is True or (isinstance(success, str) and success.strip().lower() == "true"):
        return data.get("obj")
    raw_code = data.get("errorCode")
    # Codes are six-digit strings; a number would have lost its leading zeros.
    code = str(raw_code).zfill(6) if isinstance(raw_code, int) else str(raw_code or "")
    text = str(data.get("errorMsg") or data.get("errorMessage") or "no message")[:200]
    message = f"{where} answered {code or 'no code'}: {text}"
    if code == PENDING_CODE:
        raise Pending(message, code=code)
    if code in AUTH_CODES:
        raise TransientError(
            f"{message}; check ESIMACCESS_ACCESS_CODE, ESIMACCESS_SECRET_KEY and the clock",
            code=code,
        )
    if code in RETRYABLE_CODES or not code:
        raise TransientError(message, code=code or None)
    raise RejectedError(message, code=code)


def throttle(calls_per_second: int) -> AsyncLimiter:
    """Request starts spaced 1/`calls_per_second` apart: never more than that many in any
    second, which is how eSIM Access counts (a burst-sized bucket would let 2× through)."""
    return AsyncLimiter(1, 1 / calls_per_second)


def _iso_time(value: Any) -> str | None:
    """`2026-09-27T19:29:36+0000` (or any ISO form) as ISO 8601 UTC; None if absent."""
    if not value or not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def _kbps(fup_policy: Any) -> int | None:
    """`"384 Kbps"` → 384, `"1 Mbps"` → 1024; None when there is no fair-use speed."""
    words = str(fup_policy or "").split()
    if len(words) != 2:
        return None
    try:
        number = float(words[0])
    except ValueError:
        return None
    factor = {"kbps": 1, "mbps": 1024}.get(words[1].lower())
    return int(number * factor) if factor else None


def package_from_row(row: dict[str, Any]) -> Package:
    """Normalise one `package/list` entry; KeyError/ValueError for a malformed one."""
    countries = tuple(c.strip() for c in str(row.get("location") or "").split(",") if c.strip())
    location_code = str(row.get("locationCode") or "")
    if not location_code:
        location_code = countries[0] if len(countries) == 1 else str(row["slug"]).split("_")[0]
    unit = str(row.get("durationUnit") or "DAY").upper()
    duration = int(row["duration"])
    days = duration if unit == "DAY" else max(1, math.ceil(duration / 24))
    data_type = int(row.get("dataType") or 1)
    top_up = row.get("supportTopUpType")
    return Package(
        code=str(row["packageCode"]),
        slug=str(row.get("slug") or ""),
        name=str(row.get("name") or ""),
        location_code=location_code,
        countries=countries,
        wholesale_price=int(row["price"]),
        retail_price=int(row.get("retailPrice") or 0),
        currency=str(row.get("currencyCode") or "USD"),
        price_scale=PRICE_SCALE,
        data_bytes=None if data_type == 4 else int(row["volume"]),
        days=days,
        daily=data_type in (2, 3, 4),
        throttled_kbps=_kbps(row.get("fupPolicy")) if data_type != 3 else None,
        speed=str(row.get("speed") or ""),
        networks=tuple(
            Network(
                country=str(net.get("locationCode") or ""),
                operators=tuple(
                    str(op["operatorName"])
                    for op in net.get("operatorList") or ()
                    if op.get("operatorName")
                ),
            )
            for net in row.get("locationNetworkList") or ()
        ),
        top_up=top_up is True or top_up in (2, 3, "2", "3"),
        sms=row.get("smsStatus") in (1, 2, "1", "2"),
        # The storefront says when the days start; "install" when the row does not say.
        activation=ACTIVE_TYPES.get(str(row.get("activeType")), "install"),
    )


# activeType: 1, the days count from installation; 2, from the first network attach.
ACTIVE_TYPES = {"1": "install", "2": "first_use"}


def profile_from_row(row: dict[str, Any]) -> ProviderProfile | None:
    """One `esim/query` row as a profile; None while it has no activation code yet."""
    ac = row.get("ac")
    if not ac:
        return None
    try:
        code = parse_lpa(str(ac))
    except BadActivationCode as error:
        raise TransientError(f"eSIM Access esim/query: {error}") from None
    status = str(row.get("esimStatus") or "")
    if status in GONE_STATUSES:
        raise RejectedError(f"eSIM Access reports the profile as {status} before delivery")
    return ProviderProfile(
        provider_id=str(row.get("esimTranNo") or ""),
        order_no=str(row.get("orderNo") or ""),
        transaction_id=str(row.get("transactionId") or ""),
        iccid=str(row.get("iccid") or ""),
        lpa=code.lpa,
        smdp_address=code.smdp_address,
        matching_id=code.matching_id,
        status=f"{status}/{row.get('smdpStatus') or ''}",
        used_bytes=_int_or_none(row.get("orderUsage")),
        total_bytes=_int_or_none(row.get("totalVolume")),
        expires_at=_iso_time(row.get("expiredTime")),
        validity_starts=ACTIVE_TYPES.get(str(row.get("activeType"))),
        days=_int_or_none(row.get("totalDuration")) if row.get("durationUnit") == "DAY" else None,
    )


def _query_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M+00:00")


class EsimAccess:
    """eSIM Access behind the Provider protocol. One instance per process (it owns the throttle)."""

    name = "esimaccess"

    def __init__(
        self,
        base_url: str,
        access_code: str,
        secret_key: str,
        *,
        http: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        calls_per_second: int = 8,
    ) -> None:
        """``http``: the worker's shared client (Services.http); without one (command-line
        tools, tests) the instance opens its own and ``aclose`` closes it."""
        self._access_code = access_code
        self._secret_key = secret_key
        self._url = base_url.rstrip("/") + API
        self._throttle = throttle(calls_per_second)
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=DEFAULT_TIMEOUT, transport=transport)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def call(
        self, path: str, body: dict[str, Any], *, timeout: httpx.Timeout = DEFAULT_TIMEOUT
    ) -> Any:
        """POST one signed request and return the envelope's `obj` (see parse_envelope)."""
        raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        await self._throttle.acquire()
        timestamp = str(int(time.time() * 1000))
        request_id = uuid.uuid4().hex
        headers = {
            "Content-Type": "application/json",
            "RT-AccessCode": self._access_code,
            "RT-RequestID": request_id,
            "RT-Timestamp": timestamp,
            "RT-Signature": sign(timestamp, request_id, self._access_code, raw, self._secret_key),
        }
        try:
            response = await self._http.post(
                self._url + path, content=raw, headers=headers, timeout=timeout
            )
        except httpx.TimeoutException:
            raise TransientError(f"eSIM Access {path} timed out; outcome unknown") from None
        except httpx.TransportError as error:
            raise TransientError(
                f"eSIM Access {path} unreachable ({type(error).__name__}); check ESIMACCESS_URL"
            ) from None
        return parse_envelope(response, path)

    async def list_packages(self) -> list[Package]:
        return await self._packages("BASE")

    async def list_topups(self) -> list[Package]:
        return await self._packages("TOPUP")

    async def _packages(self, kind: str) -> list[Package]:
        obj = await self.call(
            "package/list",
            {"locationCode": "", "type": kind, "packageCode": "", "slug": "", "iccid": ""},
            timeout=LIST_TIMEOUT,
        )
        rows = (obj or {}).get("packageList") if isinstance(obj, dict) else None
        if not isinstance(rows, list):
            raise TransientError("eSIM Access package/list answered without obj.packageList")
        packages = []
        for row in rows:
            try:
                packages.append(package_from_row(row))
            except (KeyError, TypeError, ValueError) as error:
                log.warning("skipping malformed package %r: %r", row.get("packageCode"), error)
        return packages

    async def order(
        self, transaction_id: str, package_code: str, *, since: str, period_days: int | None = None
    ) -> ProviderOrder:
        item: dict[str, Any] = {"packageCode": package_code, "count": 1}
        if period_days is not None:
            item["periodNum"] = period_days  # day passes only (spec §5)
        body = {"transactionId": transaction_id, "packageInfoList": [item]}
        try:
            obj = await self.call("esim/order", body)
        except RejectedError as error:
            if error.code != DUPLICATE_TRANSACTION_CODE:
                raise
            # The first attempt went through and its answer was lost: find that order.
            found = await self._find_order(transaction_id, since)
            if found is None:
                raise TransientError(
                    "eSIM Access says this transactionId was used but no order carries it yet",
                    code=error.code,
                ) from None
            return found
        order_no = obj.get("orderNo") if isinstance(obj, dict) else None
        if not order_no:
            raise TransientError("eSIM Access esim/order answered success without obj.orderNo")
        return ProviderOrder(transaction_id=transaction_id, order_no=str(order_no))

    async def _find_order(self, transaction_id: str, since: str) -> ProviderOrder | None:
        """Page through the orders placed since `since` (there is no transactionId filter)."""
        start = datetime.fromisoformat(since) - timedelta(minutes=10)
        end = datetime.now(UTC) + timedelta(minutes=10)
        page = 1
        while True:
            try:
                obj = await self.call(
                    "esim/query",
                    {
                        "orderNo": "",
                        "iccid": "",
                        "startTime": _query_time(start),
                        "endTime": _query_time(end),
                        "pager": {"pageNum": page, "pageSize": 500},
                    },
                )
            except Pending:
                return None
            rows = obj.get("esimList") if isinstance(obj, dict) else None
            for row in rows or ():
                if str(row.get("transactionId")) == transaction_id and row.get("orderNo"):
                    return ProviderOrder(transaction_id, str(row["orderNo"]))
            total = _int_or_none((obj.get("pager") or {}).get("total")) if rows else 0
            if not rows or total is None or page * 500 >= total:
                return None
            page += 1

    async def _order_rows(self, order_no: str) -> list[dict[str, Any]]:
        """The order's eSIMs; empty while they are still being allocated."""
        try:
            obj = await self.call(
                "esim/query",
                {"orderNo": order_no, "iccid": "", "pager": {"pageNum": 1, "pageSize": 20}},
            )
        except Pending:
            return []
        rows = obj.get("esimList") if isinstance(obj, dict) else None
        # Some clients saw an empty list instead of 200010 while allocating (spec §9).
        return rows if isinstance(rows, list) else []

    async def query(self, order_no: str) -> ProviderProfile | None:
        rows = await self._order_rows(order_no)
        return profile_from_row(rows[0]) if rows else None

    async def balance(self) -> int:
        obj = await self.call("balance/query", {})
        return int(obj["balance"])

    async def save_webhook(self, url: str) -> None:
        await self.call("webhook/save", {"webhook": url})

    async def cancel(self, provider_id: str) -> None:
        await self.call("esim/cancel", {"esimTranNo": provider_id})

    async def topup(
        self, provider_id: str, package_code: str, transaction_id: str, order_no: str
    ) -> TopUpResult:
        body = {
            "esimTranNo": provider_id,
            "packageCode": package_code,
            "transactionId": transaction_id,
        }
        try:
            obj = await self.call("esim/topup", body)
        except RejectedError as error:
            if error.code != DUPLICATE_TRANSACTION_CODE:
                raise
            # Applied by an earlier attempt whose answer was lost: read the totals instead.
            rows = await self._order_rows(order_no)
            matching = [r for r in rows if str(r.get("esimTranNo")) == provider_id]
            if not matching:
                raise TransientError(
                    f"eSIM Access esim/query {order_no} does not list the topped-up eSIM",
                    code=error.code,
                ) from None
            obj = matching[0]
        if not isinstance(obj, dict):
            raise TransientError("eSIM Access esim/topup answered success without obj")
        return TopUpResult(
            transaction_id=transaction_id,
            total_bytes=_int_or_none(obj.get("totalVolume")),
            expires_at=_iso_time(obj.get("expiredTime")),
            used_bytes=_int_or_none(obj.get("orderUsage")),
        )

    async def status(self, order_no: str) -> ProfileStatus | None:
        """The order's profile from `esimStatus` and `smdpStatus`, also once cancelled or
        expired; None while it is still allocating."""
        rows = await self._order_rows(order_no)
        if not rows:
            return None
        return profile_status(str(rows[0].get("esimStatus") or ""),
                              str(rows[0].get("smdpStatus") or ""))

    async def usage(self, provider_ids: list[str]) -> list[Usage]:
        result: list[Usage] = []
        for start in range(0, len(provider_ids), 10):  # at most 10 per call (spec §5)
            obj = await self.call(
                "esim/usage/query", {"esimTranNoList": provider_ids[start : start + 10]}
            )
            rows = obj.get("esimUsageList") if isinstance(obj, dict) else obj
            for row in rows or ():
                result.append(
                    Usage(
                        provider_id=str(row.get("esimTranNo") or ""),
                        used_bytes=_int_or_none(row.get("dataUsage")) or 0,
                        total_bytes=_int_or_none(row.get("totalData")),
                        updated_at=_iso_time(row.get("lastUpdateTime")),
                    )
                )
        return result

"""The open API's endpoints (spec §5): validate the body, act on the account, return `obj`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from .profiles import stamp
from .protocol import ApiError
from .state import Account
from .webhooks import Notifier


@dataclass
class Call:
    account: Account
    notifier: Notifier
    body: dict[str, Any]
    base_url: str


Handler = Callable[[Call], Awaitable[Any]]


def required(body: dict[str, Any], name: str) -> Any:
    if name not in body:
        raise ApiError("000105", field=name)
    if body[name] is None or body[name] == "" or body[name] == []:
        raise ApiError("000106", field=name)
    return body[name]


def integer(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ApiError("000107", field=name)
    return value


def optional_int(body: dict[str, Any], name: str, low: int = 0, high: int = 10**12) -> int | None:
    value = body.get(name)
    return None if value is None or value == "" else integer(value, name, low, high)


def transaction(body: dict[str, Any]) -> str:
    value = required(body, "transactionId")
    if not isinstance(value, str) or len(value) > 50:
        raise ApiError("000107", field="transactionId")
    return value


async def package_list(call: Call) -> Any:
    topups_for = None
    if str(call.body.get("type") or "").upper() == "TOPUP" and call.body.get("iccid"):
        base = call.account.profile({"iccid": call.body["iccid"]}).package
        if base["supportTopUpType"] not in (2, 3):
            return {"packageList": []}  # the plan takes no top-ups: none fit it
        topups_for = base["locationCode"]
    return {"packageList": call.account.catalogue.select(call.body, topups_for)}


async def esim_order(call: Call) -> Any:
    transaction_id = transaction(call.body)
    entries = required(call.body, "packageInfoList")
    if not isinstance(entries, list) or len(entries) > 100:
        raise ApiError("000107", field="packageInfoList")
    items = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise ApiError("000107", field="packageInfoList")
        package = call.account.package(required(entry, "packageCode"))
        count = integer(required(entry, "count"), "count", 1, 100)
        price = optional_int(entry, "price")
        period = optional_int(entry, "periodNum", 1, 365)
        if package["dataType"] == 1 and period is not None:
            raise ApiError("200008", "periodNum is for day passes only")
        if package["packageCode"].startswith("TOPUP_"):
            raise ApiError("200008", "a TOPUP_ package is bought with esim/topup")
        # periodNum defaults to 1: one day of a day pass (spec §5 makes it optional).
        items.append((package, count, period or 1, price))
    if sum(count for _, count, _, _ in items) > 30:
        raise ApiError("200008", "at most 30 eSIMs per order")
    order = call.account.place_order(transaction_id, items, optional_int(call.body, "amount"))
    return {"orderNo": order.order_no, "transactionId": order.transaction_id}


async def esim_query(call: Call) -> Any:
    body, account = call.body, call.account
    pager = required(body, "pager")
    if not isinstance(pager, dict):
        raise ApiError("000107", field="pager")
    page = integer(required(pager, "pageNum"), "pageNum", 1, 10000)
    size = integer(required(pager, "pageSize"), "pageSize", 5, 500)
    if body.get("orderNo"):
        order = account.order(str(body["orderNo"]))
        if not order.allocated:
            if account.options.pending_style == "200010":
                raise ApiError("200010", total=len(order.profiles))
            rows = []
        else:
            rows = order.profiles
    elif body.get("iccid"):
        rows = [p for p in account.profiles.values() if p.iccid == str(body["iccid"])]
    elif body.get("esimTranNo"):
        rows = [p for p in account.profiles.values() if p.esim_tran_no == str(body["esimTranNo"])]
    elif body.get("startTime") or body.get("endTime"):
        start, end = _moment(body, "startTime"), _moment(body, "endTime")
        rows = [p for p in account.profiles.values() if start <= p.created <= end]
    else:
        rows = list(account.profiles.values())
    shown = rows[(page - 1) * size : page * size]
    return {
        "esimList": [p.as_json(call.base_url) for p in shown],
        "pager": {"pageSize": size, "pageNum": page, "total": len(rows)},
    }


def _moment(body: dict[str, Any], name: str) -> float:
    try:
        moment = datetime.fromisoformat(str(required(body, name)))
    except ValueError:
        raise ApiError("000107", field=name) from None
    if moment.tzinfo is None:
        raise ApiError("000107", field=name)
    return moment.timestamp()


def _lifecycle(action: str) -> Handler:
    async def handle(call: Call) -> Any:
        getattr(call.account, action)(call.account.profile(call.body))
        return {}

    return handle


async def esim_topup(call: Call) -> Any:
    body = call.body
    if not body.get("iccid"):
        required(body, "esimTranNo")
    profile = call.account.profile(body)
    package = call.account.package(required(body, "packageCode"))
    return call.account.topup(
        profile,
        package,
        transaction(body),
        optional_int(body, "periodNum", 1, 365) or 1,
        optional_int(body, "amount"),
    )


async def balance_query(call: Call) -> Any:
    return {"balance": call.account.balance}


async def webhook_save(call: Call) -> Any:
    url = required(call.body, "webhook")
    parts = urlsplit(str(url))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ApiError("000107", field="webhook")
    health = call.account.emit("CHECK_HEALTH", {"orderNo": "1234567890", "orderStatus": "Test"})
    outcome = await call.notifier.post(str(url), health)
    if outcome != "ok":
        raise ApiError("000001", f"webhook CHECK_HEALTH delivery failed ({outcome}); not saved")
    call.notifier.url = str(url)
    return {}


async def webhook_query(call: Call) -> Any:
    return {"webhook": call.notifier.url}


async def send_sms(call: Call) -> Any:
    profile = call.account.profile(call.body)
    message = required(call.body, "message")
    if not isinstance(message, str) or len(message) > 500:
        raise ApiError("000107", field="message")
    if profile.package["smsStatus"] not in (1, 2) or profile.smdp_status != "ENABLED":
        raise ApiError("200002", "SMS needs an installed eSIM on a plan with SMS")
    profile.sms.append(message)
    return {}


async def usage_query(call: Call) -> Any:
    numbers = required(call.body, "esimTranNoList")
    if not isinstance(numbers, list) or len(numbers) > 10:
        raise ApiError("000107", field="esimTranNoList")
    rows = []
    for number in numbers:
        profile = call.account.profile({"esimTranNo": number})
        rows.append(
            {
                "esimTranNo": profile.esim_tran_no,
                "dataUsage": profile.used,
                "totalData": profile.total_volume,
                "lastUpdateTime": stamp(profile.usage_updated),
            }
        )
    return rows if call.account.options.usage_bare_array else {"esimUsageList": rows}


async def location_list(call: Call) -> Any:
    return {"locationList": call.account.catalogue.locations}


ENDPOINTS: dict[str, Handler] = {
    "package/list": package_list,
    "esim/order": esim_order,
    "esim/query": esim_query,
    "esim/cancel": _lifecycle("cancel"),
    "esim/suspend": _lifecycle("suspend"),
    "esim/unsuspend": _lifecycle("unsuspend"),
    "esim/revoke": _lifecycle("revoke"),
    "esim/topup": esim_topup,
    "balance/query": balance_query,
    "webhook/save": webhook_save,
    "webhook/query": webhook_query,
    "esim/sendSms": send_sms,
    "esim/usage/query": usage_query,
    "location/list": location_list,
}

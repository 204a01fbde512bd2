"""Ordering, asynchronous allocation, idempotency and the order's checks (spec §5, §9, §11)."""

from __future__ import annotations

import re
import time

import httpx
import pytest
import zxingcpp
from aggregator_helpers import GB, Aggregator
from PIL import Image

PROFILE_FIELDS = {
    "esimTranNo",
    "orderNo",
    "transactionId",
    "imsi",
    "iccid",
    "msisdn",
    "eid",
    "pin",
    "puk",
    "apn",
    "ac",
    "qrCodeUrl",
    "shortUrl",
    "smdpStatus",
    "esimStatus",
    "activeType",
    "dataType",
    "smsStatus",
    "activateTime",
    "installationTime",
    "expiredTime",
    "totalVolume",
    "totalDuration",
    "durationUnit",
    "orderUsage",
    "ipExport",
    "supportTopUpType",
    "fupPolicy",
    "packageList",
}


def luhn_ok(number: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(number)):
        value = int(char) * (2 if i % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def test_profile_is_pending_with_200010_then_ready(aggregator: Aggregator) -> None:
    order_no = aggregator.order("TR_10_30")
    assert re.fullmatch(r"B\d{14}", order_no)
    pending = aggregator.query(orderNo=order_no)
    assert (pending["success"], pending["errorCode"]) == (False, "200010")
    assert pending["errorMsg"] == "the batchOrder has been getting resource, total:[1], success:[0]"
    (profile,) = aggregator.wait_ready(order_no)
    assert set(profile) == PROFILE_FIELDS
    assert (profile["esimStatus"], profile["smdpStatus"]) == ("GOT_RESOURCE", "RELEASED")
    assert re.fullmatch(r"\d{14}", profile["esimTranNo"])
    assert re.fullmatch(r"8986\d{15,16}", profile["iccid"]) and luhn_ok(profile["iccid"])
    assert re.fullmatch(r"LPA:1\$rsp-eu\.simlessly\.com\$[0-9A-F]{32}", profile["ac"])
    assert profile["totalVolume"] == 10 * GB and profile["totalDuration"] == 30
    assert profile["orderUsage"] == 0 and profile["eid"] == ""
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000", profile["expiredTime"])
    assert profile["packageList"][0]["slug"] == "TR_10_30"


def test_qr_code_url_serves_a_qr_of_the_activation_code(aggregator: Aggregator) -> None:
    profile = aggregator.ready_profile()
    image = httpx.get(profile["qrCodeUrl"])
    assert image.headers["content-type"] == "image/png"
    (decoded,) = zxingcpp.read_barcodes(Image.open(__import__("io").BytesIO(image.content)))
    assert decoded.text == profile["ac"]
    short = httpx.get(profile["shortUrl"], follow_redirects=True)
    assert short.content == image.content


def test_pending_can_be_an_empty_list_instead(aggregator: Aggregator) -> None:
    aggregator.set(pending_style="empty")
    order_no = aggregator.order()
    pending = aggregator.query(orderNo=order_no)
    assert pending["success"] is True and pending["obj"]["esimList"] == []
    assert len(aggregator.wait_ready(order_no)) == 1


def test_stuck_allocation_stays_pending_until_released(aggregator: Aggregator) -> None:
    aggregator.set(allocation_stuck=True, allocation_delay_s=0)
    order_no = aggregator.order()
    time.sleep(0.3)
    assert aggregator.query(orderNo=order_no)["errorCode"] == "200010"
    aggregator.set(allocation_stuck=False)
    assert len(aggregator.wait_ready(order_no, timeout=1)) == 1


def test_balance_is_debited_at_once(aggregator: Aggregator) -> None:
    package = aggregator.package("TR_10_30")
    before = aggregator.balance()
    aggregator.ok("esim/order", aggregator.order_body(package, count=2))
    assert aggregator.balance() == before - 2 * package["price"]


def test_repeated_transaction_id_returns_the_same_order_and_charges_once(
    aggregator: Aggregator,
) -> None:
    body = aggregator.order_body(aggregator.package("TR_10_30"))
    before = aggregator.balance()
    first = aggregator.ok("esim/order", body)
    second = aggregator.ok("esim/order", body)
    assert first == second
    assert aggregator.balance() == before - body["amount"]
    assert aggregator.count(body["transactionId"])["profiles"] == 1


def test_repeated_transaction_id_can_be_refused_with_310402(aggregator: Aggregator) -> None:
    aggregator.set(duplicate_mode="310402")
    body = aggregator.order_body(aggregator.package("TR_10_30"))
    aggregator.ok("esim/order", body)
    assert aggregator.error("esim/order", body) == "310402"
    assert aggregator.count(body["transactionId"])["orders"] == 1


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"price": 1}, "200005"),
        ({"amount": 1}, "200006"),
        ({"packageCode": "NOPE01"}, "310241"),
        ({"transactionId": "x" * 51}, "000107"),
        ({"transactionId": None}, "000106"),
        ({"count": 31}, "200008"),
    ],
)
def test_bad_order_is_refused_and_charges_nothing(
    aggregator: Aggregator, change: dict[str, object], code: str
) -> None:
    body = aggregator.order_body(aggregator.package("TR_10_30"))
    item = body["packageInfoList"][0]
    for key, value in change.items():
        (item if key in item else body)[key] = value
    if "count" in change:
        body["amount"] = item["price"] * item["count"]
    before = aggregator.balance()
    assert aggregator.error("esim/order", body) == code
    assert aggregator.balance() == before
    assert aggregator.http.get("/_sandbox/state").json()["orders"] == 0


def test_missing_transaction_id_is_a_missing_parameter(aggregator: Aggregator) -> None:
    body = aggregator.order_body(aggregator.package("TR_10_30"))
    del body["transactionId"]
    assert aggregator.error("esim/order", body) == "000105"


def test_low_balance_and_out_of_stock_are_refused(aggregator: Aggregator) -> None:
    package = aggregator.package("TR_10_30")
    aggregator.set(balance=package["price"] - 1)
    assert aggregator.error("esim/order", aggregator.order_body(package)) == "200007"
    aggregator.set(balance=10**9, out_of_stock=[package["packageCode"]])
    assert aggregator.error("esim/order", aggregator.order_body(package)) == "200011"
    assert aggregator.order("TR_5_30")


def test_order_by_slug_works(aggregator: Aggregator) -> None:
    body = aggregator.order_body(aggregator.package("GE_3_15"))
    body["packageInfoList"][0]["packageCode"] = "GE_3_15"
    (profile,) = aggregator.wait_ready(aggregator.ok("esim/order", body)["orderNo"])
    assert profile["packageList"][0]["slug"] == "GE_3_15"


def test_day_pass_without_period_is_one_day(aggregator: Aggregator) -> None:
    day_pass = aggregator.package("TR_1GB_Daily")
    before = aggregator.balance()
    (profile,) = aggregator.wait_ready(
        aggregator.ok("esim/order", aggregator.order_body(day_pass))["orderNo"]
    )
    assert (profile["totalDuration"], profile["totalVolume"]) == (1, GB)
    assert aggregator.balance() == before - day_pass["price"]


@pytest.mark.parametrize(
    ("price_reading", "amount_reading"),
    [("per day", "× periodNum"), ("whole period", "× periodNum"), ("per day", "per day")],
)
def test_day_pass_accepts_both_readings_of_price_and_amount(
    aggregator: Aggregator, price_reading: str, amount_reading: str
) -> None:
    day_pass = aggregator.package("TR_1GB_Daily")
    body = aggregator.order_body(day_pass, count=2, period=5)
    per_day = day_pass["price"]
    body["packageInfoList"][0]["price"] = per_day if price_reading == "per day" else per_day * 5
    body["amount"] = per_day * 2 * (5 if amount_reading == "× periodNum" else 1)
    before = aggregator.balance()
    aggregator.wait_ready(aggregator.ok("esim/order", body)["orderNo"])
    assert aggregator.balance() == before - per_day * 10  # charged for ten days either way
    body = aggregator.order_body(day_pass, count=2, period=5)
    body["packageInfoList"][0]["price"] = per_day * 3
    assert aggregator.error("esim/order", body) == "200005"
    body = aggregator.order_body(day_pass, count=2, period=5) | {"amount": per_day * 3}
    assert aggregator.error("esim/order", body) == "200006"


def test_day_pass_is_priced_per_day(aggregator: Aggregator) -> None:
    day_pass = aggregator.package("TR_1GB_Daily")
    before = aggregator.balance()
    body = aggregator.order_body(day_pass, count=2, period=5)
    profiles = aggregator.wait_ready(aggregator.ok("esim/order", body)["orderNo"])
    assert aggregator.balance() == before - day_pass["price"] * 10
    assert [(p["totalDuration"], p["totalVolume"]) for p in profiles] == [(5, 5 * GB)] * 2
    fixed = aggregator.order_body(aggregator.package("TR_10_30"), period=3)
    assert aggregator.error("esim/order", fixed) == "200008"


def test_query_needs_a_pager_in_range(aggregator: Aggregator) -> None:
    assert aggregator.error("esim/query", {"orderNo": "B26010100000001"}) == "000105"
    small = {"orderNo": "B26010100000001", "pager": {"pageNum": 1, "pageSize": 4}}
    assert aggregator.error("esim/query", small) == "000107"
    assert aggregator.query(orderNo="B26010100000001")["errorCode"] == "310272"


def test_query_by_iccid_esim_number_and_time_range(aggregator: Aggregator) -> None:
    profile = aggregator.ready_profile()
    by_iccid = aggregator.query(iccid=profile["iccid"])["obj"]["esimList"]
    by_number = aggregator.query(esimTranNo=profile["esimTranNo"])["obj"]["esimList"]
    assert by_iccid == by_number == [profile]
    window = aggregator.query(startTime="2020-01-01T00:00+00:00", endTime="2099-01-01T00:00+00:00")
    assert window["obj"]["pager"]["total"] == 1
    empty = aggregator.query(startTime="2020-01-01T00:00+00:00", endTime="2020-02-01T00:00+00:00")
    assert empty["obj"]["esimList"] == []


def test_query_pages_through_a_batch(aggregator: Aggregator) -> None:
    order_no = aggregator.order(count=7)
    aggregator.wait_ready(order_no)
    page = aggregator.call(
        "esim/query", {"orderNo": order_no, "pager": {"pageNum": 2, "pageSize": 5}}
    )
    assert len(page["obj"]["esimList"]) == 2
    assert page["obj"]["pager"] == {"pageSize": 5, "pageNum": 2, "total": 7}


def test_reused_iccid_gives_two_records_told_apart_by_esim_number(aggregator: Aggregator) -> None:
    first = aggregator.ready_profile()
    aggregator.ok("esim/cancel", {"esimTranNo": first["esimTranNo"]})
    aggregator.set(iccid_reuse=True)
    second = aggregator.ready_profile()
    assert second["iccid"] == first["iccid"]
    rows = aggregator.query(iccid=first["iccid"])["obj"]["esimList"]
    assert {r["esimTranNo"] for r in rows} == {first["esimTranNo"], second["esimTranNo"]}


def test_control_lists_orders_and_profiles(aggregator: Aggregator) -> None:
    profile = aggregator.ready_profile()
    orders = aggregator.http.get("/_sandbox/orders").json()["orders"]
    assert [o["orderNo"] for o in orders] == [profile["orderNo"]]
    assert orders[0]["profiles"][0]["ac"] == profile["ac"]
    profiles = aggregator.http.get("/_sandbox/profiles").json()["profiles"]
    assert profiles == [profile]

"""eSIM Access client: signing, envelope variants, idempotent orders, throttling (spec §3-§9)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from worker.provisioning.esimaccess import EsimAccess, parse_envelope, sign, throttle
from worker.provisioning.provider import RejectedError, TransientError

pytestmark = pytest.mark.anyio

ACCESS_CODE = "demoAccessCode"
SECRET = "demoSecretKey"
LPA = "LPA:1$rsp-eu.redteamobile.com$6D9A4B2C8E1F40A7B3C5D7E9F1A3B5C7"


def test_signature_matches_the_official_vector() -> None:
    body = b'{"imsi":"326543826"}'
    assert (
        sign("1628670421", "4ce9d9cdac9e4e17b3a2c66c358c1ce2", "11111", body, "1111")
        == "7eb765e27df5373dea2dbc8c41a7d9557743e46c8054750f3d851b3fd01d0835"
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            b'{"orderNo":"B25010100000001","iccid":"","pager":{"pageNum":1,"pageSize":20}}',
            "2726acfc7bb8d7a91bfd2b221fc198751de722a4d3996fd164b5c5da60a57df9",
        ),
        (b"", "0867a6664bb93871c7327c3322edac2e597b1656b1a050eb8fddac9431456015"),
    ],
)
def test_signature_matches_the_second_vector(body: bytes, expected: str) -> None:
    request_id = "5f0c6a1e-2b3c-4d5e-8f90-123456789abc"
    assert sign("1735689600000", request_id, ACCESS_CODE, body, SECRET) == expected


def _response(payload: Any, status: int = 200) -> httpx.Response:
    if isinstance(payload, (dict, list)):
        return httpx.Response(status, json=payload)
    return httpx.Response(status, content=payload)


@pytest.mark.parametrize("success", [True, "true", "TRUE"])
def test_success_as_bool_or_string_returns_obj(success: Any) -> None:
    envelope = {"success": success, "errorCode": "0", "errorMsg": None, "obj": {"orderNo": "B1"}}
    assert parse_envelope(_response(envelope), "esim/order") == {"orderNo": "B1"}


@pytest.mark.parametrize("message_field", ["errorMsg", "errorMessage"])
def test_business_error_in_http_200_names_code_and_message(message_field: str) -> None:
    envelope = {"success": False, "errorCode": "310241", message_field: "code doesn`t exist."}
    with pytest.raises(RejectedError) as error:
        parse_envelope(_response(envelope), "esim/order")
    assert error.value.code == "310241"
    assert "code doesn`t exist." in str(error.value)
    assert not error.value.retryable


@pytest.mark.parametrize(
    "code", ["000001", "900001", "200007", "200011", "101001", "200010", "101003"]
)
def test_busy_pending_low_balance_and_auth_codes_are_retryable(code: str) -> None:
    with pytest.raises(TransientError) as error:
        parse_envelope(_response({"success": "false", "errorCode": code, "errorMsg": "x"}), "p")
    assert error.value.retryable and error.value.code == code


def test_numeric_error_code_keeps_its_leading_zeros() -> None:
    with pytest.raises(TransientError) as error:
        parse_envelope(_response({"success": False, "errorCode": 1, "errorMsg": "x"}), "p")
    assert error.value.code == "000001"


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (b"<html>Bad gateway</html>", 502),
        ({"success": True, "obj": {}}, 500),
        ({"success": False, "errorCode": "900001"}, 429),
        (b"not json at all", 200),
        (b'{"truncated": ', 200),
        ([1, 2, 3], 200),
        ({"code": 0, "data": {}}, 200),
    ],
)
def test_transport_faults_and_malformed_bodies_are_retryable(payload: Any, status: int) -> None:
    with pytest.raises(TransientError):
        parse_envelope(_response(payload, status), "esim/query")


Handler = Callable[[str, dict[str, Any]], httpx.Response]


def _client(handler: Handler, seen: list[httpx.Request] | None = None) -> EsimAccess:
    def transport(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        path = request.url.path.removeprefix("/api/v1/open/")
        return handler(path, json.loads(request.content or b"{}"))

    return EsimAccess(
        "http://aggregator.test", ACCESS_CODE, SECRET, transport=httpx.MockTransport(transport)
    )


def _ok(obj: Any) -> httpx.Response:
    return httpx.Response(
        200, json={"success": True, "errorCode": "0", "errorMsg": None, "obj": obj}
    )


def _row(**overrides: Any) -> dict[str, Any]:
    row = {
        "esimTranNo": "25112512000001",
        "orderNo": "B25112512000001",
        "transactionId": "100000123",
        "iccid": "8943108170001234567",
        "ac": LPA,
        "qrCodeUrl": "https://p.qrsim.net/abc.png",
        "smdpStatus": "RELEASED",
        "esimStatus": "GOT_RESOURCE",
        "expiredTime": "2026-09-27T19:29:36+0000",
        "totalVolume": 10737418240,
        "orderUsage": 0,
    }
    row.update(overrides)
    return row


async def test_every_request_is_a_signed_post_the_server_can_verify() -> None:
    seen: list[httpx.Request] = []
    client = _client(lambda path, body: _ok({"orderNo": "B1", "transactionId": "1"}), seen)
    await client.order("100000123", "CKH002", since="2026-11-25T10:00:00+00:00")
    await client.aclose()
    request = seen[0]
    assert request.method == "POST" and request.url.path == "/api/v1/open/esim/order"
    headers = request.headers
    assert headers["RT-AccessCode"] == ACCESS_CODE
    assert abs(int(headers["RT-Timestamp"]) - time.time() * 1000) < 5000  # milliseconds
    expected = hmac.new(
        SECRET.encode(),
        (headers["RT-Timestamp"] + headers["RT-RequestID"] + ACCESS_CODE).encode()
        + request.content,
        hashlib.sha256,
    ).hexdigest()
    assert headers["RT-Signature"] == expected
    assert json.loads(request.content) == {
        "transactionId": "100000123",
        "packageInfoList": [{"packageCode": "CKH002", "count": 1}],
    }


async def test_a_repeated_order_answered_with_the_same_order_number_is_that_order() -> None:
    client = _client(lambda path, body: _ok({"orderNo": "B7", "transactionId": "100000123"}))
    placed = await client.order("100000123", "CKH002", since="2026-11-25T10:00:00+00:00")
    assert (placed.order_no, placed.transaction_id) == ("B7", "100000123")


async def test_duplicate_transaction_id_310402_finds_the_original_order_by_query() -> None:
    pages: list[dict[str, Any]] = []

    def handler(path: str, body: dict[str, Any]) -> httpx.Response:
        if path == "esim/order":
            return httpx.Response(
                200, json={"success": False, "errorCode": "310402", "errorMsg": "duplicate"}
            )
        pages.append(body)
        if body["pager"]["pageNum"] == 1:
            rows = [_row(transactionId=f"other-{i}", orderNo=f"B{i}") for i in range(500)]
        else:
            rows = [_row(transactionId="100000123", orderNo="B-original")]
        return _ok({"esimList": rows, "pager": {"pageNum": 1, "pageSize": 500, "total": 501}})

    client = _client(handler)
    placed = await client.order("100000123", "CKH002", since="2026-11-25T10:00:00+00:00")
    assert placed.order_no == "B-original"
    assert [p["pager"]["pageNum"] for p in pages] == [1, 2]
    assert pages[0]["startTime"] == "2026-11-25T09:50+00:00"


async def test_duplicate_transaction_id_not_found_yet_is_retryable() -> None:
    def handler(path: str, body: dict[str, Any]) -> httpx.Response:
        if path == "esim/order":
            return httpx.Response(200, json={"success": False, "errorCode": "310402"})
        return _ok({"esimList": [], "pager": {"total": 0}})

    with pytest.raises(TransientError):
        await _client(handler).order("100000123", "CKH002", since="2026-11-25T10:00:00+00:00")


async def test_unknown_package_is_a_definite_refusal() -> None:
    client = _client(
        lambda p, b: httpx.Response(200, json={"success": False, "errorCode": "310241"})
    )
    with pytest.raises(RejectedError):
        await client.order("100000123", "NOPE", since="2026-11-25T10:00:00+00:00")


async def test_a_timed_out_order_is_unknown_not_failed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    client = EsimAccess(
        "http://a.test", ACCESS_CODE, SECRET, transport=httpx.MockTransport(handler)
    )
    with pytest.raises(TransientError, match="outcome unknown"):
        await client.order("100000123", "CKH002", since="2026-11-25T10:00:00+00:00")


@pytest.mark.parametrize(
    "answer",
    [
        {"success": False, "errorCode": "200010", "errorMsg": "getting resource"},
        {"success": True, "errorCode": "0", "obj": {"esimList": []}},
        {"success": True, "errorCode": "0", "obj": {"esimList": [_row(ac="")]}},
    ],
)
async def test_query_while_allocating_is_pending(answer: dict[str, Any]) -> None:
    client = _client(lambda p, b: httpx.Response(200, json=answer))
    assert await client.query("B1") is None


async def test_query_of_a_ready_order_gives_the_parsed_profile() -> None:
    profile = await _client(lambda p, b: _ok({"esimList": [_row()]})).query("B25112512000001")
    assert profile is not None
    assert profile.lpa == LPA
    assert profile.smdp_address == "rsp-eu.redteamobile.com"
    assert profile.matching_id == "6D9A4B2C8E1F40A7B3C5D7E9F1A3B5C7"
    assert profile.iccid == "8943108170001234567"
    assert profile.provider_id == "25112512000001"
    assert profile.total_bytes == 10737418240
    assert profile.expires_at == "2026-09-27T19:29:36+00:00"
    assert (profile.validity_starts, profile.days) == (None, None)  # the row does not say


@pytest.mark.parametrize(("active_type", "starts"), [(1, "install"), (2, "first_use"), ("2", "first_use")])
async def test_the_profile_says_when_its_days_start_counting(active_type: object, starts: str) -> None:
    row = _row(activeType=active_type, totalDuration=7, durationUnit="DAY")
    profile = await _client(lambda p, b: _ok({"esimList": [row]})).query("B25112512000001")
    assert profile is not None
    assert (profile.validity_starts, profile.days) == (starts, 7)


async def test_a_profile_cancelled_before_delivery_is_refused() -> None:
    client = _client(lambda p, b: _ok({"esimList": [_row(esimStatus="CANCEL")]}))
    with pytest.raises(RejectedError):
        await client.query("B1")


async def test_list_packages_normalises_units_and_coverage() -> None:
    rows = [
        {
            "packageCode": "CKH002",
            "slug": "TR_10_30",
            "name": "Turkey 10GB 30Days",
            "price": 57000,
            "retailPrice": 114000,
            "currencyCode": "USD",
            "volume": 10737418240,
            "duration": 30,
            "durationUnit": "DAY",
            "dataType": 1,
            "location": "TR",
            "locationCode": "TR",
            "speed": "3G/4G/5G",
            "fupPolicy": "",
            "supportTopUpType": 2,
            "smsStatus": 0,
            "locationNetworkList": [
                {
                    "locationCode": "TR",
                    "operatorList": [
                        {"operatorName": "Turkcell", "networkType": "5G"},
                        {"operatorName": "Vodafone", "networkType": "4G"},
                    ],
                }
            ],
        },
        {
            "packageCode": "PEU1",
            "slug": "EU-42_1_Daily",
            "name": "Europe daily",
            "price": 12000,
            "retailPrice": 24000,
            "currencyCode": "USD",
            "volume": 1073741824,
            "duration": 1,
            "durationUnit": "DAY",
            "dataType": 2,
            "location": "FR,DE,IT",
            "speed": "4G",
            "fupPolicy": "384 Kbps",
            "supportTopUpType": 3,
        },
        {"packageCode": "BROKEN"},
    ]
    packages = await _client(lambda p, b: _ok({"packageList": rows})).list_packages()
    assert [p.code for p in packages] == ["CKH002", "PEU1"]
    turkey, europe = packages
    assert (turkey.wholesale_price, turkey.price_scale, turkey.currency) == (57000, 10000, "USD")
    assert turkey.data_bytes == 10737418240 and turkey.days == 30 and not turkey.daily
    assert turkey.networks[0].operators == ("Turkcell", "Vodafone") and turkey.top_up
    assert europe.location_code == "EU-42" and europe.countries == ("FR", "DE", "IT")
    assert europe.daily and europe.throttled_kbps == 384


async def test_throttle_starts_at_most_eight_calls_in_any_second() -> None:
    limiter = throttle(16)  # 8 in any half second keeps the test short; same rule
    starts: list[float] = []

    async def call() -> None:
        await limiter.acquire()
        starts.append(time.monotonic())

    await asyncio.gather(*(call() for _ in range(20)))
    starts.sort()
    for i in range(len(starts) - 8):
        assert starts[i + 8] - starts[i] >= 0.5 - 0.01


async def test_a_malformed_activation_code_is_retried_not_delivered() -> None:
    client = _client(lambda p, b: _ok({"esimList": [_row(ac="LPA:1$no-matching-id")]}))
    with pytest.raises(TransientError, match="eSIM Access esim/query: "):
        await client.query("B25112512000001")


@pytest.mark.parametrize(("field", "value", "attribute", "read"), [
    ("expiredTime", "in a year", "expires_at", None),
    ("expiredTime", "2026-09-27T19:29:36", "expires_at", "2026-09-27T19:29:36+00:00"),
    ("totalVolume", "lots", "total_bytes", None),
])
async def test_a_field_the_aggregator_wrote_oddly_is_read_or_left_out(
        field: str, value: str, attribute: str, read: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Almaty")  # a time without offset is UTC, not the server's
    time.tzset()
    row = _row(**{field: value})
    profile = await _client(lambda p, b: _ok({"esimList": [row]})).query("B25112512000001")
    assert profile is not None and getattr(profile, attribute) == read
    assert profile.lpa == LPA  # the rest of the profile is still delivered


@pytest.fixture(autouse=True)
def _local_time_restored() -> Any:
    yield
    time.tzset()  # after a test that changed TZ (monkeypatch restores the variable first)


@pytest.mark.parametrize(("call", "says"), [
    ("list", "package/list answered without obj.packageList"),
    ("order", "esim/order answered success without obj.orderNo"),
])
async def test_a_success_without_its_data_is_retried(call: str, says: str) -> None:
    client = _client(lambda p, b: _ok({}))
    with pytest.raises(TransientError, match=says):
        if call == "list":
            await client.list_packages()
        else:
            await client.order("100000123", "CKH002", since="2026-11-25T10:00:00+00:00")


async def test_the_status_of_an_order_still_allocating_is_unknown() -> None:
    assert await _client(lambda p, b: _ok({"esimList": []})).status("B1") is None

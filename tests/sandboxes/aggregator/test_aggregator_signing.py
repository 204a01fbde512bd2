"""Authentication in the spec's strict mode (§3, §11): what a mis-signing client sees."""

from __future__ import annotations

import json
import time

import pytest
from aggregator_helpers import ACCESS_CODE, SECRET_KEY, Aggregator

from sandboxes.aggregator.protocol import sign


def test_first_official_vector_matches() -> None:
    body = b'{"imsi":"326543826"}'
    assert sign("1628670421", "4ce9d9cdac9e4e17b3a2c66c358c1ce2", "11111", body, "1111") == (
        "7eb765e27df5373dea2dbc8c41a7d9557743e46c8054750f3d851b3fd01d0835"
    )


def test_second_official_vector_and_its_empty_body_match() -> None:
    body = b'{"orderNo":"B25010100000001","iccid":"","pager":{"pageNum":1,"pageSize":20}}'
    args = ("1735689600000", "5f0c6a1e-2b3c-4d5e-8f90-123456789abc", ACCESS_CODE)
    assert sign(*args, body, SECRET_KEY) == (
        "2726acfc7bb8d7a91bfd2b221fc198751de722a4d3996fd164b5c5da60a57df9"
    )
    assert sign(*args, b"", SECRET_KEY) == (
        "0867a6664bb93871c7327c3322edac2e597b1656b1a050eb8fddac9431456015"
    )


def test_correctly_signed_request_is_answered(aggregator: Aggregator) -> None:
    assert aggregator.balance() == 10_000_000_000


def test_uppercase_hex_signature_and_dashed_request_id_are_accepted(aggregator: Aggregator) -> None:
    ts, request_id = str(int(time.time() * 1000)), "5f0c6a1e-2b3c-4d5e-8f90-123456789abc"
    upper = sign(ts, request_id, ACCESS_CODE, b"{}", SECRET_KEY).upper()
    envelope = aggregator.call(
        "balance/query",
        {},
        timestamp=ts,
        headers={"RT-RequestID": request_id, "RT-Signature": upper},
    )
    assert envelope["success"] is True


def test_signature_with_the_wrong_key_is_refused(aggregator: Aggregator) -> None:
    assert aggregator.error("balance/query", {}, secret="not-the-secret") == "101003"


def test_signature_of_other_bytes_than_sent_is_refused(aggregator: Aggregator) -> None:
    # A client that signs a compact dump but sends a pretty one fails here, not in production.
    ts, request_id = str(int(time.time() * 1000)), "4ce9d9cdac9e4e17b3a2c66c358c1ce2"
    signed = sign(ts, request_id, ACCESS_CODE, b'{"pager":{"pageNum":1,"pageSize":20}}', SECRET_KEY)
    sent = json.dumps({"pager": {"pageNum": 1, "pageSize": 20}}, indent=1).encode()
    code = aggregator.error(
        "esim/query",
        raw=sent,
        timestamp=ts,
        headers={"RT-RequestID": request_id, "RT-Signature": signed},
    )
    assert code == "101003"


@pytest.mark.parametrize("age_s", [-301, 301, 3600])
def test_timestamp_outside_five_minutes_is_refused(aggregator: Aggregator, age_s: int) -> None:
    stale = str(int((time.time() - age_s) * 1000))
    assert aggregator.error("balance/query", {}, timestamp=stale) == "101001"


def test_timestamp_in_seconds_is_refused_as_expired(aggregator: Aggregator) -> None:
    assert aggregator.error("balance/query", {}, timestamp=str(int(time.time()))) == "101001"


@pytest.mark.parametrize("header", ["RT-Signature", "RT-Timestamp", "RT-RequestID"])
def test_missing_signature_header_is_refused_naming_it(aggregator: Aggregator, header: str) -> None:
    envelope = aggregator.call("balance/query", {}, drop=(header,))
    assert envelope["success"] is False
    assert envelope["errorCode"] == "000101"
    assert envelope["errorMsg"] == f"Req Header:[{header}] is null"


def test_missing_access_code_gets_the_live_text(aggregator: Aggregator) -> None:
    envelope = aggregator.call("balance/query", {}, drop=("RT-AccessCode",))
    assert (envelope["errorCode"], envelope["errorMsg"]) == (
        "000101",
        "Req Header:[RT-AccessCode] is null",
    )


def test_unknown_access_code_is_refused(aggregator: Aggregator) -> None:
    assert (
        aggregator.error("balance/query", {}, headers={"RT-AccessCode": "someoneElse"}) == "101003"
    )
    aggregator.set(unknown_key_code="401001")
    assert (
        aggregator.error("balance/query", {}, headers={"RT-AccessCode": "someoneElse"}) == "401001"
    )


def test_non_numeric_timestamp_is_a_header_format_error(aggregator: Aggregator) -> None:
    assert aggregator.error("balance/query", {}, timestamp="2026-11-25T10:00:00Z") == "000102"


def test_get_is_refused_before_authentication(aggregator: Aggregator) -> None:
    envelope = aggregator.http.get("/api/v1/open/balance/query").json()
    assert (envelope["success"], envelope["errorCode"]) == (False, "000103")


def test_signed_body_that_is_not_json_is_refused(aggregator: Aggregator) -> None:
    assert aggregator.error("balance/query", raw=b"balance please") == "000104"


def test_empty_body_is_signed_over_the_empty_string(aggregator: Aggregator) -> None:
    assert aggregator.call("balance/query", raw=b"")["success"] is True


def test_if_present_mode_lets_unsigned_calls_through_but_checks_given_ones(
    aggregator: Aggregator,
) -> None:
    aggregator.set(signature_mode="if-present")
    unsigned = aggregator.call("balance/query", {}, drop=("RT-Signature",))
    assert unsigned["success"] is True
    assert aggregator.error("balance/query", {}, secret="wrong") == "101003"


def test_off_mode_only_checks_the_access_code(aggregator: Aggregator) -> None:
    aggregator.set(signature_mode="off")
    assert aggregator.call("balance/query", {}, secret="wrong")["success"] is True
    assert aggregator.error("balance/query", {}, drop=("RT-AccessCode",)) == "000101"


def test_access_code_fallback_key_is_accepted_only_when_switched_on(aggregator: Aggregator) -> None:
    assert aggregator.error("balance/query", {}, secret=ACCESS_CODE) == "101003"
    aggregator.set(signature_key_fallback=True)
    assert aggregator.call("balance/query", {}, secret=ACCESS_CODE)["success"] is True


def test_clock_skew_makes_a_correct_client_look_stale(aggregator: Aggregator) -> None:
    aggregator.set(clock_skew_s=600)
    assert aggregator.error("balance/query", {}) == "101001"

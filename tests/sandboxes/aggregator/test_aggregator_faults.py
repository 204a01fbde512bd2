"""Fault switches: what a client sees when eSIM Access errs, stalls, throttles or loses a reply."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from aggregator_helpers import TEST_OPTIONS, Aggregator
from loopback import free_port

ROOT = Path(__file__).resolve().parents[3]


def test_forced_error_hits_only_its_endpoint(aggregator: Aggregator) -> None:
    aggregator.fault(endpoint="esim/order", kind="error", code="900001")
    assert aggregator.error("esim/order", aggregator.order_body(aggregator.package("TR_1_7"))) == (
        "900001"
    )
    assert aggregator.balance() == 10_000_000_000  # nothing was bought


def test_forced_error_for_a_number_of_calls_then_success(aggregator: Aggregator) -> None:
    aggregator.fault(endpoint="balance/query", kind="error", code="000001", times=2)
    assert aggregator.error("balance/query") == "000001"
    assert aggregator.error("balance/query") == "000001"
    assert aggregator.balance() == 10_000_000_000
    assert aggregator.http.get("/_sandbox/faults").json() == {"faults": []}


@pytest.mark.parametrize("status", [500, 502])
def test_http_error_answers_html_not_the_envelope(aggregator: Aggregator, status: int) -> None:
    aggregator.fault(endpoint="*", kind="http", status=status)
    answer = aggregator.post("esim/query", {"pager": {"pageNum": 1, "pageSize": 5}})
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("text/html")


def test_non_json_body_with_status_200(aggregator: Aggregator) -> None:
    aggregator.fault(endpoint="package/list", kind="non_json")
    answer = aggregator.post("package/list", {})
    assert answer.status_code == 200
    with pytest.raises(ValueError):
        answer.json()


def test_latency_beyond_the_client_timeout_times_out_then_answers(aggregator: Aggregator) -> None:
    aggregator.fault(endpoint="balance/query", kind="latency", seconds=0.6)
    with pytest.raises(httpx.ReadTimeout):
        aggregator.post("balance/query", {}, timeout=0.2)
    aggregator.http.delete("/_sandbox/faults")
    aggregator.fault(endpoint="balance/query", kind="latency", seconds=0.3, times=1)
    assert aggregator.call("balance/query", {}, timeout=5)["success"] is True


def test_hang_times_the_client_out_and_commits_nothing(aggregator: Aggregator) -> None:
    aggregator.fault(endpoint="esim/order", kind="hang", seconds=0.5)
    body = aggregator.order_body(aggregator.package("TR_1_7"))
    with pytest.raises(httpx.ReadTimeout):
        aggregator.post("esim/order", body, timeout=0.2)
    time.sleep(0.5)
    assert aggregator.count(body["transactionId"])["orders"] == 0


def test_lost_response_commits_the_order_and_a_retry_finds_it(aggregator: Aggregator) -> None:
    aggregator.fault(endpoint="esim/order", kind="lost_response", status=502, times=1)
    body = aggregator.order_body(aggregator.package("TR_1_7"))
    assert aggregator.post("esim/order", body).status_code == 502
    count = aggregator.count(body["transactionId"])
    assert (count["orders"], count["profiles"], count["total_orders"]) == (1, 1, 1)
    retried = aggregator.ok("esim/order", body)
    assert len(aggregator.wait_ready(retried["orderNo"])) == 1
    assert aggregator.count(body["transactionId"])["profiles"] == 1


def test_dropped_connection_after_commit(aggregator: Aggregator) -> None:
    aggregator.fault(endpoint="esim/order", kind="drop", times=1)
    body = aggregator.order_body(aggregator.package("TR_1_7"))
    with pytest.raises(httpx.RemoteProtocolError):
        aggregator.post("esim/order", body)
    assert aggregator.count(body["transactionId"])["orders"] == 1


@pytest.mark.parametrize(
    ("style", "status", "code"), [("429", 429, None), ("envelope", 200, "900001")]
)
def test_ninth_request_in_a_second_is_throttled(
    aggregator: Aggregator, style: str, status: int, code: str | None
) -> None:
    aggregator.set(rate_limit_style=style)
    answers = [aggregator.post("balance/query", {}) for _ in range(9)]
    assert all(a.json()["success"] is True for a in answers[:8])
    assert answers[8].status_code == status
    if code:
        assert answers[8].json()["errorCode"] == code
    time.sleep(1.05)
    assert aggregator.post("balance/query", {}).json()["success"] is True


def test_success_as_string_and_error_message_field(aggregator: Aggregator) -> None:
    aggregator.set(success_as_string=True, message_field="errorMessage")
    good = aggregator.call("balance/query", {})
    assert good["success"] == "true" and "errorMessage" in good and "errorMsg" not in good
    bad = aggregator.call(
        "esim/query", {"orderNo": "B26010100000001", "pager": {"pageNum": 1, "pageSize": 5}}
    )
    assert bad["success"] == "false" and bad["errorMessage"].startswith("orderNo:[B26010100000001]")


def test_bad_switches_and_faults_are_refused_with_the_reason(aggregator: Aggregator) -> None:
    answer = aggregator.http.post("/_sandbox/config", json={"pending_style": "sometimes"})
    assert answer.status_code == 400 and "pending_style" in answer.json()["error"]
    answer = aggregator.http.post("/_sandbox/config", json={"allocation_delay": 1})
    assert answer.status_code == 400 and "allocation_delay_s" in answer.json()["error"]
    answer = aggregator.http.post(
        "/_sandbox/faults", json={"endpoint": "esim/order", "kind": "boom"}
    )
    assert answer.status_code == 400 and "kind" in answer.json()["error"]


def test_reset_restores_the_start_up_switches(aggregator: Aggregator) -> None:
    aggregator.set(signature_mode="off", allocation_delay_s=9)
    aggregator.fault(endpoint="*", kind="http")
    state = aggregator.http.post("/_sandbox/reset").json()
    assert state["options"]["signature_mode"] == "required"
    assert state["options"]["allocation_delay_s"] == TEST_OPTIONS["allocation_delay_s"]
    assert state["faults"] == [] and state["orders"] == 0


def test_command_line_starts_a_sandbox_checking_signatures_if_present() -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandboxes.aggregator",
            "--port",
            str(port),
            "--allocation-delay",
            "0",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while True:
            try:
                state = httpx.get(f"{url}/_sandbox/state").json()
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the sandbox did not start"
                time.sleep(0.1)
        assert state["options"]["signature_mode"] == "if-present"  # the spec's default (§11.3)
        assert state["options"]["allocation_delay_s"] == 0
        unsigned = httpx.post(
            f"{url}/api/v1/open/balance/query", json={}, headers={"RT-AccessCode": "demoAccessCode"}
        ).json()
        assert unsigned["success"] is True  # the vendor's quick-start: the access code alone
        wrong = httpx.post(
            f"{url}/api/v1/open/balance/query",
            json={},
            headers={
                "RT-AccessCode": "demoAccessCode",
                "RT-RequestID": "4ce9d9cdac9e4e17b3a2c66c358c1ce2",
                "RT-Timestamp": str(int(time.time() * 1000)),
                "RT-Signature": "0" * 64,
            },
        ).json()
        assert wrong["errorCode"] == "101003"  # a wrong signature is still refused
    finally:
        process.terminate()
        process.wait(10)

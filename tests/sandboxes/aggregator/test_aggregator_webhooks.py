"""Webhooks as our receiver gets them (spec §7): the events, their envelope, and delivery faults."""

from __future__ import annotations

import re
import time

from aggregator_helpers import GB, Aggregator, Receiver


def test_saving_a_webhook_sends_check_health(aggregator: Aggregator, receiver: Receiver) -> None:
    url = f"{receiver.url}/hook"
    assert aggregator.ok("webhook/save", {"webhook": url}) == {}
    (health,) = receiver.wait_for(1)
    assert health["notifyType"] == "CHECK_HEALTH"
    assert health["content"] == {"orderNo": "1234567890", "orderStatus": "Test"}
    assert re.fullmatch(r"[0-9a-f]{32}", health["notifyId"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", health["eventGenerateTime"])
    assert aggregator.ok("webhook/query") == {"webhook": url}


def test_webhook_is_not_saved_when_check_health_fails(
    aggregator: Aggregator, receiver: Receiver
) -> None:
    receiver.answers.append(500)
    envelope = aggregator.call("webhook/save", {"webhook": f"{receiver.url}/hook"})
    assert envelope["success"] is False and "CHECK_HEALTH" in envelope["errorMsg"]
    nowhere = aggregator.call("webhook/save", {"webhook": "http://127.0.0.1:9/hook"})
    assert nowhere["success"] is False
    assert aggregator.ok("webhook/query") == {"webhook": ""}
    assert aggregator.error("webhook/save", {"webhook": "ftp://example.com"}) == "000107"


def test_order_status_follows_allocation(aggregator: Aggregator, receiver: Receiver) -> None:
    aggregator.save_webhook()
    body = aggregator.order_body(aggregator.package("TR_10_30"))
    order_no = aggregator.ok("esim/order", body)["orderNo"]
    (event,) = receiver.wait_for(1)
    assert event["notifyType"] == "ORDER_STATUS"
    assert event["content"] == {
        "orderNo": order_no,
        "orderStatus": "GOT_RESOURCE",
        "transactionId": body["transactionId"],
    }
    assert aggregator.query(orderNo=order_no)["success"] is True


def test_install_reports_smdp_events_then_in_use(
    aggregator: Aggregator, receiver: Receiver
) -> None:
    profile = aggregator.ready_profile()
    aggregator.save_webhook()
    aggregator.esim(profile["esimTranNo"], "install")
    events = receiver.wait_for(4)
    assert [(e["notifyType"], e["content"]["smdpStatus"]) for e in events] == [
        ("SMDP_EVENT", "DOWNLOAD"),
        ("SMDP_EVENT", "INSTALLATION"),
        ("SMDP_EVENT", "ENABLED"),
        ("ESIM_STATUS", "ENABLED"),
    ]
    assert events[-1]["content"]["esimStatus"] == "IN_USE"
    assert events[0]["content"]["esimTranNo"] == profile["esimTranNo"]
    assert [e["content"]["seqNumber"] for e in events[:3]] == [1, 2, 3]


def test_usage_thresholds_then_used_up(aggregator: Aggregator, receiver: Receiver) -> None:
    profile = aggregator.ready_profile("TR_1_7")
    aggregator.esim(profile["esimTranNo"], "install")
    aggregator.save_webhook()
    aggregator.esim(profile["esimTranNo"], "consume", bytes=GB // 2)
    aggregator.esim(profile["esimTranNo"], "consume", bytes=GB)
    events = receiver.wait_for(4)
    usage = [e["content"] for e in events if e["notifyType"] == "DATA_USAGE"]
    assert [u["remainThreshold"] for u in usage] == [0.5, 0.2, 0.1]
    assert usage[0]["remain"] == GB // 2 and usage[0]["totalVolume"] == GB
    (status,) = [e["content"] for e in events if e["notifyType"] == "ESIM_STATUS"]
    assert status["esimStatus"] == "USED_UP" and status["remainVolume"] == 0


def test_cancel_reports_cancel_released(aggregator: Aggregator, receiver: Receiver) -> None:
    profile = aggregator.ready_profile()
    aggregator.save_webhook()
    aggregator.ok("esim/cancel", {"esimTranNo": profile["esimTranNo"]})
    (event,) = receiver.wait_for(1)
    assert event["notifyType"] == "ESIM_STATUS"
    assert (event["content"]["esimStatus"], event["content"]["smdpStatus"]) == (
        "CANCEL",
        "RELEASED",
    )
    assert event["content"]["iccid"] == profile["iccid"]


def test_revoke_is_spelled_revoked_in_webhooks(aggregator: Aggregator, receiver: Receiver) -> None:
    profile = aggregator.ready_profile()
    aggregator.save_webhook()
    aggregator.ok("esim/revoke", {"esimTranNo": profile["esimTranNo"]})
    (event,) = receiver.wait_for(1)
    assert event["content"]["esimStatus"] == "REVOKED"


def test_last_day_warning_then_expiry(aggregator: Aggregator, receiver: Receiver) -> None:
    profile = aggregator.ready_profile("TR_1_7")
    aggregator.esim(profile["esimTranNo"], "install")
    aggregator.save_webhook()
    aggregator.control("clock/advance", {"days": 6.5})
    (warning,) = receiver.wait_for(1)
    assert warning["notifyType"] == "VALIDITY_USAGE" and warning["content"]["remain"] == 1
    aggregator.control("clock/advance", {"days": 1})
    events = receiver.wait_for(2)
    assert events[1]["content"]["esimStatus"] == "USED_EXPIRED"


def test_dropped_webhooks_never_arrive(aggregator: Aggregator, receiver: Receiver) -> None:
    aggregator.save_webhook()
    aggregator.set(webhook_mode="drop")
    aggregator.wait_ready(aggregator.order())
    time.sleep(0.3)
    assert receiver.events == []
    log = aggregator.http.get("/_sandbox/webhooks").json()["webhooks"]
    assert log[-1]["outcome"] == "dropped" and log[-1]["body"]["notifyType"] == "ORDER_STATUS"


def test_duplicated_webhooks_repeat_the_notify_id(
    aggregator: Aggregator, receiver: Receiver
) -> None:
    aggregator.save_webhook()
    aggregator.set(webhook_mode="duplicate")
    aggregator.order()
    first, second = receiver.wait_for(2)
    assert first == second


def test_reordered_webhooks_arrive_last_first(aggregator: Aggregator, receiver: Receiver) -> None:
    profile = aggregator.ready_profile()
    aggregator.save_webhook()
    aggregator.set(webhook_mode="reorder")
    aggregator.esim(profile["esimTranNo"], "install")
    events = receiver.wait_for(4)
    assert events[0]["notifyType"] == "ESIM_STATUS"
    assert [e["content"].get("seqNumber") for e in events[1:]] == [3, 2, 1]


def test_delayed_webhooks_arrive_late(aggregator: Aggregator, receiver: Receiver) -> None:
    profile = aggregator.ready_profile()
    aggregator.save_webhook()
    aggregator.set(webhook_mode="delay", webhook_delay_s=0.6)
    cancelled_at = time.monotonic()
    aggregator.ok("esim/cancel", {"esimTranNo": profile["esimTranNo"]})
    assert (
        aggregator.query(esimTranNo=profile["esimTranNo"])["obj"]["esimList"][0]["esimStatus"]
        == "CANCEL"
    )
    assert len(receiver.wait_for(1)) == 1
    # The state changed at once; the webhook lagged 0.6 s behind (less the loop timer's ms).
    assert receiver.times[0] - cancelled_at > 0.59


def test_control_sends_data_and_validity_usage_on_demand(
    aggregator: Aggregator, receiver: Receiver
) -> None:
    profile = aggregator.ready_profile("TR_1_7")
    aggregator.esim(profile["esimTranNo"], "install")
    aggregator.esim(profile["esimTranNo"], "consume", bytes=GB // 4)
    aggregator.save_webhook()
    aggregator.esim(profile["esimTranNo"], "notify", notifyType="DATA_USAGE")
    aggregator.esim(profile["esimTranNo"], "notify", notifyType="VALIDITY_USAGE")
    data, validity = receiver.wait_for(2)
    assert data["notifyType"] == "DATA_USAGE"
    assert data["content"]["esimTranNo"] == profile["esimTranNo"]
    assert (data["content"]["orderUsage"], data["content"]["remain"]) == (GB // 4, 3 * GB // 4)
    assert data["content"]["remainThreshold"] == 0.8
    assert validity["notifyType"] == "VALIDITY_USAGE"
    assert (validity["content"]["remain"], validity["content"]["totalDuration"]) == (7, 7)
    bad = aggregator.control(f"esims/{profile['esimTranNo']}/notify", {"notifyType": "SMS"})
    assert bad.status_code == 409 and "DATA_USAGE" in bad.json()["error"]

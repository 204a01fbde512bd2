"""A profile's life after allocation: cancel, install, usage, top-up, suspend, revoke, expiry."""

from __future__ import annotations

from aggregator_helpers import GB, Aggregator


def test_unused_profile_cancels_with_a_refund(aggregator: Aggregator) -> None:
    before = aggregator.balance()
    profile = aggregator.ready_profile()
    assert aggregator.balance() < before
    assert aggregator.ok("esim/cancel", {"esimTranNo": profile["esimTranNo"]}) == {}
    assert aggregator.balance() == before
    (row,) = aggregator.query(esimTranNo=profile["esimTranNo"])["obj"]["esimList"]
    assert (row["esimStatus"], row["smdpStatus"]) == ("CANCEL", "RELEASED")


def test_cancel_twice_refunds_once(aggregator: Aggregator) -> None:
    profile = aggregator.ready_profile()
    aggregator.ok("esim/cancel", {"esimTranNo": profile["esimTranNo"]})
    balance = aggregator.balance()
    assert aggregator.error("esim/cancel", {"esimTranNo": profile["esimTranNo"]}) == "200002"
    assert aggregator.balance() == balance


def test_installed_profile_cannot_be_cancelled(aggregator: Aggregator) -> None:
    profile = aggregator.ready_profile()
    aggregator.esim(profile["esimTranNo"], "install")
    balance = aggregator.balance()
    assert aggregator.error("esim/cancel", {"iccid": profile["iccid"]}) == "200002"
    assert aggregator.balance() == balance


def test_cancel_of_an_unknown_esim_names_it(aggregator: Aggregator) -> None:
    assert aggregator.error("esim/cancel", {"esimTranNo": "26010100000000"}) == "310272"
    assert aggregator.error("esim/cancel", {"iccid": "89860000000000000000"}) == "310403"
    assert aggregator.error("esim/cancel", {}) == "000105"


def test_install_sets_the_device_and_starts_validity(aggregator: Aggregator) -> None:
    profile = aggregator.ready_profile("TR_1_7")
    row = aggregator.esim(profile["esimTranNo"], "install")
    assert (row["esimStatus"], row["smdpStatus"]) == ("IN_USE", "ENABLED")
    assert row["eid"] and row["installationTime"] and row["activateTime"]
    assert row["expiredTime"] < profile["expiredTime"]  # 7 days from now, not 180 unused days


def test_usage_is_reported_by_usage_query_and_esim_query(aggregator: Aggregator) -> None:
    profile = aggregator.ready_profile("TR_1_7")
    aggregator.esim(profile["esimTranNo"], "install")
    aggregator.esim(profile["esimTranNo"], "consume", bytes=300 * 1024 * 1024)
    (usage,) = aggregator.ok("esim/usage/query", {"esimTranNoList": [profile["esimTranNo"]]})[
        "esimUsageList"
    ]
    assert (usage["dataUsage"], usage["totalData"]) == (300 * 1024 * 1024, GB)
    assert usage["lastUpdateTime"].endswith("+0000")
    (row,) = aggregator.query(esimTranNo=profile["esimTranNo"])["obj"]["esimList"]
    assert row["orderUsage"] == 300 * 1024 * 1024


def test_usage_can_come_as_a_bare_array(aggregator: Aggregator) -> None:
    profile = aggregator.ready_profile("TR_1_7")
    aggregator.set(usage_bare_array=True)
    (usage,) = aggregator.ok("esim/usage/query", {"esimTranNoList": [profile["esimTranNo"]]})
    assert (usage["esimTranNo"], usage["dataUsage"]) == (profile["esimTranNo"], 0)


def test_usage_query_takes_at_most_ten_esims(aggregator: Aggregator) -> None:
    assert aggregator.error("esim/usage/query", {"esimTranNoList": ["1"] * 11}) == "000107"


def test_using_the_whole_volume_makes_it_used_up_and_a_topup_revives_it(
    aggregator: Aggregator,
) -> None:
    profile = aggregator.ready_profile("TR_1_7")
    aggregator.esim(profile["esimTranNo"], "install")
    row = aggregator.esim(profile["esimTranNo"], "consume", bytes=2 * GB)
    assert (row["esimStatus"], row["orderUsage"]) == ("USED_UP", GB)
    (topup,) = [
        p
        for p in aggregator.packages(type="TOPUP", iccid=profile["iccid"])
        if p["slug"] == "TOPUP_TR_1_7"
    ]
    before = aggregator.balance()
    body = {
        "esimTranNo": profile["esimTranNo"],
        "packageCode": topup["packageCode"],
        "transactionId": aggregator.transaction(),
        "amount": topup["price"],
    }
    result = aggregator.ok("esim/topup", body)
    assert result["totalVolume"] == 2 * GB and result["orderUsage"] == GB
    assert aggregator.balance() == before - topup["price"]
    assert aggregator.ok("esim/topup", body) == result  # same transactionId: no second charge
    assert aggregator.balance() == before - topup["price"]
    (row,) = aggregator.query(esimTranNo=profile["esimTranNo"])["obj"]["esimList"]
    assert row["esimStatus"] == "IN_USE" and len(row["packageList"]) == 2


def test_topup_for_another_destination_or_after_expiry_is_refused(aggregator: Aggregator) -> None:
    profile = aggregator.ready_profile("TR_1_7")
    georgia = aggregator.packages(type="TOPUP", locationCode="GE")[0]
    body = {
        "esimTranNo": profile["esimTranNo"],
        "packageCode": georgia["packageCode"],
        "transactionId": aggregator.transaction(),
    }
    assert aggregator.error("esim/topup", body) == "200008"
    aggregator.control("clock/advance", {"days": 181})
    turkey = aggregator.packages(type="TOPUP", locationCode="TR")[0]
    body.update(packageCode=turkey["packageCode"], transactionId=aggregator.transaction())
    assert aggregator.error("esim/topup", body) == "200002"


def test_unused_profile_expires_after_its_unused_validity(aggregator: Aggregator) -> None:
    profile = aggregator.ready_profile()
    aggregator.control("clock/advance", {"days": 179})
    (row,) = aggregator.query(esimTranNo=profile["esimTranNo"])["obj"]["esimList"]
    assert row["esimStatus"] == "GOT_RESOURCE"
    aggregator.control("clock/advance", {"days": 2})
    (row,) = aggregator.query(esimTranNo=profile["esimTranNo"])["obj"]["esimList"]
    assert (row["esimStatus"], row["smdpStatus"]) == ("UNUSED_EXPIRED", "RELEASED")
    assert aggregator.error("esim/cancel", {"esimTranNo": profile["esimTranNo"]}) == "200002"


def test_used_profile_expires_after_its_duration(aggregator: Aggregator) -> None:
    profile = aggregator.ready_profile("TR_1_7")
    aggregator.esim(profile["esimTranNo"], "install")
    aggregator.control("clock/advance", {"days": 8})
    (row,) = aggregator.query(esimTranNo=profile["esimTranNo"])["obj"]["esimList"]
    assert (row["esimStatus"], row["smdpStatus"]) == ("USED_EXPIRED", "DISABLED")


def test_suspend_unsuspend_and_revoke(aggregator: Aggregator) -> None:
    profile = aggregator.ready_profile()
    number = {"esimTranNo": profile["esimTranNo"]}
    aggregator.ok("esim/suspend", number)
    assert aggregator.query(**number)["obj"]["esimList"][0]["esimStatus"] == "SUSPENDED"
    assert aggregator.error("esim/suspend", number) == "200002"
    aggregator.ok("esim/unsuspend", number)
    assert aggregator.query(**number)["obj"]["esimList"][0]["esimStatus"] == "GOT_RESOURCE"
    balance = aggregator.balance()
    aggregator.ok("esim/revoke", number)
    assert aggregator.query(**number)["obj"]["esimList"][0]["esimStatus"] == "REVOKE"
    assert aggregator.balance() == balance  # revoke refunds nothing


def test_sms_needs_an_installed_esim_on_a_plan_with_sms(aggregator: Aggregator) -> None:
    turkey = aggregator.ready_profile("TR_1_7")
    usa = aggregator.ready_profile("US_1_7")
    message = {"esimTranNo": usa["esimTranNo"], "message": "Welcome"}
    assert aggregator.error("esim/sendSms", message) == "200002"
    aggregator.esim(usa["esimTranNo"], "install")
    aggregator.esim(turkey["esimTranNo"], "install")
    assert aggregator.ok("esim/sendSms", message) == {}
    assert aggregator.error("esim/sendSms", {**message, "message": "x" * 501}) == "000107"
    assert (
        aggregator.error("esim/sendSms", {"esimTranNo": turkey["esimTranNo"], "message": "Welcome"})
        == "200002"
    )


def test_device_delete_leaves_the_profile_deleted(aggregator: Aggregator) -> None:
    profile = aggregator.ready_profile()
    aggregator.esim(profile["esimTranNo"], "install")
    row = aggregator.esim(profile["esimTranNo"], "delete")
    assert row["smdpStatus"] == "DELETED"
    again = aggregator.control(f"esims/{profile['esimTranNo']}/delete")
    assert again.status_code == 409


def test_balance_webhook_and_location_endpoints_answer(aggregator: Aggregator) -> None:
    assert aggregator.ok("webhook/query") == {"webhook": ""}
    assert aggregator.ok("location/list")["locationList"]
    assert isinstance(aggregator.balance(), int)


def test_plan_without_topups_lists_none_and_refuses_one(aggregator: Aggregator) -> None:
    profile = aggregator.ready_profile("TR_50_30")
    assert profile["supportTopUpType"] == 1
    assert aggregator.packages(type="TOPUP", iccid=profile["iccid"]) == []
    turkey = aggregator.packages(type="TOPUP", locationCode="TR")[0]
    body = {
        "esimTranNo": profile["esimTranNo"],
        "packageCode": turkey["packageCode"],
        "transactionId": aggregator.transaction(),
    }
    assert aggregator.error("esim/topup", body) == "200002"


def test_day_pass_topup_extends_by_period_one_day_by_default(aggregator: Aggregator) -> None:
    profile = aggregator.ready_profile("TR_1GB_Daily")
    day_pass = aggregator.package("TR_1GB_Daily")
    body = {
        "esimTranNo": profile["esimTranNo"],
        "packageCode": day_pass["packageCode"],
        "transactionId": aggregator.transaction(),
    }
    assert aggregator.ok("esim/topup", body)["totalDuration"] == 2
    body.update(transactionId=aggregator.transaction(), periodNum=3)
    assert aggregator.ok("esim/topup", body)["totalDuration"] == 5

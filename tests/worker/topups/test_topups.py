"""Top-ups over HTTP against the Epay and aggregator sandboxes: offered, bought, paid, applied
once, mailed; refused with the reason when the eSIM cannot take one (issue 12)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from topup_world import GB, ONE_GB, THREE_GB, World, write_offers

from worker.account.routes import account_view
from worker.api_errors import message
from worker.orders.model import Order

pytestmark = pytest.mark.slow

DECLINED = ("4000000000004848", "01/30", "123")  # the Epay sandbox: insufficient funds


def test_a_topup_is_offered_bought_paid_applied_and_mailed(world: World) -> None:
    esim = world.esim(lang="kk")
    offered = world.offers(esim)
    assert offered["reason"] is None and offered["history"] == []
    assert [(o["package"], o["data_mb"], o["days"], o["price_kzt"]) for o in offered["topups"]] == [
        ("TR-TOPUP-1GB-7D", 1024, 7, 990), ("TR-TOPUP-3GB-15D", 3072, 15, 1990)]
    assert offered["topups"][0]["title"] == "Толықтыру: +1 ГБ, 7 күн"
    before = world.balance()

    answer = world.buy(esim, expected_price=990)
    assert answer.status_code == 201, answer.text
    bought = answer.json()
    assert bought["payment"]["amount"] == 990 and bought["payment"]["language"] == "kaz"
    assert world.pay(bought["payment"]).status_code == 303

    topup = world.wait_until(bought["order_id"], lambda o: o.email_sent_at is not None)
    assert topup.status == "applied" and topup.topup_of == esim.id
    view = world.view(esim)
    assert view["esim"]["total_bytes"] == 11 * GB  # the order page's new totals
    assert world.profile(esim.profile.esim_tran_no)["totalVolume"] == 11 * GB
    assert world.balance() < before
    [mail] = world.mailbox.wait_for(1)
    assert mail["To"] == esim.email
    assert "eSIM-ге трафик қосылды" in str(mail["Subject"])
    body = mail.get_body(("plain",)).get_content()
    assert "11 ГБ" in body and esim.profile.iccid in body and esim.token in body
    html = mail.get_body(("html",)).get_content()  # the shop's common layout, as every e-mail
    assert "11 ГБ" in html and "Qazaq eSIM" in html and "<p" in html
    [entry] = world.offers(esim)["history"]
    assert (entry["order_id"], entry["status"], entry["price_kzt"]) == (topup.id, "applied", 990)
    back = world.worker.get(f"/epay/back/{bought['token']}")
    assert back.headers["location"].endswith(f"/kk/order/#{esim.token}")  # the eSIM's page


def test_thirty_identical_postlinks_apply_the_topup_once(world: World) -> None:
    esim = world.esim()
    bought = world.buy(esim).json()
    assert world.epay.post("/_sandbox/options", json={"callback": "lost"}).status_code == 200
    world.pay(bought["payment"])
    [tx] = [t for t in world.epay.get("/_sandbox/transactions").json()
            if t["invoice_id"] == bought["order_id"]]

    def deliver(_: int) -> bool:
        answer = world.epay.post(f"/_sandbox/transactions/{tx['id']}/deliver")
        return bool(answer.json()["delivered"])

    with ThreadPoolExecutor(30) as pool:  # the sandbox posts its genuine postLink, 30 at once
        assert all(pool.map(deliver, range(30)))
    world.wait_until(bought["order_id"], lambda o: o.email_sent_at is not None)
    world.wait_for_jobs_to_end(bought["order_id"])
    profile = world.profile(esim.profile.esim_tran_no)
    assert profile["totalVolume"] == 11 * GB and len(profile["packageList"]) == 2
    assert len(world.mailbox.messages) == 1


def test_a_declined_topup_changes_nothing(world: World) -> None:
    esim = world.esim()
    bought = world.buy(esim, package=THREE_GB["code"]).json()

    world.pay(bought["payment"], DECLINED)

    topup = world.wait_until(bought["order_id"], lambda o: o.status == "payment_failed")
    assert "apply_topup" not in [j.kind for j in world.services.store.jobs(topup.id)]
    assert world.profile(esim.profile.esim_tran_no)["totalVolume"] == 10 * GB
    assert world.view(esim)["esim"]["total_bytes"] == 10 * GB
    assert world.offers(esim)["history"][0]["status"] == "payment_failed"


@pytest.mark.parametrize("reason", ["expired", "refunded"])
def test_an_expired_or_refunded_esim_is_refused_with_the_reason(world: World, reason: str) -> None:
    if reason == "expired":
        esim = world.esim(lang="en", expires_at=(datetime.now(UTC) - timedelta(days=1)).isoformat())
    else:
        esim = world.esim(lang="en", status="refunded")

    offered = world.offers(esim)
    answer = world.buy(esim)

    assert offered["topups"] == [] and reason in offered["reason"]
    assert answer.status_code == 422 and answer.json()["reason"] == f"topup_{reason}"
    assert reason in answer.json()["errors"]["package"]


def test_a_plan_without_topups_lists_none_with_the_reason(world: World) -> None:
    write_offers(world.settings.catalog_path, ONE_GB)
    esim = world.esim(lang="ru", package_code="EU-UNL-7D")

    offered = world.offers(esim)

    assert (offered["topups"], offered["history"]) == ([], [])
    assert offered["reason"] == ("Тариф этой eSIM нельзя пополнить. Купите новую eSIM, "
                                 "чтобы получить больше трафика.")
    assert world.buy(esim).status_code == 422


def test_a_changed_price_or_unknown_package_or_token_is_refused(world: World) -> None:
    esim = world.esim()
    changed = world.buy(esim, expected_price=500)
    unknown = world.buy(esim, package="TR-10GB-30D")
    unreadable = world.worker.post(f"/api/orders/{esim.token}/topups", content=b"[")

    assert changed.status_code == 409 and changed.json()["price_kzt"] == 990
    assert unknown.status_code == 422
    assert unreadable.status_code == 422
    for method in ("GET", "POST"):
        assert world.worker.request(method, "/api/orders/nope/topups").status_code == 404
    assert world.offers(esim)["history"] == []  # nothing was opened


def test_a_topup_the_aggregator_refuses_fails_alerts_and_is_refundable(world: World) -> None:
    from worker.refunds import RefundRefused, check_rules, refundable

    wrong = {**ONE_GB, "code": "TR-TOPUP-GE", "provider_code": "TOPUP_GE_1_7"}
    write_offers(world.settings.catalog_path, wrong)
    esim = world.esim(lang="en")
    bought = world.buy(esim, package="TR-TOPUP-GE").json()
    world.pay(bought["payment"])

    failed = world.wait_until(bought["order_id"], lambda o: o.status == "failed")
    alert, notice = world.mailbox.wait_for(2)
    assert "200008" in (failed.failure_reason or "")
    assert {alert["To"], notice["To"]} == {world.settings.support_email, esim.email}
    assert world.profile(esim.profile.esim_tran_no)["totalVolume"] == 10 * GB
    assert failed.id in [o.id for o in refundable(world.services)]
    check_rules(failed, False, failed.amount)  # refundable like provisioning_failed (5.4)
    applied = world.order(failed.id)
    applied.status = "applied"
    with pytest.raises(RefundRefused) as refused:
        check_rules(applied, False, applied.amount)
    assert refused.value.rule == "topup_not_applied"  # applied = delivered (5.2)


def test_my_esims_offers_add_data_only_for_an_esim_that_takes_a_topup(world: World) -> None:
    write_offers(world.settings.catalog_path, ONE_GB)
    esim = world.order(world.esim().id)
    esim.profile.usage_checked_at = "2026-12-06T10:00:00+00:00"
    expired = world.esim(expires_at=(datetime.now(UTC) - timedelta(days=1)).isoformat())
    other_plan = world.esim(package_code="EU-UNL-7D")
    refunded = world.esim(status="refunded")

    def view(order: Order) -> tuple[bool, str | None]:
        shown = account_view(order, world.services)
        return shown["can_top_up"], shown["usage_updated_at"]

    assert view(esim) == (True, "2026-12-06T10:00:00+00:00")
    assert view(expired) == (False, None)
    assert view(other_plan) == (False, None)
    assert view(refunded) == (False, None)  # nor its usage: the eSIM is no longer the buyer's


def test_a_topup_is_not_itself_topped_up(world: World) -> None:
    esim = world.esim()
    bought = world.buy(esim).json()
    topup = world.order(bought["order_id"])

    assert world.offers(topup)["reason"] is not None
    assert world.buy(topup).json()["reason"] == "topup_not_esim"


def test_a_paid_topup_gets_a_fiscal_receipt_like_a_sale(fiscal_world: World) -> None:
    world = fiscal_world
    esim = world.esim(lang="ru")
    bought = world.buy(esim).json()
    world.pay(bought["payment"])

    topup = world.wait_until(bought["order_id"], lambda o: "sale_mailed_at" in o.fiscal)
    assert topup.fiscal["sale"]["total_tiyn"] == 990 * 100
    subjects = [str(m["Subject"]) for m in world.mailbox.wait_for(2)]
    assert f"Заказ {topup.id}: фискальный чек" in subjects


def test_topups_count_against_the_checkout_limits(limited_world: World) -> None:
    world = limited_world
    esim = world.esim(lang="kk")

    bought = [world.buy(esim).status_code for _ in range(2)]
    refused = world.buy(esim)

    assert bought == [201, 201]
    assert refused.status_code == 429
    assert refused.json() == {"error": message("too_many_checkouts", "kk")}
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert len(world.offers(esim)["history"]) == 2  # the refused one opened no invoice


def test_unpaid_topups_count_against_the_unpaid_orders_cap(limited_world: World) -> None:
    world = limited_world
    esim = world.esim(lang="ru")

    answers = []
    for _ in range(4):
        world.services.limits.storage.reset()  # only the unpaid orders may stop it
        answers.append(world.buy(esim))

    assert [a.status_code for a in answers] == [201, 201, 201, 429]
    refused = answers[-1]
    assert refused.json() == {"error": message("unpaid_orders", "ru")}

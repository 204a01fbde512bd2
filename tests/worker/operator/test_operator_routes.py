"""The operator API: a separate surface behind a bearer token, absent unless configured."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import httpx
import pytest
from after_sale import AfterSale
from loopback import ServerThread
from smtp_mailbox import Mailbox

from worker.app import create_app
from worker.config import Settings
from worker.console.accounts import Accounts
from worker.orders.documents import JsonDoc

pytestmark = pytest.mark.anyio
TOKEN = "operator-token-0123456789-abcdefghijklmnop"  # tests/worker/conftest.py


@pytest.fixture
def desk(after_sale_settings: Settings) -> Iterator[httpx.Client]:
    """The operator's client: the worker with OPERATOR_TOKEN set, and the bearer header."""
    with ServerThread(create_app(after_sale_settings, handlers={})) as server, \
            httpx.Client(base_url=server.url, timeout=30,
                         headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield client


def today() -> str:
    return datetime.now(UTC).date().isoformat()


async def test_a_personal_token_works_without_the_shared_one_and_names_the_operator(
        after_sale: AfterSale, after_sale_settings: Settings,
        caplog: pytest.LogCaptureFixture) -> None:
    settings = replace(after_sale_settings, operator_token=None)
    accounts = Accounts(JsonDoc(settings.orders_db.with_name("operators.json")))
    accounts.add("aigerim@qazaq-esim.com", "Aigerim")
    personal = accounts.new_api_token("aigerim@qazaq-esim.com")
    order = await after_sale.order("delivered")
    with ServerThread(create_app(settings, handlers={})) as server:
        shared = httpx.get(f"{server.url}/operator/orders?q=1",
                           headers={"Authorization": f"Bearer {TOKEN}"})
        assert shared.status_code == 401  # no OPERATOR_TOKEN configured: the old token opens nothing
        answer = httpx.post(f"{server.url}/operator/orders/{order.id}/resend-qr",
                            headers={"Authorization": f"Bearer {personal}"},
                            json={"operator": "someone else"})
        assert answer.status_code == 202
    assert after_sale.services.store.get(order.id).timeline[-1]["detail"].endswith(  # type: ignore[union-attr]
        "by Aigerim")
    assert "OPERATOR_TOKEN is deprecated" not in caplog.text
    with ServerThread(create_app(after_sale_settings, handlers={})) as server:
        assert httpx.get(f"{server.url}/operator/orders?q=1",
                         headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert "OPERATOR_TOKEN is deprecated" in caplog.text


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_a_request_without_the_token_is_refused(desk: httpx.Client, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    answer = httpx.get(f"{desk.base_url}/operator/queues/refundable", headers=headers)
    assert answer.status_code == 401 and answer.json() == {"error": "unauthorized"}


async def test_an_order_is_found_by_email_phone_invoice_id_and_iccid(
        after_sale: AfterSale, desk: httpx.Client) -> None:
    order = await after_sale.order("delivered", email="Buyer@Example.kz", phone="+77011234567")
    await after_sale.order("delivered", email="other@example.kz", phone="+77017654321")
    assert order.profile is not None
    for query in ("buyer@example.KZ", "8 701 123 45 67", "+7 (701) 123-45-67", order.id,
                  order.profile.iccid):
        found = desk.get("/operator/orders", params={"q": query}).json()["orders"]
        assert [o["order_id"] for o in found] == [order.id], query
    assert desk.get("/operator/orders", params={"q": "nobody@example.kz"}).json() == {"orders": []}


async def test_the_timeline_shows_what_happened_without_the_codes(
        after_sale: AfterSale, desk: httpx.Client) -> None:
    order = await after_sale.order("delivered")
    assert order.profile is not None
    shown = desk.get(f"/operator/orders/{order.id}").json()
    assert [e["event"] for e in shown["timeline"]] == ["paid", "delivered"]
    assert order.profile.lpa not in str(shown) and order.token not in str(shown)
    assert desk.get("/operator/orders/999999999").status_code == 404


async def test_resending_the_qr_queues_the_delivery_email(after_sale: AfterSale, desk: httpx.Client) -> None:
    order = await after_sale.order("delivered")
    answer = desk.post(f"/operator/orders/{order.id}/resend-qr", json={"operator": "aigerim"})
    assert answer.status_code == 202
    assert [j.kind for j in after_sale.store.jobs(order.id)] == ["send_email"]
    failed = await after_sale.order("provisioning_failed")
    assert desk.post(f"/operator/orders/{failed.id}/resend-qr").status_code == 409


async def test_a_refund_through_the_api_names_the_rule_or_refunds(
        after_sale: AfterSale, desk: httpx.Client) -> None:
    delivered = await after_sale.order("delivered")
    refused = desk.post(f"/operator/orders/{delivered.id}/refund", json={"reason": "asked"})
    assert refused.status_code == 409 and refused.json()["refused"] == "failed_or_non_functional"
    failed = await after_sale.order("provisioning_failed")
    queue = desk.get("/operator/queues/refundable").json()["orders"]
    assert [o["order_id"] for o in queue] == [failed.id]
    done = desk.post(f"/operator/orders/{failed.id}/refund",
                     json={"reason": "never provisioned", "operator": "aigerim"})
    assert done.status_code == 200 and done.json()["status"] == "refunded"
    assert done.json()["refund"]["operator"] == "aigerim"
    assert desk.get("/operator/queues/refundable").json()["orders"] == []


async def test_the_accountant_gets_orders_and_refunds_as_csv(after_sale: AfterSale, desk: httpx.Client) -> None:
    kept = await after_sale.order("delivered")
    refunded = await after_sale.order("provisioning_failed")
    desk.post(f"/operator/orders/{refunded.id}/refund", json={"reason": "=HYPERLINK(1)"})
    answer = desk.get("/operator/export/orders.csv", params={"from": today(), "to": today()})
    assert answer.headers["content-type"].startswith("text/csv")
    rows = {r["order_id"]: r for r in csv.DictReader(io.StringIO(answer.text))}
    assert set(rows) == {kept.id, refunded.id}
    assert rows[kept.id]["amount_kzt"] == "4990" and rows[kept.id]["refunded_kzt"] == ""
    assert rows[refunded.id]["refunded_kzt"] == "4990"
    assert "buyer@example.kz" not in answer.text and "+7701" not in answer.text
    refunds = list(csv.DictReader(io.StringIO(desk.get(
        "/operator/export/refunds.csv", params={"from": today(), "to": today()}).text)))
    assert [(r["order_id"], r["amount_kzt"], r["reason"]) for r in refunds] == [
        (refunded.id, "4990", "'=HYPERLINK(1)")]
    assert desk.get("/operator/export/orders.csv", params={"from": "2020-01-01", "to": "2020-01-31"}
                    ).text.count("\n") == 1
    assert desk.get("/operator/export/orders.csv").status_code == 422


async def test_csv_cells_with_spaces_or_a_tab_before_a_formula_are_quoted(
        after_sale: AfterSale, desk: httpx.Client) -> None:
    names = {" =HYPERLINK(1)": "' =HYPERLINK(1)", "\t@SUM(1)": "'\t@SUM(1)"}
    for name in names:  # the operator's name is written as given
        refunded = await after_sale.order("provisioning_failed")
        assert desk.post(f"/operator/orders/{refunded.id}/refund",
                         json={"reason": "no profile", "operator": name}).status_code < 300

    refunds = list(csv.DictReader(io.StringIO(desk.get(
        "/operator/export/refunds.csv", params={"from": today(), "to": today()}).text)))

    assert sorted(r["operator"] for r in refunds) == sorted(names.values())


async def test_wrong_operator_tokens_are_limited_per_address_and_support_is_alerted(
        desk: httpx.Client, after_sale_mailbox: Mailbox) -> None:
    wrong = {"Authorization": "Bearer " + "x" * 43}
    answers = [desk.get("/operator/orders", params={"q": "1"}, headers=wrong).status_code
               for _ in range(11)]
    right = desk.get("/operator/orders", params={"q": "1"})

    assert answers == [401] * 10 + [429]
    assert right.status_code == 429 and 1 <= int(right.headers["retry-after"]) <= 60
    alert = after_sale_mailbox.wait_for(1)[0]
    assert alert["Subject"].startswith("[alert] operator token guessing")


async def test_a_refund_epay_cannot_finish_now_answers_202_or_502(
        after_sale: AfterSale, desk: httpx.Client, after_sale_settings: Settings) -> None:
    waiting = await after_sale.order("provisioning_failed")
    cut_off = replace(after_sale_settings, epay_api_url="http://127.0.0.1:9",
                      epay_oauth_url="http://127.0.0.1:9/oauth2/token")
    with ServerThread(create_app(cut_off, handlers={})) as server, \
            httpx.Client(base_url=server.url, timeout=30,
                         headers={"Authorization": f"Bearer {TOKEN}"}) as offline:
        retrying = offline.post(f"/operator/orders/{waiting.id}/refund", json={"reason": "no eSIM"})
        again = offline.post(f"/operator/orders/{waiting.id}/refund", json={"reason": "no eSIM"})
    assert retrying.status_code == 202 and retrying.json()["detail"].startswith("retrying: ")
    assert again.status_code == 202 and again.json()["status"] == "in_progress"

    refused = await after_sale.order("provisioning_failed")
    after_sale.epay_refund(refused, 100)  # in the cabinet: the whole amount is no longer there
    failed = desk.post(f"/operator/orders/{refused.id}/refund", json={"reason": "no eSIM"})
    assert failed.status_code == 502 and "Epay refused the refund" in failed.json()["error"]


def test_unknown_orders_and_exports_are_404(desk: httpx.Client) -> None:
    assert desk.post("/operator/orders/123456789/resend-qr").json() == {"error": "no such order"}
    answer = desk.get("/operator/export/payouts.csv", params={"from": today(), "to": today()})
    assert answer.status_code == 404 and "orders.csv or refunds.csv" in answer.json()["error"]


async def test_pending_receipts_and_mismatches_are_listed(
        after_sale: AfterSale, desk: httpx.Client) -> None:
    order = await after_sale.order("delivered")
    after_sale.epay_refund(order, 4990)

    assert desk.get("/operator/queues/pending-receipts").json() == {"pending": []}
    found = desk.get("/operator/reconcile", params={"from": today(), "to": today()}).json()
    assert [(m["order_id"], m["kind"]) for m in found["mismatches"]] == [
        (order.id, "refunded_at_epay_only")]
    assert desk.get("/operator/reconcile").status_code == 422

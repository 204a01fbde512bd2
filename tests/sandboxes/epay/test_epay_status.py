"""Check-status (§5) and the legacy operation lookup: shapes, result codes, authorisation."""

from __future__ import annotations

import re

import pytest
from epay_helpers import TERMINAL, Epay, Receiver


@pytest.mark.parametrize("prefix", ["", "/api"])
def test_a_charged_payment_reads_back_with_the_status_api_casing_and_types(
        epay: Epay, receiver: Receiver, prefix: str) -> None:
    payment = epay.payment(amount=4990, accountId="buyer-7", data='{"order":"7"}')
    epay.pay(payment)
    [callback] = receiver.wait_for(1)

    answer = epay.status(payment["invoiceId"], prefix=prefix)

    assert answer.status_code == 200
    body = answer.json()
    assert body["resultCode"] == "100"
    assert body["resultMessage"] == "SUCCESS"
    tx = body["transaction"]
    assert tx["id"] == callback.body["id"]
    assert tx["invoiceID"] == payment["invoiceId"]
    assert "invoiceId" not in tx
    assert tx["accountID"] == "buyer-7"
    assert tx["data"] == '{"order":"7"}'
    assert tx["statusName"] == "CHARGE"
    assert tx["amount"] == 4990
    assert tx["currency"] == "KZT"
    assert re.fullmatch(r"\d{8}", tx["terminal"])
    assert tx["terminalID"] == TERMINAL
    assert tx["secure"] is True
    assert tx["reasonCode"] == "0"
    assert tx["cardMask"] == "440563...5096"
    assert tx["reference"] == callback.body["reference"]
    assert tx["approvalCode"] == callback.body["approvalCode"]


def test_an_unknown_invoice_answers_102(epay: Epay) -> None:
    answer = epay.status("100000404")

    assert answer.status_code == 200
    assert answer.json() == {"resultCode": "102", "resultMessage": "Invoice not found"}


def test_non_100_codes_can_come_with_http_400(epay: Epay) -> None:
    epay.set(error_http_status=400)

    answer = epay.status("100000404")

    assert answer.status_code == 400
    assert answer.json()["resultCode"] == "102"


def test_a_new_transaction_answers_107_while_in_progress(epay: Epay, receiver: Receiver) -> None:
    epay.set(new_seconds=30)
    payment = epay.payment()
    epay.pay(payment)

    assert epay.status(payment["invoiceId"]).json()["resultCode"] == "107"


def test_a_token_not_yet_paid_answers_102(epay: Epay) -> None:
    payment = epay.payment()
    epay.open_payform(payment)

    assert epay.status(payment["invoiceId"]).json()["resultCode"] == "102"


def test_the_payment_token_itself_also_opens_check_status(epay: Epay, receiver: Receiver) -> None:
    payment = epay.payment()
    epay.pay(payment)

    answer = epay.http.get(f"/check-status/payment/transaction/{payment['invoiceId']}",
                           headers={"Authorization": f"Bearer {payment['auth']['access_token']}"})

    assert answer.json()["transaction"]["statusName"] == "CHARGE"


@pytest.mark.parametrize("authorization", [None, "Bearer NEVERISSUED", "Basic dGVzdDp0ZXN0"])
def test_check_status_without_a_valid_bearer_token_is_401(epay: Epay,
                                                          authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}

    answer = epay.http.get("/check-status/payment/transaction/100000101", headers=headers)

    assert answer.status_code == 401


def test_a_declined_payment_reads_back_rejected_with_its_reason(epay: Epay,
                                                               receiver: Receiver) -> None:
    payment = epay.payment()
    epay.pay(payment, ("4000000000004848", "12/30", "123"))

    tx = epay.status(payment["invoiceId"]).json()["transaction"]

    assert tx["statusName"] == "REJECT"
    assert tx["reasonCode"] == "484"
    assert tx["secure"] is False


def test_legacy_operation_lookup_returns_the_status_in_code(epay: Epay,
                                                           receiver: Receiver) -> None:
    payment = epay.payment()
    epay.pay(payment)
    bearer = epay.token()["access_token"]

    answer = epay.http.get(f"/operation/{payment['invoiceId']}",
                           headers={"Authorization": f"Bearer {bearer}"})

    assert answer.status_code == 200
    assert answer.json()["code"] == "CHARGE"
    assert answer.json()["invoiceId"] == payment["invoiceId"]
    assert "secret_hash" not in answer.json()

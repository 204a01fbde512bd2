"""Charge, cancel and refund (§6): the state machine, partial amounts and the refund limits."""

from __future__ import annotations

from typing import Any

import pytest
from epay_helpers import TERMINAL, Epay, Receiver


def paid(epay: Epay, two_step: bool, amount: int = 5000) -> tuple[str, str]:
    """Pay with the Visa test card; answer (transaction id, invoice id)."""
    epay.set(terminals={TERMINAL: "dms" if two_step else "sms"})
    payment = epay.payment(amount=amount)
    epay.pay(payment)
    [tx] = [t for t in epay.transactions() if t["invoice_id"] == payment["invoiceId"]]
    return tx["id"], payment["invoiceId"]


def status(epay: Epay, invoice: str) -> dict[str, Any]:
    return dict(epay.status(invoice).json()["transaction"])


def refused(answer: Any, words: str) -> None:
    assert answer.status_code == 400
    assert answer.json()["code"] == 100
    assert words in answer.json()["message"]


def test_a_two_step_terminal_holds_the_money_and_charge_captures_it(
        epay: Epay, receiver: Receiver) -> None:
    tx_id, invoice = paid(epay, two_step=True)
    [callback] = receiver.wait_for(1)
    assert callback.body["code"] == "ok"
    assert status(epay, invoice)["statusName"] == "AUTH"

    answer = epay.operation(tx_id, "charge")

    assert answer.status_code == 200
    assert status(epay, invoice)["statusName"] == "CHARGE"
    assert status(epay, invoice)["amount"] == 5000


@pytest.mark.parametrize("how", ["query", "json"])
def test_a_partial_charge_captures_the_given_amount(epay: Epay, receiver: Receiver,
                                                    how: str) -> None:
    tx_id, invoice = paid(epay, two_step=True)
    kwargs = {"params": {"amount": 3000}} if how == "query" else {"json": {"amount": 3000}}

    assert epay.operation(tx_id, "charge", **kwargs).status_code == 200

    tx = status(epay, invoice)
    assert (tx["statusName"], tx["amount"], tx["orgAmount"]) == ("CHARGE", 3000, 5000)


def test_charge_with_different_query_and_body_amounts_is_refused(epay: Epay,
                                                                 receiver: Receiver) -> None:
    tx_id, invoice = paid(epay, two_step=True)

    refused(epay.operation(tx_id, "charge", params={"amount": 100}, json={"amount": 200}),
            "differ")
    assert status(epay, invoice)["statusName"] == "AUTH"


def test_charge_above_the_held_amount_is_refused(epay: Epay, receiver: Receiver) -> None:
    tx_id, _ = paid(epay, two_step=True)

    refused(epay.operation(tx_id, "charge", params={"amount": 5001}), "at most 5000")


def test_charge_twice_is_refused(epay: Epay, receiver: Receiver) -> None:
    tx_id, _ = paid(epay, two_step=True)
    epay.operation(tx_id, "charge")

    refused(epay.operation(tx_id, "charge"), "charge needs status AUTH")


def test_cancel_releases_a_hold(epay: Epay, receiver: Receiver) -> None:
    tx_id, invoice = paid(epay, two_step=True)

    assert epay.operation(tx_id, "cancel").status_code == 200
    assert status(epay, invoice)["statusName"] == "CANCEL"
    refused(epay.operation(tx_id, "charge"), "the transaction is CANCEL")


def test_cancel_after_charge_is_refused(epay: Epay, receiver: Receiver) -> None:
    tx_id, invoice = paid(epay, two_step=False)

    refused(epay.operation(tx_id, "cancel"), "cancel needs status AUTH")
    assert status(epay, invoice)["statusName"] == "CHARGE"


def test_refund_of_a_hold_is_refused(epay: Epay, receiver: Receiver) -> None:
    tx_id, _ = paid(epay, two_step=True)

    refused(epay.operation(tx_id, "refund"), "refund needs status CHARGE")


def test_a_full_refund_moves_to_refund(epay: Epay, receiver: Receiver) -> None:
    tx_id, invoice = paid(epay, two_step=False)

    assert epay.operation(tx_id, "refund", params={"externalID": "r-1"}).status_code == 200

    tx = status(epay, invoice)
    assert (tx["statusName"], tx["payoutAmount"]) == ("REFUND", 5000)
    refused(epay.operation(tx_id, "refund", params={"amount": 10}), "the transaction is REFUND")


def test_refund_below_ten_tenge_is_refused(epay: Epay, receiver: Receiver) -> None:
    tx_id, invoice = paid(epay, two_step=False)

    refused(epay.operation(tx_id, "refund", params={"amount": 9}), "minimum of 10 KZT")
    assert status(epay, invoice)["payoutAmount"] == 0


def test_partial_refunds_add_up_to_the_charged_amount_and_no_further(
        epay: Epay, receiver: Receiver) -> None:
    tx_id, invoice = paid(epay, two_step=False)

    assert epay.operation(tx_id, "refund", params={"amount": 2000}).status_code == 200
    assert status(epay, invoice)["statusName"] == "CHARGE"
    refused(epay.operation(tx_id, "refund", params={"amount": 3001}),
            "exceeds what is left to refund (3000 of 5000)")
    assert epay.operation(tx_id, "refund", params={"amount": 3000}).status_code == 200

    tx = status(epay, invoice)
    assert (tx["statusName"], tx["payoutAmount"]) == ("REFUND", 5000)


def test_refunds_are_capped_by_a_partial_charge(epay: Epay, receiver: Receiver) -> None:
    tx_id, _ = paid(epay, two_step=True)
    epay.operation(tx_id, "charge", params={"amount": 1000})

    refused(epay.operation(tx_id, "refund", params={"amount": 1001}),
            "exceeds what is left to refund (1000 of 1000)")


def test_partial_refund_status_can_be_switched_to_refund(epay: Epay, receiver: Receiver) -> None:
    tx_id, invoice = paid(epay, two_step=False)
    epay.set(partial_refund_status="REFUND")

    epay.operation(tx_id, "refund", params={"amount": 1000})
    assert status(epay, invoice)["statusName"] == "REFUND"
    assert epay.operation(tx_id, "refund", params={"amount": 1000}).status_code == 200
    assert status(epay, invoice)["payoutAmount"] == 2000


def test_operations_need_the_transaction_id_not_the_invoice_id(epay: Epay,
                                                               receiver: Receiver) -> None:
    _, invoice = paid(epay, two_step=True)

    refused(epay.operation(invoice, "charge"), "not the invoiceId")


def test_operations_under_the_api_prefix_work_too(epay: Epay, receiver: Receiver) -> None:
    tx_id, invoice = paid(epay, two_step=True)
    bearer = epay.token()["access_token"]

    answer = epay.http.post(f"/api/operation/{tx_id}/charge",
                            headers={"Authorization": f"Bearer {bearer}"})

    assert answer.status_code == 200
    assert status(epay, invoice)["statusName"] == "CHARGE"


def test_operations_without_a_bearer_token_are_401(epay: Epay, receiver: Receiver) -> None:
    tx_id, invoice = paid(epay, two_step=True)

    assert epay.http.post(f"/operation/{tx_id}/charge").status_code == 401
    assert status(epay, invoice)["statusName"] == "AUTH"


def test_a_lapsed_hold_reads_cancel_old_and_can_no_longer_be_charged(
        epay: Epay, receiver: Receiver) -> None:
    tx_id, invoice = paid(epay, two_step=True)

    assert epay.http.post(f"/_sandbox/transactions/{tx_id}/lapse").json() == {
        "status": "CANCEL_OLD"}

    assert status(epay, invoice)["statusName"] == "CANCEL_OLD"
    refused(epay.operation(tx_id, "charge"), "the transaction is CANCEL_OLD")
    assert epay.http.post(f"/_sandbox/transactions/{tx_id}/lapse").status_code == 409

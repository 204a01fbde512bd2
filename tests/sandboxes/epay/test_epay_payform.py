"""The payform: params decoding, validation errors, the card form and paying with each test card."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from epay_helpers import TERMINAL, VISA, Epay, Receiver

SPEC_CARDS = [
    # pan, expiry, cvc, code, reasonCode, mask: the spec's cards, current and older revisions
    ("4405639704015096", "01/27", "321", "ok", 0, "440563...5096"),
    ("4405639704015096", "01/25", "815", "ok", 0, "440563...5096"),
    ("5522042705066736", "01/27", "775", "ok", 0, "552204...6736"),
    ("5522042705066736", "01/25", "525", "ok", 0, "552204...6736"),
    ("377514500004820", "01/28", "0198", "ok", 0, "377514...4820"),
    ("377514500004820", "01/25", "4169", "ok", 0, "377514...4820"),
    ("4003032704547597", "09/20", "170", "error", 465, "400303...7597"),
    ("5578342710750560", "09/20", "254", "error", 465, "557834...0560"),
]


def error_text(page: str) -> str:
    match = re.search(r'<p id="payform-error">(.*?)</p>', page, re.DOTALL)
    assert match, page
    return html.unescape(match.group(1))


def test_payment_api_js_defines_halyk_with_lz_string_and_this_sandbox_as_page_url(
        epay: Epay) -> None:
    answer = epay.http.get("/payform/payment-api.js")

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/javascript")
    assert "compressToEncodedURIComponent" in answer.text  # lz-string itself is in the script
    assert f'var BASE = "{epay.url}"' in answer.text
    for name in ("pay:", "showPaymentWidget:", "p2p:", "aft:", "oct:", "isShortForm=true"):
        assert name in answer.text


@pytest.mark.parametrize(("language", "title", "button", "expiry"), [
    ("rus", "Оплата заказа", "Оплатить", "ММ/ГГ"),
    ("kaz", "Тапсырысты төлеу", "Төлеу", "АА/ЖЖ"),
    ("eng", "Order payment", "Pay", "MM/YY"),
    ("RUS", "Оплата заказа", "Оплатить", "ММ/ГГ"),
    ("RU", "Оплата заказа", "Оплатить", "ММ/ГГ"),
    ("kz", "Тапсырысты төлеу", "Төлеу", "АА/ЖЖ"),
    ("En", "Order payment", "Pay", "MM/YY"),
])
def test_payform_shows_the_order_in_the_buyers_language(epay: Epay, language: str, title: str,
                                                        button: str, expiry: str) -> None:
    payment = epay.payment(amount=4990, language=language, description="Турция 10 ГБ, 30 дней")

    page = epay.open_payform(payment)

    assert page.status_code == 200
    assert f"<h1>{title}</h1>" in page.text
    assert f"{button} 4\u00a0990 KZT" in page.text
    assert payment["invoiceId"] in page.text
    assert "Турция 10 ГБ, 30 дней" in page.text
    assert "Qazaq eSIM" in page.text
    # The expiry's placeholder in the label's own letters (the Kazakh label says АА/ЖЖ).
    assert f'placeholder="{expiry}"' in page.text and f"({expiry})" in page.text
    assert "4000000000004848" in page.text  # the sandbox test-card box


def _bad(epay: Epay, case: str) -> tuple[dict[str, Any], dict[str, str]]:
    """A paymentObject broken one way; the second value adds query parameters."""
    if case == "amount differs":
        return epay.payment(amount=4990) | {"amount": 1}, {}
    if case == "invoice differs":
        return epay.payment() | {"invoiceId": "100999999"}, {}
    if case == "terminal differs":
        return epay.payment() | {"terminal": "40a348cb-68a3-45d5-9002-a4836d79c3b5"}, {}
    if case == "invoice has letters":
        return epay.payment(invoiceId="INV-100200"), {}
    if case == "invoice too short":
        return epay.payment(invoiceId="12345"), {}
    if case == "invoice too long":
        return epay.payment(invoiceId="1234567890123456"), {}
    if case == "description over 125 bytes":
        return epay.payment(description="ж" * 63), {}
    if case == "language FR":
        return epay.payment(language="FR"), {}
    if case == "bare access_token as auth":
        payment = epay.payment()
        return payment | {"auth": payment["auth"]["access_token"]}, {}
    if case == "unknown token":
        payment = epay.payment()
        return payment | {"auth": payment["auth"] | {"access_token": "NEVERISSUED0000"}}, {}
    if case == "service token":
        return epay.payment() | {"auth": epay.token()}, {}
    if case == "transfer":
        return epay.payment(), {"isTransfer": "true"}
    raise AssertionError(case)


@pytest.mark.parametrize(("case", "message"), [
    ("amount differs", "amount 1 differs from the token's amount 4990"),
    ("invoice differs", "invoiceId '100999999' differs from the token's invoiceID"),
    ("terminal differs", "differs from the token's terminal"),
    ("invoice has letters", "invoiceId 'INV-100200' must be 6 to 15 digits"),
    ("invoice too short", "invoiceId '12345' must be 6 to 15 digits"),
    ("invoice too long", "must be 6 to 15 digits"),
    ("description over 125 bytes", "description is 126 bytes in UTF-8; the limit is 125"),
    ("language FR", "language 'FR' must be rus, kaz or eng"),
    ("bare access_token as auth", "the session has expired"),
    ("unknown token", "never issued"),
    ("service token", "is a service token"),
    ("transfer", "not simulated"),
])
def test_payform_refuses_a_bad_payment_object_with_a_clear_page(epay: Epay, case: str,
                                                                message: str) -> None:
    payment, query = _bad(epay, case)

    page = epay.open_payform(payment, **query)

    assert page.status_code == 400
    assert message in error_text(page.text)
    assert 'name="pan"' not in page.text


def test_payform_refuses_an_expired_token(epay: Epay) -> None:
    epay.set(expires_in=0)
    payment = epay.payment()

    page = epay.open_payform(payment)

    assert "past its expires_in" in error_text(page.text)


def test_payform_refuses_params_that_are_not_lz_string(epay: Epay) -> None:
    page = epay.http.get("/payform/", params={"params": "{not lz}"})

    assert page.status_code == 400
    assert "could not be decoded" in error_text(page.text)


def test_invoices_sharing_their_last_six_digits_on_a_terminal_are_refused(epay: Epay) -> None:
    first = epay.payment(invoiceId="100123456")
    second = epay.payment(invoiceId="200123456")

    assert epay.open_payform(first).status_code == 200
    page = epay.open_payform(second)

    assert "ends in the same 6 digits as invoice 100123456" in error_text(page.text)


@pytest.mark.parametrize(("pan", "expiry", "cvc", "code", "reason_code", "mask"), SPEC_CARDS)
def test_each_spec_test_card_pays_or_declines_as_documented(
        epay: Epay, receiver: Receiver, pan: str, expiry: str, cvc: str, code: str,
        reason_code: int, mask: str) -> None:
    payment = epay.payment(amount=4990, secret_hash="Hello-World-123#")

    answer = epay.pay(payment, (pan, expiry, cvc), name="aigerim  sarsenova")

    assert answer.status_code == 303
    approved = code == "ok"
    assert answer.headers["location"] == f"{receiver.url}/{'back' if approved else 'failure-back'}"
    [callback] = receiver.wait_for(1)
    assert callback.path == ("/post-link" if approved else "/failure-post-link")
    body = callback.body
    assert body["code"] == code
    assert body["reasonCode"] == reason_code
    assert (body["reason"] == "success") == approved
    assert body["cardMask"] == mask
    assert body["secret_hash"] == "Hello-World-123#"
    assert body["invoiceId"] == payment["invoiceId"]
    assert body["amount"] == 4990
    assert body["currency"] == "KZT"
    assert body["terminal"] == TERMINAL
    assert body["name"] == "AIGERIM SARSENOVA"
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                        body["id"])
    if approved:
        assert re.fullmatch(r"\d{12}", body["reference"])
        assert re.fullmatch(r"\d{6}", body["approvalCode"])
    status = epay.status(payment["invoiceId"]).json()["transaction"]
    assert status["statusName"] == ("CHARGE" if approved else "REJECT")


@pytest.mark.parametrize(("pan", "reason_code", "status_name"), [
    ("4000000000004848", 484, "REJECT"),
    ("4000000000004574", 457, "REJECT"),
    ("4000000000004657", 465, "REJECT"),
    ("4000000000004996", 499, "3D"),
    ("4000000000004939", 493, "FAILED"),
])
def test_magic_cards_decline_with_their_reason_code(epay: Epay, receiver: Receiver, pan: str,
                                                    reason_code: int, status_name: str) -> None:
    payment = epay.payment()

    epay.pay(payment, (pan, "12/30", "123"))

    [callback] = receiver.wait_for(1)
    assert callback.body["code"] == "error"
    assert callback.body["reasonCode"] == reason_code
    assert epay.status(payment["invoiceId"]).json()["transaction"]["statusName"] == status_name


def test_a_spec_card_with_the_wrong_cvc_declines_with_457(epay: Epay, receiver: Receiver) -> None:
    epay.pay(epay.payment(), ("4405639704015096", "01/27", "999"))

    [callback] = receiver.wait_for(1)
    assert (callback.body["code"], callback.body["reasonCode"]) == ("error", 457)


def test_a_failure_without_failure_post_link_goes_to_post_link(epay: Epay,
                                                               receiver: Receiver) -> None:
    payment = epay.payment(post_links=False, postLink=f"{receiver.url}/post-link")

    epay.pay(payment, ("4000000000004848", "12/30", "123"))

    [callback] = receiver.wait_for(1)
    assert callback.path == "/post-link"
    assert callback.body["code"] == "error"


@pytest.mark.parametrize(("field", "card", "name", "message"), [
    ("pan", ("4405639704015097", "01/27", "321"), "A B", "Неверный номер карты"),
    ("expiry", ("4405639704015096", "13/27", "321"), "A B", "Укажите срок действия"),
    ("cvc", ("4405639704015096", "01/27", "32"), "A B", "CVC: 3 или 4 цифры"),
    ("name", VISA, "Айгерим", "Имя держателя карты: латинские буквы"),
])
def test_a_malformed_card_stays_on_the_form_with_a_message_and_charges_nothing(
        epay: Epay, receiver: Receiver, field: str, card: tuple[str, str, str], name: str,
        message: str) -> None:
    payment = epay.payment()

    page = epay.pay(payment, card, name=name)

    assert page.status_code == 400
    assert message in page.text
    assert f'id="{field}"' in page.text
    assert epay.transactions() == []
    assert receiver.wait_for(1, timeout=0.3) == []


def test_a_paid_invoice_cannot_be_paid_again(epay: Epay, receiver: Receiver) -> None:
    payment = epay.payment()
    assert epay.pay(payment).status_code == 303

    again = epay.pay(payment)

    assert again.status_code == 400
    assert "already paid" in error_text(again.text)
    assert len(epay.transactions()) == 1


def test_a_declined_invoice_can_be_retried_with_another_card(epay: Epay,
                                                             receiver: Receiver) -> None:
    payment = epay.payment()
    epay.pay(payment, ("4000000000004848", "12/30", "123"))

    answer = epay.pay(payment)

    assert answer.headers["location"].endswith("/back")
    status = epay.status(payment["invoiceId"]).json()["transaction"]
    assert status["statusName"] == "CHARGE"


def test_widget_mode_answers_with_a_post_message_to_the_merchant_page(epay: Epay) -> None:
    page = epay.pay(epay.payment(), short=True)

    assert page.status_code == 200
    assert 'JSON.stringify({success: true})' in page.text
    assert "window.parent.postMessage" in page.text


def test_a_decline_without_failure_back_link_explains_it_and_links_back(
        epay: Epay, receiver: Receiver) -> None:
    payment = epay.payment(language="eng", failureBackLink=None)

    page = epay.pay(payment, ("4000000000004848", "12/30", "123"))

    assert page.status_code == 200
    assert '<h1 id="result">Payment declined</h1>' in page.text
    assert "Insufficient funds (484)" in page.text
    assert f'href="{receiver.url}/back"' in page.text


def test_params_with_a_plus_sign_survive_the_raw_query_string(epay: Epay) -> None:
    # LZ-String's URI alphabet has `+`, which a query string reads as a space.
    for n in range(20):
        payment = epay.payment(description=f"Order {n}")
        if "+" in (params := epay.params(payment)):
            break
    else:
        pytest.fail("no compressed params with a `+` in 20 tries")

    page = epay.http.get(f"/payform/?params={params}")

    assert page.status_code == 200
    assert payment["invoiceId"] in page.text

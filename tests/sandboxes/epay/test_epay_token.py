"""The token endpoint: payment and service grants, both encodings, switches for odd answers."""

from __future__ import annotations

import pytest
from epay_helpers import CLIENT_ID, CLIENT_SECRET, TERMINAL, Epay

PAYMENT_GRANT = {"grant_type": "client_credentials", "scope": "payment", "client_id": CLIENT_ID,
                 "client_secret": CLIENT_SECRET, "invoiceID": "100000555", "amount": "4990",
                 "currency": "KZT", "terminal": TERMINAL, "secret_hash": "s3cret",
                 "postLink": "http://127.0.0.1:9/post-link"}


def test_payment_grant_answers_the_documented_token_object(epay: Epay) -> None:
    answer = epay.http.post("/oauth2/token", data=PAYMENT_GRANT)

    assert answer.status_code == 200
    token = answer.json()
    assert set(token) == {"access_token", "expires_in", "refresh_token", "scope", "token_type"}
    assert token["expires_in"] == 7200
    assert token["refresh_token"] == ""
    assert token["scope"] == "payment"
    assert token["token_type"] == "Bearer"
    assert len(token["access_token"]) >= 16


def test_payment_grant_accepts_multipart_form_data(epay: Epay) -> None:
    files = {name: (None, value) for name, value in PAYMENT_GRANT.items()}
    answer = epay.http.post("/oauth2/token", files=files)

    assert answer.request.headers["content-type"].startswith("multipart/form-data")
    assert answer.status_code == 200
    assert answer.json()["token_type"] == "Bearer"


def test_legacy_token_path_works_like_the_current_one(epay: Epay) -> None:
    answer = epay.http.post("/epay2/oauth2/token", data=PAYMENT_GRANT)

    assert answer.status_code == 200
    assert answer.json()["expires_in"] == 7200


def test_service_grant_without_invoice_fields_opens_check_status(epay: Epay) -> None:
    token = epay.token(scope="webapi usermanagement email_send verification statement "
                             "statistics payment")

    answer = epay.http.get("/check-status/payment/transaction/100000999",
                           headers={"Authorization": f"Bearer {token['access_token']}"})

    assert token["scope"].startswith("webapi")
    assert answer.status_code == 200
    assert answer.json()["resultCode"] == "102"


def test_expires_in_can_be_switched_to_a_string(epay: Epay) -> None:
    epay.set(expires_in_as_string=True, expires_in=1200)

    assert epay.token()["expires_in"] == "1200"


@pytest.mark.parametrize(("style", "body"), [
    ("oauth", {"error": "invalid_client",
               "error_description": "client_id or client_secret is wrong"}),
    ("code", {"code": 401, "message": "client_id or client_secret is wrong"}),
])
def test_wrong_secret_is_refused_with_the_chosen_error_body(epay: Epay, style: str,
                                                            body: dict[str, object]) -> None:
    epay.set(token_error_style=style)

    answer = epay.token_response(client_secret="not-the-secret")

    assert answer.status_code == 401
    assert answer.json() == body


def test_wrong_client_id_with_empty_error_style_gets_a_bare_401(epay: Epay) -> None:
    epay.set(token_error_style="empty")

    answer = epay.token_response(client_id="someone-else")

    assert answer.status_code == 401
    assert answer.content == b""


def test_payment_grant_missing_the_amount_is_refused(epay: Epay) -> None:
    answer = epay.token_response(invoiceID="100000556", currency="KZT", terminal=TERMINAL)

    assert answer.status_code == 400
    assert "amount" in answer.json()["error_description"]


def test_an_empty_invoice_id_is_a_service_grant_not_a_payment(epay: Epay) -> None:
    answer = epay.token_response(invoiceID="", terminal=TERMINAL)

    assert answer.status_code == 200
    payment = epay.payment()
    page = epay.open_payform(payment | {"auth": answer.json()})
    assert "is a service token" in page.text


def test_unknown_terminal_is_refused(epay: Epay) -> None:
    answer = epay.token_response(invoiceID="100000557", amount=100, currency="KZT",
                                 terminal="00000000-0000-0000-0000-000000000000")

    assert answer.status_code == 400
    assert "does not belong" in answer.json()["error_description"]


def test_configured_credentials_replace_the_published_ones(epay: Epay) -> None:
    epay.set(client_id="qazaq", client_secret="another-secret")

    assert epay.token_response().status_code == 401
    assert epay.token_response(client_id="qazaq", client_secret="another-secret"
                               ).status_code == 200

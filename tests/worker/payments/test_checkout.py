"""POST /api/checkout: what the buyer is told about bad input, and the paymentObject for halyk.pay."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest
from epay_buyer import FORM, Shop
from starlette.testclient import TestClient

from worker.api_errors import MESSAGES, message
from worker.app import create_app
from worker.config import Settings
from worker.payments.checkout import description, normalise_phone

TERMINAL = "67e34d63-102f-4bd1-898e-370781d0074d"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The worker with Epay unreachable: fine for every answer that stores nothing."""
    with TestClient(create_app(settings, handlers={})) as client:
        yield client


BAD_INPUT: list[tuple[dict[str, Any], str, str]] = [
    ({"package": "NO-SUCH-PACKAGE"}, "package", "package_unknown"),
    ({"package": None}, "package", "package_unknown"),
    ({"email": "buyer@"}, "email", "email_invalid"),
    ({"email": "buyer example.kz"}, "email", "email_invalid"),
    ({"email": 42}, "email", "email_invalid"),
    ({"phone": "12345"}, "phone", "phone_invalid"),
    ({"phone": "+7 701 234 567"}, "phone", "phone_invalid"),
    ({"phone": ""}, "phone", "phone_invalid"),
    ({"device_ok": False}, "device_ok", "device_ok_required"),
    ({"device_ok": "true"}, "device_ok", "device_ok_required"),
    ({"offer_accepted": False}, "offer_accepted", "offer_required"),
    ({"offer_accepted": None}, "offer_accepted", "offer_required"),
]


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
@pytest.mark.parametrize(("change", "field", "key"), BAD_INPUT)
def test_bad_input_is_refused_in_the_buyers_language_and_nothing_is_stored(
    client: TestClient, lang: str, change: dict[str, Any], field: str, key: str
) -> None:
    answer = client.post("/api/checkout", json={**FORM, "lang": lang, **change})

    assert answer.status_code == 422
    assert answer.json() == {"errors": {field: message(key, lang)}}
    assert lang == "en" or message(key, lang) != MESSAGES[key]  # translated, not the English text
    assert client.app.state.services.store.count() == 0  # type: ignore[attr-defined]


def test_an_unknown_language_is_refused_in_english(client: TestClient) -> None:
    answer = client.post("/api/checkout", json={**FORM, "lang": "de", "email": "nope"})

    assert answer.status_code == 422
    assert answer.json()["errors"] == {
        "lang": "Choose a language: kk, ru or en.",
        "email": "Enter a valid e-mail address, like name@example.com. The eSIM is sent there.",
    }


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"text"', b""])
def test_a_body_that_is_not_a_json_object_is_refused(client: TestClient, body: bytes) -> None:
    answer = client.post("/api/checkout", content=body, headers={"content-type": "application/json"})

    assert answer.status_code == 422
    assert "body" in answer.json()["errors"]
    assert client.app.state.services.store.count() == 0  # type: ignore[attr-defined]


def test_a_stale_price_gets_409_with_the_catalogue_price(client: TestClient) -> None:
    answer = client.post("/api/checkout", json={**FORM, "lang": "kk", "expected_price": 3990})

    assert answer.status_code == 409
    assert answer.json() == {
        "errors": {"package": "Бұл пакеттің бағасы өзгерді. Жаңа бағаны тексеріп, қайта растаңыз."},
        "price_kzt": 4990,
    }
    assert client.app.state.services.store.count() == 0  # type: ignore[attr-defined]


def test_epay_down_gives_503_and_stores_no_order(client: TestClient) -> None:
    answer = client.post("/api/checkout", json={**FORM, "lang": "en"})

    assert answer.status_code == 503
    assert answer.json() == {
        "error": "The payment service is not answering. Nothing was charged; try again in a minute."
    }
    assert client.app.state.services.store.count() == 0  # type: ignore[attr-defined]


def test_checkout_answers_the_payment_object_for_halyk_pay(shop: Shop) -> None:
    answer = shop.checkout(lang="kk", expected_price=4990)

    payment = answer["payment"]
    worker = shop.worker.base_url
    assert answer["status"] == "awaiting_payment"
    assert answer["order_id"] == payment["invoiceId"]
    assert answer["payment_js"].endswith("/payform/payment-api.js")
    assert len(answer["token"]) >= 43  # 32 random bytes
    assert answer["order_id"] not in answer["token"]
    assert payment["backLink"] == f"{worker}/epay/back/{answer['token']}"
    assert payment["failureBackLink"] == f"{worker}/epay/failure-back/{answer['token']}"
    assert payment["postLink"] == f"{worker}/epay/post-link"
    assert payment["failurePostLink"] == f"{worker}/epay/failure-post-link"
    assert payment["language"] == "kaz"
    assert payment["amount"] == 4990 and payment["currency"] == "KZT"
    assert payment["terminal"] == TERMINAL
    assert payment["email"] == "buyer@example.kz"
    assert payment["phone"] == "77012345678"
    assert payment["description"] == "Qazaq eSIM Түркия 10 ГБ, 30 күн"
    assert set(payment["auth"]) >= {"access_token", "expires_in", "token_type"}
    order = shop.order(answer["order_id"])
    assert order.status == "awaiting_payment"
    assert order.phone == "+77012345678"
    assert order.amount == 4990  # from the catalogue, whatever the page said


def test_each_order_gets_its_own_invoice_id_token_and_secret(shop: Shop) -> None:
    answers = [shop.checkout() for _ in range(5)]

    orders = [shop.order(a["order_id"]) for a in answers]
    ids = [o.id for o in orders]
    assert all(i.isdigit() and 6 <= len(i) <= 15 for i in ids)
    assert len({i[-6:] for i in ids}) == 5
    assert len({o.token for o in orders}) == 5
    assert len({o.secret_hash for o in orders}) == 5 and all(len(o.secret_hash) >= 32 for o in orders)


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("+7 701 234 5678", "+77012345678"),
        ("87012345678", "+77012345678"),
        ("7012345678", "+77012345678"),
        ("+49 30 901820", "+4930901820"),
        ("+1 (650) 253-0000", "+16502530000"),
        ("+998 90 123 45 67", "+998901234567"),
        ("447911123456", "+447911123456"),  # the UK's +44 7911 123456 without its "+"
        ("90 532 123 45 67", "+905321234567"),
    ],
)
def test_phone_numbers_of_any_country_become_e164(typed: str, e164: str) -> None:
    assert normalise_phone(typed) == e164


def test_the_description_fits_125_bytes_without_breaking_a_letter() -> None:
    from worker.orders.model import Order

    order = Order(
        id="1234567890", token="t", status="awaiting_payment", lang="ru", email=None, phone=None,
        package_code="X", destination="europe", package_title="Европа " * 30, amount=1,
    )
    text = description(order)
    assert len(text.encode()) <= 125
    assert text.startswith("Qazaq eSIM Европа")
    assert 123 <= len(text.encode())  # cut at the last whole two-byte letter, not earlier


class FakeDns:
    """DNS as email-validator asks it: MX answers per domain, NXDOMAIN for the rest."""

    lifetime: float | None = None

    def __init__(self, mx: dict[str, list[tuple[int, str]]]) -> None:
        self.mx = mx
        self.asked: list[str] = []

    def resolve(self, domain: str, kind: str) -> list[Any]:
        import dns.resolver

        self.asked.append(domain)
        if domain == "slow.example":
            raise dns.exception.Timeout
        if domain not in self.mx:
            raise dns.resolver.NXDOMAIN
        return [SimpleNamespace(preference=p, exchange=host) for p, host in self.mx[domain]]


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> FakeDns:
    import dns.resolver

    fake = FakeDns({"gmail.com": [(5, "gmail-smtp-in.l.google.com.")], "nomail.example": [(0, ".")]})
    monkeypatch.setattr(dns.resolver, "get_default_resolver", lambda: fake)
    return fake


@pytest.fixture
def checking_client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(replace(settings, email_check_deliverability=True), handlers={})) as c:
        yield c


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
@pytest.mark.parametrize("email", ["buyer@gmial.con", "buyer@nomail.example"])
def test_an_address_whose_domain_takes_no_mail_is_refused_in_the_buyers_language(
    checking_client: TestClient, fake_dns: FakeDns, lang: str, email: str
) -> None:
    answer = checking_client.post("/api/checkout", json={**FORM, "lang": lang, "email": email,
                                                         "phone": "12"})

    assert answer.status_code == 422
    # Every problem at once: the domain and the phone.
    assert answer.json() == {"errors": {"email": message("email_undeliverable", lang),
                                        "phone": message("phone_invalid", lang)}}
    assert checking_client.app.state.services.store.count() == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize("email", ["buyer@gmail.com", "buyer@slow.example"])
def test_a_domain_that_takes_mail_or_does_not_answer_in_time_goes_on_to_payment(
    checking_client: TestClient, fake_dns: FakeDns, email: str
) -> None:
    answer = checking_client.post("/api/checkout", json={**FORM, "lang": "en", "email": email})

    assert answer.status_code == 503  # past the form: Epay is unreachable in this client
    assert fake_dns.asked == [email.split("@")[1]]
    assert fake_dns.lifetime == 2  # the short timeout


def test_without_a_dns_resolver_the_address_is_not_refused(
    checking_client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import dns.resolver

    def no_resolver() -> None:
        raise dns.resolver.NoResolverConfiguration("no nameservers")

    monkeypatch.setattr(dns.resolver, "get_default_resolver", no_resolver)
    answer = checking_client.post("/api/checkout", json={**FORM, "lang": "en"})

    assert answer.status_code == 503
    assert "deliverability not checked" in caplog.text


def test_with_the_check_off_no_dns_is_asked(client: TestClient, fake_dns: FakeDns) -> None:
    answer = client.post("/api/checkout", json={**FORM, "lang": "en", "email": "buyer@gmial.con"})

    assert answer.status_code == 503 and fake_dns.asked == []

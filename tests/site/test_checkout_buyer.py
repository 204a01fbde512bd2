"""The checkout as a buyer on a phone sees it, in each language: every mistake named at once in
the page's words under its field (and announced), a mistyped e-mail domain corrected in one tap,
and after a decline the reason, what to do, and a checkout that remembers the contact."""

from __future__ import annotations

import json
from typing import Any

import pytest
from site_helpers import TEST_WORKER_URL

pytestmark = [pytest.mark.e2e, pytest.mark.slow]




@pytest.fixture(scope="module")
def package(catalogue: dict[str, Any]) -> dict[str, Any]:
    turkey = next(d for d in catalogue["destinations"] if d["code"] == "TR")
    return dict(turkey["packages"][0])


def checkout_requests(page: Any, status: int = 422, body: Any = None) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    def handle(route: Any) -> None:
        seen.append(json.loads(route.request.post_data))
        route.fulfill(status=status, content_type="application/json", body=json.dumps(body or {"errors": {}}),
                      headers={"Access-Control-Allow-Origin": "*"})

    page.route(f"{TEST_WORKER_URL}/api/checkout", handle)
    return seen


ALL_AT_ONCE = {
    "kk": ("Жоғарыда белгіленген", "Электрондық пошта мекенжайыңызды", "Телефон нөміріңізді", "eSIM-ді қолдайтынын",
           "жария офертаны"),
    "ru": ("Исправьте отмеченные выше", "Введите адрес электронной почты", "Введите номер телефона",
           "поддерживает eSIM", "публичную оферту"),
    "en": ("Please correct the fields", "Enter your e-mail address", "Enter your phone number",
           "supports eSIM", "Accept the public offer"),
}
FIELDS = ("email", "phone", "device_ok", "offer_accepted")


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_every_mistake_is_named_at_once_under_its_field_in_the_pages_language(
        phone: Any, site_url: str, package: dict[str, Any], lang: str) -> None:
    sent = checkout_requests(phone)
    phone.goto(f"{site_url}/{lang}/checkout/?package={package['code']}")
    phone.locator("#summary a").wait_for()
    phone.locator("#pay").tap()

    summary, *texts = ALL_AT_ONCE[lang]
    assert summary in phone.inner_text("#form-error")
    assert phone.get_attribute("#form-error", "role") == "alert"
    # It says "marked above": it stands below the last field.
    assert phone.locator("#form-error").bounding_box()["y"] > phone.locator("#offer_accepted").bounding_box()["y"]
    for field, text in zip(FIELDS, texts, strict=True):
        error = phone.locator(f"#{field}-error")
        assert text in error.inner_text(), field
        assert error.is_visible()
        assert phone.get_attribute(f"#{field}", "aria-invalid") == "true"
        assert f"{field}-error" in phone.get_attribute(f"#{field}", "aria-describedby").split()
    assert phone.evaluate("document.activeElement.id") == "email"
    # No browser bubble: nothing is left to the browser's own validation.
    assert phone.evaluate("document.getElementById('checkout').noValidate")

    # A phone number that only lacks its "+" passes the form; a wrong one is named alone.
    phone.fill("#email", "buyer@example.kz")
    phone.fill("#phone", "call me")
    phone.check("#device_ok")
    phone.check("#offer_accepted")
    phone.locator("#pay").tap()
    assert phone.inner_text("#email-error") == ""
    assert phone.inner_text("#phone-error") != ""
    assert phone.get_attribute("#email", "aria-invalid") is None
    assert sent == []
    phone.fill("#phone", "447911123456")
    phone.locator("#pay").tap()
    phone.wait_for_function("document.getElementById('pay').disabled === false")
    assert [r["phone"] for r in sent] == ["447911123456"]


SUGGESTION = {"kk": "деп жазғыңыз келді ме", "ru": "Возможно, вы имели в виду", "en": "Did you mean"}


@pytest.mark.parametrize(("lang", "typed", "meant"), [
    ("kk", "buyer@gmial.com", "buyer@gmail.com"),
    ("ru", "buyer@mail.ri", "buyer@mail.ru"),
    ("en", "buyer@gmail.con", "buyer@gmail.com"),
])
def test_a_mistyped_domain_is_suggested_and_one_tap_fills_it(
        phone: Any, site_url: str, package: dict[str, Any], lang: str, typed: str, meant: str) -> None:
    phone.goto(f"{site_url}/{lang}/checkout/?package={package['code']}")
    phone.locator("#summary a").wait_for()
    phone.fill("#email", typed)
    phone.locator("#phone").tap()  # leaving the field is enough

    offer = phone.locator("#email-suggestion button")
    offer.wait_for()
    assert SUGGESTION[lang] in phone.inner_text("#email-suggestion")
    assert offer.inner_text() == meant
    offer.tap()
    assert phone.input_value("#email") == meant
    assert phone.inner_text("#email-suggestion") == ""

    # A right address gets no suggestion.
    phone.fill("#email", "buyer@gmail.com")
    phone.locator("#phone").tap()
    phone.wait_for_timeout(150)
    assert phone.locator("#email-suggestion button").count() == 0


def declined_order(package: dict[str, Any], code: int | None) -> dict[str, Any]:
    return {
        "order_id": "100000777", "status": "payment_failed", "lang": "en", "created_at": "2026-11-25T10:00:00Z",
        "package": {"code": package["code"], "title": "Turkey", "destination": "TR",
                    "titles": {"kk": "Түркия пакеті", "ru": "Турция пакет", "en": "Türkiye package"},
                    "data_mb": package["data_mb"], "days": package["days"]},
        "amount": package["price_kzt"], "currency": "KZT", "email_masked": "b***@gmail.com", "payment": None,
        "failure_reason": f"{code}: Insufficient funds" if code else "REJECT", "decline_code": code,
        "abandoned": False, "esim": None, "email_sent": False, "can_resend_email": False, "refund": None,
    }


DECLINED = {  # (the reason, what to do, the button, the order's title) as the buyer reads them
    "kk": ("Картада қаражат жеткіліксіз", "Картаны толтырыңыз", "Қайталап көру", "Түркия пакеті"),
    "ru": ("На карте недостаточно средств", "Пополните карту", "Попробовать ещё раз", "Турция пакет"),
    "en": ("There is not enough money on the card", "Top up the card", "Try again", "Türkiye package"),
}


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_a_decline_says_why_and_try_again_reopens_the_filled_checkout(
        phone: Any, site_url: str, package: dict[str, Any], lang: str) -> None:
    sent = checkout_requests(phone, 201, {
        "token": "tok-declined", "order_id": "100000777", "status": "awaiting_payment",
        "payment": {"invoiceId": "100000777"}, "payment_js": f"{TEST_WORKER_URL}/payform/payment-api.js"})
    # Epay's form declines and sends the buyer back to the order page (failureBackLink).
    phone.route(f"{TEST_WORKER_URL}/payform/payment-api.js", lambda route: route.fulfill(
        content_type="application/javascript",
        body=f"window.halyk = {{pay: function () {{ location.href = '/{lang}/order/#tok-declined'; }}}};"))
    phone.route(f"{TEST_WORKER_URL}/api/orders/tok-declined", lambda route: route.fulfill(
        content_type="application/json", body=json.dumps(declined_order(package, 484)),
        headers={"Access-Control-Allow-Origin": "*"}))
    phone.goto(f"{site_url}/{lang}/checkout/?package={package['code']}")
    phone.locator("#summary a").wait_for()
    phone.fill("#email", "buyer@gmail.com")
    phone.fill("#phone", "+7 701 234 5678")
    phone.check("#device_ok")
    phone.check("#offer_accepted")
    phone.locator("#pay").tap()

    phone.wait_for_url(f"**/{lang}/order/#tok-declined")
    reason, advice, button, title = DECLINED[lang]
    phone.locator(".order", has_text=reason).wait_for()
    order = phone.inner_text(".order")
    assert advice in order and title in order
    assert phone.locator(".order h3:visible").all_inner_texts() == [
        {"kk": "Тапсырыс мәліметтері", "ru": "Данные заказа", "en": "Order details"}[lang]]

    phone.get_by_role("link", name=button).tap()
    phone.locator("#summary a").wait_for()
    assert phone.url == f"{site_url}/{lang}/checkout/?package={package['code']}"  # nothing personal in it
    assert phone.input_value("#email") == "buyer@gmail.com"
    assert phone.input_value("#phone") == "+7 701 234 5678"
    assert len(sent) == 1


def test_a_decline_without_a_known_code_still_says_what_to_do(phone: Any, site_url: str,
                                                            package: dict[str, Any]) -> None:
    phone.route(f"{TEST_WORKER_URL}/api/orders/tok-other", lambda route: route.fulfill(
        content_type="application/json", body=json.dumps(declined_order(package, None)),
        headers={"Access-Control-Allow-Origin": "*"}))
    phone.goto(f"{site_url}/ru/order/#tok-other")
    phone.locator(".order", has_text="Банк отклонил платёж").wait_for()
    assert "спросите причину в банке" in phone.inner_text(".order")


def delivered_order(package: dict[str, Any]) -> dict[str, Any]:
    return {**declined_order(package, None), "order_id": "100000555", "status": "delivered", "lang": "ru",
            "token": "tok-ok", "failure_reason": None, "decline_code": None,
            "payment": {"paid_at": "2026-11-25T10:00:05Z", "card_mask": "440563...5096", "reference": "5123"},
            "esim": {"qr_svg_url": "", "lpa": "LPA:1$rsp.example.com$ABCD", "smdp_address": "rsp.example.com",
                     "activation_code": "ABCD", "ios_install_url": "", "iccid": "89", "expires_at": "2027-06-02T10:00:00Z",
                     "validity_starts": "first_use", "plan_days": 7, "used_bytes": 0, "total_bytes": None,
                     "installed": False}}


MY_ESIMS = {  # install by, the plan's days, the unpaid order's status, the receipt's heading
    "kk": ("Орнату мерзімі", "алғашқы қосылудан бастап 7 күн", "Бұл тапсырыс төленбеді", "Түбіртек"),
    "ru": ("Установить до", "Тариф действует 7 дней с первого подключения", "Этот заказ не был оплачен", "Чек"),
    "en": ("Install by", "The plan runs 7 days from its first connection", "This order was not paid", "Receipt"),
}


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_my_esims_in_the_pages_language_unpaid_orders_as_what_they_are(
        phone: Any, site_url: str, package: dict[str, Any], lang: str) -> None:
    abandoned = {**declined_order(package, None), "status": "awaiting_payment", "abandoned": True,
                 "token": "tok-abandoned", "order_id": "100000556"}
    phone.route(f"{TEST_WORKER_URL}/api/account/orders", lambda route: route.fulfill(
        content_type="application/json", headers={"Access-Control-Allow-Origin": "*"},
        body=json.dumps({"email_masked": "b***@gmail.com", "orders": [delivered_order(package), abandoned]})))
    phone.goto(f"{site_url}/{lang}/account/")
    phone.evaluate("sessionStorage.setItem('qe-session', 's1')")
    phone.reload()
    phone.locator("#order-list .order").nth(1).wait_for()

    install_by, runs, unpaid, receipt = MY_ESIMS[lang]
    first, second = phone.locator("#order-list .order").all_inner_texts()
    title = DECLINED[lang][3]
    assert title in first and title in second  # the page's language, not the order's (ru)
    assert install_by in first and "2027" in first and runs in first
    assert unpaid in second and receipt not in second
    assert phone.locator("#order-list .order").nth(1).locator("[data-show=processing]").is_hidden()
    assert phone.locator("#order-list .order").nth(1).get_by_role("link", name=DECLINED[lang][2]).is_visible()


def test_a_sign_in_link_opened_in_a_tab_already_on_my_esims_signs_in(phone: Any, site_url: str,
                                                                       package: dict[str, Any]) -> None:
    logins: list[str] = []

    def session(route: Any) -> None:
        login = json.loads(route.request.post_data)["login"]
        logins.append(login)
        ok = login == "good"
        route.fulfill(status=200 if ok else 401, content_type="application/json",
                      headers={"Access-Control-Allow-Origin": "*"},
                      body=json.dumps({"session": "s2", "expires_at": "2026-11-26T10:00:00Z"} if ok else {"error": "x"}))

    phone.route(f"{TEST_WORKER_URL}/api/account/session", session)
    phone.route(f"{TEST_WORKER_URL}/api/account/orders", lambda route: route.fulfill(
        content_type="application/json", headers={"Access-Control-Allow-Origin": "*"},
        body=json.dumps({"email_masked": "b***@gmail.com", "orders": [delivered_order(package)]})))
    phone.goto(f"{site_url}/en/account/#login=used")
    phone.locator("#link-bad").wait_for()
    # The notice says "ask for a new one below": the form is below it.
    assert phone.locator("#link-bad").bounding_box()["y"] < phone.locator("#sign-in").bounding_box()["y"]

    phone.goto(f"{site_url}/en/account/#login=good")  # the same tab: only the #fragment changes
    phone.locator("#orders .order").wait_for()
    assert logins == ["used", "good"] and "#login" not in phone.url
    assert phone.locator("#link-bad").is_hidden() and phone.locator("#sign-in").is_hidden()


@pytest.mark.parametrize("lang", ["kk", "en"])
def test_the_summary_shows_the_destinations_flag_as_an_image(phone: Any, site_url: str, package: dict[str, Any],
                                                            lang: str) -> None:
    """Since the flags became SVG images the summary showed the name alone (issue 15)."""
    phone.goto(f"{site_url}/{lang}/checkout/?package={package['code']}")
    flag = phone.locator("#summary a img.flag")
    flag.wait_for()
    phone.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=flag.element_handle())
    assert flag.get_attribute("src") == "/theme/flags/tr.svg" and flag.get_attribute("alt") == ""
    box = flag.bounding_box()
    assert box is not None and 20 <= box["width"] <= 40 and box["height"] > 10  # a flag beside the name, not a poster
    assert {"kk": "Түркия", "en": "Türkiye"}[lang] in phone.inner_text("#summary a")

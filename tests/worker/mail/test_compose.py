"""The e-mails as the buyer (and support) read them, in kk, ru and en."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
import zxingcpp
from PIL import Image

from worker.config import Settings
from worker.mail import compose
from worker.orders.model import Lang, Order, Payment, Profile

LPA = "LPA:1$rsp-eu.redteamobile.com$6D9A4B2C8E1F40A7B3C5D7E9F1A3B5C7"
# What only that language's delivery e-mail says (subject, then body).
LANGUAGE_MARKERS: dict[Lang, tuple[str, str]] = {
    "kk": ("eSIM дайын", "Сапарыңыз сәтті болсын"),
    "ru": ("Ваша eSIM готова", "Хорошей поездки"),
    "en": ("Your eSIM is ready", "Have a good trip"),
}


# The seller's name as each language writes it (content/data/seller.json): Cyrillic in kk and ru.
SELLER_NAMES: dict[Lang, str] = {"kk": "ЖК «Исламбакиев Ш.А.»", "ru": "ИП «Исламбакиев Ш.А.»",
                                 "en": "IE Islambakiyev Sh.A."}
ANDROID_FIRST_STEP: dict[Lang, str] = {"kk": "Параметрлер → Желі және интернет", "ru": "Откройте Настройки → Сеть",
                                       "en": "Open Settings → Network &amp; internet"}
VALIDITY: dict[Lang, tuple[str, str]] = {
    "kk": ("дейін орнатыңыз", "алғашқы қосылудан бастап 7 күн"),
    "ru": ("Установите до", "Тариф действует 7 дней с первого подключения в поездке."),
    "en": ("Install by", "The plan runs 7 days from its first connection at your destination."),
}

# What the failure notice promises, word for word.
FAILED_NEXT: dict[Lang, str] = {
    "en": "What happens next: our support team has been alerted and will contact you within one "
    "business day. You will get a full refund to your card (public offer, clause 5.4) or, if you "
    "prefer, a new eSIM. You do not need to do anything now.",
    "ru": "Что будет дальше: наша поддержка уже получила уведомление и свяжется с вами в течение "
    "одного рабочего дня. Мы полностью вернём деньги на карту (публичная оферта, п. 5.4) или, если "
    "хотите, выпустим новую eSIM. Сейчас ничего делать не нужно.",
    "kk": "Әрі қарай не болады: қолдау қызметі хабарлама алды және бір жұмыс күні ішінде сізбен "
    "байланысады. Ақшаңыз картаға толық қайтарылады (жария оферта, 5.4-тармақ) немесе қаласаңыз, "
    "жаңа eSIM шығарамыз. Қазір ештеңе істеудің қажеті жоқ.",
}


def delivered_order(lang: Lang = "ru") -> Order:
    return Order(
        id="100000123",
        token="tok-" + "x" * 40,
        status="delivered",
        lang=lang,
        email="buyer@example.kz",
        phone="+77011234567",
        package_code="TR-10GB-30D",
        destination="TR",
        package_title="Turkey 10 GB, 30 days",
        amount=4990,
        payment=Payment(
            transaction_id="epay-1",
            reference="512345678901",
            card_mask="440563...5096",
            paid_at="2026-11-25T10:00:00.000+00:00",
        ),
        profile=Profile(
            esim_tran_no="25112512000001",
            iccid="8943108170001234567",
            lpa=LPA,
            smdp_address="rsp-eu.redteamobile.com",
            activation_code="6D9A4B2C8E1F40A7B3C5D7E9F1A3B5C7",
            provider_order_no="B25112512000001",
            expires_at="2027-05-24T10:00:00+00:00",
        ),
    )


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_delivery_email_speaks_the_buyers_language(lang: Lang, settings: Settings) -> None:
    mail = compose.delivery(delivered_order(lang), settings, "<m@qazaq-esim.com>")
    subject_marker, body_marker = LANGUAGE_MARKERS[lang]
    assert subject_marker in mail["Subject"] and "100000123" in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert body_marker in text and body_marker in html
    for other, (other_subject, other_body) in LANGUAGE_MARKERS.items():
        if other != lang:
            assert other_body not in text and other_subject not in mail["Subject"]


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_delivery_email_has_everything_needed_to_install(lang: Lang, settings: Settings) -> None:
    mail = compose.delivery(delivered_order(lang), settings, "<m@qazaq-esim.com>")
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    ios = (
        "https://esimsetup.apple.com/esim_qrcode_provisioning?carddata="
        "LPA%3A1%24rsp-eu.redteamobile.com%246D9A4B2C8E1F40A7B3C5D7E9F1A3B5C7"
    )
    for body in (text, html):
        assert "rsp-eu.redteamobile.com" in body
        assert "6D9A4B2C8E1F40A7B3C5D7E9F1A3B5C7" in body
        assert ios in body
        assert "Android" in body and "Samsung" in body
        assert "5.3" in body  # the warning about deleting the eSIM
        assert f"{settings.site_url}/{lang}/order/" in body
    assert f"{settings.site_url}/{lang}/order/#tok-" in text


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_delivery_email_carries_the_receipt(lang: Lang, settings: Settings) -> None:
    mail = compose.delivery(delivered_order(lang), settings, "<m@qazaq-esim.com>")
    for body in (mail.get_body(("plain",)).get_content(), mail.get_body(("html",)).get_content()):
        assert "100000123" in body
        assert "Turkey 10 GB, 30 days" in body
        assert "4\u00a0990\u00a0₸" in body or "4,990\u00a0₸" in body
        assert "512345678901" in body and "440563...5096" in body
        assert "25" in body and "2026" in body  # the payment date
        assert SELLER_NAMES[lang] in body and "910109301239" in body
        assert "+7 705 454 49 65" in body and settings.support_email in body


def test_qr_is_inline_and_decodes_to_the_exact_lpa(settings: Settings) -> None:
    mail = compose.delivery(delivered_order(), settings, "<m@qazaq-esim.com>")
    html = mail.get_body(("html",)).get_content()
    [image] = [part for part in mail.walk() if part.get_content_type() == "image/png"]
    assert image["Content-ID"] == "<qr>" and 'src="cid:qr"' in html
    assert image.get_content_disposition() == "inline"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(image.get_content())))
    assert [result.text for result in decoded] == [LPA]


def test_message_id_is_the_same_for_every_attempt(settings: Settings) -> None:
    order = delivered_order()
    first = compose.message_id(order, "delivery", 1, settings)
    assert first == compose.message_id(order, "delivery", 1, settings)
    assert first == "<100000123.delivery.1@qazaq-esim.com>"
    assert compose.message_id(order, "delivery", 2, settings) != first
    mail = compose.delivery(order, settings, first)
    assert mail["Message-ID"] == first and mail["To"] == "buyer@example.kz"


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_failure_notice_tells_the_buyer_what_happens_next(lang: Lang, settings: Settings) -> None:
    order = replace(delivered_order(lang), status="provisioning_failed", profile=None)
    mail = compose.failure_notice(order, settings, "<f@qazaq-esim.com>")
    text = mail.get_body(("plain",)).get_content()
    assert "100000123" in mail["Subject"]
    assert FAILED_NEXT[lang] in text  # support contacts them, full refund or a new eSIM
    assert "5.4" in text and "+7 705 454 49 65" in text
    assert LPA not in mail.as_string()


def test_support_alert_has_the_timeline_and_no_personal_data(settings: Settings) -> None:
    order = replace(delivered_order(), status="provisioning_failed", profile=None)
    order.failure_reason = "the aggregator did not allocate a profile within 900 s"
    order.log("paid", "Epay CHARGE")
    order.log("aggregator_error", "eSIM Access esim/order timed out; outcome unknown")
    order.log("provisioning_failed", order.failure_reason)
    mail = compose.support_alert(order, settings, "<s@qazaq-esim.com>")
    body = mail.get_content()
    assert mail["To"] == settings.support_email
    assert "100000123" in mail["Subject"] and "provisioning_failed" in mail["Subject"]
    assert "esim/order timed out" in body and "Epay CHARGE" in body
    assert "invoke refund 100000123" in body
    for personal in ("buyer@example.kz", "+77011234567", "440563...5096", "tok-"):
        assert personal not in mail.as_string()


def test_a_partners_line_breaks_stay_out_of_the_support_alerts_subject(settings: Settings) -> None:
    order = replace(delivered_order(), status="provisioning_failed", profile=None)
    order.failure_reason = "esim/order: 500\r\nBcc: someone@example.org\nretry later"

    mail = compose.support_alert(order, settings, "<s@qazaq-esim.com>")

    assert mail["Subject"] == (
        "[provisioning_failed] order 100000123: esim/order: 500 Bcc: someone@example.org retry later")
    assert mail["Bcc"] is None


def _html_and_text(mail: object) -> tuple[str, str]:
    return (mail.get_body(("html",)).get_content(),  # type: ignore[attr-defined]
            mail.get_body(("plain",)).get_content())  # type: ignore[attr-defined]


def _looks_like_ours(html: str, text: str, lang: Lang) -> None:
    """The shared layout: the shop's name on top, a greeting, support and the seller at the end."""
    hello = {"kk": "Сәлеметсіз бе!", "ru": "Здравствуйте!", "en": "Hello!"}[lang]
    assert text.startswith("Qazaq eSIM\n====") and hello in text
    assert html.index(">Qazaq eSIM</span>") < html.index(hello)
    assert SELLER_NAMES[lang] in text and SELLER_NAMES[lang] in html
    assert "+7 705 454 49 65" in text and "wa.me/77054544965" in html


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_delivery_email_numbers_the_android_steps_and_says_when_to_install(lang: Lang, settings: Settings) -> None:
    order = delivered_order(lang)
    assert order.profile is not None
    order.profile.validity_starts, order.profile.plan_days = "first_use", 7
    html, text = _html_and_text(compose.delivery(order, settings, "<m@qazaq-esim.com>"))

    _looks_like_ours(html, text, lang)
    steps = html[html.index("<ol"):html.index("</ol>")]
    assert steps.count("<li>") == 4 and ANDROID_FIRST_STEP[lang] in steps
    assert [line[:3] for line in text.splitlines() if line[:2] in ("1.", "2.", "3.", "4.")] == ["1. ", "2. ", "3. ", "4. "]
    install_by, runs = VALIDITY[lang]
    for body in (html, text):
        assert install_by in body and "2027" in body and runs in body
        assert "Valid until" not in body


def test_the_plan_sentence_follows_the_activation_rule(settings: Settings) -> None:
    order = delivered_order("en")
    assert order.profile is not None
    said = {}
    for starts in ("install", None):
        order.profile.validity_starts, order.profile.plan_days = starts, 1
        said[starts] = _html_and_text(compose.delivery(order, settings, "<m@qazaq-esim.com>"))[1]
    assert "The plan runs 1 day from the moment you install the eSIM." in said["install"]
    assert "The plan runs 1 day from installation or from its first connection" in said[None]
    order.profile.plan_days = None  # the aggregator did not say: no sentence rather than a guess
    assert "The plan runs" not in _html_and_text(compose.delivery(order, settings, "<m@qazaq-esim.com>"))[1]


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_refund_and_fiscal_receipt_emails_have_the_delivery_emails_structure(lang: Lang, settings: Settings) -> None:
    from worker.orders.model import Refund

    order = delivered_order(lang)
    order.refund = Refund(amount=4990, reason="broken", operator="support")
    order.fiscal["sale"] = {"fiscal_number": "123456789", "total_tiyn": 499000,
                            "ticket_url": "https://receipt.example/t/1"}
    refund_html, refund_text = _html_and_text(compose.refunded(order, settings))
    receipt_html, receipt_text = _html_and_text(compose.fiscal_receipt(order, settings, "sale"))

    for html, text in ((refund_html, refund_text), (receipt_html, receipt_text)):
        _looks_like_ours(html, text, lang)
        assert "100000123" in text and "512345678901" in text  # the same receipt block
    assert f'href="{settings.site_url}/{lang}/order/#tok-' in refund_html  # a button to the order
    assert 'href="https://receipt.example/t/1"' in receipt_html and "123456789" in receipt_text


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_sign_in_email_is_html_with_a_button_and_a_text_part(lang: Lang, settings: Settings) -> None:
    link = f"{settings.site_url}/{lang}/account/#login=" + "x" * 150
    html, text = _html_and_text(compose.sign_in_link(settings, "buyer@example.kz", lang, link, "<s@q>"))

    _looks_like_ours(html, text, lang)
    button = {"kk": "«Менің eSIM-дерімді» ашу", "ru": "Открыть «Мои eSIM»", "en": "Open My eSIMs"}[lang]
    assert f'<a href="{link}"' in html and f">{button}</a>" in html.replace("&#34;", '"')
    assert link in text


def test_the_kazakh_delivery_email_warns_not_to_delete_the_esim_in_the_sites_words(settings: Settings) -> None:
    """"өшірмеңіз" reads as "do not switch off", the opposite of the site's advice (switch off,
    do not delete: жоймаңыз); issue 15."""
    mail = compose.delivery(delivered_order("kk"), settings, "<m@qazaq-esim.com>")
    for body in (mail.get_body(("plain",)).get_content(), mail.get_body(("html",)).get_content()):
        assert "eSIM-ді телефоннан жоймаңыз" in body
        assert "өшірмеңіз" not in body.lower() and "өшірілген" not in body.lower()

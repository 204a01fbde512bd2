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
        assert "Islambakiyev Sh.A." in body and "910109301239" in body
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

"""Payform wording in Epay's three languages (rus, kaz, eng)."""

from __future__ import annotations

LANGUAGES = ("rus", "kaz", "eng")
# Spellings integrators send that the live payform also takes (spec §3.2, §7), any casing.
LANGUAGE_ALIASES = {"ru": "rus", "kz": "kaz", "kk": "kaz", "en": "eng"}
HTML_LANG = {"rus": "ru", "kaz": "kk", "eng": "en"}

TEXTS: dict[str, dict[str, str]] = {
    "rus": {
        "title": "Оплата заказа",
        "merchant": "Магазин",
        "order": "Номер заказа",
        "amount": "Сумма",
        "description": "Описание",
        "pan": "Номер карты",
        "expiry": "Срок действия (ММ/ГГ)",
        "expiry_placeholder": "ММ/ГГ",
        "cvc": "CVC/CVV",
        "name": "Имя держателя карты (латиницей)",
        "pay": "Оплатить",
        "bad_pan": "Неверный номер карты",
        "bad_expiry": "Укажите срок действия в формате ММ/ГГ",
        "bad_cvc": "CVC: 3 или 4 цифры",
        "bad_name": "Имя держателя карты: латинские буквы",
        "error": "Платёж невозможен",
        "approved": "Оплата прошла успешно",
        "declined": "Платёж отклонён",
        "back": "Вернуться в магазин",
    },
    "kaz": {
        "title": "Тапсырысты төлеу",
        "merchant": "Дүкен",
        "order": "Тапсырыс нөмірі",
        "amount": "Сомасы",
        "description": "Сипаттамасы",
        "pan": "Карта нөмірі",
        "expiry": "Жарамдылық мерзімі (АА/ЖЖ)",
        "expiry_placeholder": "АА/ЖЖ",
        "cvc": "CVC/CVV",
        "name": "Карта ұстаушының аты (латынша)",
        "pay": "Төлеу",
        "bad_pan": "Карта нөмірі қате",
        "bad_expiry": "Мерзімді АА/ЖЖ түрінде жазыңыз",
        "bad_cvc": "CVC: 3 немесе 4 цифр",
        "bad_name": "Карта ұстаушының аты: латын әріптері",
        "error": "Төлем мүмкін емес",
        "approved": "Төлем сәтті өтті",
        "declined": "Төлем қабылданбады",
        "back": "Дүкенге оралу",
    },
    "eng": {
        "title": "Order payment",
        "merchant": "Merchant",
        "order": "Order number",
        "amount": "Amount",
        "description": "Description",
        "pan": "Card number",
        "expiry": "Expiry (MM/YY)",
        "expiry_placeholder": "MM/YY",
        "cvc": "CVC/CVV",
        "name": "Cardholder name (Latin letters)",
        "pay": "Pay",
        "bad_pan": "Invalid card number",
        "bad_expiry": "Enter the expiry as MM/YY",
        "bad_cvc": "CVC: 3 or 4 digits",
        "bad_name": "Cardholder name: Latin letters",
        "error": "Payment is not possible",
        "approved": "Payment approved",
        "declined": "Payment declined",
        "back": "Return to the shop",
    },
}

"""What the API tells a buyer, in kk, ru and en: one dict per message key."""

from __future__ import annotations

from typing import Any

from worker.orders.model import LANGS

MESSAGES: dict[str, dict[str, str]] = {
    "body": {
        "en": "The request could not be read. Reload the page and try again.",
        "ru": "Не удалось прочитать запрос. Обновите страницу и попробуйте ещё раз.",
        "kk": "Сұрауды оқу мүмкін болмады. Бетті жаңартып, қайталап көріңіз.",
    },
    "package_unknown": {
        "en": "This package is no longer sold. Choose another one on the destination page.",
        "ru": "Этот пакет больше не продаётся. Выберите другой на странице направления.",
        "kk": "Бұл пакет енді сатылмайды. Бағыт бетінен басқасын таңдаңыз.",
    },
    "price_changed": {
        "en": "The price of this package has changed. Check the new price and confirm again.",
        "ru": "Цена этого пакета изменилась. Проверьте новую цену и подтвердите ещё раз.",
        "kk": "Бұл пакеттің бағасы өзгерді. Жаңа бағаны тексеріп, қайта растаңыз.",
    },
    "email_invalid": {
        "en": "Enter a valid e-mail address, like name@example.com. The eSIM is sent there.",
        "ru": "Введите правильный адрес e-mail, например name@example.com. На него придёт eSIM.",
        "kk": "Дұрыс e-mail мекенжайын енгізіңіз, мысалы name@example.com. eSIM соған жіберіледі.",
    },
    "phone_invalid": {
        "en": "Enter a valid phone number with the country code, like +7 701 234 5678.",
        "ru": "Введите правильный номер телефона с кодом страны, например +7 701 234 5678.",
        "kk": "Ел кодымен дұрыс телефон нөмірін енгізіңіз, мысалы +7 701 234 5678.",
    },
    "lang_invalid": {
        "en": "Choose a language: kk, ru or en.",
        "ru": "Выберите язык: kk, ru или en.",
        "kk": "Тілді таңдаңыз: kk, ru немесе en.",
    },
    "device_ok_required": {
        "en": "Confirm that your phone supports eSIM and is not carrier-locked.",
        "ru": "Подтвердите, что ваш телефон поддерживает eSIM и не привязан к оператору.",
        "kk": "Телефоныңыз eSIM-ді қолдайтынын және операторға байланбағанын растаңыз.",
    },
    "offer_required": {
        "en": "Accept the public offer to continue.",
        "ru": "Чтобы продолжить, примите публичную оферту.",
        "kk": "Жалғастыру үшін жария офертаны қабылдаңыз.",
    },
    "payment_unavailable": {
        "en": "The payment service is not answering. Nothing was charged; try again in a minute.",
        "ru": "Платёжный сервис не отвечает. Деньги не списаны; попробуйте через минуту.",
        "kk": "Төлем қызметі жауап бермей тұр. Ақша алынған жоқ; бір минуттан соң қайталаңыз.",
    },
}


def message(key: str, lang: str) -> str:
    """The message ``key`` in ``lang`` (English when the language is not one of ours)."""
    texts = MESSAGES[key]
    return texts[lang] if lang in LANGS else texts["en"]


def errors(fields: dict[str, str], lang: str) -> dict[str, Any]:
    """The 422 body: ``{"errors": {field: message}}`` from ``{field: message key}``."""
    return {"errors": {field: message(key, lang) for field, key in fields.items()}}

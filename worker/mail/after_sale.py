"""The after-sale e-mails (issue 6): the account sign-in link, the refund notice, the fiscal receipt.

Plain text in the buyer's language; Message-IDs are deterministic per order and kind, so a
message sent again after a crash is shown once.
"""

from __future__ import annotations

from email.message import EmailMessage

from worker.config import Settings
from worker.mail.compose import _message, _money, message_id, order_page_url
from worker.mail.texts import SUPPORT_WHATSAPP
from worker.orders.model import Lang, Order

TEXTS: dict[Lang, dict[str, str]] = {
    "en": {
        "sign_in_subject": "Your sign-in link to My eSIMs",
        "sign_in_body": "Open this link to see your eSIMs at Qazaq eSIM. It works once, for "
        "15 minutes:\n\n{link}\n\nIf you did not ask for it, ignore this e-mail.",
        "refund_subject": "Order {order_id}: your refund of {amount}",
        "refund_body": "We have refunded {amount} for “{package}” (order {order_id}) to the card "
        "you paid with. Banks usually return the money within 3–10 business days.\n\n"
        "Your order page: {order_page}",
        "sale_subject": "Order {order_id}: your fiscal receipt",
        "return_subject": "Order {order_id}: your refund receipt",
        "receipt_body": "The fiscal receipt for “{package}” (order {order_id}, {amount}):\n\n"
        "{ticket_url}\n\nFiscal number: {fiscal_number}",
        "support": "Questions? WhatsApp {whatsapp} or {email}.",
    },
    "ru": {
        "sign_in_subject": "Ссылка для входа в «Мои eSIM»",
        "sign_in_body": "Откройте ссылку, чтобы увидеть свои eSIM в Qazaq eSIM. Она действует "
        "один раз, 15 минут:\n\n{link}\n\nЕсли вы не запрашивали вход, просто удалите это письмо.",
        "refund_subject": "Заказ {order_id}: возврат {amount}",
        "refund_body": "Мы вернули {amount} за «{package}» (заказ {order_id}) на карту, которой "
        "вы платили. Обычно банк зачисляет деньги за 3–10 рабочих дней.\n\n"
        "Страница заказа: {order_page}",
        "sale_subject": "Заказ {order_id}: фискальный чек",
        "return_subject": "Заказ {order_id}: чек возврата",
        "receipt_body": "Фискальный чек за «{package}» (заказ {order_id}, {amount}):\n\n"
        "{ticket_url}\n\nФискальный признак: {fiscal_number}",
        "support": "Вопросы? WhatsApp {whatsapp} или {email}.",
    },
    "kk": {
        "sign_in_subject": "«Менің eSIM-дерім» бөліміне кіру сілтемесі",
        "sign_in_body": "Qazaq eSIM-дегі eSIM-дерді көру үшін сілтемені ашыңыз. Ол бір рет, "
        "15 минут жарамды:\n\n{link}\n\nЕгер сіз сұрамаған болсаңыз, бұл хатты елемеңіз.",
        "refund_subject": "{order_id} тапсырысы: {amount} қайтарылды",
        "refund_body": "«{package}» үшін {amount} ({order_id} тапсырысы) төлеген картаңызға "
        "қайтарылды. Банк әдетте ақшаны 3–10 жұмыс күні ішінде аударады.\n\n"
        "Тапсырыс беті: {order_page}",
        "sale_subject": "{order_id} тапсырысы: фискалдық чек",
        "return_subject": "{order_id} тапсырысы: қайтару чегі",
        "receipt_body": "«{package}» үшін фискалдық чек ({order_id} тапсырысы, {amount}):\n\n"
        "{ticket_url}\n\nФискалдық белгі: {fiscal_number}",
        "support": "Сұрақтар бар ма? WhatsApp {whatsapp} немесе {email}.",
    },
}


def _footer(settings: Settings, lang: Lang) -> str:
    return (
        "\n\n"
        + TEXTS[lang]["support"].format(whatsapp=SUPPORT_WHATSAPP, email=settings.support_email)
        + "\nQazaq eSIM\n"
    )


def sign_in_link(settings: Settings, to: str, lang: Lang, link: str, msgid: str) -> EmailMessage:
    t = TEXTS[lang]
    message = _message(settings, to, t["sign_in_subject"], msgid, lang)
    message.set_content(t["sign_in_body"].format(link=link) + _footer(settings, lang))
    return message


def refunded(order: Order, settings: Settings) -> EmailMessage:
    """Tell the buyer the money is on its way back."""
    if order.email is None or order.refund is None:
        raise ValueError(f"order {order.id} has no e-mail address or no refund")
    t = TEXTS[order.lang]
    values = {
        "order_id": order.id,
        "amount": _money(order.refund.amount, order.lang),
        "package": order.package_title,
        "order_page": order_page_url(order, settings),
    }
    message = _message(
        settings,
        order.email,
        t["refund_subject"].format(**values),
        message_id(order, "refund", 1, settings),
        order.lang,
    )
    message.set_content(t["refund_body"].format(**values) + _footer(settings, order.lang))
    return message


def fiscal_receipt(order: Order, settings: Settings, operation: str) -> EmailMessage:
    """The link to the sale's (operation "sale") or the return's fiscal receipt."""
    receipt = order.fiscal.get(operation)
    if order.email is None or not receipt:
        raise ValueError(f"order {order.id} has no e-mail address or no {operation} receipt")
    t = TEXTS[order.lang]
    values = {
        "order_id": order.id,
        "package": order.package_title,
        "amount": _money(receipt["total_tiyn"] // 100, order.lang),
        "ticket_url": receipt.get("ticket_url") or receipt.get("print_url") or "",
        "fiscal_number": receipt["fiscal_number"],
    }
    message = _message(
        settings,
        order.email,
        t[f"{operation}_subject"].format(**values),
        message_id(order, f"fiscal-{operation}", 1, settings),
        order.lang,
    )
    message.set_content(t["receipt_body"].format(**values) + _footer(settings, order.lang))
    return message
